//! What vipd derives from sample environments against what the image's scripts produce from
//! them, worked out by hand from openshift/images `ipfailover/keepalived/lib/` (the comments
//! name the function of config-generators.sh, utils.sh or settings.sh whose logic gives each
//! expected value). Backups' priorities have the script's `$RANDOM % 32` in them; the tests fix
//! it as `5 × counter`.

use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use super::{keepalived_conf, load, ranges, Environment, Host};
use crate::config::model::{Auth, CheckKind, Instance};
use crate::config::Checked;

/// A host with these interfaces (and their first IPv4 address) and this route to 8.8.8.8.
struct FakeHost {
    interfaces: Vec<(&'static str, Option<Ipv4Addr>)>,
    route: Option<&'static str>,
}

impl Host for FakeHost {
    fn has_interface(&self, name: &str) -> bool {
        self.interfaces.iter().any(|(n, _)| *n == name)
    }
    fn ipv4_address(&self, interface: &str) -> Option<Ipv4Addr> {
        self.interfaces.iter().find(|(n, _)| *n == interface)?.1
    }
    fn route_interface(&self) -> Option<String> {
        self.route.map(str::to_string)
    }
}

/// eth0 with `address`; the route to 8.8.8.8 leaves by eth0.
fn node(address: [u8; 4]) -> FakeHost {
    FakeHost {
        interfaces: vec![("eth0", Some(Ipv4Addr::from(address)))],
        route: Some("eth0"),
    }
}

fn env(pairs: &[(&str, &str)]) -> Environment {
    let mut env: Environment = [("OPENSHIFT_HA_NETWORK_INTERFACE", "eth0")]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    env.extend(pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    env
}

fn jitter(counter: u32) -> u8 {
    (5 * counter) as u8
}

fn derive(pairs: &[(&str, &str)], host: &FakeHost) -> Checked {
    load(&env(pairs), host, &jitter).unwrap_or_else(|errors| panic!("{errors}"))
}

/// (name, VRID, priority) of each instance.
fn summary(checked: &Checked) -> Vec<(String, u8, u8)> {
    checked
        .config
        .instances
        .iter()
        .map(|i| (i.name.clone(), i.vrid.get(), i.priority.get()))
        .collect()
}

/// Each instance's VRID, in order.
fn vrids(checked: &Checked) -> Vec<u8> {
    checked
        .config
        .instances
        .iter()
        .map(|i| i.vrid.get())
        .collect()
}

fn vips(instance: &Instance) -> Vec<String> {
    instance
        .vips
        .iter()
        .map(|v| v.address.addr().to_string())
        .collect()
}

fn error(pairs: &[(&str, &str)]) -> String {
    load(&env(pairs), &node([192, 168, 1, 7]), &jitter)
        .unwrap_err()
        .to_string()
}

#[test]
fn defaults_one_vip() {
    let checked = derive(
        &[("OPENSHIFT_HA_VIRTUAL_IPS", "10.0.0.10")],
        &node([192, 168, 1, 7]),
    );
    // generate_failover_config: slot = 7 % 128 = 7; replicas 1 (settings.sh) so idx = 7 % 1 + 1
    // = 1 and counter 1 % 1 == 0: master, priority 255 - 7. VRID = offset 10 (settings.sh) +
    // counter 1. Name: vrrp_instance_basename(scrub "OpenShift-IPFailover") + "_1".
    assert_eq!(
        summary(&checked),
        [("OpenShift_IPFailover_VIP_1".into(), 11, 248)]
    );
    let instance = &checked.config.instances[0];
    assert_eq!(instance.interface, "eth0");
    assert_eq!(vips(instance), ["10.0.0.10"]);
    // settings.sh: PREEMPTION defaults to "preempt_delay 300".
    assert!(instance.preempt);
    assert_eq!(instance.preempt_delay, Duration::from_secs(300));
    // generate_authentication_info "${servicename}": PASS, the unscrubbed name (keepalived
    // keeps 8 characters).
    assert_eq!(instance.auth, Auth::Pass("OpenShif".into()));
    // generate_script_config "${ipaddr}" "${port}": a TCP connect to the node's address on
    // port 80 (settings.sh), every 2 s (settings.sh), tracked with keepalived's default weight 0.
    let check = &checked.config.checks[0];
    assert_eq!(check.name, "chk_OpenShift_IPFailover");
    assert_eq!(
        check.kind,
        CheckKind::Tcp {
            target: "192.168.1.7:80".parse().unwrap()
        }
    );
    assert_eq!(check.interval, Duration::from_secs(2));
    assert_eq!(instance.track_checks[0].check, "chk_OpenShift_IPFailover");
    assert!(instance.unicast_peers.is_empty());
    assert!(instance.notify.any.is_none());
}

#[test]
fn the_generated_text_starts_the_owned_instance_as_master() {
    let text = keepalived_conf(
        &env(&[("OPENSHIFT_HA_VIRTUAL_IPS", "10.0.0.10-11")]),
        &node([192, 168, 1, 7]),
        &jitter,
    )
    .unwrap();
    // generate_vrrpd_instance_config: `state MASTER` for the instance this node is master of.
    assert_eq!(text.matches("state MASTER").count(), 2, "{text}");
    assert!(
        text.contains("   script \"</dev/tcp/192.168.1.7/80\"\n"),
        "{text}"
    );
    assert!(text.contains("      10.0.0.11 dev eth0\n"), "{text}");
}

#[test]
fn ranges_expand_the_last_octet_and_the_last_ipv6_group() {
    // utils.sh expand_ip_ranges: spaces stripped, items split on commas; expand_ipv4_range
    // takes the end's last field; expand_ipv6_range counts the last group in hex.
    let expanded = ranges::expand("10.0.0.5-7, 10.0.1.9-10.0.1.10,fd00::1f39-1f3b").unwrap();
    let expected: Vec<IpAddr> = [
        "10.0.0.5",
        "10.0.0.6",
        "10.0.0.7",
        "10.0.1.9",
        "10.0.1.10",
        "fd00::1f39",
        "fd00::1f3a",
        "fd00::1f3b",
    ]
    .iter()
    .map(|a| a.parse().unwrap())
    .collect();
    assert_eq!(expanded, expected);
    // `seq 100 100` is one address.
    assert_eq!(ranges::expand("10.1.1.100-100").unwrap().len(), 1);
    for bad in [
        "10.0.0.9-5",
        "10.0.0.1-256",
        "fd00::-5",
        "fd00::9-5",
        "ten",
        "10.0.0.1/24",
    ] {
        assert!(ranges::expand(bad).is_err(), "{bad}");
    }
}

#[test]
fn one_instance_per_vip_with_ipv6_and_flip_flop_priorities() {
    let checked = derive(
        &[("OPENSHIFT_HA_VIRTUAL_IPS", "10.0.0.5-7,fd00::1f39-1f3a")],
        &node([192, 168, 1, 7]),
    );
    // generate_failover_config with idx 1: every counter is this node's; the first gets
    // 255 - slot and sets previous=master, the next gets slot + 1 ("flip-flop") and resets it.
    let name = |n| format!("OpenShift_IPFailover_VIP_{n}");
    assert_eq!(
        summary(&checked),
        [
            (name(1), 11, 248),
            (name(2), 12, 8),
            (name(3), 13, 248),
            (name(4), 14, 8),
            (name(5), 15, 248),
        ]
    );
    assert_eq!(vips(&checked.config.instances[3]), ["fd00::1f39"]);
    assert_eq!(vips(&checked.config.instances[4]), ["fd00::1f3a"]);
}

#[test]
fn vip_groups_share_the_remainder_out_first() {
    let host = node([192, 168, 1, 7]);
    let grouped = derive(
        &[
            ("OPENSHIFT_HA_VIRTUAL_IPS", "10.0.0.1-5"),
            ("OPENSHIFT_HA_VIP_GROUPS", "2"),
        ],
        &host,
    );
    // generate_failover_config: vips_per_group = 5 / 2 = 2, vips_mod = 1: the first group 3.
    let all: Vec<_> = grouped.config.instances.iter().map(vips).collect();
    assert_eq!(
        all,
        [
            vec!["10.0.0.1", "10.0.0.2", "10.0.0.3"],
            vec!["10.0.0.4", "10.0.0.5"]
        ]
    );
    // More groups than VIPs: vips_per_group 0, vips_mod 5: one VIP each.
    let many = derive(
        &[
            ("OPENSHIFT_HA_VIRTUAL_IPS", "10.0.0.1-5"),
            ("OPENSHIFT_HA_VIP_GROUPS", "7"),
        ],
        &host,
    );
    assert_eq!(many.config.instances.len(), 5);
}

#[test]
fn more_replicas_than_vips_leaves_some_nodes_backup_of_all() {
    let pairs = [
        ("OPENSHIFT_HA_VIRTUAL_IPS", "10.0.0.1-2"),
        ("OPENSHIFT_HA_REPLICA_COUNT", "3"),
    ];
    // Address .130: slot 130 % 128 = 2, idx = 2 % 3 + 1 = 3; counters 1 and 2 are not
    // multiples of 3, so both are backups at slot % 64 + $RANDOM % 32 (here 5 and 10).
    let third = derive(&pairs, &node([192, 168, 1, 130]));
    let name = |n| format!("OpenShift_IPFailover_VIP_{n}");
    assert_eq!(summary(&third), [(name(1), 11, 7), (name(2), 12, 12)]);
    // Address .1: slot 1, idx 2: counter 2 is this node's, at 255 - 1.
    let second = derive(&pairs, &node([192, 168, 1, 1]));
    assert_eq!(summary(&second), [(name(1), 11, 6), (name(2), 12, 254)]);
}

#[test]
fn a_priority_of_zero_is_keepalived_default() {
    let pairs = [
        ("OPENSHIFT_HA_VIRTUAL_IPS", "10.0.0.1"),
        ("OPENSHIFT_HA_REPLICA_COUNT", "3"),
    ];
    // Address .64: slot 64, idx 64 % 3 + 1 = 2, counter 1 a backup at 64 % 64 + 0 = 0, which
    // keepalived rejects ("must be between 1 & 255") for its default 100.
    let checked = load(&env(&pairs), &node([192, 168, 1, 64]), &|_| 0).unwrap();
    assert_eq!(checked.config.instances[0].priority.get(), 100);
}

#[test]
fn excluded_vrids_raise_the_offset_for_the_rest() {
    let checked = derive(
        &[
            ("OPENSHIFT_HA_VIRTUAL_IPS", "10.0.0.1-3"),
            ("HA_EXCLUDED_VRRP_IDS", "11 13"),
        ],
        &node([192, 168, 1, 7]),
    );
    // generate_vrrpd_instance_config: 10 + 1 = 11 is excluded, the offset becomes 11 → 12;
    // then 11 + 2 = 13 is excluded, 12 → 14; then 12 + 3 = 15.
    assert_eq!(vrids(&checked), [12, 14, 15]);
}

#[test]
fn the_offset_moves_every_vrid() {
    let checked = derive(
        &[
            ("OPENSHIFT_HA_VIRTUAL_IPS", "10.0.0.1-2"),
            ("OPENSHIFT_HA_VRRP_ID_OFFSET", "50"),
        ],
        &node([192, 168, 1, 7]),
    );
    assert_eq!(vrids(&checked), [51, 52]);
}

#[test]
fn unicast_peers_and_source() {
    let checked = derive(
        &[
            ("OPENSHIFT_HA_VIRTUAL_IPS", "10.0.0.1"),
            ("OPENSHIFT_HA_UNICAST_PEERS", "192.168.1.8, 192.168.1.9"),
            ("UNICAST_SOURCE_IPADDRESS", "192.168.1.7"),
        ],
        &node([192, 168, 1, 7]),
    );
    // generate_mucast_options: unicast_src_ip and one unicast_peer line per comma item.
    let instance = &checked.config.instances[0];
    let peers: Vec<String> = instance
        .unicast_peers
        .iter()
        .map(|p| p.to_string())
        .collect();
    assert_eq!(peers, ["192.168.1.8", "192.168.1.9"]);
    assert_eq!(
        instance.unicast_source,
        Some("192.168.1.7".parse().unwrap())
    );
}

#[test]
fn port_zero_checks_nothing_and_a_check_script_replaces_the_port() {
    let host = node([192, 168, 1, 7]);
    // generate_script_config: port 0 is `script "true"`, which checks nothing.
    let none = derive(
        &[
            ("OPENSHIFT_HA_VIRTUAL_IPS", "10.0.0.1"),
            ("OPENSHIFT_HA_MONITOR_PORT", "0"),
        ],
        &host,
    );
    assert!(none.config.checks.is_empty());
    assert!(none.config.instances[0].track_checks.is_empty());
    // HA_CHECK_SCRIPT wins over the port; the interval is OPENSHIFT_HA_CHECK_INTERVAL.
    let script = derive(
        &[
            ("OPENSHIFT_HA_VIRTUAL_IPS", "10.0.0.1"),
            ("OPENSHIFT_HA_CHECK_SCRIPT", "/etc/ipf/check.sh"),
            ("OPENSHIFT_HA_CHECK_INTERVAL", "5"),
            ("OPENSHIFT_HA_NOTIFY_SCRIPT", "/etc/ipf/notify.sh"),
        ],
        &host,
    );
    let check = &script.config.checks[0];
    let CheckKind::Script { command, .. } = &check.kind else {
        panic!("{:?}", check.kind);
    };
    assert_eq!(command.argv, ["/etc/ipf/check.sh"]);
    assert_eq!(check.interval, Duration::from_secs(5));
    let notify = script.config.instances[0].notify.any.as_ref().unwrap();
    assert_eq!(notify.argv, ["/etc/ipf/notify.sh"]);
}

#[test]
fn preemption_variants() {
    let host = node([192, 168, 1, 7]);
    let with = |value| {
        derive(
            &[
                ("OPENSHIFT_HA_VIRTUAL_IPS", "10.0.0.1-2"),
                ("OPENSHIFT_HA_PREEMPTION", value),
            ],
            &host,
        )
    };
    // nopreempt: generate_failover_config writes no `state MASTER` and keeps previous=slave,
    // so both owned instances get 255 - slot (no flip-flop).
    let never = with("nopreempt");
    assert!(never.config.instances.iter().all(|i| !i.preempt));
    let priorities: Vec<u8> = never
        .config
        .instances
        .iter()
        .map(|i| i.priority.get())
        .collect();
    assert_eq!(priorities, [248, 248]);
    // preempt_nodelay is no keepalived keyword: keepalived preempts at once.
    let now = with("preempt_nodelay");
    assert!(now.config.instances[0].preempt);
    assert_eq!(now.config.instances[0].preempt_delay, Duration::ZERO);
    let later = with("preempt_delay 30");
    assert_eq!(
        later.config.instances[0].preempt_delay,
        Duration::from_secs(30)
    );
    assert!(error(&[
        ("OPENSHIFT_HA_VIRTUAL_IPS", "10.0.0.1"),
        ("OPENSHIFT_HA_PREEMPTION", "preempt_delay soon"),
    ])
    .contains("OPENSHIFT_HA_PREEMPTION"));
}

#[test]
fn the_interface_is_autodetected_as_the_image_does() {
    // utils.sh get_network_device: the configured one, then enp0s3 enp0s8 eth1 ens3, then the
    // route to 8.8.8.8.
    let host = FakeHost {
        interfaces: vec![("eth0", Some(Ipv4Addr::new(10, 1, 0, 3))), ("eth1", None)],
        route: Some("eth0"),
    };
    let mut environment = env(&[("OPENSHIFT_HA_VIRTUAL_IPS", "10.0.0.1")]);
    environment.remove("OPENSHIFT_HA_NETWORK_INTERFACE");
    let checked = load(&environment, &host, &jitter).unwrap();
    assert_eq!(checked.config.instances[0].interface, "eth1");
    // A configured interface that is missing falls through the same way, with a warning.
    environment.insert("OPENSHIFT_HA_NETWORK_INTERFACE".into(), "bond0".into());
    let checked = load(&environment, &host, &jitter).unwrap();
    assert_eq!(checked.config.instances[0].interface, "eth1");
    assert!(checked.warnings.0[0].message.contains("no interface bond0"));
    environment.remove("OPENSHIFT_HA_NETWORK_INTERFACE");
    let routed = FakeHost {
        interfaces: vec![("ens5", Some(Ipv4Addr::new(10, 1, 0, 3)))],
        route: Some("ens5"),
    };
    let checked = load(&environment, &routed, &jitter).unwrap();
    assert_eq!(checked.config.instances[0].interface, "ens5");
    // Slot 3, idx 1: master at 252; the check connects to ens5's address.
    assert_eq!(checked.config.instances[0].priority.get(), 252);
}

#[test]
fn bad_values_name_their_variable() {
    for (variable, value) in [
        ("OPENSHIFT_HA_VIRTUAL_IPS", "10.0.0.300"),
        ("OPENSHIFT_HA_VIP_GROUPS", "two"),
        ("OPENSHIFT_HA_MONITOR_PORT", "http"),
        ("OPENSHIFT_HA_REPLICA_COUNT", "-1"),
        ("OPENSHIFT_HA_VRRP_ID_OFFSET", "255"),
        ("HA_EXCLUDED_VRRP_IDS", "11,x"),
        ("OPENSHIFT_HA_UNICAST_PEERS", "peer-a"),
        ("OPENSHIFT_HA_CHECK_INTERVAL", "0"),
        ("OPENSHIFT_HA_CONFIG_NAME", "my ipf"),
        ("OPENSHIFT_HA_NOTIFY_SCRIPT", "/bin/echo \"x\""),
    ] {
        let pairs = [("OPENSHIFT_HA_VIRTUAL_IPS", "10.0.0.1"), (variable, value)];
        assert!(
            error(&pairs).contains(variable),
            "{variable}: {}",
            error(&pairs)
        );
    }
    assert!(error(&[]).contains("OPENSHIFT_HA_VIRTUAL_IPS"));
}

#[test]
fn the_firewall_variable_is_warned_about() {
    let checked = derive(
        &[
            ("OPENSHIFT_HA_VIRTUAL_IPS", "10.0.0.1"),
            ("OPENSHIFT_HA_IPTABLES_CHAIN", "INPUT"),
        ],
        &node([192, 168, 1, 7]),
    );
    assert!(checked.warnings.0[0]
        .message
        .starts_with("OPENSHIFT_HA_IPTABLES_CHAIN is set"));
}
