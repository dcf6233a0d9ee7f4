//! Reading keepalived.conf and the files it includes into one stream of tokens, each knowing the
//! file, line and column it came from.
//!
//! keepalived's lexical rules (lib/parser.c): each line first goes through the preprocessor
//! ([`preprocess`](super::preprocess)), which removes the comment (`!` and `#` outside quotes;
//! `\!` and `\#` are the characters themselves) and expands keepalived's per-host lines,
//! definitions and sequences into the lines read here. A line is split into words at white
//! space; a word that starts with `"` runs to the next `"` (the quotes are dropped); `{` and `}`
//! outside quotes are words of their own; a line whose first word is `include` (or a variant,
//! `includer`, `includem`...) is replaced by the files its glob pattern matches, in sorted
//! order, a relative pattern being relative to the directory of the file that includes it.

use std::io;
use std::path::{Path, PathBuf};

use super::preprocess::{ConfigId, Line, Preprocessor};
use crate::config::diagnostic::{Diagnostic, Location, Position};

/// Where `include` finds its files. vipd reads the disk ([`Disk`]); a fuzz target hands in
/// files of its own, so that no input can make it read the machine's.
pub trait IncludeFiles {
    /// The files `pattern` (a glob, absolute or relative to the working directory) matches, in
    /// sorted order; `Err` holds why the pattern is not a valid glob.
    fn matching(&self, pattern: &str) -> Result<Vec<PathBuf>, String>;

    /// The text of a file that [`IncludeFiles::matching`] returned.
    fn read(&self, path: &Path) -> io::Result<String>;
}

/// The files on this machine.
pub struct Disk;

impl IncludeFiles for Disk {
    fn matching(&self, pattern: &str) -> Result<Vec<PathBuf>, String> {
        let paths = glob::glob(pattern).map_err(|error| error.to_string())?;
        let mut matched: Vec<PathBuf> = paths.filter_map(Result::ok).collect();
        matched.sort();
        matched.retain(|path| path.is_file());
        Ok(matched)
    }

    fn read(&self, path: &Path) -> io::Result<String> {
        std::fs::read_to_string(path)
    }
}

/// Nesting deeper than this is taken for an include loop.
const MAX_INCLUDE_DEPTH: usize = 16;

/// More files than this in one configuration are taken for includes that multiply: a file may
/// be included many times over (each of two files including both of the next two, sixteen
/// levels down, reads 65,536 files), and each time it is read and kept again.
pub const MAX_FILES: usize = 1024;

/// Where a token came from: which file of [`Sources`] and where in it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Origin {
    pub file: usize,
    pub position: Position,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenKind {
    /// A word, quoted or not (quotes removed).
    Word(String),
    Open,
    Close,
    /// The end of a line: keepalived's statements are lines.
    EndOfLine,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    pub kind: TokenKind,
    pub origin: Origin,
}

/// A file that was read, and where it sits in the consolidated configuration.
#[derive(Debug, Clone)]
pub struct SourceFile {
    pub path: PathBuf,
    /// Lines of the files read before this one: this file's line 1 is the consolidated
    /// configuration's line `line_offset + 1`.
    pub line_offset: usize,
    /// For an included file, the `include` line in the main file that brought it in.
    pub anchor: Option<Position>,
}

/// Every file read, the main one first, and what reading them found worth a warning.
#[derive(Debug, Clone, Default)]
pub struct Sources {
    pub files: Vec<SourceFile>,
    pub warnings: Vec<Diagnostic>,
    total_lines: usize,
}

impl Sources {
    pub fn location(&self, origin: Origin) -> Location {
        Location {
            file: self.files[origin.file].path.clone(),
            position: origin.position,
        }
    }

    pub fn diagnostic(&self, origin: Origin, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            location: self.location(origin),
            message: message.into(),
        }
    }

    /// The position in the consolidated configuration (all files one after another).
    pub fn consolidated(&self, origin: Origin) -> Position {
        Position {
            line: self.files[origin.file].line_offset + origin.position.line,
            column: origin.position.column,
        }
    }

    /// The origin of a consolidated position, the inverse of [`Sources::consolidated`].
    pub fn unconsolidate(&self, position: Position) -> Origin {
        let file = self
            .files
            .iter()
            .rposition(|file| file.line_offset < position.line)
            .unwrap_or(0);
        Origin {
            file,
            position: Position {
                line: position.line - self.files[file].line_offset,
                column: position.column,
            },
        }
    }

    /// The position in the main file: the token's own when it is in the main file, otherwise
    /// the `include` line that led to it.
    pub fn in_main_file(&self, origin: Origin) -> Position {
        self.files[origin.file].anchor.unwrap_or(origin.position)
    }
}

