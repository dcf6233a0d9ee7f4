//! The configuration as a user meets it: the shipped examples load, and each mistake is
//! reported at the right line and column with the right words.

use crate::family::IpFamily;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::model::{
    Auth, CheckKind, Dataplane, Garp, Global, LogFormat, Priority, V3Checksum, Version, Weight,
    XdpMode,
};
use super::write::to_toml;
use super::{check_file, check_str, Checked, FieldPath, Item};

const FILE: &str = "t.toml";

fn check(text: &str) -> Result<Checked, Vec<String>> {
    check_str(Path::new(FILE), text)
        .map_err(|errors| errors.0.iter().map(ToString::to_string).collect())
}

/// The single error `text` produces.
fn error(text: &str) -> String {
    match check(text) {
        Ok(_) => panic!("expected an error, the configuration was accepted:\n{text}"),
        Err(errors) => {
            assert_eq!(errors.len(), 1, "expected one error, got {errors:#?}");
            errors.into_iter().next().unwrap_or_default()
        }
    }
}

fn warnings(text: &str) -> Vec<String> {
    match check(text) {
        Ok(checked) => checked
            .warnings
            .to_string()
            .lines()
            .map(str::to_owned)
            .collect(),
        Err(errors) => panic!("expected no errors, got {errors:#?}"),
    }
}

/// `t.toml:LINE:COL` of the `nth` (from 1) occurrence of `needle` in `text`.
fn at(text: &str, needle: &str, nth: usize) -> String {
    let offset = text
        .match_indices(needle)
        .nth(nth - 1)
        .unwrap_or_else(|| panic!("`{needle}` does not occur {nth} times"))
        .0;
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let column = before.len() - before.rfind('\n').map_or(0, |i| i + 1) + 1;
    format!("{FILE}:{line}:{column}")
}

fn conf_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("conf")
}

fn shipped_files() -> Vec<PathBuf> {
    let mut files = vec![conf_dir().join("vipd.toml")];
    let examples = std::fs::read_dir(conf_dir().join("examples")).expect("conf/examples exists");
    files.extend(
        examples
            .map(|entry| entry.expect("readable directory entry").path())
            .filter(|path| path.extension().is_some_and(|ext| ext == "toml")),
    );
    assert!(files.len() >= 8, "reference and examples found: {files:?}");
    files
}

#[test]
fn every_shipped_configuration_loads_and_validates() {
    for file in shipped_files() {
        if let Err(errors) = check_file(&file) {
            panic!("{} does not validate:\n{errors}", file.display());
        }
    }
}

/// Reading what `to_toml` wrote gives the model back.
fn assert_round_trip(config: &super::Config, origin: &str) {
    let written = to_toml(config);
    match check(&written) {
        Ok(again) => assert_eq!(&again.config, config, "{origin} written as:\n{written}"),
        Err(errors) => panic!("{origin} written as:\n{written}\ndoes not load: {errors:#?}"),
    }
}

#[test]
fn shipped_configurations_survive_a_round_trip() {
    for file in shipped_files() {
        let config = check_file(&file).unwrap().config;
        assert_round_trip(&config, &file.display().to_string());
    }
}

#[test]
fn every_key_survives_a_round_trip() {
    let text = r#"
[global]
router_id = "r"
control_socket = "/tmp/v.sock"
metrics_listen = "[::1]:9816"
script_user = "u"
script_group = "g"
script_security = true
notify_fifo = "/tmp/fifo"
dataplane = "socket"
xdp_mode = "generic"
log_format = "json"
[global.realtime]
enabled = true
priority = 70

[[instance]]
name = "a"
interface = "eth0"
vrid = 9
priority = 254
advert_interval = "3s"
version = 2
vips = ["192.0.2.1/24", { address = "192.0.2.2", device = "eth1", label = "eth1:x", broadcast = "192.0.2.255" }]
excluded_vips = ["2001:db8::5/64"]
unicast_source = "192.0.2.100"
unicast_peers = ["192.0.2.101"]
unicast_ttl_check = true
auth_password = "12345678"
preempt = false
preempt_delay = "0s"
accept_mode = false
use_vmac = true
vmac_interface = "vrrp.9"
v3_checksum = "message_only"
garp_master_delay = "0s"
garp_master_repeat = 2
garp_master_refresh = "30s"
garp_master_refresh_repeat = 3
garp_interval = "1ms"
gna_interval = "250us"
track_interfaces = ["eth1", { name = "eth2", weight = 5 }]
track_files = [{ path = "/a b", weight = 0 }, { path = "/c" }]
track_checks = ["t", { check = "h", weight = -3 }]
notify = ["/bin/n", "it's"]
notify_master = "/bin/m"
notify_backup = "/bin/b"
notify_fault = "/bin/f"
notify_stop = "/bin/s"

[[instance]]
name = "b"
interface = "eth0"
vrid = 10
vips = ["192.0.2.3"]
preempt_delay = "2s"

[[sync_group]]
name = "g"
instances = ["a", "b"]
notify = "/bin/g"
notify_master = "/bin/gm"

[[check]]
name = "t"
type = "tcp"
address = "::1"
port = 1
interval = "10ms"
timeout = "5ms"
weight = 253
rise = 4
fall = 5
init_fail = true

[[check]]
name = "h"
type = "http"
url = "https://[::1]:6443/healthz"
expected_status = 204
tls_verify = false

[[check]]
name = "s"
type = "script"
command = "/bin/check --x"
user = "nobody"
group = "nogroup"
"#;
    let config = check(text).unwrap().config;
    assert_round_trip(&config, "every key");
}

