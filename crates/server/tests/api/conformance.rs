//! Every answer the tests get from the server, checked against the
//! contract's OpenAPI document (`crates/contract/openapi.json`, the file a
//! merchant reads): its status must be one the operation documents, its
//! media type one that status documents, and a JSON body must match that
//! status's schema. Webhook events are checked against the document's
//! `webhooks` the same way.
//!
//! The document leaves objects open (a newer server may add fields); here
//! its named schemas are closed, so that a field the server sends and the
//! document does not name fails too.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex, PoisonError};

use jsonschema::Validator;
use reqwest::header::{HeaderMap, CONTENT_TYPE};
use serde_json::{json, Value};

/// The document, as checked in.
const DOCUMENT: &str = include_str!("../../../contract/openapi.json");

static CONTRACT: LazyLock<Contract> = LazyLock::new(|| {
    let document = serde_json::from_str(DOCUMENT).expect("openapi.json is JSON");
    Contract::new(document)
});

/// Sends a request to the reference server and checks its answer against
/// the contract, panicking with what is wrong; the answer comes back whole,
/// to be read as usual.
pub async fn send(request: reqwest::RequestBuilder) -> reqwest::Response {
    let (client, request) = request.build_split();
    let request = request.expect("a well-formed request");
    let method = request.method().as_str().to_owned();
    let path = request.url().path().to_owned();
    let response = client.execute(request).await.expect("the server answers");
    let status = response.status();
    let version = response.version();
    let headers = response.headers().clone();
    let body = response.bytes().await.expect("the whole answer");
    if let Err(problem) = CONTRACT.check(&method, &path, status.as_u16(), &headers, &body) {
        panic!(
            "{method} {path} answered {status} {}\nagainst crates/contract/openapi.json: {problem}",
            String::from_utf8_lossy(&body)
        );
    }
    let mut answer = http::Response::new(body);
    *answer.status_mut() = status;
    *answer.version_mut() = version;
    *answer.headers_mut() = headers;
    reqwest::Response::from(answer)
}

/// Checks a webhook event, as the merchant's endpoint received it, against
/// the webhook of its `type`.
pub fn check_event(event: &Value) {
    if let Err(problem) = CONTRACT.check_event(event) {
        panic!("webhook event {event}\nagainst crates/contract/openapi.json: {problem}");
    }
}

/// The document and the validators compiled from it so far.
struct Contract {
    /// The document with its named schemas closed.
    document: Value,
    /// Where the document says the server answers (`/api`).
    base: String,
    /// By JSON pointer to the schema.
    validators: Mutex<HashMap<String, Arc<Validator>>>,
}

