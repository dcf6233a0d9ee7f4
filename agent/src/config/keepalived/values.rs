//! keepalived's value syntax: decimal seconds (`advert_int 0.005`), integers, addresses with
//! optional prefixes, and command lines.

use std::net::IpAddr;
use std::time::Duration;

use ipnet::IpNet;

/// Decimal seconds, exact to the nanosecond ("1", "0.5", "0.000100"); no sign, no exponent.
pub fn seconds(text: &str) -> Option<Duration> {
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    if (whole.is_empty() && fraction.is_empty())
        || !whole.bytes().all(|b| b.is_ascii_digit())
        || !fraction.bytes().all(|b| b.is_ascii_digit())
        || fraction.len() > 9
    {
        return None;
    }
    let secs: u64 = if whole.is_empty() {
        0
    } else {
        whole.parse().ok()?
    };
    let nanos: u32 = if fraction.is_empty() {
        0
    } else {
        format!("{fraction:0<9}").parse().ok()?
    };
    Some(Duration::new(secs, nanos))
}

/// A decimal integer with an optional sign.
pub fn integer(text: &str) -> Option<i64> {
    text.parse().ok()
}

/// An address with an optional prefix length; without one, the host prefix.
pub fn address_with_prefix(text: &str) -> Option<IpNet> {
    match text.split_once('/') {
        Some(_) => text.parse().ok(),
        None => text.parse::<IpAddr>().ok().map(IpNet::from),
    }
}

/// The argv of a command written as keepalived's words. keepalived runs commands without a
/// shell but splits each word as its parser does: at white space, with single and double quotes
/// and backslash escapes (`\n`, `\t`, `\r`, else the character itself); `#` is an ordinary
/// character there. `None` for an unclosed quote or no words at all.
pub fn command_words<'a>(words: impl IntoIterator<Item = &'a str>) -> Option<Vec<String>> {
    let mut argv = Vec::new();
    for word in words {
        argv.extend(split_command(word)?);
    }
    (!argv.is_empty()).then_some(argv)
}

fn split_command(text: &str) -> Option<Vec<String>> {
    let mut argv = Vec::new();
    let mut chars = text.chars().peekable();
    loop {
        while chars.next_if(|c| c.is_whitespace()).is_some() {}
        if chars.peek().is_none() {
            return Some(argv);
        }
        let mut arg = String::new();
        let mut quote = None;
        while let Some(c) = chars.next() {
            match (c, quote) {
                ('\\', _) => arg.push(match chars.next()? {
                    'n' => '\n',
                    't' => '\t',
                    'r' => '\r',
                    other => other,
                }),
                (c, Some(q)) if c == q => quote = None,
                (c, Some(_)) => arg.push(c),
                ('"' | '\'', None) => quote = Some(c),
                (c, None) if c.is_whitespace() => break,
                (c, None) => arg.push(c),
            }
        }
        if quote.is_some() {
            return None;
        }
        argv.push(arg);
    }
}

/// The monitor-port check that OpenShift's ipfailover writes as a bash redirection,
/// `</dev/tcp/HOST/PORT`: the host and port, when the command is exactly that.
pub fn dev_tcp_target(command: &str) -> Option<(&str, &str)> {
    let rest = command.trim().strip_prefix('<')?.trim_start();
    let rest = rest.strip_prefix("/dev/tcp/")?;
    let (host, port) = rest.rsplit_once('/')?;
    (!host.is_empty() && !host.contains(char::is_whitespace)).then_some((host, port))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seconds_are_exact_decimals() {
        assert_eq!(seconds("1"), Some(Duration::from_secs(1)));
        assert_eq!(seconds("0.01"), Some(Duration::from_millis(10)));
        assert_eq!(seconds("0.0005"), Some(Duration::from_micros(500)));
        assert_eq!(seconds(".5"), Some(Duration::from_millis(500)));
        assert_eq!(seconds("2."), Some(Duration::from_secs(2)));
        for bad in ["", ".", "-1", "1e3", "0.0000000001", "1s", "one"] {
            assert_eq!(seconds(bad), None, "{bad}");
        }
    }

    #[test]
    fn addresses_take_host_prefix_by_default() {
        assert_eq!(
            address_with_prefix("10.0.0.1").unwrap().to_string(),
            "10.0.0.1/32"
        );
        assert_eq!(address_with_prefix("10.0.0.1/24").unwrap().prefix_len(), 24);
        assert_eq!(address_with_prefix("fd00::1").unwrap().prefix_len(), 128);
        assert!(address_with_prefix("10.0.0.1/33").is_none());
        assert!(address_with_prefix("eth0").is_none());
    }

    #[test]
    fn commands_split_like_a_shell() {
        assert_eq!(
            command_words(["/usr/bin/killall -0 'ha proxy'"]).unwrap(),
            ["/usr/bin/killall", "-0", "ha proxy"]
        );
        assert_eq!(
            command_words(["/bin/a.sh", "x"]).unwrap(),
            ["/bin/a.sh", "x"]
        );
        assert!(command_words(["'open"]).is_none());
        assert!(command_words([""]).is_none());
        assert_eq!(
            command_words([r#"a "b c"d \x #e"#]).unwrap(),
            ["a", "b cd", "x", "#e"]
        );
    }

    #[test]
    fn dev_tcp_redirections_are_recognised() {
        assert_eq!(
            dev_tcp_target("</dev/tcp/10.0.0.5/443"),
            Some(("10.0.0.5", "443"))
        );
        assert_eq!(
            dev_tcp_target("< /dev/tcp/127.0.0.1/0"),
            Some(("127.0.0.1", "0"))
        );
        assert_eq!(dev_tcp_target("/dev/tcp/10.0.0.5/443"), None);
        assert_eq!(dev_tcp_target("/usr/bin/check"), None);
    }
}
