//! The emulators' notion of now, which tests can move forward.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

use time::macros::{format_description, offset};
use time::{OffsetDateTime, PrimitiveDateTime};

/// Wall-clock time plus an offset that only moves forward.
///
/// Clones share the offset, so a test can keep one and move the time of an
/// app it started with [`crate::app_with_clock`]. Everything the emulators
/// date goes through it: order and link expiry, OAuth codes, the timestamps
/// they sign and the 5-minute window they accept.
#[derive(Clone, Debug, Default)]
pub struct Clock {
    offset_ms: Arc<AtomicI64>,
}

impl Clock {
    /// The system clock, not moved.
    pub fn system() -> Clock {
        Clock::default()
    }

    /// Moves this clock (and every clone of it) forward.
    pub fn advance(&self, by: std::time::Duration) {
        let ms = i64::try_from(by.as_millis()).unwrap_or(i64::MAX);
        self.offset_ms.fetch_add(ms, Ordering::SeqCst);
    }

    /// Now, in Unix seconds.
    pub fn unix_seconds(&self) -> i64 {
        self.now().unix_timestamp()
    }

    pub(crate) fn now(&self) -> OffsetDateTime {
        let offset = time::Duration::milliseconds(self.offset_ms.load(Ordering::SeqCst));
        OffsetDateTime::now_utc().saturating_add(offset)
    }
}

/// RFC 3339 at second precision in China Standard Time, as WeChat Pay writes
/// `success_time` and `create_time` (`2018-06-08T10:34:56+08:00`).
pub(crate) fn rfc3339_cst(unix_seconds: i64) -> String {
    let format = format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second][offset_hour sign:mandatory]:[offset_minute]"
    );
    OffsetDateTime::from_unix_timestamp(unix_seconds)
        .map(|t| t.to_offset(offset!(+8)))
        .ok()
        .and_then(|t| t.format(format).ok())
        .unwrap_or_default()
}

/// `yyyyMMddHHmmss` in China Standard Time, as WeChat's ids embed it.
pub(crate) fn cst_digits(unix_seconds: i64) -> String {
    let format = format_description!("[year][month][day][hour][minute][second]");
    OffsetDateTime::from_unix_timestamp(unix_seconds)
        .map(|t| t.to_offset(offset!(+8)))
        .ok()
        .and_then(|t| t.format(format).ok())
        .unwrap_or_else(|| "19700101080000".to_owned())
}

/// Reads an RFC 3339 instant (any offset) as Unix seconds.
pub(crate) fn parse_rfc3339(text: &str) -> Option<i64> {
    OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
        .ok()
        .map(OffsetDateTime::unix_timestamp)
}

/// `yyyy-MM-dd HH:mm:ss` in China Standard Time, as Alipay writes and reads
/// every time (`timestamp`, `gmt_payment`, `notify_time`, ...).
pub(crate) fn cst_datetime(unix_seconds: i64) -> String {
    let format = format_description!("[year]-[month]-[day] [hour]:[minute]:[second]");
    OffsetDateTime::from_unix_timestamp(unix_seconds)
        .map(|t| t.to_offset(offset!(+8)))
        .ok()
        .and_then(|t| t.format(format).ok())
        .unwrap_or_else(|| "1970-01-01 08:00:00".to_owned())
}

/// Reads `yyyy-MM-dd HH:mm:ss` in China Standard Time as Unix seconds; with
/// `minutes_enough`, `yyyy-MM-dd HH:mm` too (an older form of Alipay's
/// `time_expire`).
pub(crate) fn parse_cst_datetime(text: &str, minutes_enough: bool) -> Option<i64> {
    let seconds = format_description!("[year]-[month]-[day] [hour]:[minute]:[second]");
    let minutes = format_description!("[year]-[month]-[day] [hour]:[minute]");
    PrimitiveDateTime::parse(text, seconds)
        .ok()
        .or_else(|| {
            minutes_enough
                .then(|| PrimitiveDateTime::parse(text, minutes).ok())
                .flatten()
        })
        .map(|t| t.assume_offset(offset!(+8)).unix_timestamp())
}

/// The first midnight in China Standard Time after `unix_seconds`.
pub(crate) fn next_cst_midnight(unix_seconds: i64) -> i64 {
    const DAY: i64 = 24 * 60 * 60;
    const CST: i64 = 8 * 60 * 60;
    (unix_seconds + CST).div_euclid(DAY) * DAY + DAY - CST
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_in_china_standard_time() {
        assert_eq!(rfc3339_cst(1_528_425_296), "2018-06-08T10:34:56+08:00");
        assert_eq!(
            parse_rfc3339("2018-06-08T10:34:56+08:00"),
            Some(1_528_425_296)
        );
        assert_eq!(parse_rfc3339("2018-06-08T02:34:56Z"), Some(1_528_425_296));
        assert_eq!(parse_rfc3339("2018-06-08 10:34:56"), None);
        assert_eq!(cst_digits(1_528_425_296), "20180608103456");
        assert_eq!(cst_datetime(1_528_425_296), "2018-06-08 10:34:56");
        assert_eq!(
            parse_cst_datetime("2018-06-08 10:34:56", false),
            Some(1_528_425_296)
        );
        assert_eq!(
            parse_cst_datetime("2018-06-08 10:34", true),
            Some(1_528_425_240)
        );
        assert_eq!(parse_cst_datetime("2018-06-08 10:34", false), None);
        assert_eq!(parse_cst_datetime("2018-06-08T10:34:56+08:00", true), None);
        // 10:34:56 in Beijing: the next midnight there is 16:00 UTC that day.
        assert_eq!(next_cst_midnight(1_528_425_296), 1_528_473_600);
    }

    #[test]
    fn clones_move_together() {
        let clock = Clock::system();
        let other = clock.clone();
        let before = other.unix_seconds();
        clock.advance(std::time::Duration::from_secs(600));
        assert!(other.unix_seconds() >= before + 600);
    }
}
