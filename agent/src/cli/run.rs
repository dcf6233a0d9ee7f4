//! `vipd run`: load the configuration and run the daemon until SIGTERM or SIGINT.
use anyhow::{bail, Result};
use std::path::PathBuf;
use std::sync::Arc;

use super::{init_logging, LogFormat};
use crate::{
    config::{self, ipfailover, keepalived::ConfigId, model::Dataplane, ConfigFile},
    daemon::{self, Overrides},
    dataplane::{host_lookup::System, xdp::AttachMode},
};

#[derive(clap::Args)]
pub struct Options {
    /// The vipd.toml to run.
    #[arg(long, short, default_value = "/etc/vipd/vipd.toml")]
    config: PathBuf,
    /// Run the VRRP part of a keepalived.conf instead (what vipd does not run is listed as
    /// warnings; `vipd import-keepalived` shows the vipd.toml it amounts to).
    #[arg(long, conflicts_with = "config")]
    keepalived_conf: Option<PathBuf>,
    /// The configuration id the keepalived.conf's `@ID` lines are chosen by, as keepalived's
    /// `-i`; by default this host's name up to its first dot, as in keepalived.
    #[arg(long, short = 'i', value_name = "ID", requires = "keepalived_conf")]
    config_id: Option<String>,
    /// Run what OpenShift's ipfailover image would run, from the same `OPENSHIFT_HA_*`
    /// environment (docs/openshift-ipfailover.md; `vipd import-openshift-ipfailover` shows the
    /// vipd.toml it amounts to).
    #[arg(long, conflicts_with_all = ["config", "keepalived_conf"])]
    openshift_ipfailover: bool,
    /// `xdp` (the default where it attaches) or `socket` (no XDP program at all, to measure
    /// what XDP gains).
    #[arg(long, value_enum)]
    dataplane: Option<DataplaneArg>,
    /// XDP attach mode, overriding the configuration.
    #[arg(long, value_enum)]
    xdp_mode: Option<AttachMode>,
    /// The control socket `vipd status` talks to, overriding the configuration's
    /// `control_socket` (default /run/vipd/vipd.sock). Give each daemon on a host its own, for
    /// example one per network namespace; `<PATH>.lock` beside it keeps a second daemon off.
    /// Whatever the sockets, two daemons for the same interface and VRID in one network
    /// namespace refuse each other (docs/several-daemons.md).
    #[arg(long, value_name = "PATH")]
    control_socket: Option<PathBuf>,
    /// Write the daemon's pid to this file once it holds its control socket (removed on a
    /// clean exit; a stale one is replaced, one naming a running vipd refused). No pid file by
    /// default.
    #[arg(long, short = 'p', value_name = "PATH")]
    pid_file: Option<PathBuf>,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum DataplaneArg {
    Xdp,
    Socket,
}

pub fn run(opts: Options, log_format: Option<LogFormat>) -> Result<()> {
    let file = match opts.keepalived_conf {
        _ if opts.openshift_ipfailover => ConfigFile::OpenshiftIpfailover(ipfailover::Source::new(
            ipfailover::process_environment(),
            Arc::new(System),
        )),
        Some(path) => ConfigFile::Keepalived {
            path,
            config_id: opts
                .config_id
                .map_or_else(ConfigId::of_this_host, ConfigId::new),
        },
        None => ConfigFile::Vipd(opts.config),
    };
    let checked = match file.load() {
        Ok(checked) => checked,
        Err(errors) => {
            eprintln!("{errors}");
            bail!("{}: configuration refused", file.path().display());
        }
    };
    init_logging(
        log_format.unwrap_or(match checked.config.global.log_format {
            config::model::LogFormat::Human => LogFormat::Human,
            config::model::LogFormat::Json => LogFormat::Json,
        }),
    );
    for warning in &checked.warnings.0 {
        tracing::warn!("{}: {}", warning.location, warning.message);
    }
    let overrides = Overrides {
        dataplane: opts.dataplane.map(|d| match d {
            DataplaneArg::Xdp => Dataplane::Xdp,
            DataplaneArg::Socket => Dataplane::Socket,
        }),
        xdp_mode: opts.xdp_mode,
        control_socket: opts.control_socket,
        pid_file: opts.pid_file,
    };
    daemon::run(file, checked, overrides)
}