impl Contract {
    fn new(mut document: Value) -> Contract {
        if let Some(schemas) = document["components"]["schemas"].as_object_mut() {
            schemas.values_mut().for_each(close);
        }
        let base = document["servers"][0]["url"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        Contract {
            document,
            base,
            validators: Mutex::new(HashMap::new()),
        }
    }

    /// What is wrong with an answer of `status`, `headers` and `body` to
    /// `method` on `path` (as requested, base included), if anything.
    fn check(
        &self,
        method: &str,
        path: &str,
        status: u16,
        headers: &HeaderMap,
        body: &[u8],
    ) -> Result<(), String> {
        let path = path
            .strip_prefix(&self.base)
            .ok_or_else(|| format!("{path} is not under the server's {}", self.base))?;
        let Some((template, operation)) = self.operation(method, path) else {
            // The overview's promise for every path it does not name.
            if status != 404 {
                return Err(format!("{method} {path} is not in the document"));
            }
            let body = parse(body)?;
            self.validate("/components/schemas/ErrorBody", &body)?;
            return match body["code"].as_str() {
                Some("not_found") => Ok(()),
                other => Err(format!("an unnamed path answered {other:?}, not not_found")),
            };
        };
        let responses = &operation["responses"];
        let key = [
            status.to_string(),
            format!("{}XX", status / 100),
            "default".into(),
        ]
        .into_iter()
        .find(|key| responses.get(key).is_some())
        .ok_or_else(|| format!("{method} {template} documents no {status} answer"))?;
        let response = &responses[&key];
        for name in response["headers"]
            .as_object()
            .into_iter()
            .flatten()
            .map(|(name, _)| name)
        {
            if !headers.contains_key(name.as_str()) {
                return Err(format!("no {name} header"));
            }
        }
        let Some(content) = response["content"].as_object() else {
            return if body.is_empty() {
                Ok(())
            } else {
                Err(format!(
                    "{method} {template} documents no body for {status}"
                ))
            };
        };
        let media_type = headers
            .get(CONTENT_TYPE)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.split(';').next())
            .unwrap_or_default()
            .trim();
        if !content.contains_key(media_type) {
            return Err(format!(
                "Content-Type {media_type:?}, where {status} documents {:?}",
                content.keys().collect::<Vec<_>>()
            ));
        }
        if media_type != "application/json" {
            return Ok(());
        }
        let pointer = format!(
            "/paths/{}/{method}/responses/{key}/content/application~1json/schema",
            escape(template),
            method = method.to_lowercase(),
        );
        self.validate(&pointer, &parse(body)?)
    }

    fn check_event(&self, event: &Value) -> Result<(), String> {
        let kind = event["type"].as_str().unwrap_or_default();
        let pointer = format!("/webhooks/{kind}/post/requestBody/content/application~1json/schema");
        if self.document.pointer(&pointer).is_none() {
            return Err(format!("no webhook for {kind:?}"));
        }
        self.validate(&pointer, event)
    }

    /// The operation for `method` on `path`: its path template and itself.
    fn operation(&self, method: &str, path: &str) -> Option<(&str, &Value)> {
        let segments: Vec<&str> = path.split('/').collect();
        self.document["paths"]
            .as_object()?
            .iter()
            .find(|(template, _)| {
                let parts: Vec<&str> = template.split('/').collect();
                parts.len() == segments.len()
                    && parts.iter().zip(&segments).all(|(part, segment)| {
                        part == segment || (part.starts_with('{') && !segment.is_empty())
                    })
            })
            .and_then(|(template, item)| {
                Some((template.as_str(), item.get(method.to_lowercase())?))
            })
    }

    /// Validates `instance` against the schema at `pointer` in the document.
    fn validate(&self, pointer: &str, instance: &Value) -> Result<(), String> {
        let validator = self.validator(pointer)?;
        let problems: Vec<String> = validator
            .iter_errors(instance)
            .map(|error| format!("at {:?}: {error}", error.instance_path().as_str()))
            .collect();
        if problems.is_empty() {
            Ok(())
        } else {
            Err(problems.join("; "))
        }
    }

    fn validator(&self, pointer: &str) -> Result<Arc<Validator>, String> {
        let mut validators = self
            .validators
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some(validator) = validators.get(pointer) {
            return Ok(validator.clone());
        }
        let mut schema = self
            .document
            .pointer(pointer)
            .cloned()
            .ok_or_else(|| format!("no schema at {pointer}"))?;
        // The schema's `#/components/schemas/...` resolve against the root
        // it is compiled as: give that root the document's components.
        schema["components"] = json!({"schemas": self.document["components"]["schemas"]});
        let validator = Arc::new(
            jsonschema::draft202012::options()
                .build(&schema)
                .map_err(|error| format!("the schema at {pointer} does not compile: {error}"))?,
        );
        validators.insert(pointer.to_owned(), validator.clone());
        Ok(validator)
    }
}

/// Closes every object schema inside `schema` that lists its properties.
fn close(schema: &mut Value) {
    match schema {
        Value::Object(object) => {
            if object.get("type") == Some(&json!("object"))
                && object.contains_key("properties")
                && !object.contains_key("additionalProperties")
            {
                object.insert("additionalProperties".into(), json!(false));
            }
            object.values_mut().for_each(close);
        }
        Value::Array(items) => items.iter_mut().for_each(close),
        _ => {}
    }
}

