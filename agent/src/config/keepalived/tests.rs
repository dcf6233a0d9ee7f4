//! The importer end to end: the fixtures in agent/tests/fixtures/keepalived-conf import,
//! validate and survive a round trip through vipd.toml; goldens pin the TOML of some; small
//! configurations pin each rule, warning and error.

use std::path::{Path, PathBuf};
use std::time::Duration;

use super::{load_keepalived, load_keepalived_str, ConfigId};
use crate::config::diagnostic::{FieldPath, Item};
use crate::config::model::{Auth, CheckKind, Instance, Priority, RunAs, Version, Weight};
use crate::config::{check_str, write, Checked, ConfigErrors};

/// The configuration id the tests read as: `@test` lines are this host's.
fn host() -> ConfigId {
    ConfigId::new("test")
}

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/keepalived-conf")
}

const FIXTURES: &[&str] = &[
    "kubeadm-apiserver.conf",
    "openshift-ipfailover.conf",
    "unicast-cloud.conf",
    "minimal-master.conf",
    "minimal-backup.conf",
    "include/keepalived.conf",
    "unsupported-sections.conf",
    "lvs-ssl-get-ah.conf",
];

fn fixture(name: &str) -> Checked {
    let path = fixtures().join(name);
    load_keepalived(&path, &host()).unwrap_or_else(|errors| panic!("{name}:\n{errors}"))
}

fn import(text: &str) -> Checked {
    load_keepalived_str(Path::new("keepalived.conf"), text, &host())
        .unwrap_or_else(|errors| panic!("{errors}"))
}

fn refuse(text: &str) -> ConfigErrors {
    match load_keepalived_str(Path::new("keepalived.conf"), text, &host()) {
        Ok(checked) => panic!("accepted: {:?}", checked.config),
        Err(errors) => errors,
    }
}

fn warnings(checked: &Checked) -> String {
    checked.warnings.to_string()
}

fn instance(checked: &Checked) -> &Instance {
    &checked.config.instances[0]
}

/// A directory of files for include tests, removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("vipd-ka-{}-{tag}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }

    fn write(&self, name: &str, text: &str) -> PathBuf {
        let path = self.0.join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, text).unwrap();
        path
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[test]
fn every_fixture_imports_and_its_toml_reloads_as_the_same_model() {
    for name in FIXTURES {
        let checked = fixture(name);
        let toml = write::to_toml(&checked.config);
        let reloaded = check_str(Path::new("imported.toml"), &toml).unwrap_or_else(|errors| {
            panic!("{name}: the printed TOML is refused:\n{errors}\n{toml}")
        });
        assert_eq!(reloaded.config, checked.config, "{name}:\n{toml}");
    }
}

#[test]
fn golden_toml_of_fixtures() {
    for (conf, golden) in [
        ("kubeadm-apiserver.conf", "kubeadm-apiserver.vipd.toml"),
        (
            "openshift-ipfailover.conf",
            "openshift-ipfailover.vipd.toml",
        ),
        ("include/keepalived.conf", "include.vipd.toml"),
        ("lvs-ssl-get-ah.conf", "lvs-ssl-get-ah.vipd.toml"),
    ] {
        let toml = write::to_toml(&fixture(conf).config);
        let expected = std::fs::read_to_string(fixtures().join(golden)).unwrap();
        assert_eq!(
            toml, expected,
            "{conf} no longer imports as {golden}; it now gives:\n{toml}"
        );
    }
}

#[test]
fn kubeadm_guide_config_keeps_its_check_semantics() {
    let checked = fixture("kubeadm-apiserver.conf");
    let check = &checked.config.checks[0];
    assert_eq!(check.weight, Weight::new(-2).unwrap());
    assert_eq!((check.fall, check.rise), (10, 2));
    assert_eq!(check.interval, Duration::from_secs(3));
    assert_eq!(check.timeout, Duration::from_secs(3));
    let vi = instance(&checked);
    assert_eq!(vi.version, Version::V2, "keepalived's default version");
    assert_eq!(vi.auth, Auth::Pass("42".into()));
    assert!(checked.warnings.0.is_empty(), "{}", warnings(&checked));
}

#[test]
fn openshift_monitor_port_becomes_a_tcp_check() {
    let checked = fixture("openshift-ipfailover.conf");
    let CheckKind::Tcp { target } = &checked.config.checks[0].kind else {
        panic!("{:?}", checked.config.checks[0].kind);
    };
    assert_eq!(target.to_string(), "198.51.100.7:1936");
    let text = warnings(&checked);
    assert!(
        text.contains("openshift-ipfailover.conf:18:11: warning: `</dev/tcp/198.51.100.7/1936`"),
        "{text}"
    );
    assert!(
        text.contains(":6:4: warning: `notification_email` is ignored"),
        "{text}"
    );
    assert!(text.contains("only `ipf-rout` is used"), "{text}");
    assert!(!instance(&checked).preempt);
}

