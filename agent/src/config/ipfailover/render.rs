//! The derived instances as the keepalived.conf config-generators.sh writes, for vipd's
//! keepalived importer to read. Only what keepalived's VRRP side acts on is written: the
//! image's mail settings (`notification_email`, `smtp_server`) and `max_auto_priority` would
//! only be warned about as unsupported on every start.

use std::fmt::Write;
use std::net::Ipv4Addr;

use super::instances::Derived;
use super::settings::{Preemption, Settings};

pub fn keepalived_conf(
    settings: &Settings,
    interface: &str,
    node: Option<Ipv4Addr>,
    instances: &[Derived],
) -> String {
    let check = check_name(&settings.config_name);
    let base = scrub(&settings.config_name);
    let mut out = String::new();
    let mut line = |text: String| {
        out.push_str(&text);
        out.push('\n');
    };
    line("! keepalived.conf of OpenShift's ipfailover, derived by vipd from OPENSHIFT_HA_*".into());
    line(format!("global_defs {{\n   router_id {base}\n}}\n"));
    line(format!("vrrp_script {check} {{"));
    line(format!("   script \"{}\"", check_command(settings, node)));
    line(format!("   interval {}\n}}", settings.check_interval));
    for instance in instances {
        line(String::new());
        line(format!("vrrp_instance {base}_VIP_{} {{", instance.counter));
        line(format!("   interface {interface}"));
        if instance.starts_master {
            line("   state MASTER".into());
        }
        line(format!("   virtual_router_id {}", instance.vrid));
        // A backup at slot 0, 64 or 128 with no random part gets priority 0, which
        // keepalived refuses for its default, 100; left out, the importer gives that default.
        if instance.priority > 0 {
            line(format!("   priority {}", instance.priority));
        }
        match settings.preemption {
            Preemption::Never => line("   nopreempt".into()),
            // keepalived does not know `preempt_nodelay` and preempts at once.
            Preemption::Immediately => {}
            Preemption::After(delay) => line(format!("   preempt_delay {}", delay.as_secs())),
        }
        // config-generators.sh: the password is the configuration's name, unscrubbed
        // (keepalived keeps its first 8 characters).
        line(format!(
            "   authentication {{\n      auth_type PASS\n      auth_pass {}\n   }}",
            settings.config_name
        ));
        line(format!("   track_script {{\n      {check}\n   }}"));
        if let Some(notify) = &settings.notify_script {
            line(format!("   notify \"{notify}\""));
        }
        if let Some(source) = settings.multicast_source {
            line(format!("   mcast_src_ip {source}"));
        }
        if let Some(source) = settings.unicast_source {
            line(format!("   unicast_src_ip {source}"));
        }
        if !settings.unicast_peers.is_empty() {
            let mut peers = String::from("   unicast_peer {\n");
            for peer in &settings.unicast_peers {
                let _ = writeln!(peers, "      {peer}");
            }
            line(format!("{peers}   }}"));
        }
        let mut vips = String::from("   virtual_ipaddress {\n");
        for vip in &instance.vips {
            let _ = writeln!(vips, "      {vip} dev {interface}");
        }
        line(format!("{vips}   }}\n}}"));
    }
    out
}

/// The user's script; else, for port 0, `true` (no check, as the importer reads it); else a
/// TCP connect to the node's own address on the port (127.0.0.1 without one, as the script's
/// default). The image wraps the redirection in `/bin/bash -c '…'`; written bare, the importer
/// recognises it and runs vipd's built-in TCP check, so no shell is needed.
fn check_command(settings: &Settings, node: Option<Ipv4Addr>) -> String {
    match (&settings.check_script, settings.monitor_port) {
        (Some(script), _) => script.clone(),
        (None, 0) => "true".into(),
        (None, port) => format!("</dev/tcp/{}/{port}", node.unwrap_or(Ipv4Addr::LOCALHOST)),
    }
}

/// `chk_` and the name with dashes as underscores (config-generators.sh does not scrub it).
fn check_name(config_name: &str) -> String {
    format!("chk_{}", config_name.replace('-', "_"))
}

/// utils.sh's `scrub`: letters, digits, `-` and `_` kept, dashes made underscores.
fn scrub(name: &str) -> String {
    name.chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .map(|c| if c == '-' { '_' } else { c })
        .collect()
}
