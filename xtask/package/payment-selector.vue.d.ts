// <payment-selector> in Vue 3 templates (Volar / vue-tsc).
// `import "payment-selector/vue"` defines the element and brings these
// typings; they need Vue's own, which a Vue storefront has. Tell Vue's
// compiler the tag is a custom element
// (`compilerOptions.isCustomElement: (tag) => tag === "payment-selector"`),
// then `<payment-selector :session="answer" locale="zh-CN"
// @payment-selector:succeeded="paid" />` sets `session` as the element's
// property and listens to its events.

import type { DefineComponent } from "vue";
import type { CreatedCheckoutSession, PaymentSelectorAttributes, PaymentSelectorEventMap } from "./payment-selector";

export * from "./payment-selector";

/** The props of `<payment-selector>` in a template. */
export type PaymentSelectorVueProps = PaymentSelectorAttributes & {
  /** The merchant server's create-session answer, set as the element's property. */
  session?: CreatedCheckoutSession;
};

/** The element's events, as Vue's emits. */
export type PaymentSelectorVueEmits = {
  [K in keyof PaymentSelectorEventMap]: (event: PaymentSelectorEventMap[K]) => void;
};

declare module "vue" {
  interface GlobalComponents {
    "payment-selector": DefineComponent<PaymentSelectorVueProps, {}, {}, {}, {}, {}, {}, PaymentSelectorVueEmits>;
  }
}