#[test]
fn monitor_port_zero_and_true_check_nothing() {
    for script in ["</dev/tcp/10.0.0.1/0", "true"] {
        let checked = import(&format!(
            "vrrp_script chk {{\n script \"{script}\"\n}}\nvrrp_instance V {{\n interface eth0\n virtual_router_id 1\n virtual_ipaddress {{ 10.0.0.9 }}\n track_script {{\n  chk\n }}\n}}\n"
        ));
        assert!(checked.config.checks.is_empty(), "{script}");
        assert!(instance(&checked).track_checks.is_empty(), "{script}");
        assert!(
            warnings(&checked).contains("keepalived.conf:2:9: warning:"),
            "{}",
            warnings(&checked)
        );
    }
}

#[test]
fn unicast_cloud_setup() {
    let checked = fixture("unicast-cloud.conf");
    let vi = instance(&checked);
    assert_eq!(vi.unicast_peers.len(), 2);
    assert_eq!(vi.unicast_source.unwrap().to_string(), "10.20.1.11");
    assert_eq!(vi.auth, Auth::Pass("cloudsec".into()));
    assert_eq!(
        vi.garp.master_delay,
        Duration::from_secs(1),
        "from global_defs"
    );
    assert_eq!(vi.garp.master_refresh, Some(Duration::from_secs(60)));
    assert_eq!(vi.track_interfaces[0].weight, Weight::new(-50).unwrap());
    assert_eq!(vi.vips[0].label.as_deref(), Some("ens5:vip"));
    assert_eq!(vi.vips[0].broadcast.unwrap().to_string(), "10.20.1.255");
    assert_eq!(
        vi.notify.master.as_ref().unwrap().argv,
        ["/etc/keepalived/role.sh", "master"]
    );
}

#[test]
fn unsupported_sections_are_one_warning_each_and_the_rest_runs() {
    let checked = fixture("unsupported-sections.conf");
    assert_eq!(checked.config.instances.len(), 1);
    let text = warnings(&checked);
    for expected in [
        "unsupported-sections.conf:4:5: warning: `enable_snmp_vrrp` is ignored",
        "unsupported-sections.conf:12:5: warning: `dont_track_primary` is ignored",
        "unsupported-sections.conf:14:32: warning: `scope` is ignored",
        "unsupported-sections.conf:18:1: warning: `virtual_server` is ignored",
        "unsupported-sections.conf:32:1: warning: `static_ipaddress` is ignored",
    ] {
        assert!(text.contains(expected), "missing {expected:?} in:\n{text}");
    }
    assert_eq!(checked.warnings.0.len(), 5, "{text}");
}

#[test]
fn includes_and_one_line_blocks() {
    let checked = fixture("include/keepalived.conf");
    let names: Vec<&str> = checked
        .config
        .instances
        .iter()
        .map(|i| i.name.as_str())
        .collect();
    assert_eq!(names, ["web", "db"], "conf.d read in sorted order");
    let web = &checked.config.instances[0];
    assert_eq!(
        (web.interface.as_str(), web.vrid.get(), web.priority.get()),
        ("eth1", 21, 120)
    );
    assert_eq!(web.advert_interval, Duration::from_millis(500));
    assert_eq!(web.version, Version::V3, "vrrp_version from global_defs");
    let db = &checked.config.instances[1];
    assert_eq!(db.vmac_interface.as_deref(), Some("vrrp.22"));
    assert_eq!(db.track_files[0].weight, Weight::new(-100).unwrap());
    assert_eq!(checked.config.sync_groups[0].instances, ["web", "db"]);
    // The daemon's source map names the main file: an included value is at its include line.
    let at = checked
        .sources
        .locate(FieldPath::key(Item::Instance(1), "interface"));
    assert!(
        at.file.ends_with("include/keepalived.conf"),
        "{}",
        at.file.display()
    );
    assert_eq!(at.position.line, 9);
    assert!(checked.warnings.0.is_empty(), "{}", warnings(&checked));
}

#[test]
fn errors_in_included_files_name_that_file_and_line() {
    let dir = TempDir::new("inc-errors");
    dir.write("conf.d/a.conf", "vrrp_instance A {\n interface eth0\n virtual_router_id 1\n virtual_ipaddress { 10.0.0.1 }\n}\n");
    dir.write("conf.d/b.conf", "vrrp_instance B {\n interface eth0\n virtual_router_id 2\n priority 300\n virtual_ipaddress { 10.0.0.2 }\n}\n");
    let main = dir.write("keepalived.conf", "include conf.d/*.conf\n");
    let errors = load_keepalived(&main, &host()).unwrap_err().to_string();
    assert!(
        errors.contains("conf.d/b.conf:4:11: `300` is not a valid priority"),
        "{errors}"
    );
}

