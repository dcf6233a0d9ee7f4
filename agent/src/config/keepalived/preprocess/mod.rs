//! keepalived's configuration preprocessor, which runs on each line before it is split into
//! words: one configuration written for several hosts (`@ID` lines, kept only on the host whose
//! configuration id is ID, and `@^ID` lines, kept on every other), definitions (`$NAME=VALUE`,
//! also over several lines ending in `\`) substituted where `$NAME` or `${NAME}` is used, and
//! lines replicated by `~SEQ` and `~LST`. keepalived.conf(5) describes them under "ADVANCED
//! CONFIGURATION"; the order in which a line goes through them is `read_line`'s in keepalived's
//! lib/parser.c, so that the same file gives the same lines:
//!
//! 1. the comment goes (`decomment`); an empty line ends a multi-line definition;
//! 2. while a multi-line definition is being read, the line is added to it, as it is;
//! 3. `@ID` / `@^ID` keep or drop the line, and come off it;
//! 4. `$NAME=VALUE` defines NAME, and the line is gone;
//! 5. `~SEQ` / `~LST` read the rest of the line once per round, each from step 3;
//! 6. definitions are substituted; if that changed the line, the comment pass runs again and,
//!    when the line now starts with `@` or still holds a `$`, it goes back to step 3. The other
//!    lines of a multi-line definition are read after it, each from step 3.

mod decomment;
mod definitions;
mod sequence;

#[cfg(test)]
mod tests;

use std::path::Path;

use decomment::decomment;
use definitions::Definitions;

/// Expansions nested deeper than this (a multi-line definition using itself) are refused.
const MAX_DEPTH: usize = 64;

/// More lines than this read by the preprocessor (from the files, from definitions and from
/// sequences' rounds, whether they define, are dropped or are kept) are refused: sequences
/// multiply, and each line kept costs its tokens and later its model.
const MAX_LINES: usize = 200_000;

/// More substitutions than this in the whole configuration are refused: each costs a copy of
/// its line, and sequences repeat lines that substitute many times.
const MAX_SUBSTITUTIONS: usize = 1_000_000;

/// The configuration id that `@ID` lines are compared with, keepalived's `-i`/`--config-id`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigId(String);

impl ConfigId {
    pub fn new(id: impl Into<String>) -> Self {
        Self(id.into())
    }

    /// keepalived's default: this host's name up to its first dot (uname's node name, which is
    /// the network namespace's host name, as /proc/sys/kernel/hostname reads it).
    pub fn of_this_host() -> Self {
        let name = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap_or_default();
        let name = name.trim();
        Self(name.split('.').next().unwrap_or(name).to_string())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A line for the tokenizer, comments gone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    pub text: String,
    /// The column of the source line where `text` starts. Within a line that substitution
    /// changed, columns count in the substituted text.
    pub column: usize,
}

/// Why a line could not be preprocessed, at a column of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub column: usize,
    pub message: String,
}

/// The preprocessor's state over the files of one configuration: definitions hold from where
/// they are made to the end, across includes, as in keepalived.
pub struct Preprocessor {
    config_id: String,
    definitions: Definitions,
    /// The multi-line definition being read: its name and its lines so far, `\n` after each
    /// one that was continued.
    pending: Option<(String, String)>,
    lines_read: usize,
    substitutions: usize,
}

impl Preprocessor {
    pub fn new(config_id: &ConfigId) -> Self {
        Self {
            config_id: config_id.as_str().to_string(),
            definitions: Definitions::new(config_id.as_str()),
            pending: None,
            lines_read: 0,
            substitutions: 0,
        }
    }

    /// Reads one line of a file in `dir`: the lines it amounts to are added to `out`.
    pub fn line(&mut self, raw: &str, dir: &Path, out: &mut Vec<Line>) -> Result<(), Problem> {
        if raw.trim_end_matches(['\r', '\n']).is_empty() {
            self.end_definition();
            return Ok(());
        }
        let line = decomment(raw);
        if line.text.is_empty() && !line.continued {
            return Ok(());
        }
        if let Some((_, value)) = &mut self.pending {
            value.push_str(&line.text);
            if line.continued {
                if !line.text.is_empty() {
                    value.push('\n');
                }
            } else {
                self.end_definition();
            }
            return Ok(());
        }
        let column = line.column;
        self.process(line.with_backslash(), column, dir, out, 0)
            .map_err(|message| Problem { column, message })
    }

