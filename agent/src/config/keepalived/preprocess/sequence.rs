//! keepalived's line replication: `~SEQ(VAR, START, STEP, END) TEXT` reads TEXT once for each
//! value of VAR (`~SEQx` writes the values in hexadecimal, for IPv6 addresses), and
//! `~LST(VAR, V1, V2...)` or `~LST({VAR1, VAR2}, {V1, V2}, ...)` once for each listed value or
//! set of values. This module parses the specification into its rounds, each a set of
//! definitions to make before TEXT is read; the rules are those of `add_seq` and `add_lst` in
//! keepalived's lib/parser.c.

/// More rounds than this in one sequence are refused rather than expanded.
const MAX_ROUNDS: usize = 65_536;

/// A parsed `~SEQ` or `~LST` line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sequence {
    /// Each round's definitions, `(name, value)`, in order.
    pub rounds: Vec<Vec<(String, String)>>,
    /// What each round reads.
    pub text: String,
}

/// The sequence a line starting `~SEQ` or `~LST` specifies (`None` for other lines);
/// `substitute` expands definitions in `~SEQ`'s numbers, as keepalived does.
pub fn parse(
    line: &str,
    substitute: impl Fn(&str) -> Result<String, String>,
) -> Option<Result<Sequence, String>> {
    if line.starts_with("~SEQ") {
        Some(seq(line, substitute))
    } else if line.starts_with("~LST") {
        Some(lst(line))
    } else {
        None
    }
}

/// Parses a `~SEQ` line.
fn seq(
    line: &str,
    substitute: impl Fn(&str) -> Result<String, String>,
) -> Result<Sequence, String> {
    let invalid =
        || format!("invalid ~SEQ specification `{line}`: write ~SEQ(VAR, START, STEP, END) TEXT");
    let mut rest = &line["~SEQ".len()..];
    let hex = rest.starts_with('x');
    if hex {
        rest = &rest[1..];
    }
    rest = rest
        .trim_start_matches([' ', '\t'])
        .strip_prefix('(')
        .ok_or_else(invalid)?;
    rest = rest.trim_start_matches([' ', '\t']);
    let var_len = rest.find([' ', '\t', ',', ')']).unwrap_or(rest.len());
    let var = &rest[..var_len];
    rest = rest[var_len..].trim_start_matches([' ', '\t']);
    if var.is_empty() || !rest.starts_with(',') {
        return Err(invalid());
    }
    rest = rest[1..].trim_start_matches([' ', '\t']);
    let close = rest.find(')').ok_or_else(invalid)?;
    let numbers = substitute(&rest[..=close])?;
    let text = rest[close + 1..]
        .trim_start_matches([' ', '\t'])
        .to_string();
    let (start, step, end) = seq_numbers(&numbers).ok_or_else(invalid)?;
    if step == 0 || (start < end && step < 0) || (start > end && step > 0) {
        return Err(format!(
            "invalid ~SEQ values in `{line}`: STEP must lead from START to END"
        ));
    }
    if hex && (start < 0 || end < 0) {
        return Err(format!("~SEQx takes positive numbers only: `{line}`"));
    }
    let count = (end.abs_diff(start) / step.unsigned_abs()).saturating_add(1);
    if count > MAX_ROUNDS as u64 {
        return Err(format!(
            "`{line}` makes {count} rounds, more than {MAX_ROUNDS}"
        ));
    }
    let rounds = std::iter::successors(Some(start), |value| value.checked_add(step))
        .take(count as usize)
        .map(|value| {
            let text = if hex {
                format!("{value:x}")
            } else {
                value.to_string()
            };
            vec![(var.to_string(), text)]
        })
        .collect();
    Ok(Sequence { rounds, text })
}

/// `(start, step, end)` from `END)`, `START, END)` or `START, STEP, END)`, with keepalived's
/// defaults for what is left out.
fn seq_numbers(text: &str) -> Option<(i64, i64, i64)> {
    let mut numbers = Vec::new();
    let mut rest = text;
    loop {
        let (value, used) = strtol(rest);
        numbers.push(value);
        rest = rest[used..].trim_start_matches([' ', '\t']);
        match rest.as_bytes().first() {
            Some(b')') if numbers.len() <= 3 => break,
            Some(b',') if numbers.len() < 3 => rest = &rest[1..],
            _ => return None,
        }
    }
    Some(match numbers[..] {
        [end] => (
            if end < 0 { -1 } else { 1 },
            if end < 1 { -1 } else { 1 },
            end,
        ),
        [start, end] => (start, if start <= end { 1 } else { -1 }, end),
        [start, step, end] => (start, step, end),
        _ => return None,
    })
}