#[test]
fn validation_errors_are_placed_in_the_included_file() {
    let dir = TempDir::new("inc-validate");
    dir.write("a.conf", "vrrp_instance A {\n interface eth0\n virtual_router_id 1\n virtual_ipaddress { 10.0.0.1 }\n}\n");
    dir.write("b.conf", "\n\nvrrp_instance B {\n interface eth0\n virtual_router_id 2\n virtual_ipaddress {\n  10.0.0.1\n }\n}\n");
    let main = dir.write(
        "keepalived.conf",
        "global_defs {\n router_id x\n}\ninclude a.conf\ninclude b.conf\n",
    );
    let errors = load_keepalived(&main, &host()).unwrap_err().to_string();
    let a = dir.0.join("a.conf");
    let expected = format!(
        "b.conf:7:3: VIP 10.0.0.1 is already in instance `A` ({}:4)",
        a.display()
    );
    assert!(errors.contains(&expected), "{errors}\nexpected {expected}");
}

#[test]
fn an_include_that_matches_nothing_is_a_warning_like_keepalived() {
    let dir = TempDir::new("inc-none");
    let main = dir.write(
        "keepalived.conf",
        &format!("include conf.d/*.conf\n{}", with("")),
    );
    let checked = load_keepalived(&main, &host()).unwrap();
    assert_eq!(checked.config.instances.len(), 1);
    let text = warnings(&checked);
    assert!(
        text.contains("keepalived.conf:1:1: warning: `include conf.d/*.conf` matches no file"),
        "{text}"
    );
}

#[test]
fn the_strict_include_variants_want_a_match_and_includer_does_not() {
    let dir = TempDir::new("inc-variants");
    dir.write("conf.d/a.conf", &with(""));
    let main = dir.write(
        "keepalived.conf",
        "includer conf.d/*.conf\nincluder none/*.conf\n",
    );
    let checked = load_keepalived(&main, &host()).unwrap();
    assert_eq!(checked.config.instances.len(), 1);
    assert!(
        warnings(&checked)
            .contains("keepalived.conf:2:1: warning: `includer none/*.conf` matches no file"),
        "{}",
        warnings(&checked)
    );
    for keyword in ["includem", "includew", "includeb", "includea"] {
        let main = dir.write("keepalived.conf", &format!("{keyword} none/*.conf\n"));
        let errors = load_keepalived(&main, &host()).unwrap_err().to_string();
        assert!(
            errors.contains(&format!(
                "keepalived.conf:1:1: `{keyword} none/*.conf` matches no file"
            )),
            "{errors}"
        );
    }
}

#[test]
fn an_include_loop_is_an_error() {
    let dir = TempDir::new("inc-loop");
    let main = dir.write("keepalived.conf", "include keepalived.conf\n");
    let errors = load_keepalived(&main, &host()).unwrap_err().to_string();
    assert!(
        errors.contains("keepalived.conf:1:1: `include keepalived.conf` includes")
            && errors.contains("which is being read"),
        "{errors}"
    );
}

/// A file that includes itself through another is caught at once, not after the loop has
/// read the files over and over down to the depth limit (a glob matching both doubled the
/// reads at every level: 65,536 files).
#[test]
fn an_include_loop_through_a_glob_is_an_error_at_once() {
    let dir = TempDir::new("inc-glob-loop");
    dir.write("conf.d/a.conf", "include *.conf\ninclude *.conf\n");
    dir.write("conf.d/b.conf", &with(""));
    let main = dir.write("keepalived.conf", "include conf.d/a.conf\n");
    let errors = load_keepalived(&main, &host()).unwrap_err();
    assert!(
        errors
            .0
            .iter()
            .all(|e| e.message.contains("which is being read")),
        "{errors}"
    );
    assert_eq!(errors.0.len(), 2, "{errors}");
}

#[test]
fn includes_nesting_too_deep_are_an_error() {
    let dir = TempDir::new("inc-deep");
    for level in 0..20 {
        dir.write(
            &format!("f{level}.conf"),
            &format!("include f{}.conf\n", level + 1),
        );
    }
    let main = dir.write("keepalived.conf", "include f0.conf\n");
    let errors = load_keepalived(&main, &host()).unwrap_err().to_string();
    assert!(
        errors.contains("includes nest deeper than 16 levels"),
        "{errors}"
    );
}

/// Without a loop, includes can still multiply: two files at each level, each including both
/// of the next level, read 2^levels files.
#[test]
fn includes_that_multiply_are_an_error() {
    let dir = TempDir::new("inc-multiply");
    for level in 0..12 {
        for file in 0..2 {
            dir.write(
                &format!("l{level}-{file}.conf"),
                &format!("include l{}-*.conf\n", level + 1),
            );
        }
    }
    let main = dir.write("keepalived.conf", "include l0-*.conf\n");
    let errors = load_keepalived(&main, &host()).unwrap_err().to_string();
    assert!(errors.contains("more than 1024 files included"), "{errors}");
}