#[test]
fn a_script_group_needs_its_user() {
    let message = error("[global]\nscript_group = \"g\"\n");
    assert!(
        message.contains("`script_group` needs `script_user`"),
        "{message}"
    );
    let message = error(
        "[[check]]\nname = \"s\"\ntype = \"script\"\ncommand = \"/bin/true\"\ngroup = \"g\"\n",
    );
    assert!(message.contains("`group` needs `user`"), "{message}");
}

#[test]
fn kubernetes_example_has_the_kubeadm_check() {
    let checked = check_file(&conf_dir().join("examples/kubernetes-apiserver.toml")).unwrap();
    let check = &checked.config.checks[0];
    match &check.kind {
        CheckKind::Http {
            url,
            expected_status,
            tls_verify,
        } => {
            assert_eq!(url.as_str(), "https://127.0.0.1:6443/healthz");
            assert_eq!(*expected_status, 200);
            assert!(!tls_verify);
        }
        other => panic!("expected an http check, got {other:?}"),
    }
    assert_eq!(check.weight.get(), -2);
    assert_eq!(check.fall, 10);
    assert_eq!(
        checked.config.instances[0].track_checks[0].check,
        "apiserver"
    );
    assert!(checked.warnings.0.is_empty(), "{}", checked.warnings);
}

#[test]
fn fast_mode_example_is_fast_and_says_so() {
    let checked = check_file(&conf_dir().join("examples/fast-mode.toml")).unwrap();
    let instance = &checked.config.instances[0];
    assert_eq!(instance.advert_interval, Duration::from_micros(100));
    assert!(instance.is_fast_mode());
    assert!(checked.config.global.realtime.enabled);
    let warnings = checked.warnings.to_string();
    assert!(
        warnings.contains(
            "fast-mode.toml:16:19: warning: advert_interval 100us selects vipd fast mode"
        ),
        "{warnings}"
    );
}

#[test]
fn unicast_example_keeps_its_peers_and_password() {
    let checked = check_file(&conf_dir().join("examples/unicast-cloud.toml")).unwrap();
    let instance = &checked.config.instances[0];
    assert_eq!(instance.version, Version::V2);
    assert_eq!(instance.auth, Auth::Pass("Kp9x2mQa".into()));
    assert_eq!(instance.unicast_peers.len(), 2);
    assert!(!instance.unicast_ttl_check);
    assert_eq!(instance.garp.master_refresh, Some(Duration::from_secs(60)));
}

#[test]
fn defaults_of_a_minimal_instance() {
    let checked = check(
        r#"
[[instance]]
name = "VI_1"
interface = "eth0"
vrid = 51
vips = ["192.0.2.10"]
"#,
    )
    .unwrap();
    assert_eq!(checked.config.global, Global::default());
    let global = &checked.config.global;
    assert_eq!(global.control_socket, PathBuf::from("/run/vipd/vipd.sock"));
    assert_eq!(global.metrics_listen, None);
    assert_eq!(global.dataplane, Dataplane::Xdp);
    assert_eq!(global.xdp_mode, XdpMode::Auto);
    assert_eq!(global.log_format, LogFormat::Human);
    assert!(!global.realtime.enabled);

    let instance = &checked.config.instances[0];
    assert_eq!(instance.priority, Priority::DEFAULT);
    assert_eq!(instance.advert_interval, Duration::from_secs(1));
    assert_eq!(instance.version, Version::V3);
    assert_eq!(instance.family, IpFamily::V4);
    assert_eq!(instance.vips[0].address.prefix_len(), 32);
    assert_eq!(instance.auth, Auth::None);
    assert!(instance.preempt);
    assert_eq!(instance.preempt_delay, Duration::ZERO);
    assert!(instance.accept_mode);
    assert!(!instance.use_vmac);
    assert!(!instance.unicast_ttl_check);
    assert!(instance.unicast_peers.is_empty());
    assert_eq!(instance.v3_checksum, V3Checksum::WithPseudoHeader);
    assert_eq!(instance.garp, Garp::default());
    assert_eq!(instance.garp.master_delay, Duration::from_secs(5));
    assert_eq!(instance.garp.master_repeat, 5);
    assert_eq!(instance.garp.master_refresh, None);
    assert!(checked.warnings.0.is_empty());
}

/// The reference file states each default; reading it must give the model's defaults.
#[test]
fn reference_file_states_the_model_defaults() {
    let checked = check_file(&conf_dir().join("vipd.toml")).unwrap();
    let global = &checked.config.global;
    assert_eq!(
        Global {
            router_id: None,
            ..global.clone()
        },
        Global::default()
    );
    let reference = &checked.config.instances[0];
    let minimal = &checked.config.instances[1];
    assert_eq!(reference.garp, Garp::default());
    assert_eq!(reference.garp, minimal.garp);
    for (field, a, b) in [
        ("preempt", reference.preempt, minimal.preempt),
        ("accept_mode", reference.accept_mode, minimal.accept_mode),
        ("use_vmac", reference.use_vmac, minimal.use_vmac),
        (
            "unicast_ttl_check",
            reference.unicast_ttl_check,
            minimal.unicast_ttl_check,
        ),
    ] {
        assert_eq!(a, b, "{field} in vipd.toml differs from its default");
    }
    assert_eq!(reference.priority, minimal.priority);
    assert_eq!(reference.advert_interval, minimal.advert_interval);
    assert_eq!(reference.version, minimal.version);
    assert_eq!(reference.preempt_delay, minimal.preempt_delay);
    assert_eq!(reference.v3_checksum, minimal.v3_checksum);
    assert_eq!(minimal.family, IpFamily::V6);
}

