//! What both importers (`import-keepalived`, `import-openshift-ipfailover`) print: the warnings
//! on stderr and the vipd.toml on stdout under a header naming its origin, or the errors and a
//! refusal.
use anyhow::{bail, Result};
use std::fmt::Display;

use crate::config::{self, Checked, ConfigErrors};

/// Prints `loaded`, imported from `source` by `command`.
pub fn print(
    loaded: Result<Checked, ConfigErrors>,
    source: impl Display,
    command: &str,
) -> Result<()> {
    match loaded {
        Ok(checked) => {
            if !checked.warnings.0.is_empty() {
                eprintln!("{}", checked.warnings);
            }
            println!("# vipd.toml imported from {source} by `vipd {command}`.\n");
            print!("{}", config::write::to_toml(&checked.config));
            Ok(())
        }
        Err(errors) => {
            eprintln!("{errors}");
            bail!("{source}: {} error(s), nothing imported", errors.0.len())
        }
    }
}