const BASE: &str = "vrrp_instance VI_1 {\n interface eth0\n virtual_router_id 51\n virtual_ipaddress {\n  192.0.2.1/24\n }\n";

fn with(extra: &str) -> String {
    format!("{BASE}{extra}}}\n")
}

#[test]
fn fractional_advert_int_runs_with_version_3() {
    let checked = import(&with(" version 3\n advert_int 0.05\n"));
    assert_eq!(
        instance(&checked).advert_interval,
        Duration::from_millis(50)
    );
    assert_eq!(instance(&checked).version, Version::V3);
}

#[test]
fn version_2_rounds_fractional_intervals_like_keepalived() {
    let checked = import(&with(" advert_int 2.6\n"));
    assert_eq!(instance(&checked).advert_interval, Duration::from_secs(3));
    let checked = import(&with(" advert_int 0.2\n"));
    assert_eq!(instance(&checked).advert_interval, Duration::from_secs(1));
    assert!(warnings(&checked).contains("keepalived.conf:7:13: warning: vrrp_instance VI_1: VRRP version 2 carries whole seconds, so advert_int 0.2 is rounded to 1s"), "{}", warnings(&checked));
}

#[test]
fn advert_int_below_10ms_selects_fast_mode() {
    let checked = import(&with(" advert_int 0.0005\n"));
    let vi = instance(&checked);
    assert_eq!(vi.advert_interval, Duration::from_micros(500));
    assert_eq!(vi.version, Version::V3, "fast mode needs version 3");
    assert!(vi.is_fast_mode());
    let text = warnings(&checked);
    assert!(text.contains("keepalived.conf:7:13: warning: vrrp_instance VI_1: advert_int 0.0005 is below keepalived's minimum of 0.01: it selects vipd's fast mode"), "{text}");
    // check-config of the printed TOML says so too.
    let toml = write::to_toml(&checked.config);
    let rechecked = check_str(Path::new("vipd.toml"), &toml).unwrap();
    assert!(
        rechecked
            .warnings
            .to_string()
            .contains("selects vipd fast mode"),
        "{}",
        rechecked.warnings
    );
}

#[test]
fn state_master_without_priority_is_the_address_owner() {
    let checked = import(&with(" state MASTER\n"));
    assert_eq!(instance(&checked).priority, Priority::OWNER);
    assert!(
        warnings(&checked).contains(
            "keepalived.conf:7:8: warning: vrrp_instance VI_1: `state MASTER` without `priority`"
        ),
        "{}",
        warnings(&checked)
    );
    let checked = import(&with(" state BACKUP\n"));
    assert_eq!(instance(&checked).priority, Priority::DEFAULT);
    assert!(checked.warnings.0.is_empty());
}

#[test]
fn state_master_with_nopreempt_is_noted() {
    let checked = import(&with(" state MASTER\n priority 100\n nopreempt\n"));
    assert!(!instance(&checked).preempt);
    assert!(
        warnings(&checked).contains("despite `nopreempt`"),
        "{}",
        warnings(&checked)
    );
}

#[test]
fn ipv6_instances_run_version_3() {
    let text = "vrrp_instance V6 {\n interface eth0\n virtual_router_id 5\n virtual_ipaddress { 2001:db8::5/64 }\n}\n";
    assert_eq!(instance(&import(text)).version, Version::V3);
}

#[test]
fn auth_type_ah_imports_with_its_password_cut_to_8_bytes() {
    let checked = import(&with(
        " authentication {\n  auth_type AH\n  auth_pass secret1234\n }\n",
    ));
    assert_eq!(instance(&checked).auth, Auth::Ah("secret12".to_string()));
    assert!(warnings(&checked).contains("only `secret12` is used"));
}

#[test]
fn authentication_is_dropped_in_version_3() {
    let checked = import(&with(
        " version 3\n authentication {\n  auth_type PASS\n  auth_pass secret\n }\n",
    ));
    assert_eq!(instance(&checked).auth, Auth::None);
    assert!(warnings(&checked).contains("authentication does not exist in VRRP version 3"));
}

#[test]
fn a_vrrp_script_user_keeps_its_group() {
    let text = format!(
        "vrrp_script chk {{\n script /bin/check\n user nobody nogroup\n}}\n{}",
        with(" track_script {\n  chk\n }\n")
    );
    let checked = import(&text);
    let CheckKind::Script { user, .. } = &checked.config.checks[0].kind else {
        panic!()
    };
    assert_eq!(
        user,
        &Some(RunAs {
            user: "nobody".into(),
            group: Some("nogroup".into())
        })
    );
    assert!(checked.warnings.0.is_empty(), "{}", checked.warnings);
}

