//! The HTTP contract as an OpenAPI 3.1 document, built from the wire types
//! of this crate so that the two cannot drift: every endpoint the component
//! and a merchant's server call, the providers' callbacks, the sandbox's
//! extras (tagged `Sandbox`), and the webhooks a merchant receives.
//!
//! `crates/contract/openapi.json` is [`to_json`]'s text, checked in for
//! readers in any language; `tests/openapi.rs` fails when it is stale, and
//! `cargo xtask openapi` rewrites it.

use serde::{Serialize, Serializer};
use serde_json::{json, Value};
use utoipa::openapi::content::ContentBuilder;
use utoipa::openapi::header::HeaderBuilder;
use utoipa::openapi::info::{InfoBuilder, LicenseBuilder};
use utoipa::openapi::path::{
    HttpMethod, Operation, OperationBuilder, ParameterBuilder, ParameterIn, PathItem, PathsBuilder,
};
use utoipa::openapi::request_body::RequestBodyBuilder;
use utoipa::openapi::response::{Response, ResponseBuilder};
use utoipa::openapi::schema::{AllOfBuilder, ObjectBuilder, OneOfBuilder, Schema, Type};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme};
use utoipa::openapi::server::ServerBuilder;
use utoipa::openapi::tag::{Tag, TagBuilder};
use utoipa::openapi::{
    ComponentsBuilder, OpenApiBuilder, Paths, Ref, RefOr, Required, ResponsesBuilder,
};
use utoipa::{IntoParams, ToSchema};

use crate::{
    CheckoutSession, ClientContext, CreateCheckoutSession, CreateIntent, CreateRefund,
    CreatedCheckoutSession, DemoSession, ErrorBody, ErrorCode, EventList, EventType, FailureReason,
    Flow, IntentList, IntentStatus, MerchantCheckoutSession, MethodKind, NextAction, PaymentIntent,
    Refund, RefundFailureReason, RefundList, RefundStatus, ReviewReason, SandboxScan,
    SessionStatus, UnavailableReason, WebhookEvent, IDEMPOTENCY_KEY_HEADER,
    WEBHOOK_SIGNATURE_HEADER, WEBHOOK_TOLERANCE_SECONDS,
};

/// The document as `openapi.json` holds it: pretty-printed, every object's
/// keys sorted (so the text does not depend on how serde_json was built),
/// with a final newline.
pub fn to_json() -> String {
    let mut text =
        serde_json::to_string_pretty(&Sorted(&document())).expect("a JSON value always serializes");
    text.push('\n');
    text
}

/// The whole document.
pub fn document() -> Value {
    let api = OpenApiBuilder::new()
        .info(
            InfoBuilder::new()
                .title("payment-selector HTTP contract")
                .version(env!("CARGO_PKG_VERSION"))
                .description(Some(OVERVIEW))
                .license(Some(
                    LicenseBuilder::new()
                        .name("MIT OR Apache-2.0")
                        .identifier(Some("MIT OR Apache-2.0"))
                        .build(),
                ))
                .build(),
        )
        .servers(Some([ServerBuilder::new()
            .url("/api")
            .description(Some(
                "The reference server answers under `/api` on its own origin (the component's \
                 `api_base`); every path here is relative to it. A backend of your own may \
                 serve the same paths under any base.",
            ))
            .build()]))
        .tags(Some([
            tag(
                SESSIONS,
                "A merchant's server opens a session, with the amount decided server side, \
                 and reads how it ended; the shopper's browser reads what it may pay with.",
            ),
            tag(
                INTENTS,
                "One attempt to pay a session with one method: started by the shopper's \
                 browser, read until it ends; listed for the merchant.",
            ),
            tag(
                REFUNDS,
                "Money given back through the provider that took it: asked for by the \
                 merchant's server, or by the server itself for a second payment of a paid \
                 session.",
            ),
            tag(
                EVENTS,
                "Every event the server made for a merchant, in order: what the webhooks \
                 carry, readable whether or not the merchant has an endpoint.",
            ),
            tag(
                CALLBACKS,
                "Called by the payment providers, never by a merchant or a browser; each \
                 speaks its provider's own protocol.",
            ),
            tag(
                SANDBOX,
                "Only on a sandbox server (`livemode: false`), for the demo and tests; a live \
                 server answers 404 `sandbox_only`. Not part of the merchant contract.",
            ),
        ]))
        .paths(paths())
        .components(Some(
            ComponentsBuilder::new()
                .schemas_from_iter(schemas())
                .security_scheme(
                    SECRET_KEY,
                    bearer(
                        "sk_live_… or sk_test_…",
                        "The merchant's secret key: server to server only, never in a page. \
                         A live server refuses `sk_test_` keys.",
                    ),
                )
                .security_scheme(
                    CLIENT_SECRET,
                    bearer(
                        "cs_…_secret_…",
                        "A checkout session's client secret, from the create-session answer: \
                         the merchant's server hands it to the page, and it opens that \
                         session's shopper endpoints only.",
                    ),
                )
                .build(),
        ))
        .build();
    let mut document = serde_json::to_value(&api).expect("utoipa's types serialize");
    // utoipa 5 has no `webhooks` (new in OpenAPI 3.1): built with its types,
    // added here.
    document["webhooks"] = serde_json::to_value(webhooks()).expect("utoipa's types serialize");
    let schemas = &mut document["components"]["schemas"];
    known_values_only(schemas, ErrorCode::Unknown);
    known_values_only(schemas, EventType::Unknown);
    known_values_only(schemas, FailureReason::Other);
    known_values_only(schemas, IntentStatus::Unknown);
    known_values_only(schemas, NextAction::Unsupported);
    known_values_only(schemas, SessionStatus::Unknown);
    known_values_only(schemas, MethodKind::Unsupported);
    known_values_only(schemas, Flow::Unsupported);
    known_values_only(schemas, UnavailableReason::Other);
    known_values_only(schemas, RefundStatus::Unknown);
    known_values_only(schemas, RefundFailureReason::Other);
    known_values_only(schemas, ReviewReason::Other);
    name_unix_seconds(&mut document);
    document
}

const SESSIONS: &str = "Checkout sessions";
const INTENTS: &str = "Payment intents";
const REFUNDS: &str = "Refunds";
const EVENTS: &str = "Events";
const CALLBACKS: &str = "Provider callbacks";
const SANDBOX: &str = "Sandbox";

const SECRET_KEY: &str = "secret_key";
const CLIENT_SECRET: &str = "client_secret";

const OVERVIEW: &str = "\
The contract between the payment-selector component (in the shopper's browser), \
a merchant's server, and a backend that implements it, such as the reference \
server in `crates/server`.

The merchant's server opens a checkout session with its secret key and hands the \
session and its client secret to the page. The component shows the session's \
methods, starts a payment intent with an `Idempotency-Key`, follows the intent's \
`next_action`, and reads the intent until it ends. The merchant learns the outcome \
from signed webhooks (see `webhooks`) or by reading the session.

Conventions:

