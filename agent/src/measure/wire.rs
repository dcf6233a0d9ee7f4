//! The probe's datagrams: a request is the probe's sequence number (8 bytes, big-endian); the
//! answer is the same 8 bytes, then when the request reached the responder's socket and when the
//! responder sent the answer (CLOCK_MONOTONIC ns on the responder's host, 8 bytes each,
//! big-endian), then the responder's name (UTF-8). So the client sees which probe was answered,
//! which node holds the VIP, and how long the responder itself took (the two stamps' difference,
//! which needs no shared clock).

/// The UDP port `vipd echo` listens on and the benchmark uses.
pub const DEFAULT_PORT: u16 = 9000;

/// The longest name an answer carries; longer names are cut (at a character boundary).
pub const MAX_NAME: usize = 64;

/// An answer's bytes before the name: the sequence number and the two stamps.
const HEADER: usize = 24;

/// The longest answer: the sequence number, the stamps and a name.
pub const MAX_ANSWER: usize = HEADER + MAX_NAME;

/// An answer, parsed.
#[derive(Debug, PartialEq, Eq)]
pub struct Answer<'a> {
    pub seq: u64,
    /// The request reaching the responder's socket (the kernel's stamp), on its clock.
    pub arrived_ns: u64,
    /// The responder sending the answer, on its clock.
    pub answered_ns: u64,
    pub name: &'a [u8],
}

/// A probe's request for sequence number `seq`.
pub fn request(seq: u64) -> [u8; 8] {
    seq.to_be_bytes()
}

/// Writes into `out` the answer to `request` from the node called `name`, which `request`
/// reached at `arrived_ns` and which answers at `answered_ns`, and returns its length; `None`
/// for a datagram that is no probe (shorter than a sequence number).
pub fn answer(
    request: &[u8],
    arrived_ns: u64,
    answered_ns: u64,
    name: &str,
    out: &mut [u8; MAX_ANSWER],
) -> Option<usize> {
    let seq = request.get(..8)?;
    let name = truncated(name);
    out[..8].copy_from_slice(seq);
    out[8..16].copy_from_slice(&arrived_ns.to_be_bytes());
    out[16..HEADER].copy_from_slice(&answered_ns.to_be_bytes());
    out[HEADER..HEADER + name.len()].copy_from_slice(name.as_bytes());
    Some(HEADER + name.len())
}

/// An answer; `None` for a datagram that is no answer.
pub fn parse_answer(datagram: &[u8]) -> Option<Answer<'_>> {
    let word = |at: usize| -> Option<u64> {
        Some(u64::from_be_bytes(
            datagram.get(at..at + 8)?.try_into().ok()?,
        ))
    };
    let name = datagram.get(HEADER..)?;
    (!name.is_empty()).then_some(Answer {
        seq: word(0)?,
        arrived_ns: word(8)?,
        answered_ns: word(16)?,
        name,
    })
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
        let len = answer(&request(0x0102_0304_0506_0708), 7, 9, "node-a", &mut out).unwrap();
        assert_eq!(&out[..8], b"\x01\x02\x03\x04\x05\x06\x07\x08");
        assert_eq!(&out[8..24], b"\0\0\0\0\0\0\0\x07\0\0\0\0\0\0\0\x09");
        assert_eq!(&out[24..len], b"node-a");
        assert_eq!(
            parse_answer(&out[..len]),
            Some(Answer {
                seq: 0x0102_0304_0506_0708,
                arrived_ns: 7,
                answered_ns: 9,
                name: b"node-a",
            })
        );
    }

    #[test]
    fn short_datagrams_are_neither_requests_nor_answers() {
        let mut out = [0u8; MAX_ANSWER];
        assert_eq!(answer(b"1234567", 0, 0, "n", &mut out), None);
        assert_eq!(parse_answer(&[0; HEADER]), None, "an answer names someone");
        assert_eq!(parse_answer(b"123456789"), None);
    }

    #[test]
    fn long_names_are_cut_at_a_character_boundary() {
        let name = "é".repeat(40); // 80 bytes
        let cut = truncated(&name);
        assert!(cut.len() <= MAX_NAME && cut.len().is_multiple_of(2));
        let mut out = [0u8; MAX_ANSWER];
        assert_eq!(
            answer(&request(1), 0, 0, &name, &mut out),
            Some(HEADER + cut.len())
        );
    }
}
