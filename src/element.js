// <payment-selector>: the checkout as a custom element, for any page. It
// loads the wasm once, mounts a checkout into each element's shadow root,
// and tells the page how the payment ended with DOM events
// (`payment-selector:succeeded`, `:failed`, `:canceled`, `:expired`, with
// `detail.intentId`), bubbling out of the shadow root.
(() => {
  const script = document.currentScript;
  const asset = (name) => new URL(name, script ? script.src : location.href).href;
  let wasm;
  const load = () =>
    (wasm =
      wasm ||
      wasm_bindgen({ module_or_path: asset("payment-selector_bg.wasm") }).then(() => wasm_bindgen));

  // No getters or setters in class syntax: trunk's minifier turns them
  // into plain methods. The accessors are defined below instead.
  class PaymentSelector extends HTMLElement {
    connectedCallback() {
      if (!this.shadowRoot) {
        const root = this.attachShadow({ mode: "open" });
        const style = document.createElement("link");
        style.rel = "stylesheet";
        style.href = asset("payment-selector.css");
        // The checkout is mounted once its styles are in (or failed): a
        // slow stylesheet must not show it unstyled first.
        this.styled = new Promise((done) => (style.onload = style.onerror = done));
        root.append(style, document.createElement("div"));
      }
      this.theme();
      this.render();
    }

    disconnectedCallback() {
      this.stop();
    }

    attributeChangedCallback(name) {
      if (!this.shadowRoot || !this.isConnected) return;
      // A theme is only styles: the checkout keeps its place.
      if (name === "theme") this.theme();
      else this.render();
    }

    // `theme="dark"` or `"light"` forces a preset; without it the checkout
    // follows the system's colour scheme.
    theme() {
      const theme = this.getAttribute("theme");
      const box = this.shadowRoot.lastChild;
      if (theme) box.setAttribute("data-ps-theme", theme);
      else box.removeAttribute("data-ps-theme");
    }

    stop() {
      if (this.handle != null) wasm_bindgen.unmount(this.handle);
      this.handle = null;
    }

    render() {
      const turn = (this.turn = (this.turn || 0) + 1);
      const attribute = (name) => this.getAttribute(name) || undefined;
      let created = this.created;
      const inline = this.querySelector('script[type="application/json"]');
      if (!created && inline) {
        try {
          created = JSON.parse(inline.textContent);
        } catch (_) {}
      }
      // Not given a session yet (the page may still be fetching one).
      if (!created && !(attribute("session-id") && attribute("client-secret"))) return this.stop();
      Promise.all([load(), this.styled]).then(
        ([exports]) => {
          if (turn !== this.turn || !this.isConnected) return;
          this.stop();
          performance.mark("payment-selector:mount");
          this.handle = exports.mount(
            this.shadowRoot.lastChild,
            {
              sessionId: attribute("session-id"),
              clientSecret: attribute("client-secret"),
              apiBase: attribute("api-base"),
              locale: attribute("locale"),
              created,
              returningIntent: new URLSearchParams(location.search).get("payment_intent") || undefined,
            },
            (kind, intentId) =>
              this.dispatchEvent(
                new CustomEvent("payment-selector:" + kind, {
                  detail: { intentId },
                  bubbles: true,
                  composed: true,
                }),
              ),
          );
          performance.measure("payment-selector:mount", "payment-selector:mount");
        },
        (error) => {
          wasm = null;
          this.dispatchEvent(new CustomEvent("payment-selector:error", { detail: { error }, bubbles: true, composed: true }));
        },
      );
    }
  }

  PaymentSelector.observedAttributes = ["session-id", "client-secret", "api-base", "locale", "theme"];
  // `element.session = answer`: the merchant server's create-session answer.
  Object.defineProperty(PaymentSelector.prototype, "session", {
    get() {
      return this.created;
    },
    set(created) {
      this.created = created;
      if (this.shadowRoot && this.isConnected) this.render();
    },
  });
  if (!customElements.get("payment-selector")) customElements.define("payment-selector", PaymentSelector);

  // The checkout formats its amount with Intl.NumberFormat, and a switch-on
  // date with Intl.DateTimeFormat; the first of each a page builds loads
  // the browser's data: 60 ms of main thread on a fast machine, 250 ms and
  // more on a slow phone. Load it now, while the wasm downloads (the
  // elements above have started it), not when the shopper waits.
  try {
    new Intl.NumberFormat("en", { style: "currency", currency: "CNY" }).format(0);
    new Intl.DateTimeFormat("en", { month: "short", day: "numeric" }).format(0);
  } catch (_) {}
})();
