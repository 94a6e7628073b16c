// The shop's server, as a storefront's would be: it renders the shop's page
// with the checkout's first screen already inside <payment-selector>, so a
// shopper sees the amount and the methods, and chooses one, before any of
// the package has arrived. It also passes /api on to the payment server,
// so the page and the API share one origin. Plain Node 18 or later, no
// packages:
//
//   cargo xtask serve                       # the payment server on :8080
//   cargo xtask dist                        # the package, dist/payment-selector/
//   node examples/plain-html/server.mjs     # this shop on http://127.0.0.1:8001/
//
// PAYMENT_SERVER (http://127.0.0.1:8080), PACKAGE (../../dist/payment-selector
// from here) and PORT (8001; 0 for any free one) change where things are.
//
// A real shop creates the checkout session for the shopper's order with its
// secret key (POST /api/checkout-sessions). This demo asks the sandbox for
// a demo session instead, and keeps it in a cookie so that the shopper who
// comes back from a provider's page (`?payment_intent=pi_…`) finds the same
// session, as a shop keeps it with the order.
import { createServer, request as forward } from "node:http";
import { readFile, stat } from "node:fs/promises";
import { extname, join, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";

const here = fileURLToPath(new URL(".", import.meta.url));
const paymentServer = new URL(process.env.PAYMENT_SERVER || "http://127.0.0.1:8080");
const packageDir = process.env.PACKAGE || join(here, "..", "..", "dist", "payment-selector");
const port = Number(process.env.PORT ?? 8001);
const COOKIE = "tea_house_checkout";
const ELEMENT = '<payment-selector api-base="/api"></payment-selector>';

const page = await readFile(join(here, "index.html"), "utf8");
if (!page.includes(ELEMENT)) throw new Error(`index.html has no ${ELEMENT}`);

const TYPES = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".wasm": "application/wasm",
  ".json": "application/json",
};

/** Asks the payment server, as the shop's server does, never the browser. */
async function ask(path, init = {}) {
  return fetch(new URL("/api" + path, paymentServer), { ...init, signal: AbortSignal.timeout(5000) });
}

/** The session this shopper's cookie names, while it can still be paid or they come back to it. */
async function keptSession(request, returning) {
  const kept = (request.headers.cookie || "")
    .split(";")
    .map((part) => part.trim().split("="))
    .find(([name]) => name === COOKIE);
  if (!kept) return null;
  const [id, secret] = decodeURIComponent(kept[1] || "").split(" ");
  if (!id || !secret) return null;
  if (returning) return { id, secret };
  const answer = await ask("/checkout-sessions/" + encodeURIComponent(id), {
    headers: { Authorization: "Bearer " + secret },
  });
  return answer.ok && (await answer.json()).status === "open" ? { id, secret } : null;
}

async function newSession(request) {
  const answer = await ask("/dev/demo-session", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ return_url: `http://${request.headers.host}/` }),
  });
  if (!answer.ok) throw new Error("demo session: " + answer.status);
  const demo = await answer.json();
  return { id: demo.session_id, secret: demo.client_secret };
}

/** The page, with the checkout's first screen for this shopper's device and languages. */
async function renderPage(request, response) {
  const url = new URL(request.url, "http://shop");
  const returning = url.searchParams.has("payment_intent");
  const session = (await keptSession(request, returning)) || (await newSession(request));
  const first = await ask(`/checkout-sessions/${encodeURIComponent(session.id)}/first-screen`, {
    headers: {
      Authorization: "Bearer " + session.secret,
      "User-Agent": request.headers["user-agent"] || "",
      "Accept-Language": request.headers["accept-language"] || "",
    },
  });
  // Without its first screen the checkout still works: it reads the session
  // by its id and draws the screen itself once its package has arrived.
  const inside = first.ok ? await first.text() : "";
  const element = first.ok
    ? `<payment-selector api-base="/api">${inside}</payment-selector>`
    : `<payment-selector api-base="/api" session-id="${attribute(session.id)}" client-secret="${attribute(session.secret)}"></payment-selector>`;
  const styles = (first.ok && first.headers.get("payment-selector-style-src")) || "";
  response.writeHead(200, {
    "Content-Type": TYPES[".html"],
    "Cache-Control": "no-store",
    // The first screen's inline styles are allowed by the hash the payment
    // server names; nothing else inline. A shop adds `form-action 'self'`
    // and its providers' gateways (card pages take a POST form).
    "Content-Security-Policy": `default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self' ${styles}; img-src 'self' data:; frame-ancestors 'none'`,
    "Referrer-Policy": "strict-origin-when-cross-origin",
    "Set-Cookie": `${COOKIE}=${encodeURIComponent(session.id + " " + session.secret)}; Path=/; HttpOnly; SameSite=Lax`,
  });
  response.end(page.replace(ELEMENT, element));
}

function attribute(text) {
  return text.replace(/[&"<>]/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** /api/…, passed to the payment server as it came, and its answer back as it came. */
function passOn(request, response) {
  const upstream = forward(
    new URL(request.url, paymentServer),
    { method: request.method, headers: { ...request.headers, host: paymentServer.host } },
    (answer) => {
      response.writeHead(answer.statusCode || 502, answer.headers);
      answer.pipe(response);
    },
  );
  upstream.on("error", () => {
    if (!response.headersSent) response.writeHead(502, { "Content-Type": "text/plain" });
    response.end("the payment server cannot be reached");
  });
  request.pipe(upstream);
}

/** The shop's own files and the package beside them, brotli when the browser takes it. */
async function serveFile(request, response) {
  const path = decodeURIComponent(new URL(request.url, "http://shop").pathname);
  const [root, rest] = path.startsWith("/payment-selector/")
    ? [packageDir, path.slice("/payment-selector/".length)]
    : [here, path.slice(1)];
  const file = resolve(root, rest);
  const type = TYPES[extname(file)];
  if (!file.startsWith(resolve(root) + sep) || !type || file === join(here, "index.html") || file === join(here, "server.mjs")) {
    response.writeHead(404, { "Content-Type": "text/plain" }).end("not found");
    return;
  }
  const brotli = /\bbr\b/.test(request.headers["accept-encoding"] || "") && (await exists(file + ".br"));
  try {
    const body = await readFile(brotli ? file + ".br" : file);
    response.writeHead(200, {
      "Content-Type": type,
      "Cache-Control": "no-cache",
      "X-Content-Type-Options": "nosniff",
      ...(brotli ? { "Content-Encoding": "br", Vary: "Accept-Encoding" } : {}),
    });
    response.end(body);
  } catch {
    response.writeHead(404, { "Content-Type": "text/plain" }).end("not found");
  }
}

async function exists(file) {
  return stat(file).then(
    (found) => found.isFile(),
    () => false,
  );
}

const server = createServer((request, response) => {
  const path = (request.url || "/").split("?")[0];
  const handled =
    path === "/api" || path.startsWith("/api/")
      ? Promise.resolve(passOn(request, response))
      : path === "/" || path === "/index.html"
        ? renderPage(request, response)
        : serveFile(request, response);
  handled.catch((error) => {
    console.error(error);
    if (!response.headersSent) response.writeHead(502, { "Content-Type": "text/plain; charset=utf-8" });
    response.end("The payment server cannot be reached (" + paymentServer.origin + "): start it with cargo xtask serve.");
  });
});

server.listen(port, "127.0.0.1", () => {
  const address = server.address();
  const bound = typeof address === "object" && address ? address.port : port;
  console.log(`the Demo Tea House on http://127.0.0.1:${bound}/ (payments: ${paymentServer.origin})`);
});
