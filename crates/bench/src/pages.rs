//! What the shopper feels, measured in the page: when the first payment
//! method can be used, and how long Pay takes to show the code.

use std::time::Duration;

use serde_json::{json, Value};

use crate::browser::Driver;
use crate::site::Site;
use crate::stats::Sample;

/// Records in `window.__ps`, in ms from navigation start, the first frame
/// that shows an enabled, visible radio button (in the page or in a
/// `<payment-selector>` element's shadow root: `choosable`), the first in
/// which the element's script holds a Pay tapped (`held`), the first in
/// which Pay works: the static page's at once, the element's once the
/// wasm's first part is in and a tap sends the payment (`working`), and
/// the first with the element's checkout drawn over the first screen
/// (`drawn`); and every layout shift, summed (`shift`).
const WATCH: &str = r#"(() => {
  const ps = (window.__ps = { shift: 0 });
  new PerformanceObserver((list) => list.getEntries().forEach((entry) => (ps.shift += entry.value)))
    .observe({ type: "layout-shift", buffered: true });
  const choosable = () => {
    const roots = [document];
    for (const host of document.querySelectorAll("payment-selector")) {
      if (host.shadowRoot) roots.push(host.shadowRoot);
    }
    for (const root of roots) {
      for (const radio of root.querySelectorAll("input[type=radio]")) {
        if (!radio.disabled && radio.checkVisibility()) return true;
      }
    }
    return false;
  };
  const host = () => document.querySelector("payment-selector");
  const working = () => (host() ? host().hasAttribute("data-ps-working") : choosable());
  const drawn = () => (host() ? host().hasAttribute("data-ps-ready") : choosable());
  const held = () => working() || (host() && host().hasAttribute("data-ps-loading"));
  const frame = () => {
    const now = performance.now();
    if (ps.choosable == null && choosable()) ps.choosable = now;
    if (ps.held == null && held()) ps.held = now;
    if (ps.working == null && working()) ps.working = now;
    if (ps.drawn == null && drawn()) ps.drawn = now;
    if (ps.drawn == null || ps.working == null || ps.choosable == null) requestAnimationFrame(frame);
  };
  requestAnimationFrame(frame);
})();"#;

/// What the throttle check found.
pub struct Throttles {
    /// The same CPU loop, unthrottled and at 4×, in ms.
    pub cpu_ms: (f64, f64),
    /// Fetching 200 KB through the throttled network, in ms.
    pub fetch_ms: f64,
}

/// Runs a fixed CPU loop with and without the 4× throttle, and fetches
/// 200 KB through the throttled network.
pub async fn check_throttles(site: &Site) -> Result<Throttles, String> {
    let driver = Driver::start().await?;
    let browser = driver.browser(false).await?;
    browser
        .client
        .goto(&site.url("static.html"))
        .await
        .map_err(|e| e.to_string())?;
    let cpu_loop = "const start = performance.now(); let x = 0;
        for (let i = 0; i < 3e7; i++) { x = (x + i * 7) % 1000003; }
        return [performance.now() - start, x];";
    // Once to compile it, then measured.
    number(&browser.client.execute(cpu_loop, vec![]).await, 0)?;
    let plain = number(&browser.client.execute(cpu_loop, vec![]).await, 0)?;
    browser.throttle(4).await?;
    number(&browser.client.execute(cpu_loop, vec![]).await, 0)?;
    let slowed = number(&browser.client.execute(cpu_loop, vec![]).await, 0)?;
    let fetch = "const done = arguments[0]; const start = performance.now();
        fetch('probe.bin?' + Math.random()).then((r) => r.arrayBuffer())
          .then((body) => done([performance.now() - start, body.byteLength]), (e) => done(String(e)));";
    let fetched = browser.client.execute_async(fetch, vec![]).await;
    let fetch_ms = number(&fetched, 0)?;
    let bytes = number(&fetched, 1)?;
    if bytes as usize != 200_000 {
        return Err(format!("the probe fetch read {bytes} bytes"));
    }
    browser.close().await;
    // 150 ms and 200,000 B at 200,000 B/s take over a second when they apply.
    if slowed < 2.0 * plain || fetch_ms < 1000.0 {
        return Err(format!(
            "the throttles did not apply: CPU loop {plain:.0} -> {slowed:.0} ms, \
             200 KB fetch {fetch_ms:.0} ms"
        ));
    }
    Ok(Throttles {
        cpu_ms: (plain, slowed),
        fetch_ms,
    })
}