/// The tokens of `text` as if read from `path`; `include` reads `files` relative to `path`;
/// `@ID` lines are kept for `config_id`.
pub fn read_str(
    path: &Path,
    text: &str,
    files: &dyn IncludeFiles,
    config_id: &ConfigId,
) -> Result<(Sources, Vec<Token>), Vec<Diagnostic>> {
    let mut reader = Reader {
        files,
        preprocessor: Preprocessor::new(config_id),
        sources: Sources::default(),
        tokens: Vec::new(),
        errors: Vec::new(),
        reading: Vec::new(),
    };
    reader.file(path, text, None, 0);
    reader.finish()
}

struct Reader<'a> {
    files: &'a dyn IncludeFiles,
    preprocessor: Preprocessor,
    sources: Sources,
    tokens: Vec<Token>,
    errors: Vec<Diagnostic>,
    /// The files being read, each included by the one before it: the main file first.
    reading: Vec<PathBuf>,
}

impl Reader<'_> {
    fn finish(self) -> Result<(Sources, Vec<Token>), Vec<Diagnostic>> {
        if self.errors.is_empty() {
            Ok((self.sources, self.tokens))
        } else {
            Err(self.errors)
        }
    }

    fn file(&mut self, path: &Path, text: &str, anchor: Option<Position>, depth: usize) {
        let index = self.sources.files.len();
        self.sources.files.push(SourceFile {
            path: path.to_path_buf(),
            line_offset: self.sources.total_lines,
            anchor,
        });
        self.sources.total_lines += text.lines().count().max(1);
        self.reading.push(path.to_path_buf());
        self.tokens_of(index, path, text, anchor, depth);
        self.reading.pop();
    }

    /// The tokens of `text`, the file at `index` of [`Sources::files`].
    fn tokens_of(
        &mut self,
        index: usize,
        path: &Path,
        text: &str,
        anchor: Option<Position>,
        depth: usize,
    ) {
        let dir = path.parent().unwrap_or(Path::new(""));
        for (number, raw) in text.lines().enumerate() {
            let mut lines = Vec::new();
            if let Err(problem) = self.preprocessor.line(raw, dir, &mut lines) {
                let origin = origin(index, number, problem.column);
                self.errors
                    .push(self.sources.diagnostic(origin, problem.message));
                continue;
            }
            for line in lines {
                self.line(index, path, number, &line, anchor, depth);
            }
        }
        self.preprocessor.end_of_file();
    }

    /// The tokens of one preprocessed line of line `number` of the file at `index`.
    fn line(
        &mut self,
        index: usize,
        path: &Path,
        number: usize,
        line: &Line,
        anchor: Option<Position>,
        depth: usize,
    ) {
        let words = match split_line(&line.text, line.column) {
            Ok(words) => words,
            Err(column) => {
                let origin = origin(index, number, column);
                self.errors.push(
                    self.sources
                        .diagnostic(origin, "unterminated quote: close the string with `\"`"),
                );
                return;
            }
        };
        let Some(first) = words.first() else {
            return;
        };
        if let Some(must_match) = include_keyword(first) {
            let at = origin(index, number, first.column);
            let anchor = anchor.or(Some(at.position));
            let how = Include {
                keyword: &first.text,
                must_match,
            };
            self.include(path, &how, &words[1..], at, anchor, depth);
            return;
        }
        for word in &words {
            let kind = match (word.text.as_str(), word.quoted) {
                ("{", false) => TokenKind::Open,
                ("}", false) => TokenKind::Close,
                _ => TokenKind::Word(word.text.clone()),
            };
            self.tokens.push(Token {
                kind,
                origin: origin(index, number, word.column),
            });
        }
        let end = words
            .last()
            .map_or(1, |w| w.column + w.text.chars().count());
        self.tokens.push(Token {
            kind: TokenKind::EndOfLine,
            origin: origin(index, number, end),
        });
    }

    fn include(
        &mut self,
        including: &Path,
        how: &Include,
        words: &[Word],
        at: Origin,
        anchor: Option<Position>,
        depth: usize,
    ) {
        let keyword = how.keyword;
        let [pattern] = words else {
            self.errors.push(self.sources.diagnostic(
                at,
                format!("`{keyword}` takes one file name or glob pattern"),
            ));
            return;
        };
        if depth >= MAX_INCLUDE_DEPTH {
            self.errors.push(self.sources.diagnostic(
                at,
                format!("includes nest deeper than {MAX_INCLUDE_DEPTH} levels: does a file include itself?"),
            ));
            return;
        }
        let pattern_path = Path::new(&pattern.text);
        let full = if pattern_path.is_absolute() {
            pattern_path.to_path_buf()
        } else {
            including
                .parent()
                .unwrap_or(Path::new(""))
                .join(pattern_path)
        };
        let Some(full_text) = full.to_str() else {
            self.errors.push(
                self.sources
                    .diagnostic(at, "include path is not valid UTF-8"),
            );
            return;
        };
        let matched = match self.files.matching(full_text) {
            Ok(matched) => matched,
            Err(error) => {
                self.errors.push(self.sources.diagnostic(
                    at,
                    format!("`{}` is not a valid glob pattern: {error}", pattern.text),
                ));
                return;
            }
        };
        if matched.is_empty() {
            let message = format!(
                "`{keyword} {}` matches no file (looked for {})",
                pattern.text,
                full.display()
            );
            if how.must_match {
                self.errors.push(self.sources.diagnostic(at, message));
            } else {
                // keepalived carries on too: an empty conf.d is a common layout.
                let warning = self
                    .sources
                    .diagnostic(at, format!("{message}: nothing included"));
                self.sources.warnings.push(warning);
            }
            return;
        }
        for path in matched {
            if self.reading.contains(&path) {
                self.errors.push(self.sources.diagnostic(
                    at,
                    format!(
                        "`{keyword} {}` includes {}, which is being read: a file may not include itself, directly or through others",
                        pattern.text,
                        path.display()
                    ),
                ));
                continue;
            }
            if self.sources.files.len() >= MAX_FILES {
                self.errors.push(self.sources.diagnostic(
                    at,
                    format!("more than {MAX_FILES} files included: do the include patterns include the same files over and over?"),
                ));
                return;
            }
            match self.files.read(&path) {
                Ok(text) => self.file(&path, &text, anchor, depth + 1),
                Err(error) => self.errors.push(self.sources.diagnostic(
                    at,
                    format!("cannot read included file {}: {error}", path.display()),
                )),
            }
        }
    }
}

