// @ts-check
// The shop's own script. A real shop's server creates the checkout session
// (POST /api/checkout-sessions with its secret key) and writes its answer,
// or better the checkout's first screen, into the page (server.mjs does),
// and renders the same session again when the shopper comes back from a
// provider's page to the session's return_url (`?payment_intent=pi_…`):
// that payment belongs to it, and the checkout asks the server how it went
// with that session's client secret. Served as static files, with nothing
// in the element, this demo asks a sandbox server for a session instead,
// and keeps it in the tab's sessionStorage for the same reason; a new one
// only when there is none yet or it has ended. Then it listens for how the
// payment ended, as a shop would to show its own next step.
const checkout = document.querySelector("payment-selector");
const result = document.querySelector(".shop__result");
const KEPT = "demo-tea-house:session";

/** @typedef {{ session_id: string, client_secret: string }} DemoSession */

/** @returns {DemoSession | null} */
function keptSession() {
  try {
    const kept = JSON.parse(sessionStorage.getItem(KEPT) || "null");
    return kept && typeof kept.session_id === "string" && typeof kept.client_secret === "string" ? kept : null;
  } catch (_) {
    return null;
  }
}

/**
 * True while the session can still be paid (read as the browser may read
 * it, with its client secret).
 * @param {DemoSession} demo
 */
async function stillOpen(demo) {
  const answer = await fetch("/api/checkout-sessions/" + encodeURIComponent(demo.session_id), {
    headers: { Authorization: "Bearer " + demo.client_secret },
  });
  return answer.ok && (await answer.json()).status === "open";
}

/** @returns {Promise<DemoSession>} */
async function demoSession() {
  const kept = keptSession();
  const returning = new URLSearchParams(location.search).has("payment_intent");
  if (kept && (returning || (await stillOpen(kept)))) return kept;
  const answer = await fetch("/api/dev/demo-session", { method: "POST" });
  if (!answer.ok) throw new Error("demo session: " + answer.status);
  /** @type {DemoSession} */
  const demo = await answer.json();
  sessionStorage.setItem(KEPT, JSON.stringify(demo));
  return demo;
}

/** True when the shop's server wrote the session (or its first screen) into the element. */
function givenByServer() {
  return !!checkout && (checkout.hasAttribute("session-id") || !!checkout.querySelector('script[type="application/json"]'));
}

if (checkout && result && !givenByServer()) {
  demoSession()
    .then((demo) => {
      checkout.setAttribute("session-id", demo.session_id);
      checkout.setAttribute("client-secret", demo.client_secret);
    })
    .catch(() => {
      result.textContent = "This demo needs the reference server in sandbox mode: cargo xtask serve.";
    });
}

if (checkout && result) {
  for (const ending of /** @type {const} */ (["succeeded", "failed", "canceled", "expired"])) {
    checkout.addEventListener(/** @type {const} */ (`payment-selector:${ending}`), (event) => {
      result.textContent = "Payment " + ending + " (" + event.detail.intentId + ")";
    });
  }
  checkout.addEventListener("payment-selector:error", () => {
    result.textContent = "The checkout could not load. Reload the page, or pay another way.";
  });
}