/// Time to usable for the pages, and where the checkout's time went.
#[derive(Default)]
pub struct Usable {
    /// The static page with three radio buttons: the floor.
    pub floor: Sample,
    /// The `<payment-selector>` page with its session inline, no first
    /// screen: when its wasm has drawn the methods (and Pay works).
    pub checkout: Sample,
    /// The page with the server's first screen inside the element: its
    /// first choosable method.
    pub first_choosable: Sample,
    /// When its script holds a Pay tapped for the checkout.
    pub first_held: Sample,
    /// When its wasm's first part is in: Pay works (a tap sends the
    /// payment).
    pub first_working: Sample,
    /// When its checkout is drawn over the first screen.
    pub first_drawn: Sample,
    /// The layout shift the page had by then (the takeover's), summed.
    pub first_shift: Sample,
    /// When its wasm's first part had arrived (its response's end).
    pub wasm_arrived: Sample,
    /// The mount: from the first part's mount to the checkout drawn (the
    /// view's part of the wasm fetched, and its first render).
    pub mount: Sample,
}

/// The throttled, cold times for the static page, the checkout with its
/// session inline and the checkout with its first screen, `runs` times
/// each after one warm-up of each.
pub async fn time_to_usable(site: &Site, runs: usize) -> Result<Usable, String> {
    let driver = Driver::start().await?;
    let mut usable = Usable::default();
    for run in 0..=runs {
        let plain = cold_load(&driver, &site.url("static.html")).await?;
        let inline = cold_load(&driver, &site.checkout_page(false).await?).await?;
        let first = cold_load(&driver, &site.checkout_page(true).await?).await?;
        let (wasm_ms, mount_ms) = (item(&first.timings, 0)?, item(&first.timings, 1)?);
        if wasm_ms < 0.0 || mount_ms < 0.0 {
            return Err(format!(
                "the checkout page had no wasm or mount timing: {}",
                first.timings
            ));
        }
        if run > 0 {
            usable.floor.push(plain.choosable);
            usable.checkout.push(inline.choosable);
            usable.first_choosable.push(first.choosable);
            usable.first_held.push(first.held);
            usable.first_working.push(first.working);
            usable.first_drawn.push(first.drawn);
            usable.first_shift.push(first.shift);
            usable.wasm_arrived.push(wasm_ms);
            usable.mount.push(mount_ms);
        }
        println!(
            "    run {run}{}: static {:.0} ms; session inline {:.0} ms; first screen: \
             choosable {:.0}, Pay held {:.0}, working {:.0}, drawn {:.0} ms, shift {:.3} \
             (wasm in at {wasm_ms:.0}, mount {mount_ms:.0})",
            if run == 0 { " (warm-up)" } else { "" },
            plain.choosable,
            inline.choosable,
            first.choosable,
            first.held,
            first.working,
            first.drawn,
            first.shift,
        );
    }
    Ok(usable)
}

/// The wasm's first part's arrival and the mount's length, read from the page's
/// resource timing and the loader's `payment-selector:mount` measure
/// (-1 for one the page does not have).
const TIMINGS: &str = r#"const wasm = performance.getEntriesByType("resource")
    .find((entry) => entry.name.endsWith("_bg.wasm"));
  const mount = performance.getEntriesByName("payment-selector:mount", "measure")[0];
  return [wasm ? wasm.responseEnd : -1, mount ? mount.duration : -1];"#;

/// What one cold load of a page measured ([`WATCH`]), in ms from
/// navigation start, and the page's [`TIMINGS`].
struct Loaded {
    choosable: f64,
    held: f64,
    working: f64,
    drawn: f64,
    shift: f64,
    timings: Value,
}

/// How long a fresh browser is left idle before a page is loaded in it.
pub const SETTLE: Duration = Duration::from_secs(1);

