//! Runs `scripts/bootstrap.sh`, which installs what the build and the tests need and skips
//! whatever is already present.
use anyhow::Result;
use std::process::Command;

use crate::workspace;

/// Makes sure the machine has the toolchain pieces and packages vipd needs.
pub fn ensure() -> Result<()> {
    workspace::run(
        Command::new("bash")
            .arg(workspace::root().join("scripts/bootstrap.sh"))
            .env("BOOTSTRAP_QUIET", "1"),
    )
}