#[test]
fn track_script_weight_overrides_the_scripts() {
    let text = format!(
        "vrrp_script chk {{\n script \"/bin/check --fast\"\n weight -10\n timeout 0\n}}\n{}",
        with(" track_script {\n  chk weight -30\n }\n track_interface {\n  eth1\n  eth2 weight 10\n }\n")
    );
    let checked = import(&text);
    let vi = instance(&checked);
    assert_eq!(vi.track_checks[0].weight, Some(Weight::new(-30).unwrap()));
    assert_eq!(vi.track_interfaces[0].weight, Weight::FAULT);
    assert_eq!(vi.track_interfaces[1].weight, Weight::new(10).unwrap());
    let CheckKind::Script { command, .. } = &checked.config.checks[0].kind else {
        panic!()
    };
    assert_eq!(command.argv, ["/bin/check", "--fast"]);
    assert_eq!(
        checked.config.checks[0].timeout,
        Duration::from_secs(1),
        "timeout 0 is the interval"
    );
}

#[test]
fn unknown_track_script_is_ignored_like_keepalived() {
    let checked = import(&with(" track_script {\n  nothere\n }\n"));
    assert!(instance(&checked).track_checks.is_empty());
    assert!(warnings(&checked)
        .contains("keepalived.conf:8:3: warning: track_script `nothere` is not a vrrp_script"));
}

#[test]
fn a_whole_instance_on_one_line() {
    let checked = import("vrrp_instance X { state BACKUP interface eth3 virtual_router_id 9 priority 90 nopreempt use_vmac virtual_ipaddress { 10.1.1.1/24 dev eth3 10.1.1.2/24 } }\n");
    let vi = instance(&checked);
    assert_eq!(
        (vi.interface.as_str(), vi.vrid.get(), vi.priority.get()),
        ("eth3", 9, 90)
    );
    assert!(!vi.preempt && vi.use_vmac && vi.vmac_interface.is_none());
    assert_eq!(vi.vips.len(), 2);
    assert_eq!(vi.vips[0].device.as_deref(), Some("eth3"));
    assert_eq!(vi.vips[1].device, None);
    let text = warnings(&checked);
    assert!(
        text.contains("keepalived.conf:1:19: warning: several keywords on one line: vipd reads `interface`, `virtual_router_id`, `priority`, `nopreempt`, `use_vmac`, `virtual_ipaddress` after `state`, which keepalived ignores"),
        "{text}"
    );
    assert_eq!(checked.warnings.0.len(), 1, "{text}");
}

#[test]
fn sync_group_notify_and_members() {
    let text = format!(
        "{}vrrp_sync_group G {{\n group {{\n  VI_1\n }}\n notify \"/usr/bin/logger -t vrrp\"\n track_interface {{\n  eth0\n }}\n}}\n",
        with("")
    );
    let checked = import(&text);
    let group = &checked.config.sync_groups[0];
    assert_eq!(group.instances, ["VI_1"]);
    assert_eq!(
        group.notify.any.as_ref().unwrap().argv,
        ["/usr/bin/logger", "-t", "vrrp"]
    );
    assert!(warnings(&checked).contains("`track_interface` is ignored in a sync group"));
}

#[test]
fn global_defs_settings() {
    let text = format!(
        "global_defs {{\n router_id r1\n script_user ka ka\n enable_script_security\n vrrp_garp_interval 0.001\n vrrp_gna_interval 0.002\n vrrp_garp_master_repeat 2\n vrrp_rt_priority 60\n notify_fifo /run/ka.fifo\n vrrp_strict\n}}\n{}",
        with("")
    );
    let checked = import(&text);
    let global = &checked.config.global;
    assert_eq!(global.router_id.as_deref(), Some("r1"));
    assert_eq!(
        global.script_user,
        Some(RunAs {
            user: "ka".into(),
            group: Some("ka".into())
        })
    );
    assert!(global.script_security);
    assert!(global.realtime.enabled);
    assert_eq!(global.realtime.priority, 60);
    assert_eq!(
        global.notify_fifo.as_deref(),
        Some(Path::new("/run/ka.fifo"))
    );
    let vi = instance(&checked);
    assert_eq!(vi.garp.arp_interval, Duration::from_millis(1));
    assert_eq!(vi.garp.na_interval, Duration::from_millis(2));
    assert_eq!(vi.garp.master_repeat, 2);
    assert!(!vi.accept_mode, "vrrp_strict turns accept mode off");
}

