//! `vipd check-config FILE`: load and validate a configuration without touching the system, like
//! keepalived's `-t`. Errors and warnings go to stderr as `file:line:col: message`; the exit code
//! says whether the file is good. The scripts are vetted as `vipd run` would vet them here
//! (script security, script user), and those that would be disabled are reported.
use anyhow::{bail, Result};
use std::path::PathBuf;

use crate::config;
use crate::daemon::scripts;

#[derive(clap::Args)]
pub struct Options {
    /// The vipd.toml to check.
    file: PathBuf,
}

pub fn run(opts: Options) -> Result<()> {
    match config::check_file(&opts.file) {
        Ok(mut checked) => {
            if !checked.warnings.0.is_empty() {
                eprintln!("{}", checked.warnings);
            }
            // The scripts as `vipd run` would vet them on this machine: each refusal is logged
            // as it would be at start-up. Not an error of the file, which may be checked on
            // another machine than the one that runs it.
            let disabled = scripts::vet(&mut checked.config);
            println!(
                "{}: configuration OK ({} instance(s))",
                opts.file.display(),
                checked.config.instances.len()
            );
            if !disabled.is_empty() {
                println!(
                    "{} script(s) would be disabled on this machine (see the warnings)",
                    disabled.len()
                );
            }
            Ok(())
        }
        Err(errors) => {
            eprintln!("{errors}");
            bail!(
                "{}: {} error(s), configuration refused",
                opts.file.display(),
                errors.0.len()
            )
        }
    }
}
