//! Writing a model back as vipd.toml, for `vipd import-keepalived` (which prints what it read
//! from a keepalived.conf in vipd's format). Values equal to their defaults are left out so the
//! output shows what is particular to the configuration; the name, interface, VRID, priority
//! and VIPs of an instance are always written. Reading the output gives the same model.

use std::fmt::Write as _;
use std::time::Duration;

use toml::{Table, Value};

use crate::vrrp::auth_hmac::{AntiReplay, Mode};

use super::model::{
    duration_text, Auth, AuthHmac, BfdSession, Check, CheckKind, Command, Config, Dataplane, Garp,
    Global, Instance, LogFormat, NotifyCommands, SyncGroup, TrackedFile, V3Checksum, Version, Vip,
    Weight, XdpMode,
};

pub fn to_toml(config: &Config) -> String {
    let mut out = Document::default();
    global(&mut out, &config.global);
    for instance in &config.instances {
        self::instance(&mut out, instance);
    }
    for group in &config.sync_groups {
        sync_group(&mut out, group);
    }
    for check in &config.checks {
        self::check(&mut out, check);
    }
    for session in &config.bfd {
        bfd(&mut out, session);
    }
    out.text
}

/// TOML text built table by table; `toml` quotes and escapes each value.
#[derive(Default)]
struct Document {
    text: String,
}

impl Document {
    fn header(&mut self, header: &str) {
        if !self.text.is_empty() {
            self.text.push('\n');
        }
        self.text.push_str(header);
        self.text.push('\n');
    }

    fn key(&mut self, key: &str, value: impl Into<Value>) {
        // Writing to a String cannot fail.
        let _ = writeln!(self.text, "{key} = {}", value.into());
    }

    fn key_if(&mut self, differs: bool, key: &str, value: impl Into<Value>) {
        if differs {
            self.key(key, value);
        }
    }
}

/// An inline table, so that the instance's later keys stay in the instance. A key read from a
/// file is written as that file; an inline key as hex, whatever form it was given in.
fn auth_hmac(auth: &AuthHmac) -> Value {
    let keys = auth
        .keys
        .iter()
        .map(|key| {
            let value = match &key.file {
                Some(path) => format!("file:{}", path.display()),
                None => {
                    let mut text = String::from("hex:");
                    for byte in &key.material {
                        let _ = write!(text, "{byte:02x}");
                    }
                    text
                }
            };
            let mut table = Table::new();
            table.insert("id".into(), i64::from(key.id).into());
            table.insert("key".into(), value.into());
            Value::Table(table)
        })
        .collect();
    let mut table = Table::new();
    table.insert("active_key".into(), i64::from(auth.active_key).into());
    table.insert("keys".into(), Value::Array(keys));
    if auth.mode != Mode::default() {
        table.insert("mode".into(), auth.mode.name().into());
    }
    if auth.anti_replay != AntiReplay::default() {
        table.insert("anti_replay".into(), "monotonic".into());
    }
    if let Some(window) = auth.time_window {
        table.insert("time_window".into(), i64::from(window).into());
    }
    Value::Table(table)
}

fn duration(value: Duration) -> Value {
    Value::String(duration_text(value))
}

fn global(out: &mut Document, global: &Global) {
    let defaults = Global::default();
    if *global == defaults {
        return;
    }
    let mut body = Document::default();
    if let Some(router_id) = &global.router_id {
        body.key("router_id", router_id.as_str());
    }
    body.key_if(
        global.control_socket != defaults.control_socket,
        "control_socket",
        global.control_socket.display().to_string(),
    );
    if let Some(listen) = global.metrics_listen {
        body.key("metrics_listen", listen.to_string());
    }
    if let Some(run_as) = &global.script_user {
        body.key("script_user", run_as.user.as_str());
        if let Some(group) = &run_as.group {
            body.key("script_group", group.as_str());
        }
    }
    body.key_if(global.script_security, "script_security", true);
    if let Some(fifo) = &global.notify_fifo {
        body.key("notify_fifo", fifo.display().to_string());
    }
    body.key_if(
        global.dataplane != defaults.dataplane,
        "dataplane",
        match global.dataplane {
            Dataplane::Xdp => "xdp",
            Dataplane::Socket => "socket",
        },
    );
    body.key_if(
        global.xdp_mode != defaults.xdp_mode,
        "xdp_mode",
        match global.xdp_mode {
            XdpMode::Auto => "auto",
            XdpMode::Driver => "driver",
            XdpMode::Generic => "generic",
        },
    );
    body.key_if(
        global.log_format != defaults.log_format,
        "log_format",
        match global.log_format {
            LogFormat::Human => "human",
            LogFormat::Json => "json",
        },
    );
    if !body.text.is_empty() {
        out.header("[global]");
        out.text.push_str(&body.text);
    }
    if global.realtime != defaults.realtime {
        out.header("[global.realtime]");
        out.key("enabled", global.realtime.enabled);
        out.key("priority", i64::from(global.realtime.priority));
    }
}

