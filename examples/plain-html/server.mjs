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
// from here), PORT (8001; 0 for any free one) and SHOP_URL (where shoppers
// reach this server, for their way back from a provider's page) change
// where things are. Behind it, give the payment server
// `--trusted-proxy 127.0.0.1` so that it reads the shopper's address from
// X-Forwarded-For (WeChat Pay's H5 asks for it).
//
// A real shop creates the checkout session for the shopper's order with its
// secret key (POST /api/checkout-sessions) and keeps it with the order. This
// demo asks the sandbox for a demo session instead and keeps it in memory,
// under an order number that the session's return_url and a cookie carry:
// the shopper who comes back from a provider's page (`?order=…&payment_intent=pi_…`)
// finds the same session, in whichever browser they come back.
import { createServer, request as forward } from "node:http";
import { randomBytes } from "node:crypto";
import { readFile, stat } from "node:fs/promises";
import { join, resolve, sep } from "node:path";
import { pipeline } from "node:stream";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { brotliCompress, constants as zlib } from "node:zlib";

const here = fileURLToPath(new URL(".", import.meta.url));
const paymentServer = new URL(process.env.PAYMENT_SERVER || "http://127.0.0.1:8080");
const packageDir = resolve(process.env.PACKAGE || join(here, "..", "..", "dist", "payment-selector"));
const port = Number(process.env.PORT ?? 8001);
const COOKIE = "tea_house_order";
const ELEMENT = '<payment-selector api-base="/api"></payment-selector>';
// How long the page waits for the payment server, in all, before it is
// sent without the first screen (the checkout then draws itself).
const PATIENCE = 3000;

const page = await readFile(join(here, "index.html"), "utf8");
if (!page.includes(ELEMENT)) throw new Error(`index.html has no ${ELEMENT}`);

/** The shop's orders: order number → its checkout session and client secret. */
const orders = new Map();

/** The shop's own files; the package's are any under /payment-selector/ of these types. */
const SHOP_FILES = new Set(["shop.js", "shop.css"]);
const TYPES = new Map([
  [".js", "text/javascript; charset=utf-8"],
  [".mjs", "text/javascript; charset=utf-8"],
  [".css", "text/css; charset=utf-8"],
  [".wasm", "application/wasm"],
  [".json", "application/json"],
]);

/** Asks the payment server, as the shop's server does (never the browser). */
function ask(path, init, signal) {
  return fetch(new URL("/api" + path, paymentServer), { ...init, signal });
}

function cookie(request, name) {
  for (const part of (request.headers.cookie || "").split(";")) {
    const [key, value] = part.trim().split("=");
    if (key === name) return value;
  }
  return undefined;
}

/**
 * The order this visit is about: the one it comes back to, or this
 * browser's while it can be paid, or a new one; none when it comes back to
 * an order this shop does not know (another shop's, or from before a restart).
 */
async function orderFor(request, url, signal) {
  const number = url.searchParams.get("order") || cookie(request, COOKIE);
  const kept = number && orders.get(number);
  if (url.searchParams.has("payment_intent")) return kept ? [number, kept] : null;
  if (kept) {
    const answer = await ask(`/checkout-sessions/${encodeURIComponent(kept.id)}`, {
      headers: { Authorization: "Bearer " + kept.secret },
    }, signal);
    if (answer.ok && (await answer.json()).status === "open") return [number, kept];
  }
  const fresh = randomBytes(6).toString("hex");
  const shop = process.env.SHOP_URL || `http://${request.headers.host}`;
  const answer = await ask("/dev/demo-session", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ return_url: `${shop}/?order=${fresh}` }),
  }, signal);
  if (!answer.ok) throw new Error("POST /api/dev/demo-session: " + answer.status);
  const demo = await answer.json();
  const order = { id: demo.session_id, secret: demo.client_secret };
  orders.set(fresh, order);
  return [fresh, order];
}

/** The inside of the element for this shopper's device and languages, and the style-src its styles need. */
async function firstScreen(request, order, signal) {
  const answer = await ask(`/checkout-sessions/${encodeURIComponent(order.id)}/first-screen`, {
    headers: {
      Authorization: "Bearer " + order.secret,
      "User-Agent": request.headers["user-agent"] || "",
      "Accept-Language": request.headers["accept-language"] || "",
    },
  }, signal);
  if (!answer.ok) throw new Error("first screen: " + answer.status);
  return [await answer.text(), answer.headers.get("payment-selector-style-src") || ""];
}

const compress = promisify(brotliCompress);

