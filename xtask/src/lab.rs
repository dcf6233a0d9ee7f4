//! `cargo xtask lab`: vipd's main job on a built-in default (see `vipd_tests::lab`), and
//! `--clean` to remove whatever a crashed lab left.
use anyhow::Result;

use crate::harness;

#[derive(clap::Args)]
pub struct Options {
    /// Remove what a crashed lab or test run left (namespaces and the processes in them) and
    /// exit.
    #[arg(long)]
    clean: bool,
    /// Options for the lab (`cargo xtask lab -- --help` lists them), e.g. `--nodes 3
    /// --scenario cable --repeat 5`.
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    args: Vec<String>,
}

pub fn run(opts: &Options) -> Result<()> {
    if opts.clean {
        return Ok(vipd_testkit::remove_leftovers()?);
    }
    harness::run("lab", &opts.args)
}
