//! RFC 9568 timer arithmetic: Skew_Time and Master_Down_Interval from a priority and a
//! Master_Adver_Interval (section 6.1), and VRRPv2's variant (RFC 3768 section 6.1).
//!
//! Kept apart from the state machine so the formulas can be read and tested against the RFC.

use std::time::Duration;

use super::config::Version;

/// Skew_Time for a router of `priority`: higher priorities wait less, so after a master's
/// loss the best backup speaks first.
///
/// - VRRPv3: `((256 - priority) * Master_Adver_Interval) / 256`.
/// - VRRPv2: `(256 - priority) / 256` seconds, independent of the interval.
pub fn skew_time(version: Version, priority: u8, master_adver_interval: Duration) -> Duration {
    let weight = 256 - u32::from(priority);
    match version {
        Version::V3 => master_adver_interval * weight / 256,
        Version::V2 => Duration::from_secs(1) * weight / 256,
    }
}

/// Master_Down_Interval: `3 * Master_Adver_Interval + Skew_Time`, how long a backup waits
/// without adverts before it declares the master down.
pub fn master_down_interval(
    version: Version,
    priority: u8,
    master_adver_interval: Duration,
) -> Duration {
    master_adver_interval * 3 + skew_time(version, priority, master_adver_interval)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn v3_formulas() {
        let one_sec = Duration::from_secs(1);
        assert_eq!(
            skew_time(Version::V3, 100, one_sec),
            Duration::from_micros(609_375)
        );
        assert_eq!(
            master_down_interval(Version::V3, 100, one_sec),
            Duration::from_micros(3_609_375)
        );
        assert_eq!(
            skew_time(Version::V3, 255, one_sec),
            Duration::from_nanos(3_906_250)
        );
        // Fast mode: 100 us interval, priority 200.
        assert_eq!(
            master_down_interval(Version::V3, 200, Duration::from_micros(100)),
            Duration::from_nanos(321_875)
        );
    }

    #[test]
    fn v2_skew_ignores_the_interval() {
        assert_eq!(
            skew_time(Version::V2, 100, Duration::from_secs(5)),
            Duration::from_micros(609_375)
        );
        assert_eq!(
            master_down_interval(Version::V2, 100, Duration::from_secs(5)),
            Duration::from_micros(15_609_375)
        );
    }

    #[test]
    fn higher_priority_has_shorter_skew() {
        let i = Duration::from_millis(10);
        for p in 1..255u8 {
            assert!(skew_time(Version::V3, p + 1, i) <= skew_time(Version::V3, p, i));
        }
    }
}
