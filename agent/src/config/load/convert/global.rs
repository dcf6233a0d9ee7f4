//! `[global]`.

use std::path::PathBuf;

use toml::Spanned;

use super::Converter;
use crate::config::diagnostic::{FieldPath, Item};
use crate::config::load::schema::{RawDataplane, RawGlobal, RawLogFormat, RawXdpMode};
use crate::config::model::{
    Dataplane, Global, LogFormat, Realtime, XdpMode, REALTIME_PRIORITY_RANGE,
};

impl Converter<'_> {
    pub(super) fn global(&mut self, raw: Spanned<RawGlobal>) -> Global {
        let item = Item::Global;
        self.record(FieldPath::item(item), raw.span().start);
        let raw = raw.into_inner();
        let defaults = Global::default();
        let realtime = match raw.realtime {
            None => defaults.realtime,
            Some(realtime) => {
                let realtime = self.at(item, "realtime", realtime);
                let range = REALTIME_PRIORITY_RANGE;
                Realtime {
                    enabled: realtime
                        .enabled
                        .map_or(defaults.realtime.enabled, Spanned::into_inner),
                    priority: match realtime.priority {
                        None => defaults.realtime.priority,
                        Some(priority) => self
                            .ranged(
                                &priority,
                                i64::from(*range.start())..=i64::from(*range.end()),
                                "realtime priority",
                                "a SCHED_FIFO priority",
                            )
                            .map_or(defaults.realtime.priority, |p| p as u8),
                    },
                }
            }
        };
        let metrics_listen = raw.metrics_listen.and_then(|text| {
            let start = text.span().start;
            let text = self.at(item, "metrics_listen", text);
            match text.parse() {
                Ok(address) => Some(address),
                Err(_) => {
                    self.error(start, format!("invalid metrics_listen \"{text}\": expected an address and port such as \"127.0.0.1:9816\" or \"[::1]:9816\""));
                    None
                }
            }
        });
        Global {
            router_id: raw.router_id.map(|v| self.at(item, "router_id", v)),
            control_socket: raw.control_socket.map_or(defaults.control_socket, |v| {
                PathBuf::from(self.at(item, "control_socket", v))
            }),
            metrics_listen,
            script_user: self.run_as(
                item,
                ("script_user", raw.script_user),
                ("script_group", raw.script_group),
            ),
            script_security: raw
                .script_security
                .map_or(defaults.script_security, Spanned::into_inner),
            notify_fifo: raw
                .notify_fifo
                .map(|v| PathBuf::from(self.at(item, "notify_fifo", v))),
            realtime,
            dataplane: raw
                .dataplane
                .map_or(defaults.dataplane, |v| match v.into_inner() {
                    RawDataplane::Xdp => Dataplane::Xdp,
                    RawDataplane::Socket => Dataplane::Socket,
                }),
            xdp_mode: raw
                .xdp_mode
                .map_or(defaults.xdp_mode, |v| match v.into_inner() {
                    RawXdpMode::Auto => XdpMode::Auto,
                    RawXdpMode::Driver => XdpMode::Driver,
                    RawXdpMode::Generic => XdpMode::Generic,
                }),
            log_format: raw
                .log_format
                .map_or(defaults.log_format, |v| match v.into_inner() {
                    RawLogFormat::Human => LogFormat::Human,
                    RawLogFormat::Json => LogFormat::Json,
                }),
        }
    }
}
