//! `vipd import-keepalived FILE`: read a keepalived.conf (and what it includes) and print the
//! equivalent vipd.toml on stdout. What vipd does not run, and what it changed, goes to stderr as
//! `file:line:col: warning: message`; a configuration that cannot run is refused with its errors.
use anyhow::Result;
use std::path::PathBuf;

use super::imported;
use crate::config;
use crate::config::keepalived::ConfigId;

#[derive(clap::Args)]
pub struct Options {
    /// The keepalived.conf to import.
    file: PathBuf,
    /// The configuration id the `@ID` lines are chosen by, as keepalived's `-i`; by default
    /// this host's name up to its first dot, as in keepalived.
    #[arg(long, short = 'i', value_name = "ID")]
    config_id: Option<String>,
}

pub fn run(opts: Options) -> Result<()> {
    let config_id = opts
        .config_id
        .map_or_else(ConfigId::of_this_host, ConfigId::new);
    imported::print(
        config::keepalived::load_keepalived(&opts.file, &config_id),
        opts.file.display(),
        "import-keepalived",
    )
}