/// How an include line reads its pattern.
struct Include<'w> {
    /// `include` or one of keepalived's stricter variants.
    keyword: &'w str,
    /// A pattern matching no file is an error, not a warning.
    must_match: bool,
}

/// For a line's first word that includes files, whether its pattern must match a file.
/// keepalived's `include` lets a pattern match nothing; `includer` checks that what matches is
/// readable, which vipd always does; `includem`, `includew`, `includeb` and `includea` also
/// want matches (`includew` for each wildcard and `includeb` for each brace alternative, which
/// vipd checks for the pattern as a whole).
fn include_keyword(word: &Word) -> Option<bool> {
    if word.quoted {
        return None;
    }
    match word.text.as_str() {
        "include" | "includer" => Some(false),
        "includem" | "includew" | "includeb" | "includea" => Some(true),
        _ => None,
    }
}

fn origin(file: usize, line_index: usize, column: usize) -> Origin {
    Origin {
        file,
        position: Position {
            line: line_index + 1,
            column,
        },
    }
}

/// One word of a line, with its 1-based column.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Word {
    text: String,
    quoted: bool,
    column: usize,
}

/// Splits a preprocessed line, whose first character is at `column`, into words; `Err` holds
/// the column of a quote that is never closed.
fn split_line(line: &str, column: usize) -> Result<Vec<Word>, usize> {
    let chars: Vec<char> = line.chars().collect();
    let mut words = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
        } else if c == '{' || c == '}' {
            words.push(Word {
                text: c.to_string(),
                quoted: false,
                column: column + i,
            });
            i += 1;
        } else if c == '"' {
            let start = i;
            let close = chars[i + 1..]
                .iter()
                .position(|&c| c == '"')
                .ok_or(column + start)?;
            words.push(Word {
                text: chars[i + 1..i + 1 + close].iter().collect(),
                quoted: true,
                column: column + start,
            });
            i += close + 2;
        } else {
            let start = i;
            while i < chars.len()
                && !chars[i].is_whitespace()
                && !matches!(chars[i], '"' | '{' | '}')
            {
                i += 1;
            }
            words.push(Word {
                text: chars[start..i].iter().collect(),
                quoted: false,
                column: column + start,
            });
        }
    }
    Ok(words)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The words of `line` as the reader splits it, preprocessed first.
    fn split(line: &str) -> Result<Vec<Word>, usize> {
        let mut lines = Vec::new();
        Preprocessor::new(&ConfigId::new("test"))
            .line(line, Path::new("."), &mut lines)
            .unwrap();
        let mut words = Vec::new();
        for line in lines {
            words.extend(split_line(&line.text, line.column)?);
        }
        Ok(words)
    }

    fn texts(line: &str) -> Vec<String> {
        split(line).unwrap().into_iter().map(|w| w.text).collect()
    }

    #[test]
    fn words_quotes_comments_and_braces() {
        assert_eq!(
            texts(r#"  notify_master "/bin/x.sh a b" # comment"#),
            ["notify_master", "/bin/x.sh a b"]
        );
        assert_eq!(
            texts("vrrp_instance VI_1{ state MASTER }"),
            ["vrrp_instance", "VI_1", "{", "state", "MASTER", "}"]
        );
        assert_eq!(texts("! whole line"), Vec::<String>::new());
        assert_eq!(texts(r#"auth_pass a\#b!c"#), ["auth_pass", "a#b"]);
        assert_eq!(
            texts(r#"script "echo '#1' { }""#),
            ["script", "echo '#1' { }"]
        );
    }

    #[test]
    fn columns_count_characters() {
        let words = split("\tpriority  100").unwrap();
        assert_eq!(words[0].column, 2);
        assert_eq!(words[1].column, 12);
        let words = split("  @test priority 100").unwrap();
        assert_eq!(words[0].column, 9);
    }

    #[test]
    fn an_open_quote_is_reported_at_its_column() {
        assert_eq!(split(r#"script "/bin/true"#).unwrap_err(), 8);
    }

    #[test]
    fn consolidated_positions_round_trip() {
        let dir = std::env::temp_dir().join(format!("vipd-ka-src-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("conf.d")).unwrap();
        std::fs::write(dir.join("conf.d/b.conf"), "b1\nb2\n").unwrap();
        std::fs::write(dir.join("conf.d/a.conf"), "a1\n").unwrap();
        let main = dir.join("main.conf");
        let (sources, tokens) = read_str(
            &main,
            "m1\ninclude conf.d/*.conf\nm3\n",
            &Disk,
            &ConfigId::new("test"),
        )
        .unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
        let words: Vec<(String, usize, usize)> = tokens
            .iter()
            .filter_map(|t| match &t.kind {
                TokenKind::Word(w) => Some((w.clone(), t.origin.file, t.origin.position.line)),
                _ => None,
            })
            .collect();
        assert_eq!(
            words,
            [
                ("m1".to_string(), 0, 1),
                ("a1".to_string(), 1, 1),
                ("b1".to_string(), 2, 1),
                ("b2".to_string(), 2, 2),
                ("m3".to_string(), 0, 3),
            ]
        );
        for token in &tokens {
            let back = sources.unconsolidate(sources.consolidated(token.origin));
            assert_eq!(back, token.origin);
        }
        let b2 = tokens
            .iter()
            .find(|t| t.kind == TokenKind::Word("b2".into()))
            .unwrap();
        assert_eq!(
            sources.in_main_file(b2.origin),
            Position { line: 2, column: 1 }
        );
    }
}
