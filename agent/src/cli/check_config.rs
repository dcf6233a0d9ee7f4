//! `vipd check-config FILE`: load and validate a configuration without touching the system, like
//! keepalived's `-t`. Errors and warnings go to stderr as `file:line:col: message`; the exit code
//! says whether the file is good.
use anyhow::{bail, Result};
use std::path::PathBuf;

use crate::config;

#[derive(clap::Args)]
pub struct Options {
    /// The vipd.toml to check.
    file: PathBuf,
}

pub fn run(opts: Options) -> Result<()> {
    match config::check_file(&opts.file) {
        Ok(checked) => {
            if !checked.warnings.0.is_empty() {
                eprintln!("{}", checked.warnings);
            }
            println!(
                "{}: configuration OK ({} instance(s))",
                opts.file.display(),
                checked.config.instances.len()
            );
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
