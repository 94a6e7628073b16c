use contract::{Availability, MethodKind, PaymentMethod};
use leptos::prelude::*;

use crate::i18n::{Key, Locale};
use crate::money;

/// The methods as one group of native radio buttons. Unavailable methods
/// stay visible, disabled, with the reason beside them.
#[component]
pub fn MethodList(
    /// The methods, in display order.
    #[prop(into)]
    methods: Signal<Vec<PaymentMethod>>,
    /// The chosen method.
    #[prop(into)]
    selected: Signal<Option<MethodKind>>,
    /// True while no method may be chosen (a payment is starting).
    #[prop(into)]
    disabled: Signal<bool>,
    /// The shopper's language.
    locale: Locale,
    /// Called with the method the shopper picks.
    on_select: Callback<MethodKind>,
) -> impl IntoView {
    let prefix = super::unique_prefix();
    let group = format!("{prefix}-method");
    let note_id = format!("{prefix}-note");
    let rows = move || {
        methods
            .get()
            .into_iter()
            .filter(|method| method.kind != MethodKind::Unsupported)
            .map(|method| {
                let kind = method.kind;
                let id = format!("{prefix}-{}", kind.as_str());
                let reason = match method.availability {
                    Availability::Available => None,
                    Availability::Unavailable {
                        available_from: Some(at),
                        ..
                    } => Some(locale.text_with(Key::AvailableFrom, &money::date(at, locale))),
                    Availability::Unavailable { reason, .. } => {
                        Some(locale.unavailable_reason(reason).to_owned())
                    }
                };
                let unavailable = reason.is_some();
                let reason_id = format!("{id}-reason");
                view! {
                    <div
                        class="ps-method"
                        part="method"
                        class:ps-method--unavailable=unavailable
                        data-testid=format!("method-{}", kind.as_str())
                    >
                        <input
                            class="ps-method__radio"
                            type="radio"
                            id=id.clone()
                            name=group.clone()
                            value=kind.as_str()
                            prop:checked=move || selected.get() == Some(kind)
                            checked=drawn_checked(selected, kind)
                            disabled=move || unavailable || disabled.get()
                            aria-describedby=unavailable.then(|| reason_id.clone())
                            on:change=move |_| on_select.run(kind)
                        />
                        <label class="ps-method__label" for=id>
                            <span class=format!("ps-method__icon ps-method__icon--{}", kind.as_str()) aria-hidden="true"></span>
                            <span class="ps-method__name">{locale.method_name(kind)}</span>
                        </label>
                        {reason.map(|text| view! {
                            <span class="ps-method__reason" id=reason_id.clone()>{text}</span>
                        })}
                    </div>
                }
            })
            .collect_view()
    };
    view! {
        <fieldset class="ps-methods" part="methods" data-testid="method-list" aria-describedby=note_id>
            <legend class="ps-methods__legend">{locale.text(Key::PaymentMethod)}</legend>
            <p class="ps-methods__note" id=note_id.clone() data-testid="no-surcharge">
                {locale.text(Key::NoSurcharge)}
            </p>
            {rows}
        </fieldset>
    }
}

/// The `checked` attribute beside the property, for the first screen a
/// server draws (it writes no properties); the browser's checkout needs the
/// property alone, and its wasm carries nothing for the attribute.
#[cfg(feature = "ssr")]
fn drawn_checked(
    selected: Signal<Option<MethodKind>>,
    kind: MethodKind,
) -> impl Fn() -> bool + Send + Sync + 'static {
    move || selected.get() == Some(kind)
}

#[cfg(not(feature = "ssr"))]
fn drawn_checked(_: Signal<Option<MethodKind>>, _: MethodKind) {}
