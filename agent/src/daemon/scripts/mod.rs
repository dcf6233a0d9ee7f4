//! Script security, keepalived's rules for which configured scripts may run and as whom:
//! [`vet`] disables the scripts that may not, and [`script_user`] says whom the rest run as.
//! Turning checks and notify commands into what the runners take is `convert`'s.
use std::ffi::{OsStr, OsString};
use tracing::warn;

use crate::{
    config::model::{self, Config, Global, RunAs},
    health::{
        script_security::{self, Ids},
        ScriptUser, UserLookupError,
    },
};

/// The user scripts run as when neither the check nor `script_user` names one, if it exists
/// (keepalived's default).
pub const DEFAULT_SCRIPT_USER: &str = "keepalived_script";

/// Why a script was disabled.
#[derive(Debug, thiserror::Error)]
pub enum Refusal {
    #[error(transparent)]
    User(#[from] UserLookupError),
    #[error(
        "no script_user is set and the user {DEFAULT_SCRIPT_USER} does not exist; with \
         script_security on, scripts never fall back to vipd's own user: set script_user"
    )]
    NoDefaultUser,
    #[error(transparent)]
    Path(#[from] script_security::Refusal),
}

/// A script the configuration names that will not run, and why.
#[derive(Debug)]
pub struct Disabled {
    /// Which configured script: "check `api`", "notify_master of instance `VI_1`".
    pub what: String,
    pub program: String,
    pub reason: Refusal,
}

/// Who a script runs as, by keepalived's rules: its own user (a check's `user`), else
/// `script_user`, else the user `keepalived_script` if it exists, else vipd's own user
/// (`None`), which script security forbids.
pub(crate) fn script_user(
    global: &Global,
    own: Option<&RunAs>,
) -> Result<Option<ScriptUser>, Refusal> {
    if let Some(run_as) = own.or(global.script_user.as_ref()) {
        return Ok(Some(ScriptUser::lookup(
            &run_as.user,
            run_as.group.as_deref(),
        )?));
    }
    match ScriptUser::lookup(DEFAULT_SCRIPT_USER, None) {
        Ok(user) => Ok(Some(user)),
        Err(UserLookupError::NoSuchUser(_)) if global.script_security => {
            Err(Refusal::NoDefaultUser)
        }
        Err(UserLookupError::NoSuchUser(_)) => Ok(None),
        Err(other) => Err(other.into()),
    }
}

/// Whether one script may run, by [`script_security`]'s rules for the user it runs as; on
/// success `argv[0]` becomes the program to execute (the full path of a name found in PATH).
fn clear(
    global: &Global,
    own: Option<&RunAs>,
    command: &mut model::Command,
    path_var: &OsStr,
) -> Result<script_security::Cleared, Refusal> {
    let ids = match script_user(global, own)? {
        Some(user) => Ids {
            uid: user.uid,
            gid: user.gid,
        },
        None => Ids {
            uid: nix::unistd::geteuid().as_raw(),
            gid: nix::unistd::getegid().as_raw(),
        },
    };
    let cleared = script_security::clear(&command.argv[0], ids, global.script_security, path_var)?;
    command.argv[0].clone_from(&cleared.program);
    Ok(cleared)
}

/// Vets every script `config` names, once per load, as keepalived does at start-up: a script
/// that may not run is reported and removed, so that nothing tries to run it. A refused check
/// leaves the configuration and every instance that tracks it (keepalived removes an insecure
/// `track_script` from its instances, so it neither fails nor passes for them); a refused
/// notify command is dropped and that notification runs nothing. With script security off,
/// scripts whose path a non-root user could change still run, each with a warning, and one
/// warning says that scripts run without script security, as keepalived's "SECURITY
/// VIOLATION" does.
pub fn vet(config: &mut Config) -> Vec<Disabled> {
    let mut vetting = Vetting {
        global: config.global.clone(),
        path_var: script_security::search_path_var(),
        disabled: Vec::new(),
        runs: false,
        unsafe_paths: false,
    };
    let mut refused_checks = Vec::new();
    for check in &mut config.checks {
        if let model::CheckKind::Script { command, user } = &mut check.kind {
            let what = format!("check `{}`", check.name);
            if !vetting.judge(what, user.as_ref(), command) {
                refused_checks.push(check.name.clone());
            }
        }
    }
    vetting.report(0);
    config
        .checks
        .retain(|check| !refused_checks.contains(&check.name));
    let reported = vetting.disabled.len();
    for instance in &mut config.instances {
        instance.track_checks.retain(|tracked| {
            let keep = !refused_checks.contains(&tracked.check);
            if !keep {
                warn!(instance = %instance.name, check = %tracked.check, "the instance no longer tracks the disabled check");
            }
            keep
        });
        let owner = format!("instance `{}`", instance.name);
        vetting.notify(&owner, &mut instance.notify);
    }
    for group in &mut config.sync_groups {
        let owner = format!("sync group `{}`", group.name);
        vetting.notify(&owner, &mut group.notify);
    }
    vetting.report(reported);
    if vetting.runs && !vetting.global.script_security {
        let more = if vetting.unsafe_paths {
            " Some scripts can be changed by a non-root user."
        } else {
            ""
        };
        warn!("scripts will run, but script_security is off: a script that a non-root user can change would run with root's power; set script_security = true (keepalived's enable_script_security).{more}");
    }
    vetting.disabled
}

/// [`vet`]'s state: what it needs to judge a script, and what it found so far.
struct Vetting {
    global: Global,
    path_var: OsString,
    disabled: Vec<Disabled>,
    /// Some script will run (for the warning about running scripts without script security).
    runs: bool,
    /// Some unsafe script will run because script security is off.
    unsafe_paths: bool,
}

impl Vetting {
    /// Whether the script `what` may run; if not, it is recorded as disabled.
    fn judge(&mut self, what: String, own: Option<&RunAs>, command: &mut model::Command) -> bool {
        let program = command.argv[0].clone();
        match clear(&self.global, own, command, &self.path_var) {
            Ok(cleared) => {
                self.runs = true;
                if cleared.found_in_path {
                    warn!(script = %program, path = %cleared.program, "{what}: the script was found by a PATH search; give its full path");
                }
                if let Some(found) = cleared.unsafe_path {
                    self.unsafe_paths = true;
                    warn!(script = %program, "{what}: unsafe script runs because script_security is off: it runs as root but {found}");
                }
                true
            }
            Err(reason) => {
                self.disabled.push(Disabled {
                    what,
                    program,
                    reason,
                });
                false
            }
        }
    }

    /// Drops each notify command of `owner` that may not run.
    fn notify(&mut self, owner: &str, notify: &mut model::NotifyCommands) {
        let slots = [
            ("notify", &mut notify.any),
            ("notify_master", &mut notify.master),
            ("notify_backup", &mut notify.backup),
            ("notify_fault", &mut notify.fault),
            ("notify_stop", &mut notify.stop),
        ];
        for (key, slot) in slots {
            if let Some(command) = slot {
                if !self.judge(format!("{key} of {owner}"), None, command) {
                    *slot = None;
                }
            }
        }
    }

    /// Logs the scripts disabled since the first `from`.
    fn report(&self, from: usize) {
        for d in &self.disabled[from..] {
            warn!(script = %d.program, "disabling {}: {}", d.what, d.reason);
        }
    }
}

#[cfg(test)]
mod tests;