#[test]
fn full_forms_of_entries() {
    let checked = check(
        r#"
[[instance]]
name = "VI_1"
interface = "eth0"
vrid = 51
vips = [{ address = "192.0.2.10/24", device = "eth1", label = "eth1:vip", broadcast = "192.0.2.255" }]
track_interfaces = ["eth1", { name = "eth2", weight = -20 }]
track_files = [{ path = "/run/down" }]
track_checks = [{ check = "c", weight = 10 }]
notify = "/bin/notify 'two words'"
notify_master = ["/bin/master", "x"]

[[check]]
name = "c"
type = "script"
command = ["/bin/true"]
interval = "1.5s"
"#,
    )
    .unwrap();
    let instance = &checked.config.instances[0];
    let vip = &instance.vips[0];
    assert_eq!(vip.device.as_deref(), Some("eth1"));
    assert_eq!(vip.label.as_deref(), Some("eth1:vip"));
    assert_eq!(vip.broadcast, Some("192.0.2.255".parse().unwrap()));
    assert_eq!(instance.track_interfaces[0].weight, Weight::FAULT);
    assert_eq!(instance.track_interfaces[1].weight.get(), -20);
    assert_eq!(instance.track_files[0].weight.get(), 1);
    assert_eq!(instance.track_checks[0].weight.map(Weight::get), Some(10));
    let notify = instance.notify.any.as_ref().unwrap();
    assert_eq!(notify.argv, ["/bin/notify", "two words"]);
    assert_eq!(
        instance.notify.master.as_ref().unwrap().argv,
        ["/bin/master", "x"]
    );
    let check = &checked.config.checks[0];
    assert_eq!(check.interval, Duration::from_millis(1500));
    assert_eq!(
        check.timeout, check.interval,
        "timeout defaults to the interval"
    );
    assert_eq!(check.weight, Weight::FAULT);
    assert_eq!((check.rise, check.fall, check.init_fail), (1, 1, false));
}

// ---- mistakes found while reading ----

#[test]
fn unknown_key_names_the_table_and_the_expected_keys() {
    let text = "[[instance]]\nname = \"a\"\ninterface = \"eth0\"\nvrid = 1\npriorty = 100\nvips = [\"192.0.2.1\"]\n";
    let message = error(text);
    let expected_start = format!(
        "{}: unknown key `priorty` in [[instance]] (expected one of `name`, `interface`, `vrid`, `priority`,",
        at(text, "priorty", 1)
    );
    assert!(message.starts_with(&expected_start), "{message}");
}

#[test]
fn unknown_top_level_key() {
    let text = "[globals]\nrouter_id = \"x\"\n";
    assert_eq!(
        error(text),
        format!(
            "{}: unknown top-level key `globals` (expected one of [global], [[instance]], [[sync_group]], [[check]], [[bfd]])",
            at(text, "globals", 1)
        )
    );
}

#[test]
fn missing_required_key() {
    let text = "[[instance]]\nname = \"a\"\nvrid = 1\nvips = [\"192.0.2.1\"]\n";
    assert_eq!(
        error(text),
        format!(
            "{}: missing key `interface` in [[instance]]",
            at(text, "[[instance]]", 1)
        )
    );
}

#[test]
fn wrong_type() {
    let text = "[[instance]]\nname = \"a\"\ninterface = \"eth0\"\nvrid = \"one\"\nvips = [\"192.0.2.1\"]\n";
    assert_eq!(
        error(text),
        format!(
            "{}: invalid type: string \"one\", expected i64",
            at(text, "\"one\"", 1)
        )
    );
}

#[test]
fn bad_duration() {
    let text = "[[instance]]\nname = \"a\"\ninterface = \"eth0\"\nvrid = 1\nadvert_interval = \"1 sec ond\"\nvips = [\"192.0.2.1\"]\n";
    assert_eq!(
        error(text),
        format!(
            "{}: invalid duration \"1 sec ond\": expected a number and a unit (us, ms, s, m, h), such as \"1s\", \"10ms\" or \"100us\"",
            at(text, "\"1 sec", 1)
        )
    );
    let text = "[[instance]]\nname = \"a\"\ninterface = \"eth0\"\nvrid = 1\nadvert_interval = 1\nvips = [\"192.0.2.1\"]\n";
    assert_eq!(
        error(text),
        format!(
            "{}: invalid type: integer `1`, expected a duration string such as \"1s\", \"10ms\" or \"100us\"",
            at(text, "1\n", 2)
        )
    );
}

#[test]
fn bad_address() {
    let text = "[[instance]]\nname = \"a\"\ninterface = \"eth0\"\nvrid = 1\nvips = [\"192.0.2.1/24\", \"192.0.2.256/24\"]\n";
    assert_eq!(
        error(text),
        format!(
            "{}: invalid address/prefix \"192.0.2.256/24\": expected an address with an optional prefix length such as \"192.0.2.10/24\" or \"2001:db8::10/64\"",
            at(text, "\"192.0.2.256", 1)
        )
    );
    let text = "[[instance]]\nname = \"a\"\ninterface = \"eth0\"\nvrid = 1\nvips = [\"192.0.2.1\"]\nunicast_peers = [\"10.0.0.1/24\"]\n";
    assert_eq!(
        error(text),
        format!(
            "{}: invalid IP address \"10.0.0.1/24\": expected an address such as \"192.0.2.1\" or \"2001:db8::1\", without a prefix length",
            at(text, "\"10.0.0.1/24", 1)
        )
    );
}