/** The page, with the checkout's first screen in it when the payment server answers in time. */
async function renderPage(request, response, url) {
  const signal = AbortSignal.timeout(PATIENCE);
  let element = ELEMENT;
  let styles = "";
  let setCookie = {};
  try {
    const found = await orderFor(request, url, signal);
    if (!found) {
      // Not an order of this shop's: its payment is no business of this page.
      response.writeHead(303, { Location: "/" }).end();
      return;
    }
    const [number, order] = found;
    setCookie = { "Set-Cookie": `${COOKIE}=${number}; Path=/; HttpOnly; SameSite=Lax` };
    try {
      const [inside, styleSource] = await firstScreen(request, order, signal);
      element = `<payment-selector api-base="/api">${inside}</payment-selector>`;
      styles = styleSource;
    } catch (error) {
      // Without its first screen the checkout still works: it reads the
      // session by its id and draws the screen once its package is in.
      console.error("the page goes without its first screen:", error.message);
      element = `<payment-selector api-base="/api" session-id="${attribute(order.id)}" client-secret="${attribute(order.secret)}"></payment-selector>`;
    }
  } catch (error) {
    // No session (the payment server is down or slow): the page says so
    // where the checkout would be (shop.js).
    console.error("the page goes without a checkout session:", error.message);
  }
  const html = page.replace(ELEMENT, () => element);
  // Compressed on the fly, as a shop's server does: the first screen's
  // markup and styles are most of the page, and a slow line pays for them
  // before the shopper can choose.
  const takesBrotli = /\bbr\b/.test(request.headers["accept-encoding"] || "");
  const body = takesBrotli ? await compress(html, { params: { [zlib.BROTLI_PARAM_QUALITY]: 5 } }) : html;
  response.writeHead(200, {
    "Content-Type": "text/html; charset=utf-8",
    "Cache-Control": "no-store",
    Vary: "Accept-Encoding",
    ...(takesBrotli ? { "Content-Encoding": "br" } : {}),
    // The first screen's inline styles are allowed by the hash the payment
    // server names; nothing else inline. A shop adds `form-action 'self'`
    // and its providers' gateways (card pages take a POST form).
    "Content-Security-Policy": `default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self' ${styles}; img-src 'self' data:; base-uri 'none'; object-src 'none'; frame-ancestors 'none'`,
    "Referrer-Policy": "strict-origin-when-cross-origin",
    ...setCookie,
  });
  response.end(body);
}

function attribute(text) {
  return text.replace(/[&"<>]/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** Headers that belong to one connection, and the shop's own cookies: not passed on. */
const NOT_PASSED = new Set(["host", "cookie", "connection", "keep-alive", "upgrade", "te", "trailer", "transfer-encoding", "proxy-authorization", "proxy-connection", "x-forwarded-for"]);

/** /api/…, passed to the payment server as it came, and its answer back as it came. */
function passOn(request, response, url) {
  const headers = Object.fromEntries(Object.entries(request.headers).filter(([name]) => !NOT_PASSED.has(name)));
  headers["x-forwarded-for"] = request.socket.remoteAddress || "";
  const upstream = forward(
    new URL(url.pathname + url.search, paymentServer),
    { method: request.method, headers },
    (answer) => {
      response.writeHead(answer.statusCode || 502, answer.headers);
      pipeline(answer, response, () => {});
    },
  );
  upstream.on("error", () => {
    if (response.headersSent) return response.destroy();
    response.writeHead(502, { "Content-Type": "text/plain" }).end("the payment server cannot be reached");
  });
  response.on("close", () => upstream.destroy());
  pipeline(request, upstream, () => {});
}

/** The shop's own files and the package beside them, brotli when the browser takes it. */
async function serveFile(request, response, url) {
  const path = url.pathname;
  const inPackage = path.startsWith("/payment-selector/");
  const file = inPackage ? resolve(packageDir, "." + path.slice("/payment-selector".length)) : join(here, path.slice(1));
  const type = TYPES.get(file.slice(file.lastIndexOf(".")));
  const allowed = inPackage ? file.startsWith(packageDir + sep) && type : SHOP_FILES.has(path.slice(1));
  const found = allowed && (await stat(file).catch(() => null));
  if (!found || !found.isFile()) {
    response.writeHead(404, { "Content-Type": "text/plain" }).end("not found");
    return;
  }
  // Revalidated on each view, sent again only when it changed.
  const tag = `W/"${found.size.toString(36)}-${found.mtimeMs.toString(36)}"`;
  if (request.headers["if-none-match"] === tag) {
    response.writeHead(304, { ETag: tag }).end();
    return;
  }
  const takesBrotli = /\bbr\b/.test(request.headers["accept-encoding"] || "");
  const compressed = takesBrotli ? await readFile(file + ".br").catch(() => null) : null;
  response.writeHead(200, {
    "Content-Type": type || "text/plain",
    "Cache-Control": "no-cache",
    ETag: tag,
    Vary: "Accept-Encoding",
    "X-Content-Type-Options": "nosniff",
    ...(compressed ? { "Content-Encoding": "br" } : {}),
  });
  response.end(compressed || (await readFile(file)));
}

const server = createServer(async (request, response) => {
  try {
    // The path as the browser means it (`..` and escapes resolved), for
    // the route and for what is passed on.
    const url = new URL(request.url || "/", "http://shop");
    if (url.pathname === "/api" || url.pathname.startsWith("/api/")) passOn(request, response, url);
    else if (url.pathname === "/" || url.pathname === "/index.html") await renderPage(request, response, url);
    else await serveFile(request, response, url);
  } catch (error) {
    console.error(error);
    if (response.headersSent) response.destroy();
    else response.writeHead(500, { "Content-Type": "text/plain" }).end("the shop could not answer");
  }
});

server.listen(port, "127.0.0.1", () => {
  const address = server.address();
  const bound = typeof address === "object" && address ? address.port : port;
  console.log(`the Demo Tea House on http://127.0.0.1:${bound}/ (payments: ${paymentServer.origin})`);
});