/// C's `strtol(text, &end, 0)`: the number at the start of `text` (decimal, `0x` hexadecimal or
/// `0` octal) and how many bytes it took; no number is 0 and none taken.
fn strtol(text: &str) -> (i64, usize) {
    let trimmed = text.trim_start();
    let mut at = text.len() - trimmed.len();
    let bytes = text.as_bytes();
    let negative = matches!(bytes.get(at), Some(b'-'));
    if matches!(bytes.get(at), Some(b'-' | b'+')) {
        at += 1;
    }
    let hex_digit_follows = bytes.get(at + 2).is_some_and(u8::is_ascii_hexdigit);
    let (radix, digits_at) = match (bytes.get(at), bytes.get(at + 1)) {
        (Some(b'0'), Some(b'x' | b'X')) if hex_digit_follows => (16, at + 2),
        (Some(b'0'), _) => (8, at),
        _ => (10, at),
    };
    let digits = text[digits_at..]
        .bytes()
        .take_while(|b| (*b as char).is_digit(radix))
        .count();
    if digits == 0 {
        return (0, 0);
    }
    let value =
        i64::from_str_radix(&text[digits_at..digits_at + digits], radix).unwrap_or(i64::MAX);
    (if negative { -value } else { value }, digits_at + digits)
}

/// Parses a `~LST` line.
fn lst(line: &str) -> Result<Sequence, String> {
    let invalid = || {
        format!("invalid ~LST specification `{line}`: write ~LST(VAR, V1, V2...) or ~LST({{VAR1, VAR2}}, {{V1, V2}}...) TEXT")
    };
    let mut cursor = Cursor(&line["~LST".len()..]);
    cursor.blanks();
    if !cursor.eat('(') {
        return Err(invalid());
    }
    cursor.blanks();
    let vars = cursor.group(" \t,}", false).ok_or_else(invalid)?;
    if !cursor.eat(',') {
        return Err(invalid());
    }
    cursor.blanks();
    let mut rounds = Vec::new();
    loop {
        let values = cursor.group(" \t,})", true).ok_or_else(invalid)?;
        if values.len() > vars.len() {
            return Err(format!(
                "~LST has more values in a set than variables: `{line}`"
            ));
        }
        let round: Vec<(String, String)> = vars
            .iter()
            .enumerate()
            .map(|(i, var)| (var.to_string(), values.get(i).unwrap_or(&"").to_string()))
            .collect();
        rounds.push(round);
        if rounds.len() > MAX_ROUNDS {
            return Err(format!("`{line}` makes more than {MAX_ROUNDS} rounds"));
        }
        if cursor.eat(')') {
            break;
        }
        if !cursor.eat(',') {
            return Err(invalid());
        }
        cursor.blanks();
    }
    cursor.blanks();
    Ok(Sequence {
        rounds,
        text: cursor.0.to_string(),
    })
}

/// A position in a `~LST` specification.
struct Cursor<'t>(&'t str);

impl<'t> Cursor<'t> {
    fn blanks(&mut self) {
        self.0 = self.0.trim_start_matches([' ', '\t']);
    }

    fn eat(&mut self, c: char) -> bool {
        match self.0.strip_prefix(c) {
            Some(rest) => {
                self.0 = rest;
                true
            }
            None => false,
        }
    }

