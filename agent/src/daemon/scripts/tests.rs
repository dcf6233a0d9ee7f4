//! Script security and the script user, end to end from a configuration: which scripts
//! [`vet`] disables, and what the rest do when run as the runners run them (each script
//! proves it ran, and as whom, by writing a file). Every file lives in a temporary directory
//! removed when the test ends.

use std::fs::{self, Permissions};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::{vet, Refusal, DEFAULT_SCRIPT_USER};
use crate::config::{check_str, Config};
use crate::daemon::convert::{check_spec, notify_targets};
use crate::health::command::{run, CommandOutcome};
use crate::health::{self, script_security, CommandSpec, ScriptUser};

/// A temporary tree: `bin/` (root's, 0755) for scripts, `open/` (0777) that anyone may write,
/// where scripts leave what they saw.
struct Tree {
    dir: tempfile::TempDir,
}

impl Tree {
    fn new() -> Tree {
        let tree = Tree {
            dir: tempfile::tempdir().unwrap(),
        };
        // Scripts run as `nobody` must be able to reach the tree.
        fs::set_permissions(tree.dir.path(), Permissions::from_mode(0o755)).unwrap();
        tree.mkdir("bin", 0o755);
        tree.mkdir("open", 0o777);
        tree
    }

    /// A tree with the scripts `<dir>/check` and `<dir>/notify`, and their paths.
    fn with_scripts(dir: &str) -> (Tree, PathBuf, PathBuf) {
        let tree = Tree::new();
        let check = tree.script(&format!("{dir}/check"));
        let notify = tree.script(&format!("{dir}/notify"));
        (tree, check, notify)
    }

    fn path(&self, relative: &str) -> PathBuf {
        self.dir.path().join(relative)
    }

    fn mkdir(&self, relative: &str, mode: u32) {
        fs::create_dir(self.path(relative)).unwrap();
        fs::set_permissions(self.path(relative), Permissions::from_mode(mode)).unwrap();
    }

    /// A script at `relative` that writes its uid and gid to `open/<name>.ran`.
    fn script(&self, relative: &str) -> PathBuf {
        let path = self.path(relative);
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let out = self.path(&format!("open/{name}.ran"));
        fs::write(
            &path,
            format!("#!/bin/sh\necho $(id -u) $(id -g) > {}\n", out.display()),
        )
        .unwrap();
        fs::set_permissions(&path, Permissions::from_mode(0o755)).unwrap();
        path
    }

    /// What the script `name` wrote: "uid gid", or `None` if it did not run.
    fn ran(&self, name: &str) -> Option<String> {
        fs::read_to_string(self.path(&format!("open/{name}.ran")))
            .ok()
            .map(|s| s.trim().to_owned())
    }
}

/// One instance tracking the script check `c` (`script`) and notifying `notify` on MASTER.
fn config(global: &str, script: &Path, notify: &Path) -> Config {
    let text = format!(
        r#"
[global]
{global}

[[instance]]
name = "a"
interface = "lo"
vrid = 1
vips = ["192.0.2.1"]
track_checks = ["c"]
notify_master = "{}"

[[check]]
name = "c"
type = "script"
command = "{} arg"
"#,
        notify.display(),
        script.display()
    );
    check_str(Path::new("test.toml"), &text).unwrap().config
}

/// [`config`] when [`vet`] disables none of its scripts.
fn cleared(global: &str, script: &Path, notify: &Path) -> Config {
    let mut config = config(global, script, notify);
    assert!(vet(&mut config).is_empty());
    config
}

async fn run_check(config: &Config) -> CommandOutcome {
    let spec = check_spec(config, &config.checks[0]).unwrap();
    let health::CheckKind::Script { argv, user } = spec.kind else {
        panic!("a script check");
    };
    let spec = CommandSpec {
        argv,
        user,
        timeout: Duration::from_secs(60),
    };
    run(&spec, &[], "test").await.unwrap()
}

/// Runs the first instance's notify_master command as the daemon would.
async fn run_notify_master(config: &Config) -> CommandOutcome {
    let target = notify_targets(config).unwrap()[&config.instances[0].name].clone();
    let master = target.commands.master.clone().unwrap();
    run(&master, &[], "test").await.unwrap()
}

fn ids_of(user: &ScriptUser) -> String {
    format!("{} {}", user.uid, user.gid)
}

#[tokio::test]
async fn a_script_in_a_world_writable_directory_is_disabled_with_security_on_and_runs_with_it_off()
{
    let (tree, script, notify) = Tree::with_scripts("open");

    let mut secure = config(
        "script_user = \"root\"\nscript_security = true",
        &script,
        &notify,
    );
    let disabled = vet(&mut secure);
    let what: Vec<_> = disabled.iter().map(|d| d.what.as_str()).collect();
    assert_eq!(what, ["check `c`", "notify_master of instance `a`"]);
    match &disabled[0].reason {
        Refusal::Path(script_security::Refusal::Unsafe(found)) => {
            assert_eq!(found.component, tree.path("open"));
        }
        other => panic!("expected an unsafe path, got {other:?}"),
    }
    assert!(secure.checks.is_empty(), "the check is removed");
    assert!(
        secure.instances[0].track_checks.is_empty(),
        "and the instance no longer tracks it"
    );
    assert_eq!(secure.instances[0].notify.master, None);

    let open = cleared("script_user = \"root\"", &script, &notify);
    assert_eq!(open.instances[0].track_checks.len(), 1);
    assert!(open.instances[0].notify.master.is_some());
    assert_eq!(run_check(&open).await, CommandOutcome::Exited(0));
    assert_eq!(tree.ran("check").as_deref(), Some("0 0"));
}

