//! Wall-clock stamps turned into CLOCK_MONOTONIC, the benchmark's one clock.
//!
//! Packet sockets stamp frames with CLOCK_REALTIME and tracing's JSON logs carry RFC 3339 UTC
//! times; the probe, the faults and the XDP ring use CLOCK_MONOTONIC. The offset between the two
//! clocks is sampled around each trial (it only moves with NTP slewing, by microseconds per
//! second at most), so a converted stamp keeps the source's precision.

/// CLOCK_REALTIME minus CLOCK_MONOTONIC: the vipd library's, which `vipd probe` converts with.
pub use vipd::measure::clock::Offset;

/// `2026-12-01T22:49:05.123456Z` (tracing's timestamp: UTC, any number of fraction digits) as
/// ns since the epoch; `None` for anything else.
pub fn parse_rfc3339_utc(text: &str) -> Option<u64> {
    let text = text.strip_suffix('Z')?;
    let (date, time) = text.split_once('T')?;
    let mut date_parts = date.splitn(3, '-').map(|p| p.parse::<i64>().ok());
    let (year, month, day) = (
        date_parts.next()??,
        date_parts.next()??,
        date_parts.next()??,
    );
    let (clock, fraction) = time.split_once('.').unwrap_or((time, ""));
    let mut clock_parts = clock.splitn(3, ':').map(|p| p.parse::<i64>().ok());
    let (hour, minute, second) = (
        clock_parts.next()??,
        clock_parts.next()??,
        clock_parts.next()??,
    );
    if !fraction.bytes().all(|b| b.is_ascii_digit()) || fraction.len() > 9 {
        return None;
    }
    let nanos: i64 = format!("{fraction:0<9}").parse().ok()?;
    let seconds = days_from_civil(year, month, day) * 86_400 + hour * 3_600 + minute * 60 + second;
    u64::try_from(seconds * 1_000_000_000 + nanos).ok()
}

/// Days from 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let day_of_year = (153 * ((month + 9) % 12) + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_utc_to_epoch_ns() {
        assert_eq!(parse_rfc3339_utc("1970-01-01T00:00:00Z"), Some(0));
        // date -u -d 2026-12-01T22:49:05Z +%s = 1796165345
        assert_eq!(
            parse_rfc3339_utc("2026-12-01T22:49:05.123456Z"),
            Some(1_796_165_345_123_456_000)
        );
        assert_eq!(
            parse_rfc3339_utc("2000-02-29T12:00:00.5Z"),
            Some(951_825_600_500_000_000)
        );
        assert_eq!(parse_rfc3339_utc("2026-12-01 22:49:05Z"), None);
        assert_eq!(parse_rfc3339_utc("2026-12-01T22:49:05+01:00"), None);
    }
}