#[test]
fn malformed_files_are_errors_with_file_line_and_what_was_expected() {
    let cases = [
        ("vrrp_instance VI_1 {\n interface eth0\n", "keepalived.conf:1:20: this `{` is never closed"),
        ("vrrp_instance VI_1 {\n}\n}\n", "keepalived.conf:3:1: unexpected `}`"),
        (&with(" prioirty 100\n"), "keepalived.conf:7:2: unknown keyword `prioirty` in vrrp_instance VI_1"),
        (&with(" priority high\n"), "keepalived.conf:7:11: `high` is not a valid priority: expected a whole number from 1 to 255"),
        (&with(" advert_int 1s\n"), "keepalived.conf:7:13: `1s` is not a valid advert_int"),
        (&with(" state LEADER\n"), "keepalived.conf:7:8: `LEADER` is not a state"),
        (&with(" priority 100 200\n"), "keepalived.conf:7:15: unexpected `200`: `priority` takes one value"),
        (&with(" virtual_ipaddress {\n  10.0.0.300\n }\n"), "keepalived.conf:8:3: `10.0.0.300` is not an address"),
        ("vrrp_instance X {\n virtual_router_id 3\n}\n", "keepalived.conf:1:1: vrrp_instance X needs `interface` and `virtual_router_id`"),
        ("vrrp_instanse X {\n}\n", "keepalived.conf:1:1: unknown keyword `vrrp_instanse`"),
        ("vrrp_script c {\n script \"/bin/x\n}\n", "keepalived.conf:2:9: unterminated quote"),
        (&with(" authentication {\n  auth_type AH\n }\n"), "keepalived.conf:8:13: auth_type AH needs `auth_pass SECRET`"),
    ];
    for (text, expected) in cases {
        let errors = refuse(text).to_string();
        assert!(
            errors.contains(expected),
            "expected {expected:?} in:\n{errors}\nfor:\n{text}"
        );
    }
}

#[test]
fn comments_quotes_and_blocks_on_the_next_line() {
    let text = "# comment\nvrrp_instance VI_1   ! trailing comment\n{\n interface eth0 # here\n virtual_router_id 51\n notify_master \"/bin/echo 'two words' #not a comment\"\n virtual_ipaddress\n {\n  192.0.2.1\n }\n}\n";
    let checked = import(text);
    let vi = instance(&checked);
    assert_eq!(vi.vips.len(), 1);
    assert_eq!(
        vi.notify.master.as_ref().unwrap().argv,
        ["/bin/echo", "two words", "#not", "a", "comment"]
    );
}

/// keepalived reads the words after a notify command's first as `username [groupname]`.
#[test]
fn a_notify_command_for_another_user_is_left_out_and_one_for_the_script_user_kept() {
    let text = format!(
        "global_defs {{\n script_user nobody\n}}\n{}",
        with(" notify_master \"/bin/m x\" nobody\n notify_backup /bin/b root\n notify_fault /bin/f nobody daemon\n")
    );
    let checked = import(&text);
    let notify = &instance(&checked).notify;
    assert_eq!(notify.master.as_ref().unwrap().argv, ["/bin/m", "x"]);
    assert_eq!(notify.backup, None);
    assert_eq!(notify.fault, None, "the group differs from script_user's");
    let text = warnings(&checked);
    assert!(
        text.contains("`notify_backup` is not run: keepalived runs it as user `root`"),
        "{text}"
    );
    assert!(!text.contains("notify_master"), "{text}");
}

#[test]
fn sync_group_members_that_do_not_exist_are_left_out_like_keepalived() {
    let text = format!("{}vrrp_sync_group G {{\n group {{ VI_1 VI_9 }}\n}}\nvrrp_sync_group H {{\n group {{ VI_8 }}\n}}\n", with(""));
    let checked = import(&text);
    assert_eq!(checked.config.sync_groups.len(), 1);
    assert_eq!(checked.config.sync_groups[0].instances, ["VI_1"]);
    let text = warnings(&checked);
    assert!(
        text.contains("keepalived.conf:9:15: warning: `VI_9` is not a vrrp_instance"),
        "{text}"
    );
    assert!(
        text.contains("keepalived.conf:11:1: warning: vrrp_sync_group H has no instances"),
        "{text}"
    );
}

#[test]
fn settings_that_change_what_peers_see_are_named() {
    let checked = import(&format!(
        "global_defs {{\n vrrp_mcast_group4 224.0.0.99\n lvs_id x\n}}\n{}",
        with("")
    ));
    let text = warnings(&checked);
    assert!(text.contains("keepalived.conf:2:2: warning: `vrrp_mcast_group4` is ignored: vipd sends IPv4 adverts to the standard group 224.0.0.18"), "{text}");
    assert!(
        text.contains("keepalived.conf:3:2: warning: `lvs_id` in global_defs is ignored"),
        "{text}"
    );
}

#[test]
fn per_host_lines_definitions_and_sequences_are_expanded_for_the_config_id() {
    let checked = import(&with(
        " @test priority 150\n @other priority 50\n $VIP=192.0.2.${N}/24\n virtual_ipaddress {\n  ~SEQ(N, 7, 8) $VIP\n }\n",
    ));
    let vips: Vec<String> = instance(&checked)
        .vips
        .iter()
        .map(|vip| vip.address.to_string())
        .collect();
    assert_eq!(instance(&checked).priority.get(), 150);
    assert_eq!(vips, ["192.0.2.1/24", "192.0.2.7/24", "192.0.2.8/24"]);
}

