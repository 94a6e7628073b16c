//! One scan, played to the end: the web view opens the code's URL, claims
//! the code, runs the pay screen's hand-off, and loads the pay page again
//! until it has something to say.

use std::time::Duration;

use reqwest::Url;
use serde::Serialize;
use tokio::time::{sleep, Instant};

use super::screen::{self, Screen, Shown};
use super::webview::{Loaded, WebView};
use super::{bridges, App, Apps, Outcome, PlayError};

/// How long the phone waits on `checking` before it shows what it has.
const CHECKING_FOR: Duration = Duration::from_secs(5);
/// How often it looks again meanwhile.
const CHECKING_EVERY: Duration = Duration::from_millis(200);

/// What the phone went through.
#[derive(Debug, Serialize)]
pub(super) struct Played {
    /// The app that scanned.
    pub app: App,
    /// The screens it showed, in order (a screen shown again at once is
    /// listed once).
    pub screens: Vec<Screen>,
    /// What the app's bridge answered, when it was called.
    pub bridge: Option<String>,
    /// The screen it shows at the end.
    pub screen: Screen,
    /// That screen's headline.
    pub headline: String,
}

/// `app` scans `url`, and the shopper does `outcome` when asked to pay.
pub(super) async fn play(
    apps: &Apps,
    app: App,
    url: Url,
    outcome: Outcome,
) -> Result<Played, PlayError> {
    let mut view = WebView::new(apps.http.clone(), app.user_agent());
    let mut page = view.get(url).await?;
    let mut trail = Trail::start(&page)?;
    if trail.screen == Screen::Claim {
        let claim = screen::claim_form(&page.html).ok_or_else(|| {
            PlayError::unexpected(&page.url, "the claim screen has no form#ps-claim")
        })?;
        page = view.submit(&page, &claim).await?;
        trail.show(&page)?;
    }
    if trail.screen != Screen::Pay {
        return Ok(trail.played(app, None));
    }

    let handoff =
        screen::handoff(&page.html).map_err(|reason| PlayError::unexpected(&page.url, reason))?;
    let pay_url = page.url.clone();
    let step = bridges::pay(apps, &mut view, app, &page, handoff, outcome).await?;
    // After a bridge's callback the page's script loads the outcome
    // (`?done`) if the wallet says it paid, and stays to offer Pay again if
    // not; a page flow may have brought the web view back already.
    let mut after = pay_url.clone();
    if step.bridge.as_deref().is_some_and(bridge_says_paid) {
        after.set_query(Some("done"));
    }
    page = match step.landed {
        Some(landed) if screen::shown(&landed.html).is_ok() => {
            after = landed.url.clone();
            landed
        }
        _ => view.get(after.clone()).await?,
    };
    trail.show(&page)?;
    let give_up = Instant::now() + CHECKING_FOR;
    while trail.screen == Screen::Checking && Instant::now() < give_up {
        sleep(CHECKING_EVERY).await;
        page = view.get(after.clone()).await?;
        trail.show(&page)?;
    }
    Ok(trail.played(app, step.bridge))
}

/// What `/pay/pay.js` takes as "paid, or perhaps paid": WeChat's `…:ok`,
/// Alipay's 9000 (paid), 8000 (processing) and 6004 (unknown).
fn bridge_says_paid(said: &str) -> bool {
    said.ends_with(":ok") || matches!(said, "9000" | "8000" | "6004")
}

/// The screens shown so far, and the one on screen.
struct Trail {
    screens: Vec<Screen>,
    screen: Screen,
    headline: String,
}

impl Trail {
    /// The first screen, `page`'s.
    fn start(page: &Loaded) -> Result<Trail, PlayError> {
        let Shown { screen, headline } = read(page)?;
        Ok(Trail {
            screens: vec![screen],
            screen,
            headline,
        })
    }

    /// Reads the screen `page` shows, and adds it.
    fn show(&mut self, page: &Loaded) -> Result<(), PlayError> {
        let Shown { screen, headline } = read(page)?;
        if self.screen != screen {
            self.screens.push(screen);
        }
        self.screen = screen;
        self.headline = headline;
        Ok(())
    }

    fn played(self, app: App, bridge: Option<String>) -> Played {
        Played {
            app,
            screen: self.screen,
            screens: self.screens,
            bridge,
            headline: self.headline,
        }
    }
}

fn read(page: &Loaded) -> Result<Shown, PlayError> {
    screen::shown(&page.html).map_err(|reason| {
        PlayError::unexpected(&page.url, format!("HTTP {}, {reason}", page.status))
    })
}
