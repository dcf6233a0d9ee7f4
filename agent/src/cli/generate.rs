//! `vipd man DIR` and `vipd completions SHELL`: the man pages and shell completions that the
//! Debian package installs (`cargo xtask package --deb`), generated from this very command line
//! so that they never lag behind it.
//!
//! They are hidden subcommands of vipd, rather than `vipd::cli` exposing its clap `Command` to
//! xtask, because xtask cannot depend on the vipd library: the library embeds the XDP object
//! that `cargo xtask build-ebpf` builds, so xtask would not compile on a fresh checkout. Run by
//! the packaged binary, they also describe exactly the vipd that is shipped.
use anyhow::{Context, Result};
use clap::CommandFactory;
use std::path::{Path, PathBuf};

use super::Cli;

/// vipd is a system daemon run by root: section 8.
const MAN_SECTION: &str = "8";

#[derive(clap::Args)]
pub struct ManOptions {
    /// Directory to write vipd.8 and one vipd-SUBCOMMAND.8 per subcommand into.
    dir: PathBuf,
}

#[derive(clap::Args)]
pub struct CompletionsOptions {
    /// The shell whose completion script to print on stdout.
    #[arg(value_enum)]
    shell: clap_complete::Shell,
}

pub fn man(opts: ManOptions) -> Result<()> {
    let mut cli = Cli::command();
    // Gives each subcommand its display name (`vipd-run`) and usage line (`vipd run`).
    cli.build();
    write_page(&opts.dir, cli.clone())?;
    // clap's own `help` subcommand has nothing a page would add to vipd(8).
    for sub in cli
        .get_subcommands()
        .filter(|sub| !sub.is_hide_set() && sub.get_name() != "help")
    {
        write_page(&opts.dir, sub.clone())?;
    }
    Ok(())
}

fn write_page(dir: &Path, command: clap::Command) -> Result<()> {
    let name = command
        .get_display_name()
        .unwrap_or_else(|| command.get_name())
        .to_owned();
    let path = dir.join(format!("{name}.{MAN_SECTION}"));
    let mut page = Vec::new();
    clap_mangen::Man::new(command)
        .section(MAN_SECTION)
        .render(&mut page)
        .with_context(|| format!("rendering {name}({MAN_SECTION})"))?;
    std::fs::write(&path, page).with_context(|| format!("writing {}", path.display()))
}

pub fn completions(opts: CompletionsOptions) -> Result<()> {
    clap_complete::generate(
        opts.shell,
        &mut Cli::command(),
        "vipd",
        &mut std::io::stdout().lock(),
    );
    Ok(())
}