#[test]
fn preprocessor_errors_name_file_and_line() {
    let errors = refuse(&with(" ~SEQ(N, 1, 0, 3) priority ${N}\n")).to_string();
    assert!(
        errors.contains("keepalived.conf:7:2: invalid ~SEQ values"),
        "{errors}"
    );
}

#[test]
fn version_3_rounds_to_centiseconds_like_keepalived() {
    let checked = import(&with(" version 3\n advert_int 0.125\n"));
    assert_eq!(
        instance(&checked).advert_interval,
        Duration::from_millis(130)
    );
    assert!(
        warnings(&checked).contains("advert_int 0.125 is rounded to 130ms"),
        "{}",
        warnings(&checked)
    );
}

#[test]
fn a_missing_file_is_one_error_naming_it() {
    let errors = load_keepalived(Path::new("/nonexistent/keepalived.conf"), &host()).unwrap_err();
    assert_eq!(errors.0.len(), 1);
    let text = errors.to_string();
    assert!(
        text.starts_with(
            "/nonexistent/keepalived.conf:1:1: cannot read the keepalived configuration"
        ),
        "{text}"
    );
}

#[test]
fn deeply_nested_blocks_are_refused_at_the_first_too_deep_brace() {
    let depth = 10_000;
    let mut text = "vrrp_instance VI {\n".repeat(depth);
    text.push_str(&"}\n".repeat(depth));
    let errors = refuse(&text);
    assert_eq!(errors.0.len(), 1, "{errors}");
    let error = &errors.0[0];
    assert_eq!(
        error.location.position.line,
        crate::config::keepalived::syntax::MAX_BLOCK_DEPTH + 1
    );
    assert!(error.message.contains("nest deeper"), "{errors}");
    assert!(
        errors.to_string().starts_with("keepalived.conf:9:"),
        "{errors}"
    );
}

#[test]
fn keepalived_s_deepest_blocks_still_parse() {
    let checked = import(
        "vrrp_instance VI_1 {\n interface eth0\n virtual_router_id 5\n priority 100\n virtual_ipaddress {\n 10.0.0.1/24\n }\n}\nvirtual_server 10.0.0.1 80 {\n real_server 10.0.0.2 80 {\n HTTP_GET {\n url {\n path /\n }\n }\n }\n}\n",
    );
    assert_eq!(instance(&checked).vips.len(), 1);
}

/// A large instance checks; the importer and validation are linear in its VIPs (a quadratic
/// step took 15 s at 200,000), and every VIP is kept in order.
#[test]
fn an_instance_with_many_vips_imports() {
    let count = 50_000u32;
    let mut text =
        String::from("vrrp_instance VI_1 {\n interface eth0\n virtual_router_id 5\n priority 100\n virtual_ipaddress {\n");
    for i in 0..count {
        text.push_str(&format!(
            " 10.{}.{}.{}/32\n",
            i >> 16,
            (i >> 8) & 0xff,
            i & 0xff
        ));
    }
    text.push_str(" }\n}\n");
    let checked = import(&text);
    let vips = &instance(&checked).vips;
    assert_eq!(vips.len(), count as usize);
    assert_eq!(
        vips[count as usize - 1].address.to_string(),
        "10.0.195.79/32"
    );
}

#[test]
fn auth_hmac_block_imports_with_keys_inline_and_from_a_file() {
    use crate::vrrp::auth_hmac::{AntiReplay, Mode};
    use std::os::unix::fs::PermissionsExt;
    let dir = TempDir::new("auth-hmac");
    let file = dir.write(
        "vrrp.key",
        "hex:a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5\n",
    );
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).unwrap();
    let text = format!(
        "vrrp_instance VI_1 {{\n  interface eth0\n  virtual_router_id 51\n  version 3\n  advert_int 1\n  virtual_ipaddress {{\n    192.0.2.100\n  }}\n  auth_hmac {{\n    key 1 hex:000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\n    key 2 file:{}\n    active_key 2\n    anti_replay monotonic\n    time_window 30\n    mode permissive\n  }}\n}}\n",
        file.display()
    );
    let checked = import(&text);
    let auth = instance(&checked).auth_hmac.clone().unwrap();
    assert_eq!(auth.keys.len(), 2);
    assert_eq!(auth.keys[0].material, (0u8..32).collect::<Vec<_>>());
    assert_eq!(auth.keys[1].material, vec![0xa5; 32]);
    assert_eq!(auth.keys[1].file.as_deref(), Some(file.as_path()));
    assert_eq!(
        (
            auth.active_key,
            auth.mode,
            auth.anti_replay,
            auth.time_window
        ),
        (2, Mode::Permissive, AntiReplay::Monotonic, Some(30))
    );
    // The printed vipd.toml names the file, not the key in it, and reloads as the same model.
    let toml = write::to_toml(&checked.config);
    assert!(toml.contains(&format!("file:{}", file.display())), "{toml}");
    assert!(!toml.contains("a5a5"), "{toml}");
    let reloaded = check_str(Path::new("imported.toml"), &toml).unwrap();
    assert_eq!(reloaded.config, checked.config);

    // A key file others may read is refused, naming the file and its mode.
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
    let errors = refuse(&text).to_string();
    assert!(
        errors.contains(&format!(
            "auth_hmac key file {} has mode 0644",
            file.display()
        )),
        "{errors}"
    );
}

