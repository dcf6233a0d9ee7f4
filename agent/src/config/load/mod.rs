//! Reading vipd.toml: TOML syntax, the shape of each table, and conversion into the model,
//! with every error placed at `file:line:col`.
//!
//! Each `[global]`, `[[instance]]`, `[[sync_group]]` and `[[check]]` table is deserialized on
//! its own, so a mistake in one table does not hide the mistakes in the others: serde stops at
//! the first error of a table, this loader does not stop at the first table.

mod convert;
mod schema;
mod values;

use std::path::Path;

use serde::Deserialize;
use toml::de::{DeTable, DeValue, ValueDeserializer};
use toml::Spanned;

use super::diagnostic::{ConfigErrors, Diagnostic, LineIndex, Location, SourceMap};
use super::model::Config;
use convert::Converter;
use schema::{RawBfd, RawCheck, RawGlobal, RawInstance, RawSyncGroup, TOP_LEVEL_TABLES};

/// A configuration read from a file, with where each value came from (for validation).
#[derive(Debug, Clone)]
pub struct Loaded {
    pub config: Config,
    pub source_map: SourceMap,
}

/// Parses `text`, naming `file` in messages. Does not validate relations between values.
pub fn load_str(file: &Path, text: &str) -> Result<Loaded, ConfigErrors> {
    let lines = LineIndex::new(text);
    let mut errors = Errors {
        file,
        lines: &lines,
        list: Vec::new(),
    };

    let (document, syntax_errors) = DeTable::parse_recoverable(text);
    if !syntax_errors.is_empty() {
        for error in syntax_errors {
            errors.push(error.span().map_or(0, |span| span.start), error.message());
        }
        return Err(errors.finish());
    }

    let mut raw = RawDocument::default();
    for (key, value) in document.into_inner() {
        let key_start = key.span().start;
        match key.get_ref().as_ref() {
            "global" => {
                if let Some(global) = errors.table(value, "[global]") {
                    raw.global = Some(global);
                }
            }
            "instance" => raw.instances = errors.tables(key_start, value, "instance"),
            "sync_group" => raw.sync_groups = errors.tables(key_start, value, "sync_group"),
            "check" => raw.checks = errors.tables(key_start, value, "check"),
            "bfd" => raw.bfd = errors.tables(key_start, value, "bfd"),
            other => {
                errors.push(
                    key_start,
                    format!(
                        "unknown top-level key `{other}` (expected one of {})",
                        TOP_LEVEL_TABLES.join(", ")
                    ),
                );
            }
        }
    }

    let mut converter = Converter::new(file, &lines);
    let config = converter.convert(raw);
    let (source_map, conversion_errors) = converter.finish();
    errors.list.extend(conversion_errors);
    if errors.list.is_empty() {
        Ok(Loaded { config, source_map })
    } else {
        Err(errors.finish())
    }
}

/// The tables of a document that deserialized; each with its span.
#[derive(Default)]
struct RawDocument {
    pub global: Option<Spanned<RawGlobal>>,
    pub instances: Vec<Spanned<RawInstance>>,
    pub sync_groups: Vec<Spanned<RawSyncGroup>>,
    pub checks: Vec<Spanned<RawCheck>>,
    pub bfd: Vec<Spanned<RawBfd>>,
}

struct Errors<'a> {
    file: &'a Path,
    lines: &'a LineIndex<'a>,
    list: Vec<Diagnostic>,
}

impl Errors<'_> {
    fn push(&mut self, offset: usize, message: impl Into<String>) {
        self.list.push(Diagnostic {
            location: Location {
                file: self.file.to_path_buf(),
                position: self.lines.position(offset),
            },
            message: message.into(),
        });
    }

    /// Deserializes one table, reporting its first error in the words of the file format.
    fn table<T: for<'de> Deserialize<'de>>(
        &mut self,
        value: Spanned<DeValue<'_>>,
        header: &str,
    ) -> Option<Spanned<T>> {
        let span = value.span();
        if !matches!(value.get_ref(), DeValue::Table(_)) {
            self.push(span.start, format!("expected a table {header}"));
            return None;
        }
        match T::deserialize(ValueDeserializer::from(value)) {
            Ok(table) => Some(Spanned::new(span, table)),
            Err(error) => {
                let offset = error.span().map_or(span.start, |span| span.start);
                self.push(offset, explain(error.message(), header));
                None
            }
        }
    }

    /// Deserializes each table of an array of tables (`[[name]]`).
    fn tables<T: for<'de> Deserialize<'de>>(
        &mut self,
        key_start: usize,
        value: Spanned<DeValue<'_>>,
        name: &str,
    ) -> Vec<Spanned<T>> {
        let header = format!("[[{name}]]");
        match value.into_inner() {
            DeValue::Array(elements) => elements
                .into_iter()
                .filter_map(|element| self.table(element, &header))
                .collect(),
            _ => {
                self.push(
                    key_start,
                    format!("`{name}` must be an array of tables: write each one as {header}"),
                );
                Vec::new()
            }
        }
    }

    fn finish(mut self) -> ConfigErrors {
        self.list.sort_by_key(|a| a.location.position);
        ConfigErrors(self.list)
    }
}

/// Rewrites serde's words into the file's: fields are keys, and a message about one says
/// which table it is in.
fn explain(message: &str, header: &str) -> String {
    if let Some(rest) = message.strip_prefix("unknown field ") {
        return match rest.split_once(", expected ") {
            Some((key, expected)) => {
                format!("unknown key {key} in {header} (expected {expected})")
            }
            None => format!("unknown key {rest} in {header}"),
        };
    }
    if let Some(rest) = message.strip_prefix("missing field ") {
        return format!("missing key {rest} in {header}");
    }
    if let Some(rest) = message.strip_prefix("unknown variant ") {
        return format!("unknown value {rest}");
    }
    message.to_owned()
}
