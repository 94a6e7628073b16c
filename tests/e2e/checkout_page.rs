//! The checkout as a shopper sees it: what is on screen and what can be
//! pressed, found by the component's `data-testid` hooks.

use std::time::Duration;

use fantoccini::elements::Element;
use fantoccini::{Client, Locator};

/// A checkout on a page: the preview's own, or one inside a
/// `<payment-selector>` element's shadow root.
pub struct CheckoutPage {
    client: Client,
    /// The custom element whose shadow root holds the checkout, if any.
    host: Option<&'static str>,
}

fn testid(id: &str) -> String {
    format!("[data-testid={id}]")
}

impl CheckoutPage {
    /// Opens the page at `url` and waits for the methods to show.
    pub async fn open(client: &Client, url: &str) -> CheckoutPage {
        client.goto(url).await.expect("the page opens");
        let page = CheckoutPage {
            client: client.clone(),
            host: None,
        };
        page.wait_for("method-list").await;
        page
    }

    /// The checkout of the page the browser is on now (after a provider
    /// sent the shopper back, say).
    pub fn returned(client: &Client) -> CheckoutPage {
        CheckoutPage {
            client: client.clone(),
            host: None,
        }
    }

    /// The `<payment-selector>` element's checkout on the page the browser
    /// is on now (after a provider sent the shopper back, say).
    pub fn returned_element(client: &Client) -> CheckoutPage {
        CheckoutPage {
            client: client.clone(),
            host: Some("payment-selector"),
        }
    }

    /// Opens a page whose checkout is the `<payment-selector>` element and
    /// waits for its methods to show.
    pub async fn open_element(client: &Client, url: &str) -> CheckoutPage {
        client.goto(url).await.expect("the page opens");
        let page = CheckoutPage {
            client: client.clone(),
            host: Some("payment-selector"),
        };
        page.wait_for("method-list").await;
        page
    }

    /// The element with this test id, if it is there now.
    async fn find(&self, id: &str) -> Option<Element> {
        let selector = testid(id);
        match self.host {
            None => self.client.find(Locator::Css(&selector)).await.ok(),
            Some(host) => {
                let host = self.client.find(Locator::Css(host)).await.ok()?;
                let root = host.shadow_root().await.ok()?;
                root.find(Locator::Css(&selector)).await.ok()
            }
        }
    }

