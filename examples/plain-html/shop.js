// The shop's own script. A real shop's server creates the checkout session
// (POST /api/checkout-sessions with its secret key) and writes the answer
// into the page; this demo asks a sandbox server for one. Then it listens
// for how the payment ended, as a shop would to show its own next step.
const checkout = document.querySelector("payment-selector");
const result = document.querySelector(".shop__result");

fetch("/api/dev/demo-session", { method: "POST" })
  .then((answer) => (answer.ok ? answer.json() : Promise.reject(answer.status)))
  .then((demo) => {
    checkout.setAttribute("session-id", demo.session_id);
    checkout.setAttribute("client-secret", demo.client_secret);
  })
  .catch(() => {
    result.textContent = "This demo needs the reference server in sandbox mode: cargo xtask serve.";
  });

for (const ending of ["succeeded", "failed", "canceled", "expired"]) {
  checkout.addEventListener("payment-selector:" + ending, (event) => {
    result.textContent = "Payment " + ending + " (" + event.detail.intentId + ")";
  });
}
