//! `vipd import-openshift-ipfailover`: derive from this process's `OPENSHIFT_HA_*` environment,
//! on this host, what `vipd run --openshift-ipfailover` would run, and print it as vipd.toml
//! (or, with `--keepalived-conf`, as the keepalived.conf the image would have generated). The
//! backups' priorities have a random part, as in the image, so two runs differ there.
use anyhow::Result;

use super::imported;
use crate::config::ipfailover;
use crate::dataplane::host_lookup::System;

#[derive(clap::Args)]
pub struct Options {
    /// Print the keepalived.conf vipd derives, before its import, instead of vipd.toml.
    #[arg(long)]
    keepalived_conf: bool,
}

pub fn run(opts: Options) -> Result<()> {
    let env = ipfailover::process_environment();
    let source = ipfailover::Source::new(env, std::sync::Arc::new(System));
    if opts.keepalived_conf {
        print!("{}", source.keepalived_conf()?);
        return Ok(());
    }
    imported::print(
        source.load(),
        ipfailover::SOURCE,
        "import-openshift-ipfailover",
    )
}