    /// Waits (up to 10 s) for the element with this test id.
    pub async fn wait_for(&self, id: &str) -> Element {
        for _ in 0..100 {
            if let Some(element) = self.find(id).await {
                return element;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("{id} did not appear in 10 s");
    }

    /// Waits (up to 10 s) for the element with this test id to be enabled,
    /// or disabled.
    pub async fn wait_until_enabled(&self, id: &str, enabled: bool) {
        for _ in 0..100 {
            if self.wait_for(id).await.is_enabled().await.ok() == Some(enabled) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!(
            "{id} was not {} in 10 s",
            if enabled { "enabled" } else { "disabled" }
        );
    }

    /// True if an element with this test id is on the page now.
    pub async fn shows(&self, id: &str) -> bool {
        self.find(id).await.is_some()
    }

    /// The visible text of an element.
    pub async fn text(&self, id: &str) -> String {
        self.wait_for(id).await.text().await.expect("its text")
    }

    /// A computed style of an element, such as `"rgb(7, 131, 64)"`.
    pub async fn style(&self, id: &str, property: &str) -> String {
        self.wait_for(id)
            .await
            .css_value(property)
            .await
            .expect("the style is read")
    }

    /// The order total in the header.
    pub async fn amount(&self) -> String {
        self.text("amount").await
    }

    /// The methods on offer, as (wire name, label, selectable).
    pub async fn methods(&self) -> Vec<(String, String, bool)> {
        let list = self.wait_for("method-list").await;
        let mut methods = vec![];
        for radio in list
            .find_all(Locator::Css("input[type=radio]"))
            .await
            .expect("radios")
        {
            let value = radio.attr("value").await.ok().flatten().unwrap_or_default();
            let enabled = radio.is_enabled().await.unwrap_or(false);
            let label = self.text(&format!("method-{value}")).await;
            methods.push((value, label, enabled));
        }
        methods
    }

    /// The wire name of the checked method, if any.
    pub async fn chosen(&self) -> Option<String> {
        let list = self.wait_for("method-list").await;
        let checked = list
            .find(Locator::Css("input[type=radio]:checked"))
            .await
            .ok()?;
        checked.attr("value").await.ok().flatten()
    }

    /// Picks a method by clicking its label, as a shopper would.
    pub async fn choose(&self, method: &str) {
        let row = self.wait_for(&format!("method-{method}")).await;
        row.find(Locator::Css("label"))
            .await
            .expect("a label")
            .click()
            .await
            .expect("a click");
    }

    /// True if the Pay button can be pressed.
    pub async fn can_pay(&self) -> bool {
        self.wait_for("pay-button")
            .await
            .is_enabled()
            .await
            .unwrap_or(false)
    }

    /// Presses Pay.
    pub async fn pay(&self) {
        self.wait_for("pay-button")
            .await
            .click()
            .await
            .expect("Pay is pressed");
    }

    /// Presses a button by test id.
    pub async fn press(&self, id: &str) {
        self.wait_for(id)
            .await
            .click()
            .await
            .unwrap_or_else(|e| panic!("{id} not pressed: {e}"));
    }

    /// Reads the QR code on screen the way a phone would: from pixels.
    pub async fn scan_qr_code(&self) -> String {
        // As a shopper would: once the screen is whole (after a reload the
        // code can come back before the amount does).
        self.wait_for_text("qr-amount", |amount| !amount.is_empty())
            .await;
        let code = self.wait_for("qr-code").await;
        let png = code.screenshot().await.expect("a screenshot of the code");
        decode_qr(&png).expect("a readable QR code")
    }

    /// Waits until the element's text satisfies `done`, and returns it.
    pub async fn wait_for_text(&self, id: &str, done: impl Fn(&str) -> bool) -> String {
        self.wait_for_text_within(id, done, Duration::from_secs(10))
            .await
    }

    /// As [`CheckoutPage::wait_for_text`], for as long as `within`.
    pub async fn wait_for_text_within(
        &self,
        id: &str,
        done: impl Fn(&str) -> bool,
        within: Duration,
    ) -> String {
        let mut last = String::new();
        for _ in 0..within.as_millis() / 100 {
            if let Some(element) = self.find(id).await {
                last = element.text().await.unwrap_or_default();
                if done(&last) {
                    return last;
                }
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("{id} never read as expected; last: {last:?}");
    }
}

/// Decodes the first QR code in a PNG.
fn decode_qr(png_bytes: &[u8]) -> Result<String, String> {
    let mut reader = png::Decoder::new(png_bytes)
        .read_info()
        .map_err(|e| e.to_string())?;
    let mut buffer = vec![0; reader.output_buffer_size()];
    let frame = reader.next_frame(&mut buffer).map_err(|e| e.to_string())?;
    let channels = frame.color_type.samples();
    let (width, height) = (frame.width as usize, frame.height as usize);
    let pixels = &buffer[..frame.buffer_size()];
    let mut image = rqrr::PreparedImage::prepare_from_greyscale(width, height, |x, y| {
        let at = (y * width + x) * channels;
        let rgb = &pixels[at..at + channels.min(3)];
        (rgb.iter().map(|&c| u32::from(c)).sum::<u32>() / rgb.len() as u32) as u8
    });
    let grids = image.detect_grids();
    let grid = grids.first().ok_or("no QR code in the picture")?;
    grid.decode()
        .map(|(_, content)| content)
        .map_err(|e| e.to_string())
}
