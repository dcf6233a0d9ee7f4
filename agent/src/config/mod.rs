//! vipd's configuration: the model the daemon runs ([`model`]), the TOML file it is read from
//! ([`load`]), the rules between values ([`validate`]), how problems are reported
//! ([`diagnostic`]), and the model written back as TOML ([`write`](mod@write)).
//! `vipd check-config FILE` is [`check_file`]; it never touches the system.

pub mod auth_key;
pub mod diagnostic;
pub mod ipfailover;
pub mod keepalived;
pub mod load;
pub mod model;
pub mod validate;
pub mod write;

use std::fmt;
use std::path::{Path, PathBuf};

pub use diagnostic::{ConfigErrors, Diagnostic, FieldPath, Item, SourceMap};
pub use model::Config;

/// A configuration that loaded and validated, with what is worth telling the user about it.
#[derive(Debug, Clone)]
pub struct Checked {
    pub config: Config,
    pub warnings: Warnings,
    /// Where each value came from, so that errors found at run time ("interface eth9 not
    /// found") can name the line: `sources.locate(FieldPath::key(Item::Instance(i),
    /// "interface"))`, where `i` indexes `config.instances`.
    pub sources: SourceMap,
}

/// Warnings render one per line as `file:line:col: warning: message`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Warnings(pub Vec<Diagnostic>);

impl fmt::Display for Warnings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, warning) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{}: warning: {}", warning.location, warning.message)?;
        }
        Ok(())
    }
}

/// Reads, parses and validates a vipd.toml. Messages name `path` as given.
pub fn check_file(path: &Path) -> Result<Checked, ConfigErrors> {
    let text = std::fs::read_to_string(path).map_err(|error| {
        ConfigErrors::whole_file(path, format!("cannot read the configuration: {error}"))
    })?;
    check_str(path, &text)
}

/// Parses and validates `text` as if read from `file`.
pub fn check_str(file: &Path, text: &str) -> Result<Checked, ConfigErrors> {
    let loaded = load::load_str(file, text)?;
    let findings = validate::validate(&loaded.config, &loaded.source_map);
    if !findings.errors.is_empty() {
        return Err(ConfigErrors(findings.errors));
    }
    Ok(Checked {
        config: loaded.config,
        warnings: Warnings(findings.warnings),
        sources: loaded.source_map,
    })
}

#[cfg(test)]
mod tests;

/// The file a running vipd reads its configuration from, at start and again on SIGHUP.
#[derive(Debug, Clone)]
pub enum ConfigFile {
    /// A vipd.toml.
    Vipd(PathBuf),
    /// A keepalived.conf whose VRRP part vipd runs, read as the host `config_id` (its `@ID`
    /// lines), kept for the reload to read it the same way.
    Keepalived {
        path: PathBuf,
        config_id: keepalived::ConfigId,
    },
    /// OpenShift ipfailover's `OPENSHIFT_HA_*` environment, run as the image would.
    OpenshiftIpfailover(ipfailover::Source),
}

impl ConfigFile {
    pub fn path(&self) -> &Path {
        match self {
            ConfigFile::Vipd(path) | ConfigFile::Keepalived { path, .. } => path,
            ConfigFile::OpenshiftIpfailover(_) => Path::new(ipfailover::SOURCE),
        }
    }

    /// Reads, parses and validates the file.
    pub fn load(&self) -> Result<Checked, ConfigErrors> {
        match self {
            ConfigFile::Vipd(path) => check_file(path),
            ConfigFile::Keepalived { path, config_id } => {
                keepalived::load_keepalived(path, config_id)
            }
            ConfigFile::OpenshiftIpfailover(source) => source.load(),
        }
    }
}
