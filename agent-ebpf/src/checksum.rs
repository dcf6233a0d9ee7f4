//! The Internet checksum (RFC 1071) over fixed-size buffers on the stack, in a form the verifier
//! accepts (constant trip counts).

/// Adds the big-endian 16-bit words of `bytes` (an even number of them) to `sum`.
#[inline(always)]
pub fn add_words<const N: usize>(mut sum: u32, bytes: &[u8; N]) -> u32 {
    let mut i = 0;
    while i + 1 < N {
        sum += u32::from(u16::from_be_bytes([bytes[i], bytes[i + 1]]));
        i += 2;
    }
    sum
}

/// Folds the carries of a one's complement sum and complements it: the value for the checksum
/// field.
#[inline(always)]
pub fn finish(mut sum: u32) -> u16 {
    sum = (sum & 0xffff) + (sum >> 16);
    sum = (sum & 0xffff) + (sum >> 16);
    !(sum as u16)
}
