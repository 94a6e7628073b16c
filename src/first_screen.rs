//! The checkout's first screen as HTML, drawn natively by the same views
//! the browser runs (Leptos renders them to a string with the `ssr`
//! feature), for a storefront's server to write into the page inside
//! `<payment-selector>`: the amount, the methods and their radio buttons
//! show and can be chosen before any script has arrived. The element's
//! loader takes the screen over when the wasm is in, keeping the choice.
//!
//! ```
//! # use contract::*;
//! # use payment_selector::i18n::Locale;
//! # let session = CheckoutSession {
//! #     id: "cs_1".into(), amount: Money::new(12800, Currency::CNY),
//! #     merchant_name: "Demo Tea House".into(), expires_at: 0, livemode: false,
//! #     status: SessionStatus::Open, paid_intent: None, methods: vec![],
//! # };
//! use payment_selector::first_screen::{render, Styles};
//! let html = render(&session, Locale::ZhCn, Styles::Linked("/ps/payment-selector.css"));
//! assert!(html.starts_with(r#"<template shadowrootmode="open"><link rel="stylesheet""#));
//! assert!(html.contains("¥128.00"));
//! ```

use contract::CheckoutSession;
use leptos::prelude::*;

use crate::checkout::{Checkout, Event};
use crate::components::{escape, CheckoutFixture};
use crate::i18n::{Key, Locale};
use crate::money;

/// Where the first screen's styles come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Styles<'a> {
    /// In a `<style>` in the template ([`inline_styles`]): the screen
    /// paints with the page, with no request before it. A page under a
    /// Content-Security-Policy allows it by the SHA-256 of
    /// [`inline_styles`] in `style-src`.
    Inline,
    /// A `<link rel="stylesheet">` to the package's stylesheet at this
    /// address: cached across pages, one request before the screen paints.
    Linked(&'a str),
}

/// The stylesheet as the first screen inlines it: the package's own
/// (`style/payment-selector.css`), without its comments and runs of
/// white space.
pub fn inline_styles() -> &'static str {
    static STYLES: std::sync::LazyLock<String> =
        std::sync::LazyLock::new(|| minify(include_str!("../style/payment-selector.css")));
    &STYLES
}

/// The CSS without comments, and each run of white space one space (the
/// stylesheet has no string that holds `/*` or white space that matters).
fn minify(css: &str) -> String {
    let mut out = String::with_capacity(css.len());
    let mut rest = css;
    while let Some(start) = rest.find("/*") {
        out.push_str(&rest[..start]);
        // A comment separates what is either side of it.
        out.push(' ');
        rest = rest[start..]
            .split_once("*/")
            .map_or("", |(_, after)| after);
    }
    out.push_str(rest);
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The element's shadow root as a declarative template: the styles, the
/// checkout choosing a method for `session` in `locale`, and the notice a
/// shopper gets if the package never comes.
pub fn render(session: &CheckoutSession, locale: Locale, styles: Styles) -> String {
    let mut state = Checkout::start().0;
    state.update(Event::SessionLoaded(session.clone()));
    let owner = Owner::new();
    let checkout = owner.with(|| untrack(|| view! { <CheckoutFixture state locale /> }.to_html()));
    format!(
        concat!(
            r#"<template shadowrootmode="open">"#,
            "{styles}",
            r#"<div data-ps-first-screen data-ps-pay="{pay}" data-ps-busy="{busy}">{checkout}</div>"#,
            r#"<p class="ps-unloaded" part="error" role="alert" lang="{tag}">{unloaded}</p>"#,
            "</template>"
        ),
        styles = match styles {
            Styles::Inline => format!("<style>{}</style>", inline_styles()),
            Styles::Linked(href) => format!(r#"<link rel="stylesheet" href="{}">"#, escape(href)),
        },
        checkout = checkout,
        // What Pay says once a method is chosen, and once tapped, before
        // the checkout has taken over.
        pay = escape(&format!(
            "{} {}",
            locale.text(Key::Pay),
            money::format(&session.amount, locale)
        )),
        busy = escape(locale.text(Key::Creating)),
        tag = locale.tag(),
        unloaded = unloaded(locale),
    )
}

/// What a shopper reads if the checkout's script or wasm never runs (a
/// browser without WebAssembly, a blocked download). Only a server writes
/// it, so it is not among the wasm's texts.
fn unloaded(locale: Locale) -> &'static str {
    match locale {
        Locale::ZhCn => "支付组件未能加载，请刷新页面，或换用其他浏览器后重试",
        Locale::ZhTw => "付款元件未能載入，請重新整理頁面，或換用其他瀏覽器後重試",
        Locale::En => {
            "The checkout could not load in this browser. Reload the page, or try another browser."
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inlined_styles_keep_every_rule_and_drop_comments() {
        assert_eq!(
            minify("a  {\n  b: c; /* why */\n}\n/* x */ d{}"),
            "a { b: c; } d{}"
        );
        assert_eq!(minify("a/**/b{}"), "a b{}");
        let styles = inline_styles();
        assert!(!styles.contains("/*") && !styles.contains('\n'));
        let rules = |css: &str| css.matches('{').count();
        let source = include_str!("../style/payment-selector.css");
        assert_eq!(rules(styles), rules(source));
        assert!(styles.contains(":host { display: block; }"), "{styles}");
    }
}