- JSON bodies in UTF-8; money as `{\"value\": <integer minor units>, \"currency\": \"CNY\"}`; \
times as Unix seconds.
- Every error answers an `ErrorBody`, `{\"code\": \"...\", \"message\": \"...\"}`, whose \
`code` is stable; `message` is for developers, not shoppers. A path this document does \
not name answers 404 `not_found`; a body larger than 64 KiB answers 400 \
`invalid_request`; a request still running after 30 seconds answers 503 `internal`.
- Every answer carries `Cache-Control: no-store`, `X-Content-Type-Options: nosniff`, \
`Referrer-Policy: no-referrer` and an `x-request-id` (the request's own, when it sent \
a short one of letters, digits and `-_.:`; a new one otherwise) that the server's logs \
name too. A 503 carries `Retry-After`: the seconds to wait before sending the same \
request again.
- Lists are paged: `limit` (1 to 100, 10 by default) and a cursor (`starting_after`, \
`after`) naming the last item of the page before; `has_more` says whether to ask again.
- Forward compatibility: a newer server may add fields, and values to the enumerations \
this document lists. A client ignores fields it does not know and accepts such values \
(each enumeration says how to read one).";

/// Every named schema: the roots below and all they refer to.
fn schemas() -> Vec<(String, RefOr<Schema>)> {
    fn with_dependencies<T: ToSchema>(schemas: &mut Vec<(String, RefOr<Schema>)>) {
        schemas.push((T::name().into_owned(), T::schema()));
        T::schemas(schemas);
    }
    let mut schemas = Vec::new();
    with_dependencies::<CreateCheckoutSession>(&mut schemas);
    with_dependencies::<CreatedCheckoutSession>(&mut schemas);
    with_dependencies::<MerchantCheckoutSession>(&mut schemas);
    with_dependencies::<CreateIntent>(&mut schemas);
    with_dependencies::<PaymentIntent>(&mut schemas);
    with_dependencies::<IntentList>(&mut schemas);
    with_dependencies::<CreateRefund>(&mut schemas);
    with_dependencies::<Refund>(&mut schemas);
    with_dependencies::<RefundList>(&mut schemas);
    with_dependencies::<EventList>(&mut schemas);
    with_dependencies::<ErrorBody>(&mut schemas);
    with_dependencies::<WebhookEvent>(&mut schemas);
    with_dependencies::<DemoSession>(&mut schemas);
    with_dependencies::<SandboxScan>(&mut schemas);
    schemas
}

fn paths() -> Paths {
    let post = |operation| PathItem::new(HttpMethod::Post, operation);
    let get = |operation| PathItem::new(HttpMethod::Get, operation);
    PathsBuilder::new()
        .path("/checkout-sessions", post(create_checkout_session()))
        .path("/checkout-sessions/{id}", get(get_checkout_session()))
        .path(
            "/checkout-sessions/{id}/first-screen",
            get(get_first_screen()),
        )
        .path(
            "/checkout-sessions/{id}/intents",
            post(create_payment_intent()),
        )
        .path("/intents", get(list_payment_intents()))
        .path("/intents/{id}", get(get_payment_intent()))
        .path("/intents/{id}/cancel", post(cancel_payment_intent()))
        .path("/intents/{id}/refunds", post(create_refund()))
        .path("/intents/{id}/refunds", get(list_refunds()))
        .path("/refunds/{id}", get(get_refund()))
        .path("/events", get(list_events()))
        .path(
            "/notify/wechat-pay/{merchant}",
            post(wechat_pay_notification()),
        )
        .path("/notify/alipay/{merchant}", post(alipay_notification()))
        .path(
            "/notify/unionpay/{merchant}",
            post(unionpay_notification(
                "receiveUnionpayNotification",
                "QuickPass",
            )),
        )
        .path(
            "/notify/unionpay-card/{merchant}",
            post(unionpay_notification(
                "receiveUnionpayCardNotification",
                "card",
            )),
        )
        .path("/notify/cmpay/{merchant}", post(cmpay_notification()))
        .path("/oauth/{provider}/{merchant}", get(payer_authorization()))
        .path(
            "/return/{provider}/{merchant}/{intent}",
            get(shopper_return("shopperReturn")),
        )
        .path(
            "/return/{provider}/{merchant}/{intent}",
            post(shopper_return("shopperReturnPosted")),
        )
        .path("/dev/demo-session", post(demo_session()))
        .path("/sandbox/scan", post(sandbox_scan()))
        .build()
}

fn create_checkout_session() -> Operation {
    OperationBuilder::new()
        .tag(SESSIONS)
        .operation_id(Some("createCheckoutSession"))
        .summary(Some("Open a checkout session"))
        .description(Some(
            "Server to server, with the merchant's secret key. The amount is \
             decided here; the browser never sends one. The answer's \
             `client_secret` goes to the page with the session, for the \
             component. With an `Idempotency-Key`, a retry after a lost answer \
             answers the same session (with its client secret) instead of \
             opening a second one.",
        ))
        .security(needs(SECRET_KEY))
        .parameter(idempotency_header(
            false,
            "Optional: any unique string per order (its reference, say). The \
             same key and body again answer the session it opened (200); the \
             repeat must carry the same secret key.",
        ))
        .request_body(Some(body::<CreateCheckoutSession>(
            "The order. The reference server takes `amount.value` from 1 to \
             10 000 000 000 minor units in a currency it is configured for, a \
             `reference` of 1 to 64 characters, an `https` `return_url` of at \
             most 2048 characters (plain `http` too on a sandbox server), and \
             `expires_in_seconds` from 60 to 604 800 (7 days).",
        )))
        .responses(
            ResponsesBuilder::new()
                .response(
                    "201",
                    json::<CreatedCheckoutSession>(
                        "The session, as a desktop browser will see it, and its \
                         client secret.",
                    ),
                )
                .response(
                    "200",
                    json::<CreatedCheckoutSession>(
                        "The session this key opened before (the same key and \
                         body sent again), as it stands now.",
                    ),
                )
                .response(
                    "400",
                    failure(&[(
                        ErrorCode::InvalidRequest,
                        "the body is not JSON of this shape, or a field is out \
                         of range (`message` says which), or the key is longer \
                         than 255 characters",
                    )]),
                )
                .response("401", unauthorized())
                .response(
                    "409",
                    failure(&[(
                        ErrorCode::IdempotencyKeyReused,
                        "the key was sent before with another body (or another \
                         secret key)",
                    )]),
                )
                .response("500", internal())
                .response("503", too_long()),
        )
        .build()
}

fn get_checkout_session() -> Operation {
    OperationBuilder::new()
        .tag(SESSIONS)
        .operation_id(Some("getCheckoutSession"))
        .summary(Some("Read a checkout session"))
        .description(Some(
            "Two readers, told apart by the bearer token. With the merchant's \
             secret key (a token that starts `sk_`): how the session stands \
             and, once paid, how (`MerchantCheckoutSession`; the query is \
             ignored). With the session's client secret: what the shopper's \
             browser shows (`CheckoutSession`), each method with the flow and \
             availability for the device the query names. The browser's read \
             says `expired` from `expires_at` on; the merchant's once the \
             server has swept the session, moments later.",
        ))
        .securities(Some([needs(SECRET_KEY), needs(CLIENT_SECRET)]))
        .parameter(id("The session id (`cs_…`)."))
        .parameters(Some(ClientContext::into_params(|| {
            Some(ParameterIn::Query)
        })))
        .responses(
            ResponsesBuilder::new()
                .response(
                    "200",
                    ResponseBuilder::new()
                        .description(
                            "`MerchantCheckoutSession` to the secret key, \
                             `CheckoutSession` to the client secret.",
                        )
                        .content(
                            "application/json",
                            ContentBuilder::new()
                                .schema(Some(
                                    OneOfBuilder::new()
                                        .item(schema_ref::<MerchantCheckoutSession>())
                                        .item(schema_ref::<CheckoutSession>()),
                                ))
                                .build(),
                        )
                        .build(),
                )
                .response(
                    "400",
                    failure(&[(
                        ErrorCode::InvalidRequest,
                        "the browser's query names no known `device` or `in_app`",
                    )]),
                )
                .response("401", unauthorized())
                .response(
                    "404",
                    failure(&[(
                        ErrorCode::NotFound,
                        "no such session, or not this merchant's",
                    )]),
                )
                .response("500", internal())
                .response("503", too_long()),
        )
        .build()
}

fn get_first_screen() -> Operation {
    OperationBuilder::new()
        .tag(SESSIONS)
        .operation_id(Some("getFirstScreen"))
        .summary(Some("The checkout's first screen, as HTML for the page"))
        .description(Some(
            "For the storefront's server, while it renders the page that \
             shows the checkout: the inside of `<payment-selector>`, written \
             as it comes between `<payment-selector …>` and its closing tag. \
             It is a declarative shadow root (`<template \
             shadowrootmode=\"open\">`) holding the stylesheet link and the \
             checkout's first screen (the amount, the methods for the \
             shopper's device with their radio buttons and reasons, Pay), \
             drawn by the same views the browser runs, then a `<script \
             type=\"application/json\">` with the session as the browser \
             reads it and its client secret. The shopper sees and chooses a \
             method before any script arrives; the element takes the screen \
             over when its wasm is in, keeping the choice and the focus, and \
             carries out a Pay tapped meanwhile. Forward the shopper's \
             `User-Agent` (the device and in-app browser) and \
             `Accept-Language` (the language, unless `locale` is given) on \
             this request. The answer is for one shopper: do not cache it \
             across shoppers.",
        ))
        .securities(Some([needs(CLIENT_SECRET)]))
        .parameter(id("The session id (`cs_…`)."))
        .parameter(query_string(
            "locale",
            false,
            "`zh-CN`, `zh-TW` or `en`; from `Accept-Language` when absent \
             (English when it names none of them). Give the element the same \
             `locale` attribute.",
        ))
        .parameter(query_string(
            "stylesheet",
            false,
            "Where the page serves the package's `payment-selector.css`: \
             the screen then links it (cached across pages, but a request \
             before the screen paints). Without it the screen carries its \
             styles inline, allowed by the `Payment-Selector-Style-Src` \
             source.",
        ))
        .responses(
            ResponsesBuilder::new()
                .response(
                    "200",
                    ResponseBuilder::new()
                        .description("The element's content.")
                        .header(
                            "Payment-Selector-Style-Src",
                            HeaderBuilder::new()
                                .schema(ObjectBuilder::new().schema_type(Type::String))
                                .description(Some(
                                    "The `'sha256-…'` source a page's \
                                     Content-Security-Policy adds to `style-src` for \
                                     the screen's inline styles (the same for every \
                                     answer of one server version).",
                                ))
                                .build(),
                        )
                        .content(
                            "text/html",
                            ContentBuilder::new()
                                .schema(Some(ObjectBuilder::new().schema_type(Type::String)))
                                .build(),
                        )
                        .build(),
                )
                .response(
                    "400",
                    failure(&[(
                        ErrorCode::InvalidRequest,
                        "`locale` is not one the checkout speaks, or `stylesheet` is not a path or URL",
                    )]),
                )
                .response("401", unauthorized())
                .response(
                    "404",
                    failure(&[(ErrorCode::NotFound, "no such session")]),
                )
                .response("500", internal())
                .response("503", too_long()),
        )
        .build()
}

fn create_payment_intent() -> Operation {
    OperationBuilder::new()
        .tag(INTENTS)
        .operation_id(Some("createPaymentIntent"))
        .summary(Some("Start paying a session"))
        .description(Some(
            "From the shopper's browser, with the session's client secret. A \
             session has at most one payable intent: the server first closes \
             the one it has with its provider (if that one turns out paid, the \
             session is complete and this answers 409 `session_completed`; if \
             the shopper is confirming it on the phone, `processing`, this \
             answers 409 `payment_in_progress` until it ends or is canceled). \
             The new intent comes back with its hand-off in `next_action`, or \
             already `failed` (`provider_refused`) when the provider refused \
             to start it. After a lost answer or a 503, send the same request \
             with the same `Idempotency-Key` again: it answers the same intent \
             or makes it then.",
        ))
        .security(needs(CLIENT_SECRET))
        .parameter(id("The session id (`cs_…`)."))
        .parameter(idempotency_header(
            true,
            "Any unique string per attempt (a UUID, say), kept while the \
             shopper retries it.",
        ))
        .request_body(Some(body::<CreateIntent>(
            "The method the shopper chose, and where the shopper is.",
        )))
        .responses(
            ResponsesBuilder::new()
                .response("201", json::<PaymentIntent>("A new intent."))
                .response(
                    "200",
                    json::<PaymentIntent>(
                        "The intent this key made before (the same key and body \
                         sent again), as it stands now.",
                    ),
                )
                .response(
                    "400",
                    failure(&[
                        (
                            ErrorCode::IdempotencyKeyMissing,
                            "no `Idempotency-Key` header",
                        ),
                        (
                            ErrorCode::InvalidRequest,
                            "the body is not JSON of this shape, or the key is \
                             longer than 255 characters",
                        ),
                    ]),
                )
                .response("401", unauthorized())
                .response("404", failure(&[(ErrorCode::NotFound, "no such session")]))
                .response(
                    "409",
                    failure(&[
                        (
                            ErrorCode::IdempotencyKeyReused,
                            "the key was sent before with another body",
                        ),
                        (
                            ErrorCode::IdempotencyKeyInUse,
                            "the first request with this key is still being \
                             carried out: send it again shortly",
                        ),
                        (ErrorCode::SessionCompleted, "the session has been paid"),
                        (
                            ErrorCode::PaymentInProgress,
                            "the shopper is confirming another payment of this \
                             session on the phone: wait for it, or cancel its intent",
                        ),
                    ]),
                )
                .response(
                    "410",
                    failure(&[(
                        ErrorCode::SessionExpired,
                        "the session has expired, or has less than a minute left",
                    )]),
                )
                .response(
                    "422",
                    failure(&[(
                        ErrorCode::MethodUnavailable,
                        "the merchant does not take this method, or not here \
                         (the session's `availability` says why)",
                    )]),
                )
                .response("500", internal())
                .response("502", provider_error())
                .response("503", provider_unavailable()),
        )
        .build()
}

fn get_payment_intent() -> Operation {
    OperationBuilder::new()
        .tag(INTENTS)
        .operation_id(Some("getPaymentIntent"))
        .summary(Some("Read a payment intent"))
        .description(Some(
            "The browser reads it with its session's client secret, one \
             request at a time, until `status` is final; the merchant reads it \
             with its secret key and then also sees `transaction_id`, \
             `amount_refunded` and `review_reason`. The server asks the \
             provider itself when a notification is overdue; `refresh=true` has \
             it ask first (the shopper's \"check again\"; the provider is asked \
             about one intent at most every few seconds, however often). \
             A read does not fail for the provider's trouble (it says what is \
             known), except for an intent past its `expires_at`, which the \
             server must settle with the provider first.",
        ))
        .securities(Some([needs(CLIENT_SECRET), needs(SECRET_KEY)]))
        .parameter(id("The intent id (`pi_…`)."))
        .parameter(
            ParameterBuilder::new()
                .name("refresh")
                .parameter_in(ParameterIn::Query)
                .required(Required::False)
                .description(Some("Ask the provider before answering."))
                .schema(Some(
                    ObjectBuilder::new()
                        .schema_type(Type::Boolean)
                        .default(Some(json!(false))),
                )),
        )
        .responses(
            ResponsesBuilder::new()
                .response("200", json::<PaymentIntent>("The intent as it stands."))
                .response(
                    "400",
                    failure(&[(
                        ErrorCode::InvalidRequest,
                        "`refresh` is not `true` or `false`",
                    )]),
                )
                .response("401", unauthorized())
                .response(
                    "404",
                    failure(&[(
                        ErrorCode::NotFound,
                        "no such intent, or not this merchant's",
                    )]),
                )
                .response("500", internal())
                .response("502", provider_error())
                .response("503", provider_unavailable()),
        )
        .build()
}

fn cancel_payment_intent() -> Operation {
    OperationBuilder::new()
        .tag(INTENTS)
        .operation_id(Some("cancelPaymentIntent"))
        .summary(Some("Cancel a payment intent"))
        .description(Some(
            "The shopper walked away (or the merchant's server calls it off): \
             the server closes the order with its provider, so that it can no \
             longer be paid. Canceling a canceled intent answers it again. If the provider says the shopper paid \
             meanwhile, the payment is recorded and this answers 409 \
             `intent_paid`.",
        ))
        .securities(Some([needs(CLIENT_SECRET), needs(SECRET_KEY)]))
        .parameter(id("The intent id (`pi_…`)."))
        .responses(
            ResponsesBuilder::new()
                .response("200", json::<PaymentIntent>("The canceled intent."))
                .response("401", unauthorized())
                .response(
                    "404",
                    failure(&[(
                        ErrorCode::NotFound,
                        "no such intent, or not this merchant's",
                    )]),
                )
                .response(
                    "409",
                    failure(&[
                        (ErrorCode::IntentPaid, "the shopper has paid it"),
                        (
                            ErrorCode::IntentFinished,
                            "it has already failed or expired, or waits for review",
                        ),
                    ]),
                )
                .response("422", provider_missing())
                .response("500", internal())
                .response("502", provider_error())
                .response("503", provider_unavailable()),
        )
        .build()
}

fn list_payment_intents() -> Operation {
    OperationBuilder::new()
        .tag(INTENTS)
        .operation_id(Some("listPaymentIntents"))
        .summary(Some("List payment intents"))
        .description(Some(
            "Server to server, with the merchant's secret key: its intents, \
             newest first, as `getPaymentIntent` answers the merchant, \
             narrowed by session, status and creation time.",
        ))
        .security(needs(SECRET_KEY))
        .parameter(query_string(
            "session",
            false,
            "Only this session's (`cs_…`).",
        ))
        .parameter(
            ParameterBuilder::new()
                .name("status")
                .parameter_in(ParameterIn::Query)
                .required(Required::False)
                .description(Some("Only intents in this status."))
                .schema(Some(schema_ref::<IntentStatus>())),
        )
        .parameter(integer_query(
            "created_gte",
            "Only intents created at or after this time (Unix seconds).",
        ))
        .parameter(limit_parameter())
        .parameter(query_string(
            "starting_after",
            false,
            "The page after this intent: the last `id` of the page before.",
        ))
        .responses(
            ResponsesBuilder::new()
                .response("200", json::<IntentList>("A page of intents."))
                .response(
                    "400",
                    failure(&[(
                        ErrorCode::InvalidRequest,
                        "a filter is malformed, `limit` is out of range, or \
                         `starting_after` names no intent of this merchant's",
                    )]),
                )
                .response("401", unauthorized())
                .response("500", internal())
                .response("503", too_long()),
        )
        .build()
}

fn create_refund() -> Operation {
    OperationBuilder::new()
        .tag(REFUNDS)
        .operation_id(Some("createRefund"))
        .summary(Some("Give back a payment, or part of it"))
        .description(Some(
            "Server to server, with the merchant's secret key. The refund goes \
             through the provider that took the payment; several partial \
             refunds may follow each other, never more in all than was paid \
             (refunds `pending` or `succeeded`, and `abnormal` ones, count). \
             It is stored before the provider is asked: if the provider cannot \
             be reached it stays `pending` and the server asks again until the \
             provider has it; a `refund.succeeded` or `refund.failed` event \
             tells how it ended.",
        ))
        .security(needs(SECRET_KEY))
        .parameter(id("The intent id (`pi_…`)."))
        .parameter(idempotency_header(
            true,
            "Any unique string per refund, kept while the merchant retries it.",
        ))
        .request_body(Some(
            RequestBodyBuilder::new()
                .description(Some(
                    "How much (everything that is left when `amount` is absent) \
                     and why; the body may be left out for a full refund.",
                ))
                .required(Some(Required::False))
                .content(
                    "application/json",
                    ContentBuilder::new()
                        .schema(Some(schema_ref::<CreateRefund>()))
                        .build(),
                )
                .build(),
        ))
        .responses(
            ResponsesBuilder::new()
                .response("201", json::<Refund>("The refund, as it stands."))
                .response(
                    "200",
                    json::<Refund>(
                        "The refund this key made before (the same key and body \
                         sent again), as it stands now.",
                    ),
                )
                .response(
                    "400",
                    failure(&[
                        (
                            ErrorCode::IdempotencyKeyMissing,
                            "no `Idempotency-Key` header",
                        ),
                        (
                            ErrorCode::InvalidRequest,
                            "the body is not JSON of this shape, the currency is \
                             not the payment's, the amount is below 1 or the \
                             reason longer than 80 characters",
                        ),
                    ]),
                )
                .response("401", unauthorized())
                .response(
                    "404",
                    failure(&[(
                        ErrorCode::NotFound,
                        "no such intent, or not this merchant's",
                    )]),
                )
                .response(
                    "409",
                    failure(&[
                        (
                            ErrorCode::IdempotencyKeyReused,
                            "the key was sent before with another body",
                        ),
                        (
                            ErrorCode::IntentNotPaid,
                            "the intent holds no payment (it is not `succeeded`, \
                             `requires_refund`, `refunded` or a paid \
                             `requires_review`)",
                        ),
                    ]),
                )
                .response(
                    "422",
                    failure(&[
                        (
                            ErrorCode::RefundTooLarge,
                            "more than is left of the payment (`message` says \
                             how much is)",
                        ),
                        (
                            ErrorCode::MethodUnavailable,
                            "the provider account that took the payment is no \
                             longer configured",
                        ),
                    ]),
                )
                .response("500", internal())
                .response("503", too_long()),
        )
        .build()
}

fn list_refunds() -> Operation {
    OperationBuilder::new()
        .tag(REFUNDS)
        .operation_id(Some("listRefunds"))
        .summary(Some("An intent's refunds"))
        .description(Some(
            "With the merchant's secret key: every refund of the intent, the \
             server's own included, oldest first.",
        ))
        .security(needs(SECRET_KEY))
        .parameter(id("The intent id (`pi_…`)."))
        .responses(merchant_read(
            json::<RefundList>("The refunds."),
            "no such intent, or not this merchant's",
        ))
        .build()
}

fn get_refund() -> Operation {
    OperationBuilder::new()
        .tag(REFUNDS)
        .operation_id(Some("getRefund"))
        .summary(Some("Read a refund"))
        .description(Some(
            "With the merchant's secret key: the refund as it stands.",
        ))
        .security(needs(SECRET_KEY))
        .parameter(id("The refund id (`re_…`)."))
        .responses(merchant_read(
            json::<Refund>("The refund."),
            "no such refund, or not this merchant's",
        ))
        .build()
}

fn list_events() -> Operation {
    OperationBuilder::new()
        .tag(EVENTS)
        .operation_id(Some("listEvents"))
        .summary(Some("Read the event feed"))
        .description(Some(
            "With the merchant's secret key: every event the server made for \
             it, oldest first, exactly as the webhooks carry them, whether or \
             not it has an endpoint and whether or not the endpoint took them. \
             Keep the last `id` you handled and ask with `after` set to it.",
        ))
        .security(needs(SECRET_KEY))
        .parameter(query_string(
            "after",
            false,
            "The events after this one (`evt_…`); from the first without it.",
        ))
        .parameter(limit_parameter())
        .responses(
            ResponsesBuilder::new()
                .response("200", json::<EventList>("A page of events."))
                .response(
                    "400",
                    failure(&[(
                        ErrorCode::InvalidRequest,
                        "`limit` is out of range, or `after` names no event of \
                         this merchant's",
                    )]),
                )
                .response("401", unauthorized())
                .response("500", internal())
                .response("503", too_long()),
        )
        .build()
}

fn wechat_pay_notification() -> Operation {
    OperationBuilder::new()
        .tag(CALLBACKS)
        .operation_id(Some("receiveWechatPayNotification"))
        .summary(Some("WeChat Pay's payment notification"))
        .description(Some(
            "WeChat Pay API v3 posts here (each order's and each refund's \
             `notify_url`): a notification signed with its platform key whose \
             `resource` is the order's transaction (`TRANSACTION.SUCCESS`) or a \
             refund (`REFUND.SUCCESS`, `REFUND.ABNORMAL`, `REFUND.CLOSED`), \
             AES-256-GCM encrypted with the merchant's API v3 key. The server \
             verifies it with the keys of the merchant in the path, applies it \
             only to that merchant's order made with that account (anyone \
             else's is refused, nothing applied), records it once by its `id`, \
             and applies it as it would a query's answer; a payment whose \
             amount differs from the order's is not applied: the intent waits \
             for review. Its body and headers are WeChat Pay's, as WeChat Pay \
             documents them.",
        ))
        .parameter(merchant_parameter())
        .parameters(Some(
            [
                (
                    "Wechatpay-Timestamp",
                    "When WeChat Pay signed it, in Unix seconds.",
                ),
                ("Wechatpay-Nonce", "The signature's random string."),
                (
                    "Wechatpay-Signature",
                    "Base64 RSA-SHA256 over `<timestamp>\\n<nonce>\\n<body>\\n`, \
                     with WeChat Pay's platform key.",
                ),
                ("Wechatpay-Serial", "Which platform key signed it."),
            ]
            .map(|(name, description)| {
                ParameterBuilder::new()
                    .name(name)
                    .parameter_in(ParameterIn::Header)
                    .required(Required::True)
                    .description(Some(description))
                    .schema(Some(ObjectBuilder::new().schema_type(Type::String)))
            }),
        ))
        .request_body(Some(
            RequestBodyBuilder::new()
                .description(Some(
                    "WeChat Pay's notification: `id`, `create_time`, \
                     `event_type` (`TRANSACTION.SUCCESS`, `REFUND.*`), \
                     `resource_type`, `summary`, and the encrypted `resource`.",
                ))
                .required(Some(Required::True))
                .content(
                    "application/json",
                    ContentBuilder::new()
                        .schema(Some(ObjectBuilder::new().schema_type(Type::Object)))
                        .build(),
                )
                .build(),
        ))
        .responses(
            ResponsesBuilder::new()
                .response(
                    "204",
                    ResponseBuilder::new().description(
                        "Taken (a duplicate too, and a payment sent for \
                         review): WeChat Pay stops sending it.",
                    ),
                )
                .response(
                    "404",
                    failure(&[(
                        ErrorCode::NotFound,
                        "no such merchant, or it takes no WeChat Pay",
                    )]),
                )
                .response(
                    "500",
                    ResponseBuilder::new()
                        .description(
                            "Not verified, about an order or refund that is not \
                             this merchant's (or not stored yet), or not applied \
                             yet, in WeChat Pay's words: it sends the \
                             notification again later.",
                        )
                        .content(
                            "application/json",
                            ContentBuilder::new()
                                .schema(Some(
                                    ObjectBuilder::new()
                                        .schema_type(Type::Object)
                                        .property(
                                            "code",
                                            ObjectBuilder::new()
                                                .schema_type(Type::String)
                                                .enum_values(Some(["FAIL"])),
                                        )
                                        .required("code")
                                        .property(
                                            "message",
                                            ObjectBuilder::new().schema_type(Type::String),
                                        )
                                        .required("message"),
                                ))
                                .build(),
                        ),
                )
                .response("503", too_long()),
        )
        .build()
}

fn alipay_notification() -> Operation {
    OperationBuilder::new()
        .tag(CALLBACKS)
        .operation_id(Some("receiveAlipayNotification"))
        .summary(Some("Alipay's asynchronous notification"))
        .description(Some(
            "Alipay posts here (each order's `notify_url`) when a trade is \
             paid (`trade_status` `TRADE_SUCCESS`) and when a refund moves \
             money (with `out_biz_no` and `refund_fee`): a form signed with \
             Alipay's public-key pair (RSA2 over every field but `sign` and \
             `sign_type`, sorted). The server verifies it with the Alipay key \
             of the merchant in the path, checks its `app_id` and `seller_id`, \
             applies it only to that merchant's order made with that \
             application (anyone else's is refused, nothing applied), records \
             it once by its `notify_id`, and applies it as it would a query's \
             answer; a payment whose amount differs from the order's waits for \
             review.",
        ))
        .parameter(merchant_parameter())
        .request_body(Some(
            RequestBodyBuilder::new()
                .description(Some(
                    "Alipay's fields: `notify_id`, `notify_time`, `app_id`, \
                     `seller_id`, `out_trade_no`, `trade_no`, `trade_status`, \
                     `total_amount`, `buyer_id`, …, `sign_type`, `sign`.",
                ))
                .required(Some(Required::True))
                .content(
                    "application/x-www-form-urlencoded",
                    ContentBuilder::new()
                        .schema(Some(ObjectBuilder::new().schema_type(Type::Object)))
                        .build(),
                )
                .build(),
        ))
        .responses(
            ResponsesBuilder::new()
                .response(
                    "200",
                    ResponseBuilder::new()
                        .description(
                            "In Alipay's words: `success` when taken (a \
                             duplicate too, and a payment sent for review), and \
                             Alipay stops sending it; `fail` when not verified, \
                             not this merchant's (or not stored yet), or not \
                             applied yet, and Alipay sends it again later.",
                        )
                        .content(
                            "text/plain",
                            ContentBuilder::new()
                                .schema(Some(
                                    ObjectBuilder::new()
                                        .schema_type(Type::String)
                                        .enum_values(Some(["success", "fail"])),
                                ))
                                .build(),
                        ),
                )
                .response(
                    "404",
                    failure(&[(
                        ErrorCode::NotFound,
                        "no such merchant, or it takes no Alipay",
                    )]),
                )
                .response("503", too_long()),
        )
        .build()
}

fn unionpay_notification(operation_id: &str, orders: &str) -> Operation {
    OperationBuilder::new()
        .tag(CALLBACKS)
        .operation_id(Some(operation_id))
        .summary(Some(format!(
            "UnionPay's asynchronous notification ({orders} orders)"
        )))
        .description(Some(
            "UnionPay's online gateway posts here (each request's `backUrl`) \
             when a payment (`txnType` 01) succeeds and when a refund (04) or \
             a cancellation (31) ends: a form signed as version 5.1.0 signs \
             (SHA-256 hex of the sorted fields, SHA256withRSA) by the \
             certificate it carries in `signPubKeyCert`. The server trusts \
             that certificate only if it chains to the configured UnionPay \
             root and intermediate, is valid and names UnionPay; it checks \
             `merId`, applies the notification only to that merchant's order \
             (anyone else's is refused, nothing applied), records it once by \
             its `queryId` and applies it as it would a query's answer.",
        ))
        .parameter(merchant_parameter())
        .request_body(Some(
            RequestBodyBuilder::new()
                .description(Some(
                    "UnionPay's fields: `version`, `merId`, `orderId`, `txnTime`, \
                     `txnType`, `txnSubType`, `txnAmt`, `queryId`, `respCode`, \
                     `origQryId` (refunds), `reqReserved`, …, `signPubKeyCert`, \
                     `signature`.",
                ))
                .required(Some(Required::True))
                .content(
                    "application/x-www-form-urlencoded",
                    ContentBuilder::new()
                        .schema(Some(ObjectBuilder::new().schema_type(Type::Object)))
                        .build(),
                )
                .build(),
        ))
        .responses(
            ResponsesBuilder::new()
                .response(
                    "200",
                    plain_text(
                        "`ok`: taken (a duplicate too, and a payment sent for \
                         review); UnionPay stops sending it.",
                    ),
                )
                .response(
                    "400",
                    plain_text(
                        "Not verified, not this merchant's (or not stored yet), or \
                         not applied yet: UnionPay sends it again later.",
                    ),
                )
                .response(
                    "404",
                    failure(&[(
                        ErrorCode::NotFound,
                        "no such merchant, or it takes no UnionPay",
                    )]),
                )
                .response("503", too_long()),
        )
        .build()
}

fn cmpay_notification() -> Operation {
    OperationBuilder::new()
        .tag(CALLBACKS)
        .operation_id(Some("receiveCmpayNotification"))
        .summary(Some("China Mobile Pay's asynchronous notification"))
        .description(Some(
            "China Mobile's `cmpayService` posts here (each order's \
             `notifyUrl`) an `OfflineNotify` when an order is paid (`status` \
             `SUCCESS`) or fails (`FAILED`): a form whose `hmac` is \
             HMAC-MD5 under the merchant's key over its fields' values in \
             the interface's order. The server verifies it with the key of \
             the merchant in the path, checks its `merchantId`, applies it \
             only to that merchant's order (anyone else's is refused, nothing \
             applied), records it once and applies it as it would a query's \
             answer.",
        ))
        .parameter(merchant_parameter())
        .request_body(Some(
            RequestBodyBuilder::new()
                .description(Some(
                    "The notification's fields: `merchantId`, `payNo`, \
                     `returnCode`, `message`, `signType`, `type`, `version`, \
                     `amount`, `amtItem`, `bankAbbr`, `mobile`, `orderId`, \
                     `payDate`, `accountDate`, `reserved1`, `reserved2`, \
                     `status`, `orderDate`, `fee`, `hmac`.",
                ))
                .required(Some(Required::True))
                .content(
                    "application/x-www-form-urlencoded",
                    ContentBuilder::new()
                        .schema(Some(ObjectBuilder::new().schema_type(Type::Object)))
                        .build(),
                )
                .build(),
        ))
        .responses(
            ResponsesBuilder::new()
                .response(
                    "200",
                    plain_text("`SUCCESS`: taken (a duplicate too); the service stops sending it."),
                )
                .response(
                    "400",
                    plain_text(
                        "`FAIL`: not verified, not this merchant's (or not stored yet), \
                         or not applied yet; the service sends it again later.",
                    ),
                )
                .response(
                    "404",
                    failure(&[(
                        ErrorCode::NotFound,
                        "no such merchant, or it takes no China Mobile Pay",
                    )]),
                )
                .response("503", too_long()),
        )
        .build()
}

fn shopper_return(operation_id: &str) -> Operation {
    OperationBuilder::new()
        .tag(CALLBACKS)
        .operation_id(Some(operation_id))
        .summary(Some("Back from a provider's page"))
        .description(Some(
            "A provider whose page sends the shopper back with a form POST \
             (UnionPay's `frontUrl`, `unionpay` or `unionpay-card`; China \
             Mobile's `callbackUrl`, `cmpay`) sends them \
             here. The server asks the provider how the payment stands (what \
             the POST says is not the outcome) and sends the shopper on to the \
             session's `return_url` with a GET, where the page reads the \
             intent.",
        ))
        .parameter(path_parameter(
            "provider",
            "The provider: `unionpay`, `unionpay-card` or `cmpay`.",
        ))
        .parameter(merchant_parameter())
        .parameter(path_parameter("intent", "The intent the page was for."))
        .responses(
            ResponsesBuilder::new()
                .response(
                    "303",
                    ResponseBuilder::new()
                        .description("Back to the shop.")
                        .header(
                            "Location",
                            HeaderBuilder::new()
                                .schema(ObjectBuilder::new().schema_type(Type::String))
                                .description(Some(
                                    "The session's `return_url` with \
                                     `payment_intent=<intent id>` added.",
                                ))
                                .build(),
                        ),
                )
                .response("404", plain_text("No such intent, or not this merchant's."))
                .response("503", too_long()),
        )
        .build()
}

fn payer_authorization() -> Operation {
    OperationBuilder::new()
        .tag(CALLBACKS)
        .operation_id(Some("payerAuthorizationReturn"))
        .summary(Some("Back from a wallet's silent authorisation"))
        .description(Some(
            "Inside WeChat (`wechat-pay`) or the Alipay app (`alipay`), an \
             in-app payment first sends the shopper to the wallet's silent \
             authorisation (the intent's `redirect` hand-off: WeChat's \
             `snsapi_base`, Alipay's `auth_base`), which sends them back here \
             with a one-time code. The server learns the payer's id from it, \
             makes the in-app order, and sends the shopper back to the \
             session's `return_url`, where the page reads the intent for its \
             bridge hand-off (`invoke_wechat_jsapi`, \
             `invoke_alipay_trade_pay`). Without a code (authorisation \
             declined) the shopper goes back all the same.",
        ))
        .parameter(path_parameter(
            "provider",
            "The wallet: `wechat-pay` or `alipay`.",
        ))
        .parameter(merchant_parameter())
        .parameter(query_string("code", false, "WeChat's one-time code."))
        .parameter(query_string("auth_code", false, "Alipay's one-time code."))
        .parameter(query_string(
            "state",
            true,
            "The intent id the authorisation was asked for.",
        ))
        .responses(
            ResponsesBuilder::new()
                .response(
                    "303",
                    ResponseBuilder::new()
                        .description("Back to the shop.")
                        .header(
                            "Location",
                            HeaderBuilder::new()
                                .schema(ObjectBuilder::new().schema_type(Type::String))
                                .description(Some(
                                    "The session's `return_url` with \
                                     `payment_intent=<intent id>` added.",
                                ))
                                .build(),
                        ),
                )
                .response("400", plain_text("No `state`."))
                .response("404", plain_text("No such intent, or not this merchant's."))
                .response("503", too_long()),
        )
        .build()
}

fn demo_session() -> Operation {
    OperationBuilder::new()
        .tag(SANDBOX)
        .operation_id(Some("createDemoSession"))
        .summary(Some("A demo session"))
        .description(Some(
            "Sandbox servers only: a ¥128.00 session for the demo merchant, for \
             the preview page, with no secret key.",
        ))
        .request_body(Some(
            RequestBodyBuilder::new()
                .required(Some(Required::False))
                .content(
                    "application/json",
                    ContentBuilder::new()
                        .schema(Some(
                            ObjectBuilder::new().schema_type(Type::Object).property(
                                "return_url",
                                ObjectBuilder::new()
                                    .schema_type(Type::String)
                                    .description(Some(
                                        "Where redirect flows bring the shopper \
                                         back; the server's own page when absent.",
                                    )),
                            ),
                        ))
                        .build(),
                )
                .build(),
        ))
        .responses(
            ResponsesBuilder::new()
                .response("201", json::<DemoSession>("The session."))
                .response(
                    "400",
                    failure(&[(
                        ErrorCode::InvalidRequest,
                        "`return_url` is not an http(s) URL of at most 2048 characters",
                    )]),
                )
                .response(
                    "404",
                    failure(&[
                        (ErrorCode::SandboxOnly, "a live server"),
                        (ErrorCode::NotFound, "no demo merchant is configured"),
                    ]),
                )
                .response("500", internal())
                .response("503", too_long()),
        )
        .build()
}

fn sandbox_scan() -> Operation {
    OperationBuilder::new()
        .tag(SANDBOX)
        .operation_id(Some("sandboxScan"))
        .summary(Some("The sandbox's phone scans a code"))
        .description(Some(
            "Sandbox servers only: plays the shopper's phone scanning a QR \
             code (WeChat Pay's `code_url` or Alipay's `qr_code`) and paying \
             or declining, at that provider's emulator, which then notifies \
             the server as the provider would.",
        ))
        .request_body(Some(body::<SandboxScan>("The code the phone read.")))
        .responses(
            ResponsesBuilder::new()
                .response(
                    "200",
                    ResponseBuilder::new()
                        .description("The emulator's phone's own answer.")
                        .content(
                            "application/json",
                            ContentBuilder::new()
                                .schema(Some(ObjectBuilder::new().schema_type(Type::Object)))
                                .build(),
                        ),
                )
                .response(
                    "400",
                    failure(&[(
                        ErrorCode::InvalidRequest,
                        "the body is not JSON of this shape",
                    )]),
                )
                .response("404", failure(&[(ErrorCode::SandboxOnly, "a live server")]))
                .response(
                    "409",
                    failure(&[(
                        ErrorCode::InvalidRequest,
                        "the phone could not pay this code (unknown, closed or \
                         paid)",
                    )]),
                )
                .response("500", internal())
                .response(
                    "503",
                    failure(&[
                        (
                            ErrorCode::ProviderUnavailable,
                            "the emulator could not be reached",
                        ),
                        (ErrorCode::Internal, TOO_LONG),
                    ]),
                ),
        )
        .build()
}

/// One webhook per event type: the same `WebhookEvent`, with what each
/// type guarantees in `data`.
fn webhooks() -> Paths {
    // Each type, what to do, and what its `data` holds: the object it is
    // about, and the field that object then always has.
    let events = [
        (
            EventType::CheckoutSessionCompleted,
            "The session was paid: ship the order. `data.checkout_session` has its `payment`.",
            ("checkout_session", Some("payment")),
        ),
        (
            EventType::CheckoutSessionExpired,
            "The session ended unpaid: release the order.",
            ("checkout_session", None),
        ),
        (
            EventType::PaymentIntentFailed,
            "A payment attempt was declined or closed by the provider \
             (`data.payment_intent.failure_reason`). Nothing to do: the shopper may try again.",
            ("payment_intent", Some("failure_reason")),
        ),
        (
            EventType::PaymentIntentRequiresRefund,
            "A second payment was taken for a session already paid \
             (`data.payment_intent.transaction_id`). The server gives it back by \
             itself (a `refund.*` event follows) unless the merchant's \
             `auto_refund` is off: then refund it.",
            ("payment_intent", Some("transaction_id")),
        ),
        (
            EventType::PaymentIntentRequiresReview,
            "The provider reported something the server cannot settle by itself \
             (`data.payment_intent.review_reason`): another amount than the \
             order's, a payment whose provider account is no longer \
             configured, or one its provider has not settled a day after its \
             end. Look at it: the server stopped asking about it.",
            ("payment_intent", Some("review_reason")),
        ),
        (
            EventType::RefundSucceeded,
            "A refund went through (`data.refund`): the shopper has the money back.",
            ("refund", None),
        ),
        (
            EventType::RefundFailed,
            "A refund did not go through (`data.refund.failure_reason`): the money \
             is still the merchant's to give back (an `abnormal` one is held by the \
             provider until it is settled in the provider's merchant platform).",
            ("refund", Some("failure_reason")),
        ),
    ];
    let mut paths = PathsBuilder::new();
    for (kind, description, (about, with)) in events {
        let mut object = ObjectBuilder::new().schema_type(Type::Object);
        if let Some(field) = with {
            object = object.required(field);
        }
        let event = AllOfBuilder::new().item(schema_ref::<WebhookEvent>()).item(
            ObjectBuilder::new()
                .schema_type(Type::Object)
                .property(
                    "type",
                    ObjectBuilder::new()
                        .schema_type(Type::String)
                        .enum_values(Some([kind.as_str()])),
                )
                .property(
                    "data",
                    ObjectBuilder::new()
                        .schema_type(Type::Object)
                        .property(about, object)
                        .required(about),
                ),
        );
        let operation = OperationBuilder::new()
            .operation_id(Some(kind.as_str().replace('.', "_")))
            .summary(Some(format!("`{}`", kind.as_str())))
            .description(Some(description))
            .parameter(
                ParameterBuilder::new()
                    .name(WEBHOOK_SIGNATURE_HEADER)
                    .parameter_in(ParameterIn::Header)
                    .required(Required::True)
                    .description(Some(format!(
                        "`t=<unix seconds>,v1=<hex HMAC-SHA256(secret, \"<t>.<raw body>\")>`, \
                         with the webhook secret of the merchant's configuration. Verify it \
                         before you trust the body: compute the HMAC over the raw body as \
                         it came, compare it with each `v1` in constant time, and refuse a \
                         `t` more than {WEBHOOK_TOLERANCE_SECONDS} seconds from your clock."
                    )))
                    .schema(Some(ObjectBuilder::new().schema_type(Type::String))),
            )
            .request_body(Some(
                RequestBodyBuilder::new()
                    .required(Some(Required::True))
                    .content(
                        "application/json",
                        ContentBuilder::new().schema(Some(event)).build(),
                    )
                    .build(),
            ))
            .responses(
                ResponsesBuilder::new()
                    .response(
                        "2XX",
                        ResponseBuilder::new().description("Taken: not sent again."),
                    )
                    .response(
                        "default",
                        ResponseBuilder::new().description(
                            "Anything else, or no answer within 10 seconds: sent again, \
                             about 5 seconds later, then twice as long each time up to \
                             hourly, for three days. An event can so arrive more than once, \
                             and out of order: keep the `id`s you have handled. Every event \
                             also stays readable at `GET /events`.",
                        ),
                    ),
            );
        paths = paths.path(kind.as_str(), PathItem::new(HttpMethod::Post, operation));
    }
    paths.build()
}

fn tag(name: &str, description: &str) -> Tag {
    TagBuilder::new()
        .name(name)
        .description(Some(description))
        .build()
}

fn bearer(format: &str, description: &str) -> SecurityScheme {
    SecurityScheme::Http(
        HttpBuilder::new()
            .scheme(HttpAuthScheme::Bearer)
            .bearer_format(format)
            .description(Some(description))
            .build(),
    )
}

/// A security requirement: the bearer token of `scheme`.
fn needs(scheme: &str) -> SecurityRequirement {
    SecurityRequirement::new(scheme, Vec::<String>::new())
}

fn schema_ref<T: ToSchema>() -> Ref {
    Ref::from_schema_name(T::name())
}

fn path_parameter(name: &str, description: &str) -> ParameterBuilder {
    ParameterBuilder::new()
        .name(name)
        .parameter_in(ParameterIn::Path)
        .required(Required::True)
        .description(Some(description))
        .schema(Some(ObjectBuilder::new().schema_type(Type::String)))
}

/// The `id` path parameter.
fn id(what: &str) -> ParameterBuilder {
    path_parameter("id", what)
}

/// The `merchant` path parameter of the providers' callbacks.
fn merchant_parameter() -> ParameterBuilder {
    path_parameter(
        "merchant",
        "The merchant's `id` in the server's configuration.",
    )
}

fn query_string(name: &str, required: bool, description: &str) -> ParameterBuilder {
    ParameterBuilder::new()
        .name(name)
        .parameter_in(ParameterIn::Query)
        .required(if required {
            Required::True
        } else {
            Required::False
        })
        .description(Some(description))
        .schema(Some(ObjectBuilder::new().schema_type(Type::String)))
}

/// A required JSON request body of type `T`.
fn body<T: ToSchema>(description: &str) -> utoipa::openapi::request_body::RequestBody {
    RequestBodyBuilder::new()
        .description(Some(description))
        .required(Some(Required::True))
        .content(
            "application/json",
            ContentBuilder::new()
                .schema(Some(schema_ref::<T>()))
                .build(),
        )
        .build()
}

/// A JSON answer of type `T`.
fn json<T: ToSchema>(description: &str) -> Response {
    ResponseBuilder::new()
        .description(description)
        .content(
            "application/json",
            ContentBuilder::new()
                .schema(Some(schema_ref::<T>()))
                .build(),
        )
        .build()
}

/// An `ErrorBody` answer with one of these codes, each with what it means
/// here.
fn failure(codes: &[(ErrorCode, &str)]) -> Response {
    let description = codes
        .iter()
        .map(|(code, meaning)| format!("- `{}`: {meaning}", wire_name(code)))
        .collect::<Vec<_>>()
        .join("\n");
    let schema = AllOfBuilder::new().item(schema_ref::<ErrorBody>()).item(
        ObjectBuilder::new().schema_type(Type::Object).property(
            "code",
            ObjectBuilder::new()
                .schema_type(Type::String)
                .enum_values(Some(codes.iter().map(|(code, _)| wire_name(code)))),
        ),
    );
    ResponseBuilder::new()
        .description(description)
        .content(
            "application/json",
            ContentBuilder::new().schema(Some(schema)).build(),
        )
        .build()
}

fn unauthorized() -> Response {
    failure(&[(
        ErrorCode::Unauthorized,
        "no bearer token, or not one that opens this",
    )])
}

fn internal() -> Response {
    failure(&[(ErrorCode::Internal, "something broke on the server")])
}

const TOO_LONG: &str = "the request took longer than 30 seconds";

fn too_long() -> Response {
    failure(&[(ErrorCode::Internal, TOO_LONG)])
}

fn provider_error() -> Response {
    failure(&[(
        ErrorCode::ProviderError,
        "the provider answered something the server could not use",
    )])
}

fn provider_unavailable() -> Response {
    let mut response = failure(&[
        (
            ErrorCode::ProviderUnavailable,
            "the provider could not be reached, did not answer in time, or limits \
             how often it is called; nothing was changed, and the same request may \
             be sent again after `Retry-After` seconds",
        ),
        (ErrorCode::Internal, TOO_LONG),
    ]);
    response.headers.insert(
        "Retry-After".into(),
        HeaderBuilder::new()
            .schema(
                ObjectBuilder::new()
                    .schema_type(Type::Integer)
                    .minimum(Some(1)),
            )
            .description(Some("Seconds to wait before sending it again."))
            .build(),
    );
    response
}

/// A merchant's read of one thing: `ok`, or why not (`missing` for a 404).
fn merchant_read(ok: Response, missing: &str) -> ResponsesBuilder {
    ResponsesBuilder::new()
        .response("200", ok)
        .response("401", unauthorized())
        .response("404", failure(&[(ErrorCode::NotFound, missing)]))
        .response("500", internal())
        .response("503", too_long())
}

fn provider_missing() -> Response {
    failure(&[(
        ErrorCode::MethodUnavailable,
        "the provider account the intent was made with is no longer configured: \
         the intent now waits for review",
    )])
}

/// The `Idempotency-Key` header.
fn idempotency_header(required: bool, description: &str) -> ParameterBuilder {
    ParameterBuilder::new()
        .name(IDEMPOTENCY_KEY_HEADER)
        .parameter_in(ParameterIn::Header)
        .required(if required {
            Required::True
        } else {
            Required::False
        })
        .description(Some(description))
        .schema(Some(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .min_length(Some(1))
                .max_length(Some(255)),
        ))
}

/// A page's `limit`.
fn limit_parameter() -> ParameterBuilder {
    ParameterBuilder::new()
        .name("limit")
        .parameter_in(ParameterIn::Query)
        .required(Required::False)
        .description(Some("How many (1 to 100)."))
        .schema(Some(
            ObjectBuilder::new()
                .schema_type(Type::Integer)
                .minimum(Some(1))
                .maximum(Some(100))
                .default(Some(json!(10))),
        ))
}

fn integer_query(name: &str, description: &str) -> ParameterBuilder {
    ParameterBuilder::new()
        .name(name)
        .parameter_in(ParameterIn::Query)
        .required(Required::False)
        .description(Some(description))
        .schema(Some(ObjectBuilder::new().schema_type(Type::Integer)))
}

fn plain_text(description: &str) -> Response {
    ResponseBuilder::new()
        .description(description)
        .content(
            "text/plain",
            ContentBuilder::new()
                .schema(Some(ObjectBuilder::new().schema_type(Type::String)))
                .build(),
        )
        .build()
}

/// How serde writes `value`: the wire name of a unit variant.
fn wire_name<T: Serialize>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(Value::String(name)) => name,
        other => unreachable!("not a unit variant: {other:?}"),
    }
}

