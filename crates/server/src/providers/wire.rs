//! What several providers' protocols share: form fields that must each
//! come once, order numbers without our ids' `_`, and Beijing time.

use contract::UnixSeconds;
use time::format_description::BorrowedFormatItem;
use time::{OffsetDateTime, UtcOffset};

/// True if no field name comes twice: a signed text that leaves fields out
/// or joins their values cannot say which of two was signed.
pub fn names_once(fields: &[(String, String)]) -> bool {
    let mut names: Vec<&str> = fields.iter().map(|(name, _)| name.as_str()).collect();
    names.sort_unstable();
    names.windows(2).all(|pair| pair[0] != pair[1])
}

/// A provider's order number for one of our ids (`pi_1f0c…` → `pi1f0c…`),
/// for providers that take letters and digits only.
pub fn order_number(id: &str) -> String {
    id.chars().filter(|&c| c != '_').collect()
}

/// Our id for an order number made by [`order_number`] (our ids' prefixes
/// are two letters).
pub fn our_id(order_number: &str) -> Option<String> {
    let fits = order_number.len() > 2 && order_number.bytes().all(|b| b.is_ascii_alphanumeric());
    fits.then(|| format!("{}_{}", &order_number[..2], &order_number[2..]))
}

/// A moment in Beijing time, written as `format` says (empty if it cannot
/// be).
pub fn beijing(at: UnixSeconds, format: &[BorrowedFormatItem<'_>]) -> String {
    let beijing = UtcOffset::from_hms(8, 0, 0).unwrap_or(UtcOffset::UTC);
    OffsetDateTime::from_unix_timestamp(at)
        .ok()
        .and_then(|moment| moment.to_offset(beijing).format(format).ok())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn our_ids_become_order_numbers_and_back() {
        let order = order_number("pi_1f0c2b3a4d5e6f708192a3b4");
        assert_eq!(order, "pi1f0c2b3a4d5e6f708192a3b4");
        assert_eq!(our_id(&order).unwrap(), "pi_1f0c2b3a4d5e6f708192a3b4");
        assert!(our_id("p").is_none());
        assert!(our_id("pi-1").is_none());
    }

    #[test]
    fn fields_sent_twice_are_seen() {
        let field = |name: &str| (name.to_owned(), String::new());
        assert!(names_once(&[field("a"), field("b")]));
        assert!(!names_once(&[field("a"), field("b"), field("a")]));
    }
}
