use leptos::prelude::*;

use crate::i18n::{Key, Locale};

/// Which ending (or wait for one) to show.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutcomeKind {
    /// Leaving for the provider's page, or opening a wallet's sheet.
    Leaving,
    /// That hand-off did not happen in time.
    Stalled,
    /// Asking the server how the payment went.
    Checking,
    /// The server will not tell this page how it went.
    Unconfirmed,
    /// Paid (or paid by another payment first, this one to be refunded:
    /// the same screen, whose headline says which).
    Succeeded,
    /// Declined, or closed by the provider.
    Failed,
    /// Canceled elsewhere.
    Canceled,
    /// The code or intent ran out of time.
    Expired,
}

/// What the shopper can do from an outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutcomeAction {
    /// Hand off again (navigate, or open the wallet's sheet).
    RetryHandOff,
    /// Ask the server again.
    CheckAgain,
    /// Make a new code for the same method.
    RefreshCode,
    /// Go back to the method list.
    ChooseAnother,
}

/// The end of a payment (or the wait for it), with what can be done next.
#[component]
pub fn Outcome(
    /// Which outcome.
    kind: OutcomeKind,
    /// What to say of it (a failure's reason, say), in the shopper's
    /// language; it may change while the screen stays.
    #[prop(into)]
    headline: Signal<Option<&'static str>>,
    /// The formatted amount.
    #[prop(into)]
    amount: Signal<String>,
    /// The shopper's language.
    locale: Locale,
    /// Called with the action the shopper picks.
    on_action: Callback<OutcomeAction>,
) -> impl IntoView {
    let (tone, actions): (&str, &[(OutcomeAction, Key)]) = match kind {
        OutcomeKind::Leaving => ("pending", &[]),
        OutcomeKind::Stalled => (
            "pending",
            &[
                (OutcomeAction::RetryHandOff, Key::TryAgain),
                (OutcomeAction::ChooseAnother, Key::ChooseAnother),
            ],
        ),
        OutcomeKind::Unconfirmed => ("pending", &[(OutcomeAction::CheckAgain, Key::CheckAgain)]),
        OutcomeKind::Checking => (
            "pending",
            &[
                (OutcomeAction::CheckAgain, Key::CheckAgain),
                (OutcomeAction::ChooseAnother, Key::ChooseAnother),
            ],
        ),
        OutcomeKind::Succeeded => ("success", &[]),
        OutcomeKind::Failed => ("failure", &[(OutcomeAction::ChooseAnother, Key::TryAgain)]),
        // Canceled is no fault: it is said without the alarm colour.
        OutcomeKind::Canceled => (
            "pending",
            &[(OutcomeAction::ChooseAnother, Key::ChooseAnother)],
        ),
        OutcomeKind::Expired => (
            "failure",
            &[
                (OutcomeAction::RefreshCode, Key::RefreshCode),
                (OutcomeAction::ChooseAnother, Key::ChooseAnother),
            ],
        ),
    };
    let buttons = actions
        .iter()
        .map(|&(action, label)| {
            view! {
                <button
                    class="ps-button"
                    class:ps-button--secondary=action == OutcomeAction::ChooseAnother
                    type="button"
                    data-testid=action_testid(action)
                    on:click=move |_| on_action.run(action)
                >
                    {locale.text(label)}
                </button>
            }
        })
        .collect_view();
    view! {
        <div class=format!("ps-outcome ps-outcome--{tone}") part="outcome" data-testid="outcome">
            <h2 class="ps-outcome__headline" data-testid="outcome-headline" tabindex="-1" data-ps-focus>
                {headline}
            </h2>
            <p class="ps-outcome__amount">{amount}</p>
            <div class="ps-outcome__actions">{buttons}</div>
        </div>
    }
}

fn action_testid(action: OutcomeAction) -> &'static str {
    match action {
        OutcomeAction::RetryHandOff => "retry-hand-off",
        OutcomeAction::CheckAgain => "check-again",
        OutcomeAction::RefreshCode => "refresh-code",
        OutcomeAction::ChooseAnother => "choose-another",
    }
}