fn instance(out: &mut Document, instance: &Instance) {
    out.header("[[instance]]");
    out.key("name", instance.name.as_str());
    out.key("interface", instance.interface.as_str());
    out.key("vrid", i64::from(instance.vrid.get()));
    out.key("priority", i64::from(instance.priority.get()));
    out.key_if(
        instance.advert_interval != Instance::DEFAULT_ADVERT_INTERVAL,
        "advert_interval",
        duration(instance.advert_interval),
    );
    if let Some(interval) = instance.echo_interval {
        out.key("echo_interval", duration(interval));
    }
    if let Some(timeout) = instance.echo_timeout {
        out.key("echo_timeout", duration(timeout));
    }
    out.key_if(
        instance.version != Instance::DEFAULT_VERSION,
        "version",
        match instance.version {
            Version::V2 => 2,
            Version::V3 => 3,
        },
    );
    out.key("vips", vips(&instance.vips));
    out.key_if(
        !instance.excluded_vips.is_empty(),
        "excluded_vips",
        vips(&instance.excluded_vips),
    );
    if let Some(source) = instance.unicast_source {
        out.key("unicast_source", source.to_string());
    }
    out.key_if(
        !instance.unicast_peers.is_empty(),
        "unicast_peers",
        Value::Array(
            instance
                .unicast_peers
                .iter()
                .map(|peer| Value::String(peer.to_string()))
                .collect(),
        ),
    );
    out.key_if(
        instance.unicast_ttl_check != Instance::DEFAULT_UNICAST_TTL_CHECK,
        "unicast_ttl_check",
        instance.unicast_ttl_check,
    );
    match &instance.auth {
        Auth::None => {}
        Auth::Pass(password) => out.key("auth_password", password.as_str()),
        Auth::Ah(password) => {
            out.key("auth_password", password.as_str());
            out.key("auth_type", "ah");
        }
    }
    if let Some(auth) = &instance.auth_hmac {
        out.key("auth_hmac", auth_hmac(auth));
    }
    out.key_if(
        instance.preempt != Instance::DEFAULT_PREEMPT,
        "preempt",
        instance.preempt,
    );
    out.key_if(
        !instance.preempt_delay.is_zero(),
        "preempt_delay",
        duration(instance.preempt_delay),
    );
    out.key_if(
        instance.accept_mode != Instance::DEFAULT_ACCEPT_MODE,
        "accept_mode",
        instance.accept_mode,
    );
    out.key_if(
        instance.use_vmac != Instance::DEFAULT_USE_VMAC,
        "use_vmac",
        instance.use_vmac,
    );
    if let Some(name) = &instance.vmac_interface {
        out.key("vmac_interface", name.as_str());
    }
    out.key_if(
        instance.v3_checksum != Instance::DEFAULT_V3_CHECKSUM,
        "v3_checksum",
        match instance.v3_checksum {
            V3Checksum::WithPseudoHeader => "with_pseudo_header",
            V3Checksum::MessageOnly => "message_only",
        },
    );
    garp(out, &instance.garp);
    out.key_if(
        !instance.track_interfaces.is_empty(),
        "track_interfaces",
        Value::Array(
            instance
                .track_interfaces
                .iter()
                .map(|tracked| {
                    if tracked.weight == Weight::FAULT {
                        Value::String(tracked.name.clone())
                    } else {
                        let mut table = Table::new();
                        table.insert("name".into(), tracked.name.clone().into());
                        table.insert("weight".into(), weight(tracked.weight));
                        Value::Table(table)
                    }
                })
                .collect(),
        ),
    );
    out.key_if(
        !instance.track_files.is_empty(),
        "track_files",
        Value::Array(
            instance
                .track_files
                .iter()
                .map(|tracked| {
                    let mut table = Table::new();
                    table.insert("path".into(), tracked.path.display().to_string().into());
                    if tracked.weight != TrackedFile::DEFAULT_WEIGHT {
                        table.insert("weight".into(), weight(tracked.weight));
                    }
                    Value::Table(table)
                })
                .collect(),
        ),
    );
    out.key_if(
        !instance.track_checks.is_empty(),
        "track_checks",
        Value::Array(
            instance
                .track_checks
                .iter()
                .map(|tracked| match tracked.weight {
                    None => Value::String(tracked.check.clone()),
                    Some(w) => {
                        let mut table = Table::new();
                        table.insert("check".into(), tracked.check.clone().into());
                        table.insert("weight".into(), weight(w));
                        Value::Table(table)
                    }
                })
                .collect(),
        ),
    );
    out.key_if(
        !instance.track_bfd.is_empty(),
        "track_bfd",
        Value::Array(
            instance
                .track_bfd
                .iter()
                .map(|tracked| {
                    let mut table = Table::new();
                    table.insert("name".into(), tracked.name.clone().into());
                    if let Some(w) = tracked.weight {
                        table.insert("weight".into(), weight(w));
                    }
                    if let Some(reverse) = tracked.reverse {
                        table.insert("reverse".into(), reverse.into());
                    }
                    Value::Table(table)
                })
                .collect(),
        ),
    );
    notify(out, &instance.notify);
}

