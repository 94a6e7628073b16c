//! The designer preview page: a live checkout against a sandbox server's
//! demo session. The page plays the shop: it keeps its session for the
//! tab (sessionStorage), so that a shopper sent to a provider's page comes
//! back (`?payment_intent=…`) to the same checkout. Lives in the library so
//! that the binary stays thin.

use contract::DemoSession;
use leptos::either::EitherOf3;
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::api::demo_session;
use crate::components::Checkout;

/// The API base the preview talks to: same origin, as `trunk serve` proxies
/// it and the reference server serves the built page beside it.
const API_BASE: &str = "/api";

/// Where the tab keeps its demo session.
const STORAGE_KEY: &str = "payment-selector:demo-session";

/// A live checkout for a demo session: the tab's own when it comes back
/// from a provider, a fresh one otherwise.
#[component]
pub fn Preview() -> impl IntoView {
    let returning = crate::browser::query_parameter("payment_intent");
    let kept = returning.as_ref().and_then(|_| kept_session());
    let demo = RwSignal::new(kept.map(Ok));
    if demo.get_untracked().is_none() {
        spawn_local(async move {
            let session = demo_session(API_BASE, &crate::browser::page_url()).await;
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
        }),
        Some(Err(error)) => EitherOf3::C(view! {
            <p class="ps-error" role="alert" data-testid="error">
                "The preview needs the reference server in sandbox mode (cargo xtask serve): "
                {error.to_string()}
            </p>
        }),
    };
    view! {
        <main class="ps-preview">
            <h1 class="ps-preview__title">"payment-selector"</h1>
            {checkout}
        </main>
    }
}

fn kept_session() -> Option<DemoSession> {
    let text = crate::browser::session_storage()?
        .get_item(STORAGE_KEY)
        .ok()??;
    let value = js_sys::JSON::parse(&text).ok()?;
    crate::decode::from_js(value).ok()
}

fn keep_session(session: &DemoSession) {
    let Some(storage) = crate::browser::session_storage() else {
        return;
    };
    let text = format!(
        r#"{{"session_id":"{}","client_secret":"{}"}}"#,
        session.session_id, session.client_secret
    );
    // A full or refused storage only means a fresh session after a return.
    let _ = storage.set_item(STORAGE_KEY, &text);
}
