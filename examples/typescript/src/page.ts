// A page without a framework: the element, its property and its events.
import "payment-selector";
import type { CreatedCheckoutSession, PaymentSelectorElement } from "payment-selector";

export function showCheckout(answer: CreatedCheckoutSession, where: HTMLElement): PaymentSelectorElement {
  const checkout = document.createElement("payment-selector");
  checkout.setAttribute("api-base", "/api");
  checkout.session = answer;
  checkout.addEventListener("payment-selector:succeeded", (event) => {
    const intent: string = event.detail.intentId;
    location.assign("/thanks?intent=" + encodeURIComponent(intent));
  });
  where.append(checkout);
  return checkout;
}

// The events bubble out of the element, typed on any ancestor.
document.addEventListener("payment-selector:error", (event) => {
  console.error("the checkout could not start", event.detail.error);
});

const found = document.querySelector("payment-selector");
if (found?.session) {
  const total: number = found.session.session.amount.value;
  const methods: string[] = found.session.session.methods.map((method) => method.type);
  console.log(total, methods);
}

// @ts-expect-error: the session is the create-session answer, not its id.
found!.session = "cs_123";