    /// The end of a file ends a multi-line definition that its last line continued.
    pub fn end_of_file(&mut self) {
        self.end_definition();
    }

    fn end_definition(&mut self) {
        if let Some((name, value)) = self.pending.take() {
            if value.is_empty() {
                self.definitions.set(&name, "");
            } else {
                let lines = value.split('\n').map(str::to_string).collect();
                self.definitions.set_lines(&name, lines);
            }
        }
    }

    /// Steps 3 to 6 of the module's description for one line.
    fn process(
        &mut self,
        mut text: String,
        mut column: usize,
        dir: &Path,
        out: &mut Vec<Line>,
        depth: usize,
    ) -> Result<(), String> {
        if depth > MAX_DEPTH {
            return Err(format!(
                "definitions and sequences nest deeper than {MAX_DEPTH} levels: does a definition use itself?"
            ));
        }
        self.lines_read += 1;
        if self.lines_read > MAX_LINES {
            return Err(format!(
                "the configuration expands to more than {MAX_LINES} lines"
            ));
        }
        let mut following: Vec<String> = Vec::new();
        let mut emit = true;
        loop {
            if text.starts_with('@') {
                let Some(rest) = self.after_condition(&text) else {
                    return Ok(());
                };
                column += text[..text.len() - rest.len()].chars().count();
                text = rest.to_string();
            }
            if let Some((name, value, continued)) = definition(&text) {
                if continued {
                    self.pending = Some((name.to_string(), value));
                } else {
                    self.definitions.set(name, &value);
                }
                emit = false;
                break;
            }
            let substitute = |t: &str| Ok(self.definitions.substitute(t, dir)?.text);
            if let Some(sequence) = sequence::parse(&text, substitute) {
                let sequence = sequence?;
                for round in sequence.rounds {
                    for (name, value) in round {
                        self.definitions.set(&name, &value);
                    }
                    self.process(sequence.text.clone(), column, dir, out, depth + 1)?;
                }
                emit = false;
                break;
            }
            if text.starts_with('~') || !text.contains('$') {
                break;
            }
            let substituted = self.definitions.substitute(&text, dir)?;
            if substituted.count == 0 {
                break;
            }
            self.substitutions += substituted.count;
            if self.substitutions > MAX_SUBSTITUTIONS {
                return Err(format!(
                    "the configuration makes more than {MAX_SUBSTITUTIONS} substitutions"
                ));
            }
            following.splice(0..0, substituted.following);
            text = decomment(&substituted.text).with_backslash();
            if !(text.starts_with('@') || text.contains('$')) {
                break;
            }
        }
        if emit && !text.is_empty() {
            out.push(Line { text, column });
        }
        for line in following {
            self.process(line, column, dir, out, depth + 1)?;
        }
        Ok(())
    }

    /// For a line starting `@ID ` or `@^ID `: the line after the condition when this host
    /// keeps it. keepalived drops a condition with nothing after it, whatever the id.
    fn after_condition<'t>(&self, text: &'t str) -> Option<&'t str> {
        let rest = &text[1..];
        let (negated, rest) = match rest.strip_prefix('^') {
            Some(rest) => (true, rest),
            None => (false, rest),
        };
        let end = rest.find([' ', '\t'])?;
        let matches = rest[..end] == self.config_id;
        (matches != negated).then(|| rest[end..].trim_start_matches([' ', '\t']))
    }
}

/// `$NAME=VALUE` (no space before `=`): the name, the value (a continued value ends in `\n`)
/// and whether it continues on the next line.
fn definition(text: &str) -> Option<(&str, String, bool)> {
    let rest = text.strip_prefix('$')?;
    let equals = rest.find('=')?;
    let name = &rest[..equals];
    let mut bytes = name.bytes();
    let first = bytes.next()?;
    if !(first.is_ascii_alphabetic() || first == b'_')
        || !bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_')
    {
        return None;
    }
    let value = rest[equals + 1..].trim_start_matches([' ', '\t']);
    Some(match value.strip_suffix('\\') {
        Some(value) => {
            let value = value.trim_end_matches([' ', '\t']);
            let value = if value.is_empty() {
                String::new()
            } else {
                format!("{value}\n")
            };
            (name, value, true)
        }
        None => (name, value.to_string(), false),
    })
}
