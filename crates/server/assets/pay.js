// One code for every wallet, on the phone: takes the code for this phone,
// then carries out the wallet's hand-off the server put in the page
// (#ps-pay): WeChat's or Alipay's JS bridge inside their apps, or the
// gateway's page. Served as a file: the pages allow no inline script.
(() => {
  "use strict";
  const claim = document.getElementById("ps-claim");
  if (claim) {
    claim.submit();
    return;
  }
  const data = document.getElementById("ps-pay");
  if (!data) return;
  let action;
  try {
    action = JSON.parse(data.textContent);
  } catch (_) {
    return;
  }
  const status = document.getElementById("ps-status");
  const again = document.getElementById("ps-pay-again");
  // Paid, or perhaps paid: the server says which (the page asks it).
  const done = () => location.replace(location.pathname + "?done");
  // The shopper closed the wallet's sheet (`closed`), or it failed: the
  // page says which, and its button asks the server again (the order may
  // have ended meanwhile) before opening the sheet again.
  const stay = (closed) => {
    if (status) status.textContent = closed ? "" : status.dataset.failed || "";
    if (again) again.focus();
  };
  const bridge = (name, ready, call) => {
    if (window[name]) call(window[name]);
    else document.addEventListener(ready, () => call(window[name]), { once: true });
  };
  const pay = () => {
    switch (action.type) {
      case "redirect": {
        if (action.method !== "POST") {
          location.assign(action.url);
          return;
        }
        const form = document.createElement("form");
        form.method = "post";
        form.action = action.url;
        for (const [name, value] of Object.entries(action.fields || {})) {
          const field = document.createElement("input");
          field.type = "hidden";
          field.name = name;
          field.value = value;
          form.appendChild(field);
        }
        document.body.appendChild(form);
        form.submit();
        return;
      }
      case "invoke_wechat_jsapi":
        bridge("WeixinJSBridge", "WeixinJSBridgeReady", (wechat) =>
          wechat.invoke("getBrandWCPayRequest", action.params, (answer) =>
            answer && /:ok$/.test(answer.err_msg || "")
              ? done()
              : stay(/:cancel$/.test((answer && answer.err_msg) || ""))
          )
        );
        return;
      case "invoke_alipay_trade_pay":
        bridge("AlipayJSBridge", "AlipayJSBridgeReady", (alipay) =>
          alipay.call("tradePay", { tradeNO: action.trade_no }, (answer) =>
            answer && ["9000", "8000", "6004"].includes(String(answer.resultCode))
              ? done()
              : stay(String(answer && answer.resultCode) === "6001")
          )
        );
        return;
    }
  };
  if (again) again.addEventListener("click", () => location.replace(location.pathname));
  pay();
})();
