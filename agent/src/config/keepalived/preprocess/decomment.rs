//! keepalived's first pass over every line it reads (`decomment` in lib/parser.c): the comment
//! goes, `\#` and `\!` outside quotes become the characters themselves, and the white space at
//! both ends goes. It runs again after each substitution, so a `#` that a definition brings in
//! starts a comment there too, as it does in keepalived.

/// A line after the comment pass.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decommented {
    pub text: String,
    /// The 1-based column of the line where `text` starts (the indentation skipped).
    pub column: usize,
    /// The line ended in `\`: a definition continues on the next line. keepalived sees the `\`
    /// even when it ends a comment, and so does this.
    pub continued: bool,
}

impl Decommented {
    /// The text as keepalived keeps it on a line that does not define anything: with its `\\`.
    pub fn with_backslash(self) -> String {
        let mut text = self.text;
        if self.continued {
            text.push('\\');
        }
        text
    }
}

/// `line` without its comment and outer white space; a trailing `\` is dropped from `text` and
/// reported in [`Decommented::continued`].
pub fn decomment(line: &str) -> Decommented {
    let indent = line.len() - line.trim_start_matches([' ', '\t']).len();
    let column = line[..indent].chars().count() + 1;
    let chars: Vec<char> = line[indent..].chars().collect();
    let mut text = String::new();
    let mut quoted = false;
    let mut in_comment = false;
    let mut continued = false;
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            '"' if !in_comment => quoted = !quoted,
            '\\' => match chars.get(i + 1) {
                None => {
                    continued = true;
                    break;
                }
                Some(&next) => {
                    if !in_comment {
                        if !quoted && (next == '#' || next == '!') {
                            text.push(next);
                        } else {
                            text.push(c);
                            text.push(next);
                        }
                    }
                    i += 2;
                    continue;
                }
            },
            '!' | '#' if !quoted => in_comment = true,
            _ => {}
        }
        if !in_comment {
            text.push(c);
        }
        i += 1;
    }
    let kept = text.trim_end_matches([' ', '\t']).len();
    text.truncate(kept);
    Decommented {
        text,
        column,
        continued,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(line: &str) -> String {
        decomment(line).text
    }

    #[test]
    fn comments_go_outside_quotes_only() {
        assert_eq!(text("  priority 100 # main"), "priority 100");
        assert_eq!(text("! a comment line"), "");
        assert_eq!(
            text(r#"script "echo '#1' ! x" ! y"#),
            r#"script "echo '#1' ! x""#
        );
    }

    #[test]
    fn escaped_comment_characters_are_kept_unescaped_outside_quotes() {
        assert_eq!(text(r"auth_pass a\#b\!c#d"), "auth_pass a#b!c");
        assert_eq!(text(r#""a\#b""#), r#""a\#b""#);
        assert_eq!(text(r"a\tb"), r"a\tb");
    }

    #[test]
    fn a_trailing_backslash_continues_even_after_a_comment() {
        let line = decomment("\t$A=one \\");
        assert_eq!(
            (line.text.as_str(), line.column, line.continued),
            ("$A=one", 2, true)
        );
        assert!(decomment("x # note \\").continued);
        assert!(!decomment("x \\y").continued);
    }
}