fn bfd(out: &mut Document, session: &BfdSession) {
    out.header("[[bfd]]");
    out.key("name", session.name.as_str());
    out.key("neighbor", session.neighbor.to_string());
    if let Some(source) = session.source {
        out.key("source", source.to_string());
    }
    if let Some(interface) = &session.interface {
        out.key("interface", interface.as_str());
    }
    let intervals = [
        ("min_rx", session.min_rx, BfdSession::DEFAULT_MIN_RX),
        ("min_tx", session.min_tx, BfdSession::DEFAULT_MIN_TX),
        ("idle_tx", session.idle_tx, BfdSession::DEFAULT_IDLE_TX),
    ];
    for (key, value, default) in intervals {
        out.key_if(value != default, key, duration(value));
    }
    out.key_if(
        session.multiplier != BfdSession::DEFAULT_MULTIPLIER,
        "multiplier",
        i64::from(session.multiplier),
    );
    out.key_if(session.passive, "passive", true);
    out.key_if(
        session.ttl != BfdSession::DEFAULT_TTL,
        "ttl",
        i64::from(session.ttl),
    );
    out.key_if(
        session.max_hops != 0,
        "max_hops",
        i64::from(session.max_hops),
    );
    out.key_if(
        session.weight != Weight::FAULT,
        "weight",
        weight(session.weight),
    );
    out.key_if(session.reverse, "reverse", true);
}

fn vips(vips: &[Vip]) -> Value {
    Value::Array(
        vips.iter()
            .map(|vip| {
                let address = if vip.address.prefix_len() == vip.address.max_prefix_len() {
                    vip.address.addr().to_string()
                } else {
                    vip.address.to_string()
                };
                if vip.device.is_none() && vip.label.is_none() && vip.broadcast.is_none() {
                    return Value::String(address);
                }
                let mut table = Table::new();
                table.insert("address".into(), address.into());
                if let Some(device) = &vip.device {
                    table.insert("device".into(), device.clone().into());
                }
                if let Some(label) = &vip.label {
                    table.insert("label".into(), label.clone().into());
                }
                if let Some(broadcast) = vip.broadcast {
                    table.insert("broadcast".into(), broadcast.to_string().into());
                }
                Value::Table(table)
            })
            .collect(),
    )
}