#[test]
fn auth_hmac_replaces_legacy_authentication_as_keepalived_does() {
    let text = "vrrp_instance VI_1 {\n  interface eth0\n  virtual_router_id 51\n  authentication {\n    auth_type PASS\n    auth_pass secret\n  }\n  virtual_ipaddress {\n    192.0.2.100\n  }\n  auth_hmac {\n    key 1 an-ascii-key-of-thirty-two-bytes\n    active_key 1\n  }\n}\n";
    let checked = import(text);
    assert_eq!(instance(&checked).auth, Auth::None);
    assert!(instance(&checked).auth_hmac.is_some());
    assert!(
        warnings(&checked).contains("auth_hmac replaces authentication"),
        "{}",
        warnings(&checked)
    );
    let refused = refuse(&text.replace("active_key 1", "active_key 9")).to_string();
    assert!(
        refused.contains("auth_hmac active_key 9 is not among the keys defined"),
        "{refused}"
    );
}

#[test]
fn vrrp_strict_makes_auth_hmac_enforce_as_keepalived_does() {
    let text = "global_defs {\n  vrrp_strict\n}\nvrrp_instance VI_1 {\n  interface eth0\n  virtual_router_id 51\n  version 3\n  virtual_ipaddress {\n    192.0.2.100\n  }\n  auth_hmac {\n    key 1 an-ascii-key-of-thirty-two-bytes\n    active_key 1\n    mode receive-only\n  }\n}\n";
    let checked = import(text);
    let auth = instance(&checked).auth_hmac.clone().unwrap();
    assert_eq!(auth.mode, crate::vrrp::auth_hmac::Mode::Enforce);
    assert!(
        warnings(&checked).contains("vrrp_strict requires auth_hmac mode enforce"),
        "{}",
        warnings(&checked)
    );
}

/// keepalived's per-instance `strict_mode` overrides `vrrp_strict` both ways.
#[test]
fn strict_mode_is_vrrp_strict_for_one_instance_either_way() {
    let instance_with = |global: &str, line: &str| {
        let text = format!(
            "global_defs {{\n{global}}}\nvrrp_instance VI_1 {{\n  interface eth0\n  virtual_router_id 51\n{line}  virtual_ipaddress {{\n    192.0.2.100\n  }}\n}}\n"
        );
        let checked = import(&text);
        (instance(&checked).accept_mode, warnings(&checked))
    };
    assert!(instance_with("", "").0, "accept mode on by default");
    assert!(!instance_with("", "  strict_mode\n").0);
    assert!(!instance_with("", "  strict_mode on\n").0);
    assert!(instance_with("  vrrp_strict\n", "  strict_mode off\n").0);
    assert!(!instance_with("  vrrp_strict\n", "  strict_mode false\n  no_accept\n").0);
    let (accept, warned) = instance_with("", "  strict_mode sometimes\n");
    assert!(accept, "an invalid value is ignored");
    assert!(
        warned.contains("invalid strict_mode `sometimes`"),
        "{warned}"
    );
}

#[test]
fn a_vip_listed_twice_in_an_instance_is_ignored_the_second_time_with_a_warning() {
    // As keepalived's samples/keepalived.conf.vrrp lists 192.168.200.18, once with a label.
    let checked = import(&with(
        " virtual_ipaddress {\n  192.0.2.2\n  192.0.2.1/24 label eth0:1\n }\n virtual_ipaddress_excluded {\n  192.0.2.9\n  192.0.2.9/32\n }\n",
    ));
    let vips: Vec<String> = instance(&checked)
        .vips
        .iter()
        .map(|vip| vip.address.to_string())
        .collect();
    assert_eq!(vips, ["192.0.2.1/24", "192.0.2.2/32"]);
    assert_eq!(instance(&checked).vips[0].label, None);
    assert_eq!(instance(&checked).excluded_vips.len(), 1);
    let text = warnings(&checked);
    assert!(
        text.contains("keepalived.conf:9:3: warning: VIP 192.0.2.1 is already in this instance (keepalived.conf:5): ignored"),
        "{text}"
    );
    assert!(text.contains("keepalived.conf:13:3: warning: VIP 192.0.2.9 is already in this instance (keepalived.conf:12)"), "{text}");
}
