//! keepalived.conf's structure: statements (a keyword, its arguments, and maybe a `{ }` block of
//! statements) built from the tokens of [`super::source`].
//!
//! keepalived reads a statement per line; `{` and `}` end a line's statement, so value blocks
//! fit on one line (`virtual_ipaddress { 10.0.0.1/24 }`). People also write keyword blocks on
//! one line (`vrrp_instance VI_1 { state MASTER interface eth0 }`), of which keepalived 2.2
//! reads only the first keyword; vipd reads them all: such a line is one statement with many
//! arguments until [`split_line`] cuts it at the keywords of the enclosing block (and the
//! importer warns about the difference).

use super::source::{Origin, Sources, Token, TokenKind};
use crate::config::diagnostic::Diagnostic;

/// How deep blocks may nest. keepalived's deepest block is four levels down
/// (`virtual_server { real_server { HTTP_GET { url { } } } }`); the parser recurses once per
/// level, so without a bound a file of nested `{` would overflow the stack.
pub const MAX_BLOCK_DEPTH: usize = 8;

/// A word with where it was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Word {
    pub text: String,
    pub origin: Origin,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement {
    pub keyword: Word,
    pub args: Vec<Word>,
    pub block: Option<Vec<Statement>>,
}

impl Statement {
    pub fn name(&self) -> &str {
        &self.keyword.text
    }

    /// The keyword followed by its arguments: the entries of value blocks
    /// (`virtual_ipaddress { ... }`) are lines of words in which the first is not a keyword.
    pub fn words(&self) -> impl Iterator<Item = &Word> {
        std::iter::once(&self.keyword).chain(&self.args)
    }
}

/// How many arguments a keyword takes, so that one-line blocks can be cut into statements.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Arity {
    /// Exactly this many.
    Fixed(usize),
    /// One argument if the next word is not a keyword of the block.
    Optional,
    /// Everything to the end of the line (commands, value lists).
    Rest,
}

/// The arity of `keyword` in a block's table of keywords.
pub fn arity_in(table: &[(&str, Arity)], keyword: &str) -> Option<Arity> {
    table
        .iter()
        .find(|(known, _)| *known == keyword)
        .map(|&(_, arity)| arity)
}

/// Builds the statement tree of the whole configuration.
pub fn parse(sources: &Sources, tokens: &[Token]) -> Result<Vec<Statement>, Vec<Diagnostic>> {
    let mut parser = Parser {
        sources,
        tokens,
        next: 0,
        depth: 0,
        errors: Vec::new(),
    };
    let statements = parser.block(None);
    if parser.errors.is_empty() {
        Ok(statements)
    } else {
        Err(parser.errors)
    }
}

struct Parser<'a> {
    sources: &'a Sources,
    tokens: &'a [Token],
    next: usize,
    /// How many blocks are open around the token at `next`.
    depth: usize,
    errors: Vec<Diagnostic>,
}

impl Parser<'_> {
    /// The block opened by the `{` at `opened_at`, or `None` (with an error) when it would
    /// nest deeper than [`MAX_BLOCK_DEPTH`]; the tokens up to its matching `}` are then skipped
    /// without recursing, so that parsing carries on after it.
    fn nested(&mut self, opened_at: Origin) -> Option<Vec<Statement>> {
        if self.depth >= MAX_BLOCK_DEPTH {
            self.errors.push(self.sources.diagnostic(
                opened_at,
                format!(
                    "blocks nest deeper than {MAX_BLOCK_DEPTH} levels here (keepalived's deepest is 4): a `}}` is missing or the file is not a keepalived.conf"
                ),
            ));
            self.skip_block();
            return None;
        }
        self.depth += 1;
        let block = self.block(Some(opened_at));
        self.depth -= 1;
        Some(block)
    }

    /// Moves past the `}` that closes the block whose `{` was just read (or to the end).
    fn skip_block(&mut self) {
        let mut open = 1usize;
        while let Some(token) = self.tokens.get(self.next) {
            self.next += 1;
            match token.kind {
                TokenKind::Open => open += 1,
                TokenKind::Close => {
                    open -= 1;
                    if open == 0 {
                        return;
                    }
                }
                _ => {}
            }
        }
    }

    /// Statements until the `}` matching `opened_at` (or the end of input at the top level).
    fn block(&mut self, opened_at: Option<Origin>) -> Vec<Statement> {
        let mut statements: Vec<Statement> = Vec::new();
        // A `{` at the start of a line opens the block of the statement on the line before.
        let mut awaiting_block = false;
        while let Some(token) = self.tokens.get(self.next) {
            self.next += 1;
            match &token.kind {
                TokenKind::EndOfLine => {}
                TokenKind::Close => {
                    if opened_at.is_some() {
                        return statements;
                    }
                    self.errors.push(self.sources.diagnostic(
                        token.origin,
                        "unexpected `}`: no block is open here (one `}` too many?)",
                    ));
                    awaiting_block = false;
                }
                TokenKind::Open => {
                    match statements.last_mut().filter(|_| awaiting_block) {
                        Some(statement) => {
                            statement.block = self.nested(token.origin);
                        }
                        None => {
                            self.errors.push(self.sources.diagnostic(
                                token.origin,
                                "unexpected `{`: a block follows a keyword such as `vrrp_instance NAME`",
                            ));
                            // Read the stray block so that its `}` does not close the enclosing one.
                            self.nested(token.origin);
                        }
                    }
                    awaiting_block = false;
                }
                TokenKind::Word(text) => {
                    let statement = self.statement(text, token.origin);
                    awaiting_block = statement.block.is_none();
                    statements.push(statement);
                }
            }
        }
        if let Some(origin) = opened_at {
            self.errors.push(
                self.sources
                    .diagnostic(origin, "this `{` is never closed: add the missing `}`"),
            );
        }
        statements
    }

    fn statement(&mut self, keyword: &str, origin: Origin) -> Statement {
        let mut statement = Statement {
            keyword: Word {
                text: keyword.to_string(),
                origin,
            },
            args: Vec::new(),
            block: None,
        };
        while let Some(token) = self.tokens.get(self.next) {
            match &token.kind {
                TokenKind::Word(text) => {
                    statement.args.push(Word {
                        text: text.clone(),
                        origin: token.origin,
                    });
                    self.next += 1;
                }
                TokenKind::Open => {
                    self.next += 1;
                    statement.block = self.nested(token.origin);
                    break;
                }
                TokenKind::Close | TokenKind::EndOfLine => break,
            }
        }
        statement
    }
}

