use leptos::prelude::*;

use crate::i18n::{Key, Locale};

/// The submit button of the checkout form: "Pay ¥128.00".
#[component]
pub fn PayButton(
    /// The formatted amount.
    #[prop(into)]
    amount: Signal<String>,
    /// True until a method is chosen.
    #[prop(into)]
    disabled: Signal<bool>,
    /// True while the payment is starting.
    #[prop(into)]
    busy: Signal<bool>,
    /// The shopper's language.
    locale: Locale,
) -> impl IntoView {
    let label = move || {
        if busy.get() {
            locale.text(Key::Creating).to_owned()
        } else if disabled.get() {
            locale.text(Key::ChooseFirst).to_owned()
        } else {
            format!("{} {}", locale.text(Key::Pay), amount.get())
        }
    };
    view! {
        <button
            class="ps-pay"
            part="pay-button"
            class:ps-pay--busy=busy
            type="submit"
            data-testid="pay-button"
            disabled=move || disabled.get() || busy.get()
            aria-busy=move || busy.get().to_string()
        >
            {label}
        </button>
    }
}