#[test]
fn syntax_error_is_located() {
    let text = "[[instance]]\nname = \"a\ninterface = \"eth0\"\n";
    let errors = check(text).unwrap_err();
    assert!(errors[0].starts_with("t.toml:2:"), "{errors:?}");
}

#[test]
fn errors_in_several_tables_are_all_reported_in_file_order() {
    let text = r#"
[global]
log_format = "xml"

[[instance]]
name = "a"
interface = "eth0"
vrid = 300
vips = ["192.0.2.1"]

[[instance]]
name = "b"
interface = "eth0"
vrid = 2
vips = ["192.0.2.2"]
priority = 0

[[check]]
name = "c"
type = "tcp"
url = "http://127.0.0.1/"
"#;
    let errors = check(text).unwrap_err();
    assert_eq!(
        errors,
        [
            format!("{}: unknown value `xml`, expected `human` or `json`", at(text, "\"xml\"", 1)),
            format!("{}: vrid 300 is out of range: expected a virtual router ID in 1..=255", at(text, "300", 1)),
            format!("{}: priority 0 is out of range: expected a priority (255 means the address owner) in 1..=255", at(text, "0\n", 2)),
            format!("{}: a check of type \"tcp\" needs the key `address`", at(text, "\"tcp\"", 1)),
            format!("{}: a check of type \"tcp\" needs the key `port`", at(text, "\"tcp\"", 1)),
            format!("{}: key `url` belongs to checks of type \"http\", not \"tcp\"", at(text, "\"http://", 1)),
        ]
    );
}

#[test]
fn priority_above_255_and_weight_out_of_range() {
    let text = "[[instance]]\nname = \"a\"\ninterface = \"eth0\"\nvrid = 1\npriority = 256\nvips = [\"192.0.2.1\"]\ntrack_interfaces = [{ name = \"eth1\", weight = -254 }]\n";
    let errors = check(text).unwrap_err();
    assert_eq!(
        errors,
        [
            format!("{}: priority 256 is out of range: expected a priority (255 means the address owner) in 1..=255", at(text, "256", 1)),
            format!("{}: weight -254 is out of range: expected -253..=253 (0 puts the instance in FAULT on failure)", at(text, "{ name", 1)),
        ]
    );
}

#[test]
fn password_longer_than_eight_bytes() {
    let text = "[[instance]]\nname = \"a\"\ninterface = \"eth0\"\nvrid = 1\nversion = 2\nauth_password = \"123456789\"\nvips = [\"192.0.2.1\"]\n";
    assert_eq!(
        error(text),
        format!(
            "{}: auth_password is 9 bytes long: expected 1 to 8 bytes (VRRPv2 carries 8)",
            at(text, "\"123456789\"", 1)
        )
    );
}

#[test]
fn unreadable_file() {
    let errors = check_file(Path::new("/nonexistent/vipd.toml")).unwrap_err();
    let rendered = errors.to_string();
    assert!(
        rendered.starts_with("/nonexistent/vipd.toml:1:1: cannot read the configuration: "),
        "{rendered}"
    );
}

// ---- mistakes found by validation ----

fn instance(name: &str, rest: &str) -> String {
    format!("[[instance]]\nname = \"{name}\"\ninterface = \"eth0\"\n{rest}\n")
}

#[test]
fn duplicate_vrid_on_one_interface_and_family() {
    let text = instance("a", "vrid = 7\nvips = [\"192.0.2.1\"]")
        + &instance("b", "vrid = 7\nvips = [\"192.0.2.2\"]");
    assert_eq!(
        error(&text),
        format!(
            "{}: vrid 7 is already used on eth0 for IPv4 by instance `a` (line 4): use another vrid",
            at(&text, "7", 2)
        )
    );
    // The same VRID is another virtual router in the other family or on another interface.
    let text = instance("a", "vrid = 7\nvips = [\"192.0.2.1\"]")
        + &instance("b", "vrid = 7\nvips = [\"2001:db8::1\"]")
        + "[[instance]]\nname = \"c\"\ninterface = \"eth1\"\nvrid = 7\nvips = [\"192.0.2.3\"]\n";
    assert!(check(&text).is_ok());
}

#[test]
fn vip_in_two_instances() {
    let text = instance("a", "vrid = 1\nvips = [\"192.0.2.1/24\"]")
        + &instance("b", "vrid = 2\nvips = [\"192.0.2.9\", \"192.0.2.1/32\"]");
    assert_eq!(
        error(&text),
        format!(
            "{}: VIP 192.0.2.1 is already in instance `a` (line 5): an address belongs to one instance",
            at(&text, "\"192.0.2.1/32", 1)
        )
    );
}

#[test]
fn empty_vip_list() {
    let text = instance("a", "vrid = 1\nvips = []");
    assert_eq!(
        error(&text),
        format!(
            "{}: instance `a` has no VIPs: list at least one address in `vips`",
            at(&text, "[]", 1)
        )
    );
    let text = instance("a", "vrid = 1");
    assert_eq!(
        error(&text),
        "t.toml:1:1: instance `a` has no VIPs: list at least one address in `vips`"
    );
}

#[test]
fn vips_of_two_families() {
    let text = instance(
        "a",
        "vrid = 1\nvips = [\"192.0.2.1\", \"2001:db8::1\"]\nexcluded_vips = [\"2001:db8::2\"]",
    );
    assert_eq!(
        error(&text),
        format!(
            "{}: VIP 2001:db8::1/128 is IPv6 but the instance's first VIP is IPv4: all `vips` of an instance are one family (put the other family in its own instance, or in `excluded_vips`)",
            at(&text, "\"2001:db8::1", 1)
        )
    );
}

