//! The table the bench prints, from the measurements of the pages and the
//! server.

use crate::load::Level;
use crate::pages::{Throttles, Usable};
use crate::stats::Sample;

/// The whole result, as one table.
pub fn table(throttles: &Throttles, usable: &Usable, pay: &Sample, levels: &[Level]) -> String {
    let mut out = String::new();
    let (plain, slowed) = throttles.cpu_ms;
    out += &format!(
        "throttles        CPU loop {plain:.0} ms, {slowed:.0} ms at 4x ({:.1}x); \
         200 KB fetch {:.0} ms at 150 ms and 200,000 B/s (1,150 expected)\n\n",
        slowed / plain,
        throttles.fetch_ms
    );
    out += &format!(
        "time to usable   cold, 4x CPU, 150 ms, 200,000/93,750 B/s, 412x823, {} runs\n",
        usable.checkout.len()
    );
    let (floor, checkout) = (&usable.floor, &usable.checkout);
    out += "                            median      min      max\n";
    for (name, sample) in [
        ("static page, 3 radios", floor),
        ("<payment-selector>", checkout),
        ("  its wasm arrived at", &usable.wasm_arrived),
        ("  its mount took", &usable.mount),
    ] {
        out += &format!(
            "  {name:<24}{:>8.0} {:>8.0} {:>8.0} ms\n",
            sample.median(),
            sample.min(),
            sample.max()
        );
    }
    out += &format!(
        "  difference              {:>8.0} ms   target <= 500, stretch <= 350\n\n",
        checkout.median() - floor.median()
    );
    out += &format!(
        "Pay to QR        {} tries, in the page, local server: p50 {:.1} ms, p95 {:.1} ms \
         (targets <= 30, <= 60)\n\n",
        pay.len(),
        pay.median(),
        pay.percentile(95.0)
    );
    out += "server           create-intent over HTTP beside SQLite's ceiling (rows/s)\n";
    out += "  clients    creates/s   p99 ms   ceiling/s   ratio (target >= 50%)\n";
    for level in levels {
        let (rate, latencies) = &level.served;
        out += &format!(
            "  {:>7} {:>12.0} {:>8.1} {:>11.0} {:>7.0}%\n",
            level.clients,
            rate,
            latencies.percentile(99.0),
            level.ceiling,
            100.0 * rate / level.ceiling
        );
    }
    // Each create writes twice (the intent claims its key before the
    // provider is called, then records the hand-off); the ceiling writes once.
    if let Some(one) = levels.first() {
        out += &format!(
            "  (one client: 50% of the ceiling leaves {:.2} ms per create, what two writes \
             take at the ceiling's pace; a create makes two writes and calls the provider)\n",
            2000.0 / one.ceiling
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_are_nearest_rank() {
        let mut sample = Sample::default();
        for value in 1..=100 {
            sample.push(f64::from(value));
        }
        assert_eq!(sample.median(), 50.0);
        assert_eq!(sample.percentile(95.0), 95.0);
        assert_eq!(sample.percentile(99.0), 99.0);
        assert_eq!((sample.min(), sample.max()), (1.0, 100.0));
    }
}