/// Drops a `#[serde(other)]` catch-all from what `T`'s schema lists: the
/// document lists the values this version sends, and says in words that
/// more may come.
fn known_values_only<T: ToSchema + Serialize>(schemas: &mut Value, catch_all: T) {
    let wire = serde_json::to_value(catch_all).expect("a unit variant serializes");
    let schema = &mut schemas[T::name().as_ref()];
    match &wire {
        Value::String(_) => {
            if let Some(values) = schema["enum"].as_array_mut() {
                values.retain(|value| *value != wire);
            }
        }
        // A unit variant of an internally tagged enum: `{"<tag>": "<name>"}`.
        Value::Object(tag) => {
            if let Some(variants) = schema["oneOf"].as_array_mut() {
                variants.retain(|variant| {
                    !tag.iter()
                        .all(|(name, value)| variant["properties"][name]["enum"] == json!([value]))
                });
            }
        }
        _ => {}
    }
}

/// utoipa names the `UnixSeconds` alias by what it aliases, `i64`; the
/// document names it as the contract does.
fn name_unix_seconds(document: &mut Value) {
    const FROM: &str = "#/components/schemas/i64";
    const TO: &str = "#/components/schemas/UnixSeconds";
    fn rename(value: &mut Value) {
        match value {
            Value::Object(object) => {
                for (key, value) in object.iter_mut() {
                    if key == "$ref" && value == FROM {
                        *value = json!(TO);
                    } else {
                        rename(value);
                    }
                }
            }
            Value::Array(items) => items.iter_mut().for_each(rename),
            _ => {}
        }
    }
    rename(document);
    if let Some(schemas) = document["components"]["schemas"].as_object_mut() {
        if let Some(mut schema) = schemas.remove("i64") {
            schema["description"] = json!("Seconds since the Unix epoch, UTC.");
            schemas.insert("UnixSeconds".into(), schema);
        }
    }
}

