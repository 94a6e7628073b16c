// <payment-selector> in React 19's JSX. `import "payment-selector/react"`
// defines the element and brings these typings; they need React's own
// (@types/react 19), which a React storefront has.
//
// React 19 sets `session` as the element's property (it may do so before
// the element is defined) and the others as attributes. Listen to the
// events with a ref and addEventListener, or on an ancestor.

import type { DetailedHTMLProps, HTMLAttributes } from "react";
import type { CreatedCheckoutSession, PaymentSelectorAttributes, PaymentSelectorElement } from "./payment-selector";

export * from "./payment-selector";

/** The props of `<payment-selector>` in JSX. */
export type PaymentSelectorProps = DetailedHTMLProps<HTMLAttributes<PaymentSelectorElement>, PaymentSelectorElement> &
  PaymentSelectorAttributes & {
    /** The merchant server's create-session answer, set as the element's property. */
    session?: CreatedCheckoutSession;
    /** React 19 passes `class` to custom elements as written. */
    class?: string;
  };

declare module "react" {
  namespace JSX {
    interface IntrinsicElements {
      "payment-selector": PaymentSelectorProps;
    }
  }
}