#[test]
fn unicast_peer_of_the_wrong_family() {
    let text = instance(
        "a",
        "vrid = 1\nvips = [\"192.0.2.1\"]\nunicast_peers = [\"192.0.2.7\", \"2001:db8::7\"]",
    );
    assert_eq!(
        error(&text),
        format!(
            "{}: unicast peer 2001:db8::7 is IPv6 but the instance's VIPs are IPv4: adverts go to peers of the VIPs' family",
            at(&text, "\"2001:db8::7", 1)
        )
    );
}

#[test]
fn unicast_source_of_the_wrong_family() {
    let text = instance(
        "a",
        "vrid = 1\nvips = [\"2001:db8::1\"]\nunicast_source = \"192.0.2.5\"",
    );
    assert_eq!(
        error(&text),
        format!(
            "{}: unicast_source 192.0.2.5 is IPv4 but the instance's VIPs are IPv6: use an address of the VIPs' family",
            at(&text, "\"192.0.2.5", 1)
        )
    );
}

#[test]
fn fast_interval_needs_version_3() {
    let text = instance(
        "a",
        "vrid = 1\nversion = 2\nadvert_interval = \"500us\"\nvips = [\"192.0.2.1\"]",
    );
    assert_eq!(
        error(&text),
        format!(
            "{}: advert_interval 500us is fast mode (below 10ms), which needs version = 3",
            at(&text, "\"500us", 1)
        )
    );
}

#[test]
fn interval_below_50us() {
    let text = instance(
        "a",
        "vrid = 1\nadvert_interval = \"49us\"\nvips = [\"192.0.2.1\"]",
    );
    assert_eq!(
        error(&text),
        format!(
            "{}: advert_interval 49us is below the minimum of 50us",
            at(&text, "\"49us", 1)
        )
    );
}

#[test]
fn v2_interval_must_be_whole_seconds() {
    let text = instance(
        "a",
        "vrid = 1\nversion = 2\nadvert_interval = \"1.5s\"\nvips = [\"192.0.2.1\"]",
    );
    assert_eq!(
        error(&text),
        format!(
            "{}: advert_interval 1500ms is not a whole number of seconds, which VRRP version 2 requires: use whole seconds or version = 3",
            at(&text, "\"1.5s", 1)
        )
    );
}

#[test]
fn v3_interval_must_be_whole_centiseconds_above_fast_mode() {
    let text = instance(
        "a",
        "vrid = 1\nadvert_interval = \"15ms\"\nvips = [\"192.0.2.1\"]",
    );
    let message = error(&text);
    assert!(
        message.starts_with(&format!(
            "{}: advert_interval 15ms is not a whole number of centiseconds",
            at(&text, "\"15ms", 1)
        )),
        "{message}"
    );
}

#[test]
fn auth_type_ah_loads_and_round_trips() {
    let text = instance(
        "a",
        "vrid = 1\nversion = 2\nauth_password = \"secret12\"\nauth_type = \"ah\"\nvips = [\"192.0.2.1\"]",
    );
    let checked = check(&text).unwrap();
    assert_eq!(
        checked.config.instances[0].auth,
        Auth::Ah("secret12".to_string())
    );
    assert_round_trip(&checked.config, "auth_type ah");
    let pass = instance(
        "a",
        "vrid = 1\nversion = 2\nauth_password = \"secret12\"\nauth_type = \"pass\"\nvips = [\"192.0.2.1\"]",
    );
    assert_eq!(
        check(&pass).unwrap().config.instances[0].auth,
        Auth::Pass("secret12".to_string())
    );
}

#[test]
fn auth_type_without_a_password_is_named() {
    let text = instance(
        "a",
        "vrid = 1\nversion = 2\nauth_type = \"ah\"\nvips = [\"192.0.2.1\"]",
    );
    assert_eq!(
        error(&text),
        format!(
            "{}: auth_type needs `auth_password`: set the password, or remove auth_type",
            at(&text, "\"ah\"", 1)
        )
    );
}

#[test]
fn auth_on_version_3() {
    let text = instance(
        "a",
        "vrid = 1\nauth_password = \"secret\"\nvips = [\"192.0.2.1\"]",
    );
    assert_eq!(
        error(&text),
        format!(
            "{}: authentication exists only in VRRP version 2 (RFC 9568 removed it): remove `auth_password` or set version = 2",
            at(&text, "\"secret", 1)
        )
    );
}

#[test]
fn version_2_is_ipv4_only() {
    let text = instance("a", "vrid = 1\nversion = 2\nvips = [\"2001:db8::1\"]");
    assert_eq!(
        error(&text),
        format!(
            "{}: VRRP version 2 is IPv4 only: use version = 3 for IPv6 VIPs",
            at(&text, "2\n", 1)
        )
    );
}

#[test]
fn tracked_check_not_defined() {
    let text = instance(
        "a",
        "vrid = 1\nvips = [\"192.0.2.1\"]\ntrack_checks = [\"apiserver\", \"apiservr\"]",
    )
        + "[[check]]\nname = \"apiserver\"\ntype = \"tcp\"\naddress = \"127.0.0.1\"\nport = 6443\n";
    assert_eq!(
        error(&text),
        format!(
            "{}: check `apiservr` is not defined: add a [[check]] with name = \"apiservr\"",
            at(&text, "\"apiservr\"", 1)
        )
    );
}

const TWO_INSTANCES: &str = "[[instance]]\nname = \"a\"\ninterface = \"eth0\"\nvrid = 1\nvips = [\"192.0.2.1\"]\n[[instance]]\nname = \"b\"\ninterface = \"eth1\"\nvrid = 1\nvips = [\"192.0.2.2\"]\n";

