//! The probe's datagrams: a request is the probe's sequence number (8 bytes, big-endian); the
//! answer is the same 8 bytes followed by the responder's name (UTF-8), so the client sees both
//! which probe was answered and which node holds the VIP.

/// The UDP port `vipd echo` listens on and the benchmark uses.
pub const DEFAULT_PORT: u16 = 9000;

/// The longest name an answer carries; longer names are cut (at a character boundary).
pub const MAX_NAME: usize = 64;

/// The longest answer: the sequence number and a name.
pub const MAX_ANSWER: usize = 8 + MAX_NAME;

/// A probe's request for sequence number `seq`.
pub fn request(seq: u64) -> [u8; 8] {
    seq.to_be_bytes()
}

/// Writes into `out` the answer to `request` from the node called `name` and returns its length;
/// `None` for a datagram that is no probe (shorter than a sequence number).
pub fn answer(request: &[u8], name: &str, out: &mut [u8; MAX_ANSWER]) -> Option<usize> {
    let seq = request.get(..8)?;
    let name = truncated(name);
    out[..8].copy_from_slice(seq);
    out[8..8 + name.len()].copy_from_slice(name.as_bytes());
    Some(8 + name.len())
}

/// An answer's sequence number and responder name; `None` for a datagram that is no answer.
pub fn parse_answer(datagram: &[u8]) -> Option<(u64, &[u8])> {
    let seq = u64::from_be_bytes(datagram.get(..8)?.try_into().ok()?);
    let name = &datagram[8..];
    (!name.is_empty()).then_some((seq, name))
}

/// `name` cut to [`MAX_NAME`] bytes without splitting a character.
pub fn truncated(name: &str) -> &str {
    let mut end = name.len().min(MAX_NAME);
    while !name.is_char_boundary(end) {
        end -= 1;
    }
    &name[..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_answer_carries_the_sequence_and_the_name() {
        let mut out = [0u8; MAX_ANSWER];
        let len = answer(&request(0x0102_0304_0506_0708), "node-a", &mut out).unwrap();
        assert_eq!(&out[..len], b"\x01\x02\x03\x04\x05\x06\x07\x08node-a");
        assert_eq!(
            parse_answer(&out[..len]),
            Some((0x0102_0304_0506_0708, &b"node-a"[..]))
        );
    }

    #[test]
    fn short_datagrams_are_neither_requests_nor_answers() {
        let mut out = [0u8; MAX_ANSWER];
        assert_eq!(answer(b"1234567", "n", &mut out), None);
        assert_eq!(parse_answer(b"12345678"), None, "an answer names someone");
        assert_eq!(parse_answer(b"123"), None);
    }

    #[test]
    fn long_names_are_cut_at_a_character_boundary() {
        let name = "é".repeat(40); // 80 bytes
        let cut = truncated(&name);
        assert!(cut.len() <= MAX_NAME && cut.len().is_multiple_of(2));
        let mut out = [0u8; MAX_ANSWER];
        assert_eq!(answer(&request(1), &name, &mut out), Some(8 + cut.len()));
    }
}
