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
// them), and where the wasm's later parts are (`element-parts.js`).
(() => {
  const { wasm: wasmUrl, wasmIntegrity, style: styleUrl, styleIntegrity } = files;
  // `arriving`: the wasm's answer has begun; on a slow line its bytes may
  // take long after that, and the checkout is on its way, not broken. (With
  // an integrity hash the browser hands the answer over only when it is
  // whole and checked: the content-hashed script waits LATE for all of it.)
  let wasm, arriving;
  const load = () =>
    (wasm =
      wasm ||
      wasm_bindgen({
        module_or_path: fetch(new Request(wasmUrl, { integrity: wasmIntegrity })).then(
          (answer) => ((arriving = 1), answer),
        ),
      }).then(
        () => wasm_bindgen,
        (error) => {
          // The next render loads the wasm afresh.
          wasm = arriving = 0;
          throw error;
        },
      ));
  // How long a first screen waits for the wasm to begin arriving before
  // saying the checkout could not load (a tapped Pay is held until the
  // checkout is in, or is let go then); one arriving gets three times as
  // long in all. A download that fails says so at once.
  const LATE = 10000;
  // Focus back on the control the shopper was on, found again in the new
  // screen by its test hook.
  const refocus = (root, hook, focused) => {
    const again = root.querySelector('[data-testid="' + hook.dataset.testid + '"]');
    const control = again && (hook === focused ? again : again.querySelector(focused.localName));
    if (control && (!root.activeElement || !root.activeElement.isConnected)) control.focus();
  };
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
      if (!this.box) this.prepare();
      this.theme();
      // Moved to another place on the page: the checkout is still mounted.
      if (this.handle == null) this.render();
    }

    // The shadow root: the one the page came with, holding the first
    // screen a server drew (`GET /checkout-sessions/{id}/first-screen`), or
    // a new one for the checkout to be drawn into.
    prepare() {
      const first = this.shadowRoot && this.shadowRoot.querySelector("[data-ps-first-screen]");
      const style = document.createElement("link");
      style.rel = "stylesheet";
      if (styleIntegrity) {
        style.integrity = styleIntegrity;
        style.crossOrigin = "anonymous";
      }
      style.href = styleUrl;
      // The checkout is mounted once its styles are in (or failed): a
      // slow stylesheet must not show it unstyled first. A first screen
      // has its styles inline; the package's are loaded beside them all
      // the same (a page whose policy refused the inline ones, or a
      // server of another version).
      this.styled = new Promise((done) => (style.onload = style.onerror = done));
      if (first) {
        first.before(style);
        return this.adopt(first);
      }
      this.box = document.createElement("div");
      (this.shadowRoot || this.attachShadow({ mode: "open" })).replaceChildren(style, this.box);
    }

    // The server-drawn first screen works until the checkout is drawn over
    // it: a choice enables Pay, and a Pay tapped goes out as soon as the
    // wasm's first part is in (before that it is held). A browser that
    // cannot run the checkout says so, and so does one whose checkout is
    // not drawn LATE ms after the page (3 LATE once the wasm is arriving);
    // a held Pay is then let go.
    adopt(first) {
      this.first = this.box = first;
      // The language the server drew in, for a page that names none.
      this.drawnIn = first.firstElementChild && first.firstElementChild.lang;
      this.setAttribute("data-ps-loading", "");
      const pay = first.querySelector("[data-testid=pay-button]");
      if (!pay) return;
      const radios = [...first.querySelectorAll("input")];
      const unavailable = radios.map((radio) => radio.disabled);
      const chosen = () => first.querySelector("input:checked");
      const failed = () => this.hasAttribute("data-ps-failed");
      const busy = (on) => {
        pay.disabled = on;
        pay.classList.toggle("ps-pay--busy", on);
        pay.setAttribute("aria-busy", on);
        pay.textContent = on ? first.dataset.psBusy : first.dataset.psPay;
        radios.forEach((radio, at) => (radio.disabled = on || unavailable[at]));
      };
      const ready = () => {
        if (!this.paying && !failed() && chosen()) busy(false);
      };
      this.unable = () => {
        if (this.first !== first) return;
        this.setAttribute("data-ps-failed", "");
        this.paying = false;
        busy(false);
        pay.disabled = true;
      };
      // Another session or server before the takeover: a Pay held for the
      // old one is let go.
      this.letGo = () => {
        if (this.paying) {
          this.paying = false;
          busy(false);
        }
      };
      first.addEventListener("change", ready);
      first.addEventListener("submit", (event) => {
        event.preventDefault();
        if (this.paying || this.sent || failed() || !chosen()) return;
        this.paying = true;
        busy(true);
        this.send();
      });
      // Chosen before this script ran.
      ready();
      if (typeof WebAssembly !== "object") this.unable();
      const unable = this.unable;
      setTimeout(() => (arriving ? setTimeout(unable, 2 * LATE) : unable()), LATE);
    }

    // A Pay held on the first screen goes out, once the wasm's first part
    // is in (the checkout shows its answer when drawn). One the checkout
    // cannot send now (it is on a payment from before a reload) stays held
    // for the drawn checkout's form.
    send() {
      const chosen = this.first && this.first.querySelector("input:checked");
      if (!this.paying || !chosen || this.handle == null) return;
      if (wasm_bindgen.pay(this.handle, chosen.value)) {
        this.paying = false;
        this.sent = true;
      }
    }

    // The checkout just drawn replaces the first screen in the same task
    // (no frame shows neither), and is given what the shopper did there as
    // they did it: the method `chosen` picked, Pay pressed if it was held,
    // the focus where it was.
    takeOver(first, chosen) {
      const root = this.shadowRoot;
      const focused = root.activeElement;
      const hook = focused && first.contains(focused) && focused.closest("[data-testid]");
      const control = (selector) => this.box.querySelector(selector);
      const radio = chosen && control('input[value="' + chosen.value + '"]');
      if (radio && !radio.checked) radio.click();
      const form = control("form");
      if (radio && this.paying && form) form.requestSubmit();
      this.paying = this.sent = false;
      first.remove();
      const notice = root.querySelector(".ps-unloaded");
      if (notice) notice.remove();
      this.removeAttribute("data-ps-loading");
      this.removeAttribute("data-ps-failed");
      if (hook) refocus(root, hook, focused);
    }

    disconnectedCallback() {
      // A move (out and back in before the page's script yields) keeps the
      // shopper's checkout; only an element left out is unmounted.
      queueMicrotask(() => this.isConnected || this.stop());
    }

    attributeChangedCallback(name, old, value) {
      // Frameworks set attributes again with the same value on re-render.
      // Not before the element has its box: with a server-drawn screen the
      // shadow root is there before the element connects.
      if (!this.box || !this.isConnected || old === value) return;
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
      if (theme) this.box.setAttribute("data-ps-theme", theme);
      else this.box.removeAttribute("data-ps-theme");
    }

    // The checkout redraws its screen in the new language; the control the
    // shopper was on (found again by its test hook) gets the focus back.
    language() {
      const root = this.shadowRoot;
      const focused = root.activeElement;
      const hook = focused && focused.closest("[data-testid]");
      wasm_bindgen.set_locale(this.handle, this.getAttribute("locale") || undefined);
      if (hook) setTimeout(() => refocus(root, hook, focused));
    }

    stop() {
      if (this.handle != null) wasm_bindgen.unmount(this.handle);
      this.handle = null;
    }

    render() {
      const turn = (this.turn = (this.turn || 0) + 1);
      if (turn > 1 && this.first && this.letGo) this.letGo();
      // A Pay sent for another session: the first screen is not this one's.
      if (turn > 1 && this.sent) this.sent = false;
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
      // Without a first screen the checkout's view is needed before anything
      // shows: it comes beside the first part, not after it.
      if (!this.first) laterParts.prefetch("view");
      // A first screen has its styles inline: Pay works once the wasm is in,
      // and the checkout drawn over it waits for the package's styles.
      // Without one, the checkout is drawn into the page: it waits for them
      // before it is mounted.
      Promise.all([load(), this.first ? null : this.styled])
        .then(([exports]) => {
          if (turn !== this.turn || !this.isConnected) return;
          this.stop();
          performance.mark("payment-selector:mount");
          const first = this.first;
          // With a first screen, the checkout is drawn off the page and put
          // in its place once whole.
          if (first) {
            if (this.box !== first) this.box.remove();
            this.box = document.createElement("div");
            this.theme();
          }
          this.handle = exports.mount(
            this.box,
            {
              sessionId: attribute("session-id"),
              clientSecret: attribute("client-secret"),
              apiBase: attribute("api-base"),
              // The first screen's language, unless the page says.
              locale: attribute("locale") || this.drawnIn || undefined,
              created,
              returningIntent: new URLSearchParams(location.search).get("payment_intent") || undefined,
            },
            (kind, intentId) => tell(this, kind, { intentId }),
            () =>
              this.styled.then(() => {
                if (turn !== this.turn) return;
                if (this.first) {
                  this.first = null;
                  first.after(this.box);
                  this.takeOver(first, first.querySelector("input:checked"));
                }
                // Drawn: the room reserved for the first screen is released.
                this.setAttribute("data-ps-working", "");
                this.setAttribute("data-ps-ready", "");
                performance.measure("payment-selector:mount", "payment-selector:mount");
              }),
          );
          // Pay on the first screen works from here: a tap sends the payment.
          if (first) this.setAttribute("data-ps-working", "");
          this.send();
        })
        .catch((error) => {
          if (this.first && this.unable) this.unable();
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
})();