/// One cold load of `url` on a slowed phone: a fresh browser and profile,
/// settled.
async fn cold_load(driver: &Driver, url: &str) -> Result<Loaded, String> {
    let browser = driver.browser(true).await?;
    // A browser just started is still setting itself up on the same two
    // cores; the 4x throttle turns that into ±100 ms on a static page. A
    // shopper's phone has long finished starting its browser.
    tokio::time::sleep(SETTLE).await;
    browser.throttle(4).await?;
    browser.on_every_page(WATCH).await?;
    browser.client.goto(url).await.map_err(|e| e.to_string())?;
    let mut seen = Value::Null;
    for _ in 0..600 {
        seen = browser
            .client
            .execute("return window.__ps ?? null;", vec![])
            .await
            .map_err(|e| e.to_string())?;
        if ["working", "drawn", "choosable"]
            .iter()
            .all(|name| seen[name].is_f64())
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // The frames after the takeover, for a shift it caused to be reported.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let settled = browser
        .client
        .execute("return window.__ps ?? null;", vec![])
        .await
        .map_err(|e| e.to_string())?;
    let timings = browser.client.execute(TIMINGS, vec![]).await;
    browser.close().await;
    let time = |name: &str| {
        seen[name]
            .as_f64()
            .ok_or_else(|| format!("{url}: no {name} within 30 s ({seen})"))
    };
    Ok(Loaded {
        choosable: time("choosable")?,
        held: time("held")?,
        working: time("working")?,
        drawn: time("drawn")?,
        shift: settled["shift"].as_f64().unwrap_or_default(),
        timings: timings.map_err(|e| e.to_string())?,
    })
}

/// Clicks Pay and waits for the code's frame, `tries` times, in one page
/// against the local server (no throttles), measured with
/// `performance.now()`.
pub async fn pay_to_qr(site: &Site, tries: usize) -> Result<Sample, String> {
    let driver = Driver::start().await?;
    let browser = driver.browser(false).await?;
    browser
        .client
        .goto(&site.checkout_page(false).await?)
        .await
        .map_err(|e| e.to_string())?;
    let script = r#"const [tries, done] = arguments;
      const root = document.querySelector("payment-selector").shadowRoot;
      const find = (id) => root.querySelector(`[data-testid=${id}]`);
      const appears = (test) => new Promise((resolve) => {
        const check = () => (test() ? resolve() : requestAnimationFrame(check));
        check();
      });
      const drawn = () => new Promise((resolve) => {
        const observer = new MutationObserver(() => {
          if (find("qr-code")) { observer.disconnect(); resolve(); }
        });
        observer.observe(root, { subtree: true, childList: true });
      });
      (async () => {
        const times = [];
        for (let i = 0; i < tries; i++) {
          // WeChat Pay, as a shopper would choose it among the methods.
          await appears(() => find("method-wechat_pay"));
          const radio = find("method-wechat_pay").querySelector("input");
          if (!radio.checked) radio.click();
          await appears(() => find("pay-button") && !find("pay-button").disabled);
          const code = drawn();
          const start = performance.now();
          find("pay-button").click();
          await code;
          // The frame that paints the code.
          await new Promise(requestAnimationFrame);
          times.push(performance.now() - start);
          find("choose-another").click();
        }
        return times;
      })().then(done, (error) => done(String(error)));"#;
    browser
        .client
        .update_timeouts(fantoccini::wd::TimeoutConfiguration::new(
            Some(Duration::from_secs(120)),
            None,
            None,
        ))
        .await
        .map_err(|e| e.to_string())?;
    let times = browser
        .client
        .execute_async(script, vec![json!(tries)])
        .await
        .map_err(|e| e.to_string())?;
    browser.close().await;
    let times = times
        .as_array()
        .ok_or_else(|| format!("the page said {times}"))?;
    let mut sample = Sample::default();
    for time in times {
        sample.push(time.as_f64().ok_or("a time that is not a number")?);
    }
    Ok(sample)
}

fn number(
    answer: &Result<Value, fantoccini::error::CmdError>,
    index: usize,
) -> Result<f64, String> {
    match answer {
        Ok(value) => item(value, index),
        Err(error) => Err(error.to_string()),
    }
}

/// The number at `index` of a script's array answer.
fn item(answer: &Value, index: usize) -> Result<f64, String> {
    answer
        .get(index)
        .and_then(Value::as_f64)
        .ok_or_else(|| format!("the page answered {answer}"))
}
