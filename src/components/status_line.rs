use leptos::prelude::*;

/// A polite live region: screen readers announce each new status once. It
/// changes only when the checkout moves on, never each second.
#[component]
pub fn StatusLine(
    /// The status, or nothing.
    #[prop(into)]
    text: Signal<Option<&'static str>>,
) -> impl IntoView {
    view! {
        <p class="ps-status" role="status" aria-live="polite" data-testid="status">
            {text}
        </p>
    }
}
