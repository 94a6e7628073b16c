// <payment-selector>: the checkout as a custom element, for any page. It
// loads the wasm once, mounts a checkout into each element's shadow root,
// and tells the page how the payment ended with DOM events
// (`payment-selector:succeeded`, `:failed`, `:canceled`, `:expired`, with
// `detail.intentId`; `:error` when the checkout cannot start), bubbling out
// of the shadow root.
//
// `cargo xtask dist` puts this after wasm-bindgen's glue inside one
// function, `(function (files) { glue; loader })({...})`, so that the
// glue's `wasm_bindgen` stays out of the page's global scope (where a
// second copy, or another widget's glue, would collide with it). `files`
// says where the wasm and the stylesheet are, and with which
// subresource-integrity hashes to load them (the content-hashed script's
// own; none for stable names, which go with whatever is deployed beside
// them).
(() => {
  const { wasm: wasmUrl, wasmIntegrity, style: styleUrl, styleIntegrity } = files;
  let wasm;
  const load = () =>
    (wasm =
      wasm ||
      wasm_bindgen({ module_or_path: new Request(wasmUrl, { integrity: wasmIntegrity }) }).then(
        () => wasm_bindgen,
      ));
  const tell = (element, kind, detail) =>
    element.dispatchEvent(new CustomEvent("payment-selector:" + kind, { detail, bubbles: true, composed: true }));

  // No getters or setters in class syntax: trunk's minifier turns them
  // into plain methods. The accessors are defined below instead.
  class PaymentSelector extends HTMLElement {
    connectedCallback() {
      // A `session` set before the element was defined (React 19 sets
      // properties) is the instance's own, hiding the accessor: pass it on.
      if (this.hasOwnProperty("session")) {
        const created = this.session;
        delete this.session;
        this.session = created;
      }
      if (!this.shadowRoot) {
        const root = this.attachShadow({ mode: "open" });
        const style = document.createElement("link");
        style.rel = "stylesheet";
        if (styleIntegrity) {
          style.integrity = styleIntegrity;
          style.crossOrigin = "anonymous";
        }
        style.href = styleUrl;
        // The checkout is mounted once its styles are in (or failed): a
        // slow stylesheet must not show it unstyled first.
        this.styled = new Promise((done) => (style.onload = style.onerror = done));
        root.append(style, document.createElement("div"));
      }
      this.theme();
      // Moved to another place on the page: the checkout is still mounted.
      if (this.handle == null) this.render();
    }

    disconnectedCallback() {
      // A move (out and back in before the page's script yields) keeps the
      // shopper's checkout; only an element left out is unmounted.
      queueMicrotask(() => this.isConnected || this.stop());
    }

    attributeChangedCallback(name, old, value) {
      // Frameworks set attributes again with the same value on re-render.
      if (!this.shadowRoot || !this.isConnected || old === value) return;
      // A theme is only styles, a language only words: the checkout keeps
      // its place. Another session or server is another checkout.
      if (name === "theme") this.theme();
      else if (name !== "locale") this.render();
      else if (this.handle != null) this.language();
    }

    // `theme="dark"` or `"light"` forces a preset; without it the checkout
    // follows the system's colour scheme.
    theme() {
      const theme = this.getAttribute("theme");
      const box = this.shadowRoot.lastChild;
      if (theme) box.setAttribute("data-ps-theme", theme);
      else box.removeAttribute("data-ps-theme");
    }

    // The checkout redraws its screen in the new language; the control the
    // shopper was on (found again by its test hook) gets the focus back.
    language() {
      const root = this.shadowRoot;
      const focused = root.activeElement;
      const hook = focused && focused.closest("[data-testid]");
      wasm_bindgen.set_locale(this.handle, this.getAttribute("locale") || undefined);
      if (hook)
        setTimeout(() => {
          const again = root.querySelector('[data-testid="' + hook.dataset.testid + '"]');
          const control = again && (hook === focused ? again : again.querySelector(focused.localName));
          if (control && !root.activeElement) control.focus();
        });
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
      Promise.all([load(), this.styled])
        .then(([exports]) => {
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
            (kind, intentId) => tell(this, kind, { intentId }),
          );
          // Drawn: the room reserved for the first screen is released.
          this.setAttribute("data-ps-ready", "");
          performance.measure("payment-selector:mount", "payment-selector:mount");
        })
        .catch((error) => {
          // The next render loads the wasm afresh.
          wasm = null;
          if (turn === this.turn) tell(this, "error", { error });
        });
    }
  }

  PaymentSelector.observedAttributes = ["session-id", "client-secret", "api-base", "locale", "theme"];
  // `element.session = answer`: the merchant server's create-session answer.
  Object.defineProperty(PaymentSelector.prototype, "session", {
    get() {
      return this.created;
    },
    set(created) {
      // A framework's re-render hands the same answer again: same checkout.
      if (created === this.created) return;
      this.created = created;
      if (this.shadowRoot && this.isConnected) this.render();
    },
  });
  // The package loaded twice (or two versions of it) defines it once.
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
