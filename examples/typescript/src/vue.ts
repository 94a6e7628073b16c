// A Vue 3 storefront: what its templates may pass to <payment-selector>
// (Volar checks templates against GlobalComponents).
import type { GlobalComponents } from "vue";
import "payment-selector/vue";
import type { CreatedCheckoutSession } from "payment-selector/vue";

type Props = InstanceType<GlobalComponents["payment-selector"]>["$props"];

export function props(answer: CreatedCheckoutSession): Props {
  return { session: answer, locale: "zh-TW", theme: "light", "api-base": "/api" };
}

// @ts-expect-error: a language the checkout does not speak
export const wrong: Props = { locale: "fr" };