/// A JSON value written with every object's keys in order.
struct Sorted<'a>(&'a Value);

impl Serialize for Sorted<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self.0 {
            Value::Object(object) => {
                let mut entries: Vec<_> = object.iter().collect();
                entries.sort_by_key(|(key, _)| *key);
                serializer.collect_map(entries.into_iter().map(|(key, value)| (key, Sorted(value))))
            }
            Value::Array(items) => serializer.collect_seq(items.iter().map(Sorted)),
            other => other.serialize(serializer),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::paths;

    #[test]
    fn the_document_lists_no_catch_all_values() {
        let text = to_json();
        for catch_all in ["\"unknown\"", "\"Unknown\"", "\"unsupported\"", "\"other\""] {
            assert!(!text.contains(catch_all), "{catch_all} is documented");
        }
        assert!(!text.contains("schemas/i64"));
    }

    #[test]
    fn its_paths_are_the_ones_the_component_calls() {
        let document = document();
        let documented = |path: String| {
            let template = path.replace("/cs_1", "/{id}").replace("/pi_1", "/{id}");
            assert!(
                document["paths"].get(&template).is_some(),
                "{path} is not in the document"
            );
        };
        assert!(
            document["paths"]["/intents/{id}/refunds"]["get"].is_object()
                && document["paths"]["/intents/{id}/refunds"]["post"].is_object(),
            "both operations of one path"
        );
        documented(paths::CHECKOUT_SESSIONS.into());
        documented(paths::checkout_session("cs_1"));
        documented(paths::session_intents("cs_1"));
        documented(paths::intent("pi_1"));
        documented(paths::cancel_intent("pi_1"));
        documented(paths::INTENTS.into());
        documented(paths::intent_refunds("pi_1"));
        documented(paths::refund("re_1").replace("/re_1", "/{id}"));
        documented(paths::EVENTS.into());
        documented(paths::DEMO_SESSION.into());
        documented(paths::SANDBOX_SCAN.into());
    }

    #[test]
    fn every_reference_resolves() {
        fn references<'a>(value: &'a Value, found: &mut Vec<&'a str>) {
            match value {
                Value::Object(object) => {
                    if let Some(Value::String(target)) = object.get("$ref") {
                        found.push(target);
                    }
                    object.values().for_each(|value| references(value, found));
                }
                Value::Array(items) => items.iter().for_each(|value| references(value, found)),
                _ => {}
            }
        }
        let document = document();
        let mut found = Vec::new();
        references(&document, &mut found);
        assert!(found.len() > 20);
        for target in found {
            let pointer = target.trim_start_matches('#');
            assert!(document.pointer(pointer).is_some(), "{target} is missing");
        }
    }

    #[test]
    fn every_event_type_has_its_webhook() {
        let document = document();
        for kind in [
            EventType::CheckoutSessionCompleted,
            EventType::CheckoutSessionExpired,
            EventType::PaymentIntentFailed,
            EventType::PaymentIntentRequiresRefund,
            EventType::PaymentIntentRequiresReview,
            EventType::RefundSucceeded,
            EventType::RefundFailed,
        ] {
            assert!(document["webhooks"][kind.as_str()]["post"].is_object());
        }
    }
}