/// Cuts statements written on one line (`state MASTER interface eth0`) into one statement per
/// keyword. `arity` knows the keywords of the block; a statement whose keyword it does not
/// know is left alone for the caller to report.
pub fn split_line(
    statements: &[Statement],
    arity: impl Fn(&str) -> Option<Arity>,
) -> Vec<Statement> {
    let mut out = Vec::new();
    for statement in statements {
        let mut current = Statement {
            keyword: statement.keyword.clone(),
            args: Vec::new(),
            block: None,
        };
        let mut rest = statement.args.iter().peekable();
        loop {
            let wanted = match arity(current.name()) {
                Some(Arity::Fixed(n)) => n,
                Some(Arity::Optional) => match rest.peek() {
                    Some(next) if arity(&next.text).is_none() => 1,
                    _ => 0,
                },
                Some(Arity::Rest) | None => usize::MAX,
            };
            while current.args.len() < wanted {
                match rest.next() {
                    Some(word) => current.args.push(word.clone()),
                    None => break,
                }
            }
            match rest.peek() {
                Some(next) if arity(&next.text).is_some() => {
                    let keyword = rest.next().cloned().expect("peeked");
                    out.push(std::mem::replace(
                        &mut current,
                        Statement {
                            keyword,
                            args: Vec::new(),
                            block: None,
                        },
                    ));
                }
                Some(_) => {
                    // More arguments than the keyword takes: keep them for the caller to report.
                    current.args.extend(rest.by_ref().cloned());
                }
                None => break,
            }
        }
        current.block = statement.block.clone();
        out.push(current);
    }
    out
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::config::keepalived::preprocess::ConfigId;
    use crate::config::keepalived::source::{read_str, Disk};

    fn tree(text: &str) -> Result<Vec<Statement>, Vec<Diagnostic>> {
        let (sources, tokens) =
            read_str(Path::new("k.conf"), text, &Disk, &ConfigId::new("test")).unwrap();
        parse(&sources, &tokens)
    }

    fn shape(statements: &[Statement]) -> String {
        statements
            .iter()
            .map(|s| {
                let mut text = s
                    .words()
                    .map(|w| w.text.as_str())
                    .collect::<Vec<_>>()
                    .join(" ");
                if let Some(block) = &s.block {
                    text.push_str(&format!(" {{{}}}", shape(block)));
                }
                text
            })
            .collect::<Vec<_>>()
            .join("; ")
    }

    #[test]
    fn blocks_nest_across_lines_and_on_one_line() {
        let text = "global_defs {\n router_id a\n}\nvrrp_instance VI_1\n{\n virtual_ipaddress { 10.0.0.1/24 }\n}\n";
        assert_eq!(
            shape(&tree(text).unwrap()),
            "global_defs {router_id a}; vrrp_instance VI_1 {virtual_ipaddress {10.0.0.1/24}}"
        );
    }

    #[test]
    fn unbalanced_braces_are_errors_with_their_line() {
        let errors = tree("vrrp_instance VI_1 {\n state MASTER\n").unwrap_err();
        assert_eq!(errors[0].location.position.line, 1);
        assert!(
            errors[0].message.contains("never closed"),
            "{}",
            errors[0].message
        );
        let errors = tree("a\n}\n").unwrap_err();
        assert_eq!(errors[0].location.position.line, 2);
    }

    #[test]
    fn one_line_statements_split_at_keywords() {
        let statements =
            tree("x { state MASTER interface eth0 use_vmac nopreempt notify \"/a b\" }").unwrap();
        let inner = statements[0].block.as_ref().unwrap();
        let arity = |k: &str| match k {
            "state" | "interface" | "notify" => Some(Arity::Fixed(1)),
            "use_vmac" => Some(Arity::Optional),
            "nopreempt" => Some(Arity::Fixed(0)),
            _ => None,
        };
        assert_eq!(
            shape(&split_line(inner, arity)),
            "state MASTER; interface eth0; use_vmac; nopreempt; notify /a b"
        );
        let extra = tree("x { priority 1 2 }").unwrap();
        let split = split_line(extra[0].block.as_ref().unwrap(), |_| Some(Arity::Fixed(1)));
        assert_eq!(shape(&split), "priority 1; 2");
        let unknown = split_line(extra[0].block.as_ref().unwrap(), |k| {
            (k == "state").then_some(Arity::Fixed(1))
        });
        assert_eq!(shape(&unknown), "priority 1 2");
    }
}
