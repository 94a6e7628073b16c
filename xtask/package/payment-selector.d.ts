// Types of <payment-selector>, the checkout element of the payment-selector
// package. `import "payment-selector"` (or the classic script,
// payment-selector.js) defines the element; this module exports only types.
// React's and Vue's typings are in payment-selector.react.d.ts and
// payment-selector.vue.d.ts (`import "payment-selector/react"` or
// `"payment-selector/vue"`).

// The merchant server's create-session answer, as the HTTP contract
// (openapi.json) has it.
// CONTRACT TYPES

/**
 * A language the checkout speaks: `zh-CN`, `zh-TW` or `en`, or a BCP 47 tag
 * of Chinese or English (`zh-HK` and `zh-Hant` read as `zh-TW`, other
 * Chinese tags as `zh-CN`).
 */
export type PaymentSelectorLocale = "zh-CN" | "zh-TW" | "en" | `zh-${string}` | `en-${string}`;

/** A colour preset the element is forced into; without one it follows the system's. */
export type PaymentSelectorTheme = "light" | "dark";

/** The element's attributes, as markup and JSX write them. */
export interface PaymentSelectorAttributes {
  /** The checkout session to pay (with `client-secret`, when `session` is not set). */
  "session-id"?: string;
  /** The session's client secret, from the merchant server's create-session answer. */
  "client-secret"?: string;
  /** The base URL of the merchant backend's contract; `/api` when absent. */
  "api-base"?: string;
  /** The shopper's language; the browser's languages decide when absent. A change redraws the checkout in place. */
  locale?: PaymentSelectorLocale;
  /** Forces a colour preset; without it the checkout follows the system's. */
  theme?: PaymentSelectorTheme;
}

/** How a payment ended. */
export type PaymentSelectorEnding = "succeeded" | "failed" | "canceled" | "expired";

/** The detail of the events that tell how a payment ended. */
export interface PaymentSelectorEndingDetail {
  /** The payment intent (`pi_…`): ask your server how it stands; it knows from the webhook. */
  intentId: string;
}

/**
 * The detail of `payment-selector:error`: the checkout could not start
 * because its WebAssembly or stylesheet could not be loaded or run (a
 * network failure, an integrity mismatch, a Content-Security-Policy
 * without `'wasm-unsafe-eval'`, a browser without WebAssembly). The element
 * shows nothing; the next change of its session or attributes tries again.
 * Offer the shopper a reload or another way to pay.
 */
export interface PaymentSelectorErrorDetail {
  /** What was thrown, as the browser gave it (usually an `Error`). */
  error: unknown;
}

/** The element's events: they bubble and leave its shadow root (composed). */
export interface PaymentSelectorEventMap {
  /** The payment succeeded. */
  "payment-selector:succeeded": CustomEvent<PaymentSelectorEndingDetail>;
  /** The provider declined the payment, or it failed. */
  "payment-selector:failed": CustomEvent<PaymentSelectorEndingDetail>;
  /** The shopper gave the payment up. */
  "payment-selector:canceled": CustomEvent<PaymentSelectorEndingDetail>;
  /** The payment ran out of time. */
  "payment-selector:expired": CustomEvent<PaymentSelectorEndingDetail>;
  /** The checkout could not start: see {@link PaymentSelectorErrorDetail}. */
  "payment-selector:error": CustomEvent<PaymentSelectorErrorDetail>;
}

/** `<payment-selector>`. */
export interface PaymentSelectorElement extends HTMLElement {
  /**
   * The merchant server's create-session answer, as it came: the methods
   * show without a round trip. Setting it starts a checkout of that
   * session; it may be set before the element is defined.
   */
  session: CreatedCheckoutSession | undefined;
  addEventListener<K extends keyof PaymentSelectorEventMap>(
    type: K,
    listener: (this: PaymentSelectorElement, event: PaymentSelectorEventMap[K]) => unknown,
    options?: boolean | AddEventListenerOptions,
  ): void;
  addEventListener<K extends keyof HTMLElementEventMap>(
    type: K,
    listener: (this: PaymentSelectorElement, event: HTMLElementEventMap[K]) => unknown,
    options?: boolean | AddEventListenerOptions,
  ): void;
  addEventListener(
    type: string,
    listener: EventListenerOrEventListenerObject,
    options?: boolean | AddEventListenerOptions,
  ): void;
  removeEventListener<K extends keyof PaymentSelectorEventMap>(
    type: K,
    listener: (this: PaymentSelectorElement, event: PaymentSelectorEventMap[K]) => unknown,
    options?: boolean | EventListenerOptions,
  ): void;
  removeEventListener<K extends keyof HTMLElementEventMap>(
    type: K,
    listener: (this: PaymentSelectorElement, event: HTMLElementEventMap[K]) => unknown,
    options?: boolean | EventListenerOptions,
  ): void;
  removeEventListener(
    type: string,
    listener: EventListenerOrEventListenerObject,
    options?: boolean | EventListenerOptions,
  ): void;
}

declare global {
  interface HTMLElementTagNameMap {
    "payment-selector": PaymentSelectorElement;
  }
  // The events bubble out of the element: any ancestor, the document and
  // the window hear them, typed.
  interface GlobalEventHandlersEventMap extends PaymentSelectorEventMap {}
}
