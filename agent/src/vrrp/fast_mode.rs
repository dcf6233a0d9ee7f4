//! vipd's fast mode: VRRPv3 advertisement intervals below 10 ms (down to 50 us), and exactly
//! what a fast advert looks like on the wire and to a standard peer. This is the reference
//! for users mixing vipd fast mode with keepalived or other standard VRRPv3 routers.
//!
//! # On the wire
//!
//! VRRPv3 carries the interval in a 16-bit word: 4 reserved bits, then the 12-bit
//! Max Adver Int in centiseconds (RFC 9568 section 5.2.7), so 10 ms is the shortest a standard
//! advert can say. A fast-mode advert sets the top reserved bit (mask `0x8000` of the word)
//! and then the same 12 bits count **10 microsecond** units: 50 us to 40.95 ms.
//! Everything else (addresses, checksum, priority) is ordinary VRRPv3.
//!
//! ```text
//!  word = 1 0 0 0 | interval / 10 us (12 bits)      fast mode, e.g. 200 us -> 0x8014
//!  word = 0 0 0 0 | interval / 10 ms (12 bits)      standard,  e.g. 1 s    -> 0x0064
//! ```
//!
//! # What a standard peer sees
//!
//! RFC 9568 says the reserved bits MUST be ignored on receipt, and keepalived does exactly
//! that: `keepalived/vrrp/vrrp.c` reads the interval as
//! `(ntohs(hd->v3.adver_int) & 0x0FFF) * TIMER_CENTI_HZ` (in both its packet check and its
//! backup receive path), so the flag is masked away and the 12 bits are taken as centiseconds.
//! A standard peer therefore reads a fast advert's interval as **1000 times** the real one
//! (200 us reads as 200 ms). Consequences in a mixed VRID:
//!
//! - A keepalived backup behind a vipd fast master learns the 1000x interval and takes over
//!   only after about 3x that (e.g. ~600 ms for a 200 us master): safe, just slow. It never
//!   takes over falsely, because the real adverts arrive far more often than it expects.
//! - A keepalived master in a vipd fast group sends standard adverts; a fast vipd backup reads
//!   them (flag clear) in centiseconds, learns the real interval and detects its loss at the
//!   standard speed.
//!
//! # What a vipd router does
//!
//! A vipd router honours the 10 us units only if it is itself configured in fast mode;
//! otherwise it ignores the flag and reads centiseconds, exactly like a standard peer. So fast
//! detection happens only between vipd routers configured alike, and a mistake in one router's
//! configuration can only make detection slower, never faster.
//!
//! The learned Master_Adver_Interval is clamped from below, so a broken or hostile peer cannot
//! collapse our timers into a takeover storm: in fast mode the floor is the router's own
//! configured interval; in standard mode it is 10 ms, the wire minimum. A Max Adver Int of 0
//! is dropped as invalid ([`crate::vrrp::validate::DropReason::ZeroMaxAdverInt`]).
//!
//! Fast mode is VRRPv3 only: VRRPv2's interval is a whole number of seconds in a byte of its own.

use std::time::Duration;

use super::wire::V3Interval;

/// The reserved bit that marks a fast-mode advert.
pub const FAST_FLAG: u16 = 0x8000;
/// One unit of a fast-mode Max Adver Int.
pub const FAST_UNIT: Duration = Duration::from_micros(10);
/// One unit of a standard Max Adver Int (a centisecond).
pub const STANDARD_UNIT: Duration = Duration::from_millis(10);
/// Shortest fast-mode interval vipd accepts in its configuration.
pub const FAST_MIN: Duration = Duration::from_micros(50);
/// Longest fast-mode interval (4095 units of 10 us).
pub const FAST_MAX: Duration = Duration::from_micros(10 * V3Interval::MAX_UNITS as u64);
/// Shortest standard VRRPv3 interval: one centisecond.
pub const STANDARD_MIN: Duration = STANDARD_UNIT;
/// Longest standard VRRPv3 interval (4095 centiseconds).
pub const STANDARD_MAX: Duration = Duration::from_millis(10 * V3Interval::MAX_UNITS as u64);

