//! The designer preview page: a live checkout against a sandbox server's
//! demo session. Lives in the library so that the binary stays thin.

use contract::DemoSession;
use leptos::either::EitherOf3;
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::api::demo_session;
use crate::components::Checkout;
use crate::error::CheckoutError;

/// The API base the preview talks to: same origin, as `trunk serve` proxies
/// it and the reference server serves the built page beside it.
const API_BASE: &str = "/api";

/// A live checkout for a fresh demo session.
#[component]
pub fn Preview() -> impl IntoView {
    let demo = RwSignal::new(None::<Result<DemoSession, CheckoutError>>);
    spawn_local(async move { demo.set(Some(demo_session(API_BASE).await)) });
    let checkout = move || match demo.get() {
        None => EitherOf3::A(view! { <div class="ps-skeleton" aria-hidden="true"></div> }),
        Some(Ok(demo)) => EitherOf3::B(view! {
            <Checkout api_base=API_BASE session_id=demo.session_id client_secret=demo.client_secret />
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