#[test]
fn sync_group_names_an_undefined_instance() {
    let text = format!("{TWO_INSTANCES}[[sync_group]]\nname = \"g\"\ninstances = [\"a\", \"c\"]\n");
    assert_eq!(
        error(&text),
        format!(
            "{}: instance `c` is not defined: add an [[instance]] with name = \"c\"",
            at(&text, "\"c\"", 1)
        )
    );
}

#[test]
fn instance_in_two_sync_groups() {
    let text = format!(
        "{TWO_INSTANCES}[[sync_group]]\nname = \"g\"\ninstances = [\"a\", \"b\"]\n[[sync_group]]\nname = \"h\"\ninstances = [\"b\", \"a\"]\n"
    );
    let errors = check(&text).unwrap_err();
    assert_eq!(
        errors,
        [
            format!("{}: instance `b` is already in sync group `g` (line 11): an instance belongs to at most one sync group", at(&text, "\"b\"", 3)),
            format!("{}: instance `a` is already in sync group `g` (line 11): an instance belongs to at most one sync group", at(&text, "\"a\"", 3)),
        ]
    );
}

#[test]
fn duplicate_names() {
    let text = instance("a", "vrid = 1\nvips = [\"192.0.2.1\"]")
        + &instance("a", "vrid = 2\nvips = [\"192.0.2.2\"]");
    assert_eq!(
        error(&text),
        format!(
            "{}: instance name `a` is already used on line 2: names must be unique",
            at(&text, "\"a\"", 2)
        )
    );
}

#[test]
fn check_interval_below_10ms() {
    let text = instance("a", "vrid = 1\nvips = [\"192.0.2.1\"]\ntrack_checks = [\"c\"]")
        + "[[check]]\nname = \"c\"\ntype = \"tcp\"\naddress = \"127.0.0.1\"\nport = 80\ninterval = \"5ms\"\n";
    assert_eq!(
        error(&text),
        format!(
            "{}: interval 5ms is below the minimum of 10ms",
            at(&text, "\"5ms", 1)
        )
    );
}

// ---- warnings ----

#[test]
fn priority_255_is_allowed_with_a_warning() {
    let text = instance("a", "vrid = 1\npriority = 255\nvips = [\"192.0.2.1\"]");
    assert_eq!(
        warnings(&text),
        [format!(
            "{}: warning: priority 255 makes `a` the address owner: it becomes MASTER at once on start and always preempts; use 1..=254 unless this host owns the VIPs",
            at(&text, "255", 1)
        )]
    );
}

#[test]
fn fast_mode_without_realtime_warns_twice() {
    let text = instance(
        "a",
        "vrid = 1\nadvert_interval = \"200us\"\nvips = [\"192.0.2.1\"]",
    );
    let found = warnings(&text);
    assert_eq!(found.len(), 2, "{found:#?}");
    assert!(found[0].starts_with(&format!(
        "{}: warning: advert_interval 200us selects vipd fast mode",
        at(&text, "\"200us", 1)
    )));
    assert!(found[1].contains("fast mode without realtime scheduling"));
}

#[test]
fn untracked_check_and_lonely_sync_group_warn() {
    let text = instance("a", "vrid = 1\nvips = [\"192.0.2.1\"]")
        + "[[sync_group]]\nname = \"g\"\ninstances = [\"a\"]\n[[check]]\nname = \"c\"\ntype = \"tcp\"\naddress = \"::1\"\nport = 80\n";
    let found = warnings(&text);
    assert_eq!(
        found,
        [
            format!("{}: warning: sync group `g` has one instance: it synchronises nothing", at(&text, "[\"a\"]", 1)),
            format!("{}: warning: check `c` is not in any instance's `track_checks`: it runs but changes nothing", at(&text, "\"c\"", 1)),
        ]
    );
}

#[test]
fn tcp_check_target_and_http_url() {
    let text = instance(
        "a",
        "vrid = 1\nvips = [\"192.0.2.1\"]\ntrack_checks = [\"t\", \"h\"]",
    ) + "[[check]]\nname = \"t\"\ntype = \"tcp\"\naddress = \"::1\"\nport = 6443\n"
        + "[[check]]\nname = \"h\"\ntype = \"http\"\nurl = \"ftp://x/\"\n";
    assert_eq!(
        error(&text),
        format!(
            "{}: url scheme \"ftp\" is not supported: expected http:// or https://",
            at(&text, "\"ftp", 1)
        )
    );
    let text = text.replace("ftp://x/", "http://[::1]:8080/ready");
    let checked = check(&text).unwrap();
    let target = match &checked.config.checks[0].kind {
        CheckKind::Tcp { target } => *target,
        other => panic!("expected tcp, got {other:?}"),
    };
    assert_eq!(target.ip(), "::1".parse::<IpAddr>().unwrap());
    assert_eq!(target.port(), 6443);
}

#[test]
fn global_values_out_of_range() {
    let text = "[global]\nmetrics_listen = \"localhost\"\n[global.realtime]\nenabled = true\npriority = 100\n";
    let errors = check(text).unwrap_err();
    assert_eq!(
        errors,
        [
            format!("{}: invalid metrics_listen \"localhost\": expected an address and port such as \"127.0.0.1:9816\" or \"[::1]:9816\"", at(text, "\"localhost", 1)),
            format!("{}: realtime priority 100 is out of range: expected a SCHED_FIFO priority in 1..=99", at(text, "100", 1)),
        ]
    );
}

