//! The table the bench prints, from the measurements of the pages and the
//! server.

use crate::load::{Level, Scaled};
use crate::pages::{self, Throttles, Usable};
use crate::stats::Sample;

/// The whole result, as one table.
pub fn table(throttles: &Throttles, usable: &Usable, pay: &Sample) -> String {
    let mut out = String::new();
    let (plain, slowed) = throttles.cpu_ms;
    out += &format!(
        "throttles        CPU loop {plain:.0} ms, {slowed:.0} ms at 4x ({:.1}x); \
         200 KB fetch {:.0} ms at 150 ms and 200,000 B/s (1,150 expected)\n\n",
        slowed / plain,
        throttles.fetch_ms
    );
    out += &format!(
        "time to usable   cold (a fresh browser, left {} s to settle), 4x CPU, 150 ms, \
         200,000/93,750 B/s, 412x823, {} runs\n",
        pages::SETTLE.as_secs(),
        usable.checkout.len()
    );
    let floor = &usable.floor;
    out += "                            median      min      max   vs static: medians, \
            and the median of each run's difference\n";
    // Pages measured one after the other in each run share its moment of
    // the machine; the paired difference leaves out what the runs share.
    let beside = |sample: &Sample| {
        format!(
            "{:+.0} ms ({:+.0})",
            sample.median() - floor.median(),
            sample.minus(floor).median()
        )
    };
    let rows: [(&str, Option<&Sample>, String); 9] = [
        ("static page, 3 radios", Some(floor), String::new()),
        (
            "<payment-selector>",
            Some(&usable.checkout),
            beside(&usable.checkout),
        ),
        ("with the first screen:", None, String::new()),
        (
            "  first choosable method",
            Some(&usable.first_choosable),
            format!("{}  target <= +60", beside(&usable.first_choosable)),
        ),
        (
            "  Pay held (script in)",
            Some(&usable.first_held),
            beside(&usable.first_held),
        ),
        (
            "  working Pay (part 1 in)",
            Some(&usable.first_working),
            format!("{}  target <= +450", beside(&usable.first_working)),
        ),
        (
            "  checkout drawn over it",
            Some(&usable.first_drawn),
            beside(&usable.first_drawn),
        ),
        (
            "  its part 1 arrived at",
            Some(&usable.wasm_arrived),
            String::new(),
        ),
        ("  mount to drawn took", Some(&usable.mount), String::new()),
    ];
    for (name, sample, against) in rows {
        let Some(sample) = sample else {
            out += &format!("  {name}\n");
            continue;
        };
        out += &format!(
            "  {name:<26}{:>6.0} {:>8.0} {:>8.0} ms   {against}\n",
            sample.median(),
            sample.min(),
            sample.max()
        );
    }
    out += &format!(
        "  layout shift on takeover  {:>6.3} {:>8.3} {:>8.3}      target 0\n\n",
        usable.first_shift.median(),
        usable.first_shift.min(),
        usable.first_shift.max()
    );
    out += &format!(
        "Pay to QR        {} tries, in the page, local server: p50 {:.1} ms, p95 {:.1} ms \
         (targets <= 30, <= 60)\n\n",
        pay.len(),
        pay.median(),
        pay.percentile(95.0)
    );
    out
}

/// The server's rows: SQLite beside its ceiling, then PostgreSQL's.
pub fn server(levels: &[Level], scaled: &[Scaled]) -> String {
    let mut out = String::new();
    out += "server           create-intent over HTTP beside the same work in-process (creates/s)\n";
    out += "  clients    creates/s   p50 ms   p99 ms   ceiling/s   its p50   its p99   share \
            (target >= 50%; p99 at 64 <= 60 ms)\n";
    for level in levels {
        let (rate, latencies) = &level.served;
        let (ceiling, its) = &level.ceiling;
        out += &format!(
            "  {:>7} {:>12.0} {:>8.1} {:>8.1} {:>11.0} {:>9.1} {:>9.1} {:>7.0}%\n",
            level.clients,
            rate,
            latencies.median(),
            latencies.percentile(99.0),
            ceiling,
            its.median(),
            its.percentile(99.0),
            100.0 * rate / ceiling
        );
    }
    out += "  (the ceiling: each create's key claimed (an insert), its request signed, the \
            provider's answer signed and verified, its hand-off recorded (an update); RSA-2048, \
            the server's SQLite file, the same number of tasks)\n";
    if let Some(busiest) = levels.iter().max_by_key(|level| level.clients) {
        out += &little(busiest.clients, busiest.ceiling.0);
    }
    if scaled.is_empty() {
        return out;
    }
    out += "\non PostgreSQL    create-intent over HTTP, one server and two on one database\n";
    out += "  servers  clients    creates/s   p50 ms   p99 ms   vs SQLite\n";
    for row in scaled {
        let (rate, latencies) = &row.served;
        let sqlite = levels
            .iter()
            .find(|level| level.clients == row.clients)
            .map_or(String::from("-"), |level| {
                format!("{:.0}%", 100.0 * rate / level.served.0)
            });
        out += &format!(
            "  {:>7} {:>8} {:>12.0} {:>8.1} {:>8.1} {:>11}\n",
            row.servers,
            row.clients,
            rate,
            latencies.median(),
            latencies.percentile(99.0),
            sqlite
        );
    }
    out += "  (a local PostgreSQL that flushes each commit, as the server's SQLite does; two \
            servers share this machine's cores with each other and with the database: what a \
            second machine adds is not measured here)\n";
    out
}

/// What a closed loop of `clients` waits at the least, on average, when
/// nothing can serve more than `ceiling` creates/s (Little's law: the
/// clients waiting equal the rate times the wait), and the rate a 60 ms
/// p99 would need.
fn little(clients: usize, ceiling: f64) -> String {
    format!(
        "  (at {clients} clients each create waits on average at least {clients} / {ceiling:.0}/s \
         = {:.0} ms, even at the ceiling (Little's law); a p99 of 60 ms needs over {:.0} \
         creates/s on this machine)\n",
        1000.0 * clients as f64 / ceiling,
        1000.0 * clients as f64 / 60.0
    )
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

    #[test]
    fn differences_are_paired_run_by_run() {
        let (mut floor, mut page) = (Sample::default(), Sample::default());
        for (a, b) in [(300.0, 310.0), (500.0, 520.0), (400.0, 700.0)] {
            floor.push(a);
            page.push(b);
        }
        // Medians 400 and 520 are 120 apart; runs differ by 10, 20 and 300.
        assert_eq!(page.minus(&floor).median(), 20.0);
    }

    #[test]
    fn little_law_gives_the_least_wait_at_the_ceiling() {
        let line = little(64, 579.0);
        assert!(line.contains("64 / 579/s = 111 ms"), "{line}");
        assert!(line.contains("over 1067 creates/s"), "{line}");
    }
}
