//! The designer preview page (`trunk serve`, `cargo xtask serve`): a live
//! checkout against a sandbox server's demo session, and one click away
//! the gallery of every state, which needs no server (`?gallery`).
//!
//! The live page plays the shop: it keeps its demo session for the tab
//! (sessionStorage), so a reload, or a shopper sent to a provider's page
//! and back (`?payment_intent=…`), finds the same order. "New demo order"
//! starts another. Lives in the library so that the binary stays thin.

use contract::DemoSession;
use leptos::either::{Either, EitherOf3};
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::api::demo_session;
use crate::browser;
use crate::components::Checkout;
use crate::gallery::Gallery;
use crate::i18n::Locale;

/// The API base the preview talks to: same origin, as `trunk serve` proxies
/// it and the reference server serves the built page beside it.
const API_BASE: &str = "/api";

/// Where the tab keeps its demo session.
const STORAGE_KEY: &str = "payment-selector:demo-session";

/// The preview: the live checkout, or with `?gallery` the gallery.
#[component]
pub fn Preview() -> impl IntoView {
    let gallery = web_sys::window()
        .and_then(|window| window.location().search().ok())
        .is_some_and(|search| {
            search
                .trim_start_matches('?')
                .split('&')
                .any(|p| p == "gallery")
        });
    let page = if gallery {
        Either::Left(view! { <Gallery /> })
    } else {
        Either::Right(view! { <Live /> })
    };
    let current = |here: bool| here.then_some("page");
    let words = Words::of(browser::preferred_locale());
    view! {
        <header class="ps-preview__bar">
            <h1 class="ps-preview__title">"payment-selector"</h1>
            <nav class="ps-preview__nav" aria-label=words.preview>
                <a href="./" aria-current=current(!gallery)>{words.live}</a>
                <a href="./?gallery" aria-current=current(gallery)>{words.gallery}</a>
            </nav>
        </header>
        <main class="ps-preview">{page}</main>
    }
}

/// The preview's own words, in the browser's language (the checkout's
/// are in `i18n`, which ships in the storefront package: these do not).
struct Words {
    preview: &'static str,
    live: &'static str,
    gallery: &'static str,
    new_order: &'static str,
}

impl Words {
    fn of(locale: Locale) -> Words {
        let [preview, live, gallery, new_order] = match locale {
            Locale::ZhCn => ["预览", "实时收银台", "状态一览", "新建演示订单"],
            Locale::ZhTw => ["預覽", "即時收銀台", "狀態一覽", "建立示範訂單"],
            Locale::En => ["Preview", "Live checkout", "Gallery", "New demo order"],
        };
        Words {
            preview,
            live,
            gallery,
            new_order,
        }
    }
}

/// A live checkout for the tab's demo session, or a fresh one.
#[component]
fn Live() -> impl IntoView {
    let returning = browser::query_parameter("payment_intent");
    let demo = RwSignal::new(kept_session().map(Ok));
    if demo.get_untracked().is_none() {
        spawn_local(async move {
            let session = demo_session(API_BASE, &browser::page_url()).await;
            if let Ok(session) = &session {
                keep_session(session);
            }
            demo.set(Some(session));
        });
    }
    let checkout = move || match demo.get() {
        None => EitherOf3::A(view! { <div class="ps-skeleton" aria-hidden="true"></div> }),
        Some(Ok(demo)) => EitherOf3::B(view! {
            <Checkout
                api_base=API_BASE
                session_id=demo.session_id
                client_secret=demo.client_secret
                returning_intent=returning.clone()
            />
            <button class="ps-preview__new" type="button" data-testid="new-order"
                on:click=|_| new_order()>
                {Words::of(browser::preferred_locale()).new_order}
            </button>
        }),
        Some(Err(error)) => EitherOf3::C(view! {
            <p class="ps-error" role="alert" data-testid="error">
                "The live checkout needs the reference server in sandbox mode (cargo xtask serve): "
                {error.to_string()}
                ". The "
                <a href="./?gallery">"gallery"</a>
                " needs no server."
            </p>
        }),
    };
    view! { <div class="ps-preview__live">{checkout}</div> }
}

/// Forgets the tab's demo session and opens the page afresh.
fn new_order() {
    if let Some(storage) = browser::session_storage() {
        let _ = storage.remove_item(STORAGE_KEY);
    }
    if let Some(window) = web_sys::window() {
        let _ = window.location().assign(&browser::page_url());
    }
}

fn kept_session() -> Option<DemoSession> {
    let text = browser::session_storage()?.get_item(STORAGE_KEY).ok()??;
    let value = js_sys::JSON::parse(&text).ok()?;
    crate::decode::from_js(value).ok()
}

fn keep_session(session: &DemoSession) {
    let Some(storage) = browser::session_storage() else {
        return;
    };
    let text = format!(
        r#"{{"session_id":{},"client_secret":{}}}"#,
        crate::api::json_string(&session.session_id),
        crate::api::json_string(&session.client_secret)
    );
    // A full or refused storage only means a fresh order after a reload.
    let _ = storage.set_item(STORAGE_KEY, &text);
}