#[test]
fn unknown_version() {
    let text = instance("a", "vrid = 1\nversion = 4\nvips = [\"192.0.2.1\"]");
    assert_eq!(
        error(&text),
        format!(
            "{}: unknown VRRP version 4: expected 2 or 3",
            at(&text, "4", 1)
        )
    );
}

#[test]
fn vmac_interface_without_use_vmac_and_ipv6_label() {
    let text = instance(
        "a",
        "vrid = 1\nvips = [{ address = \"2001:db8::1\", label = \"eth0:x\" }]\nvmac_interface = \"vrrp.1\"",
    );
    let errors = check(&text).unwrap_err();
    assert_eq!(
        errors,
        [
            format!("{}: VIP 2001:db8::1/128 is IPv6: Linux labels only IPv4 addresses, remove `label`", at(&text, "{ address", 1)),
            format!("{}: `vmac_interface` names the macvlan of `use_vmac`: set use_vmac = true or remove it", at(&text, "\"vrrp.1", 1)),
        ]
    );
}

#[test]
fn empty_names_and_invalid_interface_names() {
    let text = "[[instance]]\nname = \"\"\ninterface = \"eth0:1\"\nvrid = 1\nvips = [\"192.0.2.1\"]\ntrack_interfaces = [\"averyveryverylongname\"]\n";
    let errors = check(text).unwrap_err();
    assert_eq!(
        errors,
        [
            format!("{}: instance name is empty: give it a name", at(text, "\"\"", 1)),
            format!("{}: `eth0:1` is not a valid interface name: Linux allows 1 to 15 bytes without '/', ':' or spaces", at(text, "\"eth0:1", 1)),
            format!("{}: `averyveryverylongname` is not a valid interface name: Linux allows 1 to 15 bytes without '/', ':' or spaces", at(text, "\"avery", 1)),
        ]
    );
}

#[test]
fn sources_place_values_for_errors_found_at_run_time() {
    let text = instance("a", "vrid = 1\nvips = [\"192.0.2.1\"]")
        + &instance("b", "vrid = 2\nvips = [\"192.0.2.2\", \"192.0.2.3\"]");
    let checked = check(&text).unwrap();
    let location = |path| checked.sources.locate(path).to_string();
    assert_eq!(
        location(FieldPath::key(Item::Instance(1), "interface")),
        at(&text, "\"eth0\"", 2)
    );
    assert_eq!(
        location(FieldPath::element(Item::Instance(1), "vips", 1)),
        at(&text, "\"192.0.2.3", 1)
    );
}

/// Every key the loader accepts appears (set or commented out) in the reference vipd.toml. The
/// loader's own "expected one of" message lists the keys of each table.
#[test]
fn reference_documents_every_key() {
    let reference = std::fs::read_to_string(conf_dir().join("vipd.toml")).unwrap();
    let with_unknown_key = [
        "[global]\nzzz = 1\n".to_owned(),
        "[global.realtime]\nzzz = 1\n".to_owned(),
        instance("a", "vrid = 1\nzzz = 1"),
        instance(
            "a",
            "vrid = 1\nvips = [{ address = \"192.0.2.1\", zzz = 1 }]",
        ),
        instance(
            "a",
            "vrid = 1\ntrack_interfaces = [{ name = \"x\", zzz = 1 }]",
        ),
        instance("a", "vrid = 1\ntrack_files = [{ path = \"x\", zzz = 1 }]"),
        instance("a", "vrid = 1\ntrack_checks = [{ check = \"x\", zzz = 1 }]"),
        instance(
            "a",
            "vrid = 1\nauth_hmac = { active_key = 1, keys = [], zzz = 1 }",
        ),
        instance(
            "a",
            "vrid = 1\nauth_hmac = { active_key = 1, keys = [{ id = 1, key = \"k\", zzz = 1 }] }",
        ),
        "[[sync_group]]\nname = \"g\"\ninstances = []\nzzz = 1\n".to_owned(),
        "[[check]]\nname = \"c\"\ntype = \"tcp\"\nzzz = 1\n".to_owned(),
    ];
    for text in with_unknown_key {
        let message = error(&text);
        let expected = message
            .split_once("(expected ")
            .unwrap_or_else(|| panic!("no key list in: {message}"))
            .1;
        let keys: Vec<&str> = expected.split('`').skip(1).step_by(2).collect();
        assert!(keys.len() >= 2, "{message}");
        for key in keys {
            let documented = reference.lines().any(|line| {
                let line = line.trim_start_matches(['#', ' ']);
                line.starts_with(&format!("{key} ="))
                    || line.contains(&format!("{{ {key} ="))
                    || line.contains(&format!(", {key} ="))
                    || line == format!("[global.{key}]")
            });
            assert!(documented, "key `{key}` is not in conf/vipd.toml");
        }
    }
}

#[test]
fn single_bracket_instance_table() {
    let text = "[instance]\nname = \"a\"\n";
    assert_eq!(
        error(text),
        format!(
            "{}: `instance` must be an array of tables: write each one as [[instance]]",
            at(text, "instance", 1)
        )
    );
}

