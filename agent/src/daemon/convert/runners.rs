//! From the configuration's checks and notify commands to what the health runners and the
//! notifier take. Which scripts may run at all, and as whom, is `scripts`' (script security):
//! by the time these run, [`crate::daemon::scripts::vet`] has removed the refused ones.
use anyhow::{Context, Result};
use std::{collections::HashMap, sync::Arc, time::Duration};

use crate::{
    config::model::{self, Check, Config, Instance, SyncGroup},
    daemon::scripts::script_user,
    health::{self, CheckSpec, CommandSpec, HttpCheck},
    notify::{NotifyCommands, NotifyTarget, Subject},
};

/// How long a notify command may run before its process group is killed. keepalived has no
/// such limit; vipd runs an instance's notifications in order, so one stuck script must not
/// hold back the next state's forever.
const NOTIFY_TIMEOUT: Duration = Duration::from_secs(60);

/// The runner's spec for a configured check.
pub fn check_spec(config: &Config, check: &Check) -> Result<CheckSpec> {
    let kind = match &check.kind {
        model::CheckKind::Tcp { target } => health::CheckKind::Tcp { addr: *target },
        model::CheckKind::Http {
            url,
            expected_status,
            tls_verify,
        } => health::CheckKind::Http(HttpCheck {
            url: url.to_string(),
            expected_status: Some(*expected_status),
            verify_tls: *tls_verify,
            ca_file: None,
        }),
        model::CheckKind::Script { command, user } => health::CheckKind::Script {
            argv: command.argv.clone(),
            user: script_user(&config.global, user.as_ref())
                .with_context(|| format!("check `{}`", check.name))?,
        },
    };
    Ok(CheckSpec {
        name: check.name.clone(),
        kind,
        interval: check.interval,
        timeout: check.timeout,
        rise: check.rise,
        fall: check.fall,
        init_fail: check.init_fail,
    })
}

/// Every instance's notify target, by instance name.
pub fn notify_targets(config: &Config) -> Result<HashMap<String, Arc<NotifyTarget>>> {
    config
        .instances
        .iter()
        .map(|instance| Ok((instance.name.clone(), notify_target(config, instance)?)))
        .collect()
}

/// Every sync group's notify target, by group name.
pub fn group_targets(config: &Config) -> Result<HashMap<String, Arc<NotifyTarget>>> {
    config
        .sync_groups
        .iter()
        .map(|group| Ok((group.name.clone(), group_target(config, group)?)))
        .collect()
}

/// The notify target of an instance, with its commands run as the global script user.
fn notify_target(config: &Config, instance: &Instance) -> Result<Arc<NotifyTarget>> {
    target(config, Subject::Instance, &instance.name, &instance.notify)
}

fn group_target(config: &Config, group: &SyncGroup) -> Result<Arc<NotifyTarget>> {
    target(config, Subject::Group, &group.name, &group.notify)
}

fn target(
    config: &Config,
    subject: Subject,
    name: &str,
    n: &model::NotifyCommands,
) -> Result<Arc<NotifyTarget>> {
    let user = script_user(&config.global, None).with_context(|| format!("notify of {name}"))?;
    let spec = |command: &Option<model::Command>| {
        command.as_ref().map(|c| CommandSpec {
            argv: c.argv.clone(),
            user: user.clone(),
            timeout: NOTIFY_TIMEOUT,
        })
    };
    Ok(Arc::new(NotifyTarget {
        subject,
        name: name.to_string(),
        commands: NotifyCommands {
            master: spec(&n.master),
            backup: spec(&n.backup),
            fault: spec(&n.fault),
            stop: spec(&n.stop),
            generic: spec(&n.any),
        },
    }))
}