fn garp(out: &mut Document, garp: &Garp) {
    let defaults = Garp::default();
    out.key_if(
        garp.master_delay != defaults.master_delay,
        "garp_master_delay",
        duration(garp.master_delay),
    );
    out.key_if(
        garp.master_repeat != defaults.master_repeat,
        "garp_master_repeat",
        i64::from(garp.master_repeat),
    );
    if let Some(refresh) = garp.master_refresh {
        out.key("garp_master_refresh", duration(refresh));
    }
    out.key_if(
        garp.master_refresh_repeat != defaults.master_refresh_repeat,
        "garp_master_refresh_repeat",
        i64::from(garp.master_refresh_repeat),
    );
    out.key_if(
        garp.arp_interval != defaults.arp_interval,
        "garp_interval",
        duration(garp.arp_interval),
    );
    out.key_if(
        garp.na_interval != defaults.na_interval,
        "gna_interval",
        duration(garp.na_interval),
    );
}

fn weight(weight: Weight) -> Value {
    Value::Integer(i64::from(weight.get()))
}

/// A command as one string when quoting can express it, as an array otherwise.
fn command(command: &Command) -> Value {
    let words = command.argv.iter().map(String::as_str);
    match shlex::try_join(words) {
        Ok(line) => Value::String(line),
        Err(_) => Value::Array(command.argv.iter().cloned().map(Value::String).collect()),
    }
}

fn notify(out: &mut Document, notify: &NotifyCommands) {
    let commands = [
        ("notify", &notify.any),
        ("notify_master", &notify.master),
        ("notify_backup", &notify.backup),
        ("notify_fault", &notify.fault),
        ("notify_stop", &notify.stop),
    ];
    for (key, cmd) in commands {
        if let Some(cmd) = cmd {
            out.key(key, command(cmd));
        }
    }
}

fn sync_group(out: &mut Document, group: &SyncGroup) {
    out.header("[[sync_group]]");
    out.key("name", group.name.as_str());
    out.key(
        "instances",
        Value::Array(group.instances.iter().cloned().map(Value::String).collect()),
    );
    notify(out, &group.notify);
}

fn check(out: &mut Document, check: &Check) {
    out.header("[[check]]");
    out.key("name", check.name.as_str());
    match &check.kind {
        CheckKind::Tcp { target } => {
            out.key("type", "tcp");
            out.key("address", target.ip().to_string());
            out.key("port", i64::from(target.port()));
        }
        CheckKind::Http {
            url,
            expected_status,
            tls_verify,
        } => {
            out.key("type", "http");
            out.key("url", url.as_str());
            out.key_if(
                *expected_status != Check::DEFAULT_HTTP_STATUS,
                "expected_status",
                i64::from(*expected_status),
            );
            out.key_if(
                *tls_verify != Check::DEFAULT_TLS_VERIFY,
                "tls_verify",
                *tls_verify,
            );
        }
        CheckKind::Script { command: cmd, user } => {
            out.key("type", "script");
            out.key("command", command(cmd));
            if let Some(run_as) = user {
                out.key("user", run_as.user.as_str());
                if let Some(group) = &run_as.group {
                    out.key("group", group.as_str());
                }
            }
        }
    }
    out.key_if(
        check.interval != Check::DEFAULT_INTERVAL,
        "interval",
        duration(check.interval),
    );
    out.key_if(
        check.timeout != check.interval,
        "timeout",
        duration(check.timeout),
    );
    out.key_if(
        check.weight != Check::DEFAULT_WEIGHT,
        "weight",
        weight(check.weight),
    );
    out.key_if(
        check.rise != Check::DEFAULT_RISE,
        "rise",
        i64::from(check.rise),
    );
    out.key_if(
        check.fall != Check::DEFAULT_FALL,
        "fall",
        i64::from(check.fall),
    );
    out.key_if(
        check.init_fail != Check::DEFAULT_INIT_FAIL,
        "init_fail",
        check.init_fail,
    );
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::config::check_str;
    use crate::config::model::Priority;

    #[test]
    fn minimal_instance_is_written_briefly() {
        let text = "[[instance]]\nname = \"VI_1\"\ninterface = \"eth0\"\nvrid = 51\npriority = 100\nvips = [\"192.0.2.10\"]\n";
        let config = check_str(Path::new("t.toml"), text).unwrap().config;
        assert_eq!(to_toml(&config), text);
        assert_eq!(config.instances[0].priority, Priority::DEFAULT);
    }

    #[test]
    fn commands_that_need_quoting_stay_one_string() {
        let cmd = Command {
            argv: vec!["/bin/notify".into(), "two words".into()],
        };
        assert_eq!(command(&cmd).to_string(), r#""/bin/notify 'two words'""#);
    }
}
