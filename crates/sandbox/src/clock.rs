//! The emulators' notion of now, which tests can move forward.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

use time::macros::{format_description, offset};
use time::OffsetDateTime;

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
