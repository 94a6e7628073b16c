// A React 19 storefront: the element in JSX, its property set by React,
// its events through a ref.
import { useEffect, useRef } from "react";
import "payment-selector/react";
import type { CreatedCheckoutSession, PaymentSelectorElement } from "payment-selector/react";

export function Checkout({ answer, onPaid }: { answer: CreatedCheckoutSession; onPaid: (intentId: string) => void }) {
  const element = useRef<PaymentSelectorElement>(null);
  useEffect(() => {
    const checkout = element.current;
    if (!checkout) return;
    const paid = (event: CustomEvent<{ intentId: string }>) => onPaid(event.detail.intentId);
    checkout.addEventListener("payment-selector:succeeded", paid);
    return () => checkout.removeEventListener("payment-selector:succeeded", paid);
  }, [onPaid]);
  return <payment-selector ref={element} session={answer} api-base="/api" locale="zh-CN" theme="dark" />;
}

export function ByAttributes() {
  return (
    <>
      <payment-selector session-id="cs_123" client-secret="cs_123_secret_abc" locale="zh-HK" />
      {/* @ts-expect-error: a language the checkout does not speak */}
      <payment-selector session-id="cs_123" client-secret="cs_123_secret_abc" locale="fr" />
      {/* @ts-expect-error: no such preset */}
      <payment-selector session-id="cs_123" client-secret="cs_123_secret_abc" theme="sepia" />
    </>
  );
}
