//! Where a configuration problem is and how it is told to the user: `file:line:col: message`.
//!
//! Validation works on the model, which carries no source positions, so that a model built by
//! another front end (the keepalived.conf importer) is checked by the same code. The front end
//! hands validation a [`SourceMap`] that tells where each value came from.

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};

/// A 1-based line and column (columns count characters, not bytes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Position {
    pub line: usize,
    pub column: usize,
}

/// The place in a file a diagnostic points at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    pub file: PathBuf,
    pub position: Position,
}

/// One problem found in a configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub location: Location,
    pub message: String,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}",
            self.file.display(),
            self.position.line,
            self.position.column
        )
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.location, self.message)
    }
}

/// Everything that makes a configuration unusable, in file order. Displays one per line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ConfigErrors(pub Vec<Diagnostic>);

impl ConfigErrors {
    /// An error that has no place in the file (the file cannot be read at all).
    pub fn whole_file(file: &Path, message: String) -> Self {
        ConfigErrors(vec![Diagnostic {
            location: Location {
                file: file.to_path_buf(),
                position: Position { line: 1, column: 1 },
            },
            message,
        }])
    }
}

impl fmt::Display for ConfigErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, diagnostic) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{diagnostic}")?;
        }
        Ok(())
    }
}

/// Which configuration item a value belongs to; indexes count items in file order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Item {
    Global,
    Instance(usize),
    SyncGroup(usize),
    Check(usize),
    Bfd(usize),
}

/// Names one value of the configuration: an item, a key in it, and for lists the element.
/// `key` is the TOML key name; the empty key names the item itself (its table header).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FieldPath {
    pub item: Item,
    pub key: &'static str,
    pub index: Option<usize>,
}

impl FieldPath {
    pub fn item(item: Item) -> Self {
        FieldPath {
            item,
            key: "",
            index: None,
        }
    }

    pub fn key(item: Item, key: &'static str) -> Self {
        FieldPath {
            item,
            key,
            index: None,
        }
    }

    pub fn element(item: Item, key: &'static str, index: usize) -> Self {
        FieldPath {
            item,
            key,
            index: Some(index),
        }
    }
}

/// Where each value of a model came from.
#[derive(Debug, Clone)]
pub struct SourceMap {
    file: PathBuf,
    positions: HashMap<FieldPath, Position>,
}

impl SourceMap {
    pub fn new(file: PathBuf) -> Self {
        SourceMap {
            file,
            positions: HashMap::new(),
        }
    }

    pub fn record(&mut self, path: FieldPath, position: Position) {
        self.positions.insert(path, position);
    }

    /// The most precise known place for `path`: the element, else its key, else its item, else
    /// the top of the file (values that took their default have no place of their own).
    pub fn locate(&self, path: FieldPath) -> Location {
        let candidates = [
            path,
            FieldPath::key(path.item, path.key),
            FieldPath::item(path.item),
        ];
        let position = candidates
            .iter()
            .find_map(|candidate| self.positions.get(candidate).copied())
            .unwrap_or(Position { line: 1, column: 1 });
        Location {
            file: self.file.clone(),
            position,
        }
    }

    pub fn diagnostic(&self, path: FieldPath, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            location: self.locate(path),
            message: message.into(),
        }
    }
}

/// Turns byte offsets of a source text into line and column in time independent of the
/// line's length: a configuration may put 200,000 VIPs on one line, and counting the
/// characters from the line's start for each of them was quadratic.
pub struct LineIndex<'a> {
    text: &'a str,
    line_starts: Vec<usize>,
    /// `chars_before[k]`: the characters in the first `k * CHUNK` bytes.
    chars_before: Vec<usize>,
}

/// Bytes per entry of [`LineIndex::chars_before`]: a column costs at most two counts this long.
const CHUNK: usize = 64;

impl<'a> LineIndex<'a> {
    pub fn new(text: &'a str) -> Self {
        let line_starts = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        let chars_before = std::iter::once(0)
            .chain(text.as_bytes().chunks(CHUNK).scan(0, |total, chunk| {
                *total += chars_in(chunk);
                Some(*total)
            }))
            .collect();
        LineIndex {
            text,
            line_starts,
            chars_before,
        }
    }

    pub fn position(&self, offset: usize) -> Position {
        let offset = offset.min(self.text.len());
        let line = self.line_starts.partition_point(|&start| start <= offset) - 1;
        let line_start = self.line_starts[line];
        let column = self.chars_up_to(offset) - self.chars_up_to(line_start);
        Position {
            line: line + 1,
            column: column + 1,
        }
    }

    /// The characters in `text[..offset]` (a character cut by `offset` counts as one).
    fn chars_up_to(&self, offset: usize) -> usize {
        let chunk = offset / CHUNK;
        self.chars_before[chunk] + chars_in(&self.text.as_bytes()[chunk * CHUNK..offset])
    }
}

/// The characters that start in `bytes` of UTF-8 (every byte but continuation bytes).
fn chars_in(bytes: &[u8]) -> usize {
    bytes.iter().filter(|&&b| b & 0xC0 != 0x80).count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_index_counts_lines_and_characters() {
        let index = LineIndex::new("a = 1\nbé = 2\n");
        assert_eq!(index.position(0), Position { line: 1, column: 1 });
        assert_eq!(index.position(6), Position { line: 2, column: 1 });
        // "bé" is three bytes; the '=' after it (byte 10) is the fourth character.
        assert_eq!(index.position(10), Position { line: 2, column: 4 });
        assert_eq!(index.position(99), Position { line: 3, column: 1 });
    }

    #[test]
    fn line_index_columns_of_a_long_line_with_multibyte_characters() {
        let text = format!("x\n{}é = {}", "a".repeat(100), "b".repeat(200));
        let index = LineIndex::new(&text);
        for offset in (0..text.len()).filter(|&o| text.is_char_boundary(o)) {
            let line_start = text[..offset].rfind('\n').map_or(0, |i| i + 1);
            let expected = text[line_start..offset].chars().count() + 1;
            assert_eq!(index.position(offset).column, expected, "offset {offset}");
        }
    }

    #[test]
    fn locate_falls_back_from_element_to_key_to_item() {
        let mut map = SourceMap::new("x.toml".into());
        let item = Item::Instance(0);
        map.record(FieldPath::item(item), Position { line: 3, column: 1 });
        map.record(
            FieldPath::key(item, "vips"),
            Position { line: 5, column: 8 },
        );
        map.record(
            FieldPath::element(item, "vips", 1),
            Position {
                line: 5,
                column: 20,
            },
        );
        let at = |path| map.locate(path).position;
        assert_eq!(at(FieldPath::element(item, "vips", 1)).column, 20);
        assert_eq!(at(FieldPath::element(item, "vips", 2)).column, 8);
        assert_eq!(at(FieldPath::key(item, "vrid")).line, 3);
        assert_eq!(at(FieldPath::key(Item::Check(0), "url")).line, 1);
    }
}