#[test]
fn echo_keys_are_checked_where_they_are_written() {
    let fast = "vrid = 1\nvips = [\"192.0.2.1\"]\nadvert_interval = \"200us\"";
    let text = instance("a", &format!("{fast}\necho_timeout = \"5us\""));
    assert_eq!(
        error(&text),
        format!(
            "{}: echo_timeout 5us is below the minimum of 10us",
            at(&text, "\"5us", 1)
        )
    );
    let text = instance(
        "a",
        &format!("{fast}\necho_interval = \"100us\"\necho_timeout = \"3ms\""),
    );
    let checked = check(&text).unwrap();
    let a = &checked.config.instances[0];
    assert_eq!(a.echo_interval, Some(Duration::from_micros(100)));
    assert_eq!(a.resolved_echo_timeout(), Duration::from_millis(3));
    assert_round_trip(&checked.config, "echo keys");
    // Without fast mode there is no echo: said, not refused.
    let text = instance(
        "a",
        "vrid = 1\nvips = [\"192.0.2.1\"]\necho_interval = \"1ms\"",
    );
    assert_eq!(
        warnings(&text),
        [format!(
            "{}: warning: echo_interval has no effect on `a`: the liveness echo runs in fast mode only (advert_interval below 10ms)",
            at(&text, "\"1ms", 1)
        )]
    );
}

/// Many VIPs on one line check, and an error among them is placed at its column (placing
/// each VIP used to count the line's characters from its start: quadratic in the line).
#[test]
fn many_vips_on_one_line_check_and_place_their_errors() {
    let count = 50_000u32;
    let vips: Vec<String> = (0..count)
        .map(|i| format!("\"10.{}.{}.{}/32\"", i >> 16, (i >> 8) & 0xff, i & 0xff))
        .collect();
    let line = vips.join(", ");
    let instance = |line: &str| {
        format!("[[instance]]\nname = \"VI_1\"\ninterface = \"eth0\"\nvrid = 5\npriority = 100\nvips = [{line}]\n")
    };
    let checked = check(&instance(&line)).expect("checks");
    assert_eq!(checked.config.instances[0].vips.len(), count as usize);
    let wrong = format!("{line}, \"fd00::1/128\"");
    let column = "vips = [".len() + line.len() + ", ".len() + 1;
    assert!(
        error(&instance(&wrong))
            .starts_with(&format!("{FILE}:6:{column}: VIP fd00::1/128 is IPv6")),
        "{}",
        error(&instance(&wrong))
    );
}

// ---- auth_hmac ----

/// 32 bytes in hex: 00 01 .. 1f.
const HEX_KEY: &str = "hex:000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";

fn auth_instance(auth: &str) -> String {
    instance(
        "a",
        &format!("vrid = 1\nvips = [\"192.0.2.1\"]\nauth_hmac = {{ {auth} }}"),
    )
}

#[test]
fn auth_hmac_loads_with_keepalived_defaults_and_writes_back() {
    let text = auth_instance(&format!(
        "active_key = 2, keys = [{{ id = 1, key = \"{HEX_KEY}\" }}, {{ id = 2, key = \"an-ascii-key-of-thirty-two-bytes\" }}]"
    ));
    let checked = check(&text).unwrap();
    let auth = checked.config.instances[0].auth_hmac.clone().unwrap();
    assert_eq!(auth.active_key, 2);
    assert_eq!(auth.keys[0].material, (0u8..32).collect::<Vec<_>>());
    assert_eq!(
        auth.keys[1].material,
        b"an-ascii-key-of-thirty-two-bytes".to_vec()
    );
    assert_eq!(auth.mode, crate::vrrp::auth_hmac::Mode::Enforce);
    assert_eq!(auth.anti_replay, crate::vrrp::auth_hmac::AntiReplay::Time);
    assert_eq!(auth.time_window, None);
    let written = to_toml(&checked.config);
    assert_eq!(check(&written).unwrap().config, checked.config, "{written}");
}

#[test]
fn auth_hmac_mistakes_are_named() {
    let key = |id: u8, value: &str| format!("{{ id = {id}, key = \"{value}\" }}");
    let cases = [
        (
            format!("active_key = 1, keys = [{}]", key(1, "short")),
            "auth_hmac key 1 is 5 bytes: keys are 32 to 64 bytes",
        ),
        (
            format!(
                "active_key = 1, keys = [{}, {}]",
                key(1, HEX_KEY),
                key(1, HEX_KEY)
            ),
            "auth_hmac key id 1 is defined twice",
        ),
        (
            format!("active_key = 3, keys = [{}]", key(1, HEX_KEY)),
            "auth_hmac active_key 3 is not among the keys defined",
        ),
        (
            format!(
                "active_key = 1, time_window = 301, keys = [{}]",
                key(1, HEX_KEY)
            ),
            "auth_hmac time_window 301 is out of range: expected seconds in 1..=300",
        ),
        (
            format!("active_key = 1, keys = [{}]", key(0, HEX_KEY)),
            "auth_hmac key id 0 is out of range: expected a key id in 1..=255",
        ),
        (
            format!("active_key = 1, keys = [{}]", key(1, "hex:0g")),
            "auth_hmac key after `hex:` holds a character that is not a hex digit",
        ),
    ];
    for (auth, expected) in cases {
        let message = error(&auth_instance(&auth));
        assert!(message.ends_with(expected), "{message}");
    }
}

#[test]
fn auth_hmac_key_material_never_shows_in_debug_output() {
    let secret = "never-print-this-key-material-32b";
    let text = auth_instance(&format!(
        "active_key = 1, keys = [{{ id = 1, key = \"{secret}\" }}]"
    ));
    let checked = check(&text).unwrap();
    let instance = &checked.config.instances[0];
    let router = crate::daemon::convert::router_config(instance, "192.0.2.10".parse().unwrap());
    for shown in [
        format!("{:?}", checked.config),
        format!("{:#?}", checked.config),
        format!("{router:?}"),
    ] {
        assert!(!shown.contains("never-print"), "{shown}");
        // Nor as the byte list a derived Debug would print.
        assert!(!shown.contains("110, 101, 118, 101, 114"), "{shown}");
    }
}