/// A path template as one JSON pointer token.
fn escape(template: &str) -> String {
    template.replace('~', "~0").replace('/', "~1")
}

fn parse(body: &[u8]) -> Result<Value, String> {
    serde_json::from_slice(body).map_err(|error| format!("the body is not JSON: {error}"))
}

#[cfg(test)]
mod tests {
    use contract::{Currency, IntentStatus, Money, PaymentIntent};

    use super::*;

    fn json_headers() -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(CONTENT_TYPE, "application/json".parse().unwrap());
        headers
    }

    fn check(method: &str, path: &str, status: u16, body: &Value) -> Result<(), String> {
        let body = serde_json::to_vec(body).unwrap();
        CONTRACT.check(method, path, status, &json_headers(), &body)
    }

    #[test]
    fn the_check_refuses_what_the_document_does_not_allow() {
        let intent = serde_json::to_value(PaymentIntent {
            id: "pi_1".into(),
            session_id: "cs_1".into(),
            method: contract::MethodKind::WechatPay,
            amount: Money::new(12800, Currency::CNY),
            status: IntentStatus::Processing,
            expires_at: 1_800_000_000,
            next_action: None,
            failure_reason: None,
            transaction_id: None,
            amount_refunded: None,
            review_reason: None,
        })
        .unwrap();
        assert_eq!(check("GET", "/api/intents/pi_1", 200, &intent), Ok(()));

        let mut missing = intent.clone();
        missing.as_object_mut().unwrap().remove("amount");
        let mut extra = intent.clone();
        extra["secret"] = json!("leaked");
        let mut unknown_status = intent.clone();
        unknown_status["status"] = json!("unknown");
        for wrong in [missing, extra, unknown_status] {
            assert!(
                check("GET", "/api/intents/pi_1", 200, &wrong).is_err(),
                "{wrong}"
            );
        }
        assert!(
            check("GET", "/api/intents/pi_1", 418, &intent).is_err(),
            "an undocumented status"
        );
        let paid = json!({"code": "intent_paid", "message": "paid"});
        assert_eq!(
            check("POST", "/api/intents/pi_1/cancel", 409, &paid),
            Ok(())
        );
        assert!(
            check("POST", "/api/intents/pi_1/cancel", 400, &paid).is_err(),
            "a code another status documents"
        );
        let not_found = json!({"code": "not_found", "message": "no such endpoint"});
        assert_eq!(check("GET", "/api/nowhere", 404, &not_found), Ok(()));
        assert!(check("GET", "/api/nowhere", 200, &intent).is_err());
        assert!(
            CONTRACT
                .check(
                    "POST",
                    "/api/notify/wechat-pay/demo",
                    204,
                    &HeaderMap::new(),
                    b"{}"
                )
                .is_err(),
            "a body where none is documented"
        );
    }

    #[test]
    fn a_webhook_event_must_carry_what_its_type_promises() {
        let expired = json!({
            "id": "evt_1", "type": "checkout_session.expired", "created": 1_800_000_000,
            "data": {"checkout_session": {
                "id": "cs_1", "status": "expired", "amount": {"value": 100, "currency": "CNY"},
                "reference": "order-42", "created_at": 1_799_998_200, "expires_at": 1_800_000_000,
            }},
        });
        assert_eq!(CONTRACT.check_event(&expired), Ok(()));
        let mut completed = expired.clone();
        completed["type"] = json!("checkout_session.completed");
        assert!(
            CONTRACT.check_event(&completed).is_err(),
            "completed without its payment"
        );
        let mut unnamed = expired;
        unnamed["type"] = json!("refund.created");
        assert!(CONTRACT.check_event(&unnamed).is_err());
    }
}