#[tokio::test]
async fn a_root_owned_script_in_a_root_only_directory_runs_with_security_on() {
    let (tree, script, notify) = Tree::with_scripts("bin");
    let config = cleared(
        "script_user = \"root\"\nscript_security = true",
        &script,
        &notify,
    );
    assert_eq!(run_notify_master(&config).await, CommandOutcome::Exited(0));
    assert_eq!(tree.ran("notify").as_deref(), Some("0 0"));
    assert_eq!(run_check(&config).await, CommandOutcome::Exited(0));
    assert_eq!(tree.ran("check").as_deref(), Some("0 0"));
}

#[tokio::test]
async fn scripts_run_as_the_script_user_and_group() {
    let (tree, script, notify) = Tree::with_scripts("bin");
    let nobody = ScriptUser::lookup("nobody", None).unwrap();
    assert_ne!(nobody.uid, 0);

    let config = cleared(
        "script_user = \"nobody\"\nscript_security = true",
        &script,
        &notify,
    );
    assert_eq!(run_check(&config).await, CommandOutcome::Exited(0));
    assert_eq!(tree.ran("check"), Some(ids_of(&nobody)));
    assert_eq!(run_notify_master(&config).await, CommandOutcome::Exited(0));
    assert_eq!(tree.ran("notify"), Some(ids_of(&nobody)));

    let daemon = ScriptUser::lookup("nobody", Some("daemon")).unwrap();
    assert_ne!(daemon.gid, nobody.gid);
    let config = cleared(
        "script_user = \"nobody\"\nscript_group = \"daemon\"",
        &script,
        &notify,
    );
    assert_eq!(run_check(&config).await, CommandOutcome::Exited(0));
    assert_eq!(tree.ran("check"), Some(ids_of(&daemon)));
}

#[tokio::test]
async fn a_check_user_overrides_the_script_user() {
    let (tree, script, notify) = Tree::with_scripts("bin");
    let mut config = config("script_user = \"root\"", &script, &notify);
    let crate::config::model::CheckKind::Script { user, .. } = &mut config.checks[0].kind else {
        panic!("a script check");
    };
    *user = Some(crate::config::model::RunAs {
        user: "nobody".into(),
        group: None,
    });
    assert!(vet(&mut config).is_empty());
    assert_eq!(run_check(&config).await, CommandOutcome::Exited(0));
    let nobody = ScriptUser::lookup("nobody", None).unwrap();
    assert_eq!(tree.ran("check"), Some(ids_of(&nobody)));
}

/// An unprivileged script user gains nothing from its path, so its path is not checked: a
/// script in a world-writable directory runs as `nobody` with security on (keepalived's rule).
#[tokio::test]
async fn an_unprivileged_script_user_may_run_a_script_from_a_world_writable_directory() {
    let (_tree, script, notify) = Tree::with_scripts("open");
    let config = cleared(
        "script_user = \"nobody\"\nscript_security = true",
        &script,
        &notify,
    );
    assert_eq!(run_check(&config).await, CommandOutcome::Exited(0));
}

#[test]
fn without_a_script_user_scripts_run_as_keepalived_script_or_vipd_unless_security_forbids() {
    let (_tree, script, notify) = Tree::with_scripts("bin");
    let default_user = ScriptUser::lookup(DEFAULT_SCRIPT_USER, None).ok();

    let open = cleared("", &script, &notify);
    let spec = check_spec(&open, &open.checks[0]).unwrap();
    let health::CheckKind::Script { user, .. } = spec.kind else {
        panic!("a script check");
    };
    assert_eq!(
        user, default_user,
        "keepalived_script if it exists, else vipd's own user"
    );

    let mut secure = config("script_security = true", &script, &notify);
    let disabled = vet(&mut secure);
    if default_user.is_some() {
        assert!(disabled.is_empty());
    } else {
        assert_eq!(disabled.len(), 2, "the check and the notify command");
        assert!(matches!(disabled[0].reason, Refusal::NoDefaultUser));
        assert!(secure.checks.is_empty());
    }
}

#[test]
fn a_missing_script_or_user_is_disabled_even_with_security_off() {
    let tree = Tree::new();
    let notify = tree.script("bin/notify");
    let mut config = config("script_user = \"root\"", &tree.path("bin/missing"), &notify);
    let disabled = vet(&mut config);
    assert_eq!(disabled.len(), 1);
    assert!(matches!(
        disabled[0].reason,
        Refusal::Path(script_security::Refusal::Unreachable { .. })
    ));
    assert!(config.instances[0].track_checks.is_empty());

    let script = tree.script("bin/check");
    let mut config = self::config("script_user = \"vipd-no-such-user\"", &script, &notify);
    let disabled = vet(&mut config);
    assert_eq!(disabled.len(), 2);
    assert!(matches!(disabled[0].reason, Refusal::User(_)));
}
