//! Reading keepalived.conf as a vipd configuration: `vipd run --keepalived-conf FILE` runs the
//! VRRP part of an existing keepalived setup, and `vipd import-keepalived FILE` prints it as
//! vipd.toml.
//!
//! The stages: `preprocess` expands keepalived's per-host lines (`@ID`, chosen by the
//! configuration id, keepalived's `-i`), definitions and sequences line by line, `source` reads
//! the file and its includes into tokens that know their file and line, `syntax` builds keepalived's statements and blocks, `convert` maps them onto the
//! model with keepalived's defaults, and the model is validated by the same
//! [`validate`](super::validate::validate) as vipd.toml. What vipd does not run is a warning naming the
//! file and line; what keepalived itself would refuse is an error.
//!
//! Validation places its diagnostics through a [`SourceMap`](super::SourceMap), which knows one file. The
//! importer therefore gives validation positions in the consolidated configuration (every file
//! one after another, as keepalived's own configuration copy lays them out) and maps what
//! validation reports back to the file and line it came from. The [`SourceMap`](super::SourceMap) handed to the
//! daemon names the main file; a value from an included file is placed at its `include` line.

mod convert;
mod preprocess;
mod source;
mod syntax;
mod values;

#[cfg(test)]
mod tests;

use std::path::Path;

use super::diagnostic::{ConfigErrors, Diagnostic};
use super::{validate, Checked, Warnings};
pub use preprocess::ConfigId;
use source::Sources;
pub use source::{Disk, IncludeFiles};

/// Reads, converts and validates a keepalived.conf and the files it includes, as the host whose
/// configuration id is `config_id` reads it.
pub fn load_keepalived(path: &Path, config_id: &ConfigId) -> Result<Checked, ConfigErrors> {
    let text = std::fs::read_to_string(path).map_err(|error| {
        ConfigErrors::whole_file(
            path,
            format!("cannot read the keepalived configuration: {error}"),
        )
    })?;
    load_keepalived_str(path, &text, config_id)
}

/// As [`load_keepalived`], for `text` read from `path` (includes are read relative to `path`).
pub fn load_keepalived_str(
    path: &Path,
    text: &str,
    config_id: &ConfigId,
) -> Result<Checked, ConfigErrors> {
    load_keepalived_with(path, text, &Disk, config_id)
}

/// As [`load_keepalived_str`], with the files `include` finds coming from `files`.
pub fn load_keepalived_with(
    path: &Path,
    text: &str,
    files: &dyn IncludeFiles,
    config_id: &ConfigId,
) -> Result<Checked, ConfigErrors> {
    let (sources, tokens) = source::read_str(path, text, files, config_id).map_err(ConfigErrors)?;
    let statements = syntax::parse(&sources, &tokens).map_err(ConfigErrors)?;
    let imported = convert::import(&sources, &statements);
    if !imported.errors.is_empty() {
        return Err(ConfigErrors(in_file_order(&sources, imported.errors)));
    }
    let findings = validate::validate(&imported.config, &imported.consolidated);
    let relocate = |d: Diagnostic| relocate(&sources, d);
    let errors: Vec<Diagnostic> = findings.errors.into_iter().map(relocate).collect();
    if !errors.is_empty() {
        return Err(ConfigErrors(in_file_order(&sources, errors)));
    }
    let mut warnings = sources.warnings.clone();
    warnings.extend(imported.warnings);
    warnings.extend(findings.warnings.into_iter().map(relocate));
    Ok(Checked {
        config: imported.config,
        warnings: Warnings(in_file_order(&sources, warnings)),
        sources: imported.main_file,
    })
}

/// A diagnostic of validation, placed in the consolidated configuration, moved to the file
/// and line it came from; "line N" in its message too.
fn relocate(sources: &Sources, diagnostic: Diagnostic) -> Diagnostic {
    let origin = sources.unconsolidate(diagnostic.location.position);
    Diagnostic {
        location: sources.location(origin),
        message: relocate_line_mentions(sources, &diagnostic.message),
    }
}

/// Rewrites "line N" (a consolidated line) as the line of the main file, or as `FILE:LINE`
/// for a line of an included file.
fn relocate_line_mentions(sources: &Sources, message: &str) -> String {
    let mut out = String::new();
    let mut rest = message;
    while let Some(at) = rest.find("line ") {
        out.push_str(&rest[..at]);
        let after = &rest[at + "line ".len()..];
        let digits = after.len() - after.trim_start_matches(|c: char| c.is_ascii_digit()).len();
        match after[..digits].parse::<usize>() {
            Ok(line) if line > 0 => {
                let origin = sources.unconsolidate(super::diagnostic::Position { line, column: 1 });
                if origin.file == 0 {
                    out.push_str(&format!("line {}", origin.position.line));
                } else {
                    let file = &sources.files[origin.file].path;
                    out.push_str(&format!("{}:{}", file.display(), origin.position.line));
                }
            }
            _ => out.push_str(&rest[at..at + "line ".len() + digits]),
        }
        rest = &after[digits..];
    }
    out.push_str(rest);
    out
}

/// Diagnostics sorted as the consolidated configuration reads: file by file in reading order.
fn in_file_order(sources: &Sources, mut diagnostics: Vec<Diagnostic>) -> Vec<Diagnostic> {
    let key = |d: &Diagnostic| {
        let file = sources
            .files
            .iter()
            .position(|f| f.path == d.location.file)
            .unwrap_or(0);
        (file, d.location.position)
    };
    diagnostics.sort_by_key(key);
    diagnostics
}