/// The wire form of `interval`: fast units with the flag if `fast`, centiseconds otherwise.
/// `None` if the interval is not a whole number of units or does not fit 12 bits.
pub fn encode(interval: Duration, fast: bool) -> Option<V3Interval> {
    let (unit, flag) = if fast {
        (FAST_UNIT, FAST_FLAG)
    } else {
        (STANDARD_UNIT, 0)
    };
    let micros = interval.as_micros();
    let unit = unit.as_micros();
    if !micros.is_multiple_of(unit) {
        return None;
    }
    let units = u16::try_from(micros / unit).ok()?;
    if units > V3Interval::MAX_UNITS {
        return None;
    }
    Some(V3Interval::from_word(flag | units))
}

/// Whether an advert says it is in fast units.
pub fn is_fast(interval: V3Interval) -> bool {
    interval.word() & FAST_FLAG != 0
}

/// The interval a receiver takes from `interval`: in fast units only if the advert is marked
/// fast and the receiver is itself in fast mode, in centiseconds otherwise (the flag
/// ignored, as RFC 9568 requires of reserved bits). May be zero; the caller refuses that.
pub fn decode(interval: V3Interval, receiver_fast: bool) -> Duration {
    let unit = if receiver_fast && is_fast(interval) {
        FAST_UNIT
    } else {
        STANDARD_UNIT
    };
    unit * u32::from(interval.max_adver_int())
}

/// The floor under a learned Master_Adver_Interval (see the module docs).
pub fn learned_interval_floor(receiver_fast: bool, own_interval: Duration) -> Duration {
    if receiver_fast {
        own_interval
    } else {
        STANDARD_MIN
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// How keepalived 2.2 reads a VRRPv3 interval (see the module docs): reserved bits masked,
    /// the rest in centiseconds. Written out independently of [`decode`].
    fn keepalived_view(word: u16) -> Duration {
        Duration::from_millis(u64::from(word & 0x0FFF) * 10)
    }

    #[test]
    fn fast_advert_looks_like_this_on_the_wire() {
        assert_eq!(
            encode(Duration::from_micros(200), true).unwrap().word(),
            0x8014
        );
        assert_eq!(
            encode(Duration::from_micros(50), true).unwrap().word(),
            0x8005
        );
        assert_eq!(encode(FAST_MAX, true).unwrap().word(), 0x8fff);
        assert_eq!(
            encode(Duration::from_secs(1), false).unwrap().word(),
            0x0064
        );
        assert_eq!(encode(Duration::from_micros(205), true), None);
        assert_eq!(encode(Duration::from_millis(41), true), None);
        assert_eq!(encode(Duration::from_millis(15), false), None);
        assert_eq!(encode(Duration::from_secs(41), false), None);
    }

    #[test]
    fn a_standard_peer_sees_a_fast_interval_1000_times_longer() {
        for micros in [50u64, 200, 1_000, 9_990, 40_950] {
            let real = Duration::from_micros(micros);
            let word = encode(real, true).unwrap();
            assert_eq!(keepalived_view(word.word()), real * 1000);
            // A vipd router not in fast mode reads it the same way as keepalived.
            assert_eq!(decode(word, false), real * 1000);
            // A vipd router in fast mode reads the real interval.
            assert_eq!(decode(word, true), real);
        }
    }

    #[test]
    fn a_standard_advert_reads_the_same_everywhere() {
        let word = encode(Duration::from_millis(30), false).unwrap();
        assert!(!is_fast(word));
        assert_eq!(decode(word, true), Duration::from_millis(30));
        assert_eq!(decode(word, false), Duration::from_millis(30));
        assert_eq!(keepalived_view(word.word()), Duration::from_millis(30));
    }

    #[test]
    fn floor_depends_on_the_receivers_mode() {
        assert_eq!(
            learned_interval_floor(true, Duration::from_micros(100)),
            Duration::from_micros(100)
        );
        assert_eq!(
            learned_interval_floor(false, Duration::from_secs(1)),
            Duration::from_millis(10)
        );
    }
}
