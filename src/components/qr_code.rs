use std::fmt::Write;

use leptos::prelude::*;
use qrcodegen::{Mask, QrCodeEcc, QrSegment, Version};

/// `payload` as a QR code: an SVG drawn here from the code's modules (never
/// markup from the server), with no inline styles. Colours come from CSS.
#[component]
pub fn QrCode(
    /// The text to encode; drawn once, as a code never changes (a new code
    /// is a new intent, and a new panel).
    #[prop(into)]
    payload: String,
    /// What a screen reader says for the picture.
    label: &'static str,
) -> impl IntoView {
    let svg = qr_svg(&payload, label);
    // The markup is built from the QR matrix and a fixed label only, so
    // setting it whole is safe, and far smaller than a typed view.
    view! { <div class="ps-qr__frame" inner_html=svg></div> }
}

/// The SVG for `payload`; a short alert when it cannot be encoded.
pub fn qr_svg(payload: &str, label: &str) -> String {
    let label = escape(label);
    match qr_path(payload) {
        Some((size, path)) => {
            let side = size + 8;
            // A quiet zone of four modules, as scanners expect.
            format!(
                r#"<svg class="ps-qr__code" data-testid="qr-code" role="img" aria-label="{label}" viewBox="-4 -4 {side} {side}" shape-rendering="crispEdges" xmlns="http://www.w3.org/2000/svg"><rect class="ps-qr__light" x="-4" y="-4" width="{side}" height="{side}"/><path class="ps-qr__dark" d="{path}"/></svg>"#
            )
        }
        None => format!(r#"<p class="ps-qr__invalid" role="alert">{label}</p>"#),
    }
}

/// `payload` as the component encodes it: one byte-mode segment, error
/// correction level M, the smallest version (1 to 40) that holds it, and
/// `mask`, or with `None` the mask of lowest penalty (what the component
/// draws); `None` when the payload is longer than level M holds (2331
/// bytes).
///
/// ```
/// use payment_selector::components::encode_qr;
///
/// # fn main() -> Result<(), &'static str> {
/// let code = encode_qr("weixin://wxpay/bizpayurl?pr=AbCdEfG1234", None)
///     .ok_or("longer than level M holds")?;
/// assert_eq!(code.size(), 29);
/// assert!(code.get_module(0, 0), "a finder pattern's corner is dark");
/// # Ok(())
/// # }
/// ```
pub fn encode_qr(payload: &str, mask: Option<Mask>) -> Option<qrcodegen::QrCode> {
    let segment = QrSegment::make_bytes(payload.as_bytes());
    // Level M even where the version chosen would have room for more
    // (qrcodegen's `boostecl`): the level these codes have always carried.
    qrcodegen::QrCode::encode_segments_advanced(
        &[segment],
        QrCodeEcc::Medium,
        Version::MIN,
        Version::MAX,
        mask,
        false,
    )
    .ok()
}

/// The code's width in modules and an SVG path with one rectangle per run
/// of dark modules in a row; `None` when the payload is too long.
pub fn qr_path(payload: &str) -> Option<(i32, String)> {
    let code = encode_qr(payload, None)?;
    let width = code.size();
    let mut path = String::new();
    for y in 0..width {
        let mut x = 0;
        while x < width {
            let run = (x..width).take_while(|&i| code.get_module(i, y)).count();
            if run > 0 {
                let _ = write!(path, "M{x} {y}h{run}v1h-{run}z");
            }
            x += run.max(1) as i32;
        }
    }
    Some((width, path))
}

/// `text` safe in HTML's text and in a double-quoted attribute.
pub(crate) fn escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => escaped.push_str("&amp;"),
            '"' => escaped.push_str("&quot;"),
            '<' => escaped.push_str("&lt;"),
            c => escaped.push(c),
        }
    }
    escaped
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_wechat_code_url_fits_a_small_code() {
        let (width, path) = qr_path("weixin://wxpay/bizpayurl?pr=AbCdEfG1234").unwrap();
        assert!((21..=41).contains(&width), "width {width}");
        assert!(path.starts_with('M') && path.ends_with('z'));
    }

    #[test]
    fn the_svg_is_labelled_and_has_a_quiet_zone() {
        let svg = qr_svg("weixin://wxpay/bizpayurl?pr=x", "Payment \"QR\" code");
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
        assert!(svg.contains(r#"aria-label="Payment &quot;QR&quot; code""#));
        assert!(svg.contains(r#"viewBox="-4 -4 "#));
        assert!(
            !svg.contains("style="),
            "no inline styles under a strict CSP"
        );
    }

    #[test]
    fn an_impossibly_long_payload_is_refused_not_panicked() {
        assert!(qr_path(&"x".repeat(8_000)).is_none());
        assert!(qr_svg(&"x".repeat(8_000), "QR").contains("role=\"alert\""));
    }
}