    /// One item, or `{item, item...}`, each item ending at one of `stops`; the blanks after the
    /// group are skipped. A lone item also ends at `)` when `values`, as keepalived's values do.
    fn group(&mut self, stops: &str, values: bool) -> Option<Vec<&'t str>> {
        let braced = self.eat('{');
        self.blanks();
        let mut items = Vec::new();
        loop {
            let len = self.0.find(|c| stops.contains(c)).unwrap_or(self.0.len());
            items.push(&self.0[..len]);
            self.0 = &self.0[len..];
            self.blanks();
            if braced {
                if self.eat('}') {
                    self.blanks();
                    return Some(items);
                }
                if !self.eat(',') {
                    return None;
                }
                self.blanks();
            } else {
                let ends = self.0.starts_with(',') || values && self.0.starts_with(')');
                return ends.then_some(items);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(sequence: &Sequence) -> Vec<String> {
        sequence
            .rounds
            .iter()
            .map(|round| {
                round
                    .iter()
                    .map(|(name, value)| format!("{name}={value}"))
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .collect()
    }

    fn seq_of(line: &str) -> Vec<String> {
        values(&seq(line, |t| Ok(t.to_string())).unwrap())
    }

    #[test]
    fn seq_counts_from_start_by_step_to_end() {
        assert_eq!(
            seq_of("~SEQ(SUBNET, 0, 3) x"),
            ["SUBNET=0", "SUBNET=1", "SUBNET=2", "SUBNET=3"]
        );
        assert_eq!(seq_of("~SEQ(I, 10, -5, 0) x"), ["I=10", "I=5", "I=0"]);
        assert_eq!(seq_of("~SEQ(I, 1, 2, 6) x"), ["I=1", "I=3", "I=5"]);
        assert_eq!(seq_of("~SEQ(I, 3, 1) x"), ["I=3", "I=2", "I=1"]);
        // One number: from 1 (or -1) towards it.
        assert_eq!(seq_of("~SEQ(I, 3) x"), ["I=1", "I=2", "I=3"]);
        assert_eq!(seq_of("~SEQ(I, -2) x"), ["I=-1", "I=-2"]);
    }

    #[test]
    fn seqx_writes_hexadecimal_and_reads_c_numbers() {
        // keepalived.conf(5): both spellings give 90, a0, b0, c0.
        let decimal = seq("~SEQx(SUBNET, 144, 16, 192) ip fe80::20:${SUBNET}:1", |t| {
            Ok(t.to_string())
        })
        .unwrap();
        assert_eq!(
            values(&decimal),
            ["SUBNET=90", "SUBNET=a0", "SUBNET=b0", "SUBNET=c0"]
        );
        assert_eq!(decimal.text, "ip fe80::20:${SUBNET}:1");
        assert_eq!(
            seq_of("~SEQx(S, 0x90, 0x10, 0xc0) x"),
            ["S=90", "S=a0", "S=b0", "S=c0"]
        );
        assert_eq!(seq_of("~SEQ(S, 010, 011) x"), ["S=8", "S=9"]);
        assert!(seq("~SEQx(S, -1, 1) x", |t| Ok(t.to_string())).is_err());
    }

    #[test]
    fn seq_numbers_may_be_definitions() {
        let sequence = seq("~SEQ(I, 1, $LAST) x", |t| Ok(t.replace("$LAST", "2"))).unwrap();
        assert_eq!(values(&sequence), ["I=1", "I=2"]);
    }

    #[test]
    fn a_seq_near_the_ends_of_the_numbers_does_not_overflow() {
        let far =
            seq_of("~SEQ(I, -9223372036854775807, 9223372036854775807, 9223372036854775807) x");
        assert_eq!(
            far,
            ["I=-9223372036854775807", "I=0", "I=9223372036854775807"]
        );
    }

    #[test]
    fn bad_seqs_are_refused() {
        for line in [
            "~SEQ I 1 2",
            "~SEQ(I) x",
            "~SEQ(, 1, 2) x",
            "~SEQ(I, 1, 0, 5) x",
            "~SEQ(I, 1, -1, 5) x",
            "~SEQ(I, 1, 2, 3, 4) x",
            "~SEQ(I, 1, 2",
        ] {
            assert!(seq(line, |t| Ok(t.to_string())).is_err(), "{line}");
        }
        assert!(seq("~SEQ(I, 0, 1000000) x", |t| Ok(t.to_string())).is_err());
    }

    #[test]
    fn lst_sets_each_value_or_set_of_values_in_turn() {
        let one = lst("~LST(IP, 1, 2, 3) 192.169.${IP}.1").unwrap();
        assert_eq!(values(&one), ["IP=1", "IP=2", "IP=3"]);
        assert_eq!(one.text, "192.169.${IP}.1");
        // keepalived.conf(5)'s example.
        let sets = lst("~LST({IP, IP1}, {10,1},{20,4},{5,6},{12,8}) 192.168.${IP}.${IP1}").unwrap();
        assert_eq!(
            values(&sets),
            ["IP=10 IP1=1", "IP=20 IP1=4", "IP=5 IP1=6", "IP=12 IP1=8"]
        );
        // A value missing from a set is empty.
        assert_eq!(
            values(&lst("~LST({A, B}, {x}, y) t").unwrap()),
            ["A=x B=", "A=y B="]
        );
    }

    #[test]
    fn bad_lsts_are_refused() {
        for line in [
            "~LST IP 1",
            "~LST(IP) x",
            "~LST(IP, {1, 2}) x",
            "~LST(IP, 1",
        ] {
            assert!(lst(line).is_err(), "{line}");
        }
    }
}
