use contract::MethodKind;
use leptos::prelude::*;

use super::QrCode;
use crate::i18n::{Key, Locale};

/// The desktop hand-off: the code to scan with a phone, the amount, the time
/// left, and a way back to the method list.
#[component]
pub fn QrPanel(
    /// The method whose app scans the code.
    method: MethodKind,
    /// What the code encodes.
    #[prop(into)]
    payload: String,
    /// Seconds until the code stops working.
    #[prop(into)]
    seconds_left: Signal<i64>,
    /// The formatted amount.
    #[prop(into)]
    amount: Signal<String>,
    /// True on a sandbox server: offer to play the shopper's phone.
    sandbox: bool,
    /// The shopper's language.
    locale: Locale,
    /// Sandbox only: scan this code and pay (`false`) or decline (`true`).
    on_simulate_scan: Callback<bool>,
    /// Sandbox only: true while a simulated scan is under way (its buttons
    /// wait); the checkout sets it back when the sandbox refused the scan.
    simulating: RwSignal<bool>,
    /// Go back to the method list (the code is canceled).
    on_choose_another: Callback<()>,
) -> impl IntoView {
    let instruction = match method {
        MethodKind::WechatPay => Key::ScanWithWechat,
        MethodKind::Alipay => Key::ScanWithAlipay,
        MethodKind::Unionpay => Key::ScanWithQuickpass,
        _ => Key::ScanWithApp,
    };
    view! {
        <div class="ps-qr" part="qr" data-testid="qr-panel">
            <h2 class="ps-qr__instruction" tabindex="-1" data-ps-focus>{locale.text(instruction)}</h2>
            <p class="ps-qr__amount" data-testid="qr-amount">{amount}</p>
            <QrCode payload=payload label=locale.text(Key::QrCodeLabel) />
            // The countdown is read on request, not announced every second.
            <p class="ps-qr__countdown" data-testid="countdown" aria-live="off">
                {move || locale.expires_in(seconds_left.get())}
            </p>
            {sandbox.then(|| {
                // `disabled` is applied on the next frame; a fast second click
                // must not scan twice.
                let simulate = move |decline: bool| {
                    if !simulating.get_untracked() {
                        simulating.set(true);
                        on_simulate_scan.run(decline);
                    }
                };
                view! {
                    <div class="ps-qr__sandbox">
                        <button class="ps-button ps-button--sandbox" type="button"
                            data-testid="simulate-scan" disabled=simulating
                            on:click=move |_| simulate(false)>
                            {locale.text(Key::SimulateScan)}
                        </button>
                        <button class="ps-button ps-button--sandbox" type="button"
                            data-testid="simulate-decline" disabled=simulating
                            on:click=move |_| simulate(true)>
                            {locale.text(Key::SimulateDecline)}
                        </button>
                    </div>
                }
            })}
            <button
                class="ps-button ps-button--secondary"
                type="button"
                data-testid="choose-another"
                on:click=move |_| on_choose_another.run(())
            >
                {locale.text(Key::ChooseAnother)}
            </button>
        </div>
    }
}
