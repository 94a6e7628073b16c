//! The pages' shell: self-contained HTML (no external assets, no inline
//! style attributes) and escaping.

use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};

const STYLE: &str = "
:root { color-scheme: light; font-family: -apple-system, 'PingFang SC', 'Microsoft YaHei', sans-serif; }
body { margin: 0; background: #ededed; color: #191919; }
main { max-width: 28rem; margin: 0 auto; padding: 1.5rem 1rem 3rem; }
header { text-align: center; color: #07c160; font-weight: 600; margin-bottom: 1.5rem; }
.card { background: #fff; border-radius: 0.5rem; padding: 1.5rem 1rem; text-align: center; }
.merchant { color: #555; margin: 0 0 0.5rem; }
.amount { font-size: 2.25rem; font-weight: 600; margin: 0.25rem 0 1.5rem; }
.note { color: #888; font-size: 0.875rem; }
form { display: grid; gap: 0.75rem; margin: 0; }
button { font: inherit; font-size: 1.0625rem; padding: 0.75rem; border-radius: 0.375rem; border: 0; cursor: pointer; }
button.primary { background: #07c160; color: #fff; }
button.secondary { background: #f2f2f2; color: #fa5151; }
button.plain { background: #f2f2f2; color: #191919; }
textarea { font: inherit; width: 100%; box-sizing: border-box; min-height: 4rem; }
ul { text-align: left; line-height: 1.6; }
code { font-size: 0.875rem; }
a { color: #576b95; }
.card + .card { margin-top: 1rem; }
h2 { font-size: 1.0625rem; margin: 0 0 0.5rem; text-align: left; }
.line { display: flex; justify-content: space-between; gap: 1rem; padding: 0.75rem 0; border-top: 1px solid #eee; text-align: left; }
.line__what { overflow-wrap: anywhere; }
.line__when, .line__state { color: #888; font-size: 0.8125rem; }
.line__amount { font-weight: 600; white-space: nowrap; text-align: right; }
.line__amount--in { color: #07c160; }
header.alipay { color: #1677ff; }
button.alipay { background: #1677ff; color: #fff; }
.line__amount--in.alipay { color: #1677ff; }
header.unionpay { color: #d7000f; }
button.unionpay { background: #d7000f; color: #fff; }
.line__amount--in.unionpay { color: #d7000f; }
header.cmpay { color: #0085d0; }
button.cmpay { background: #0085d0; color: #fff; }
.line__amount--in.cmpay { color: #0085d0; }
.en { display: block; font-size: 0.75rem; font-weight: 400; color: #767676; }
button .en { color: inherit; }
.fields { text-align: left; }
.fields label { display: block; }
.field { font: inherit; width: 100%; box-sizing: border-box; padding: 0.625rem 0.75rem; border: 1px solid #c8c8c8; border-radius: 0.375rem; background: #fff; color: inherit; }
.field[readonly] { background: #f5f5f5; }
select.field, .fields select { font: inherit; padding: 0.5rem; }
.error { color: #c4000e; margin: 0; }
form.back { margin-top: 0.75rem; }
";

/// HTML-escapes text for element content and quoted attribute values.
pub(crate) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Fen as yuan with two decimals, exactly: 12800 -> "128.00".
pub(crate) fn yuan(fen: i64) -> String {
    let sign = if fen < 0 { "-" } else { "" };
    let fen = fen.unsigned_abs();
    format!("{sign}{}.{:02}", fen / 100, fen % 100)
}

/// A whole page; `body` is trusted HTML, `title` is escaped here.
pub(crate) fn page(status: StatusCode, title: &str, body: &str) -> Response {
    let html = format!(
        "<!doctype html>\n<html lang=\"zh-CN\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{}</title><style>{STYLE}</style></head>\
         <body><main>{body}</main></body></html>\n",
        escape(title)
    );
    (status, Html(html)).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn converts_fen_exactly() {
        assert_eq!(yuan(12800), "128.00");
        assert_eq!(yuan(1), "0.01");
        assert_eq!(yuan(10), "0.10");
        assert_eq!(yuan(123_456_789), "1234567.89");
    }

    #[test]
    fn escapes_markup() {
        assert_eq!(
            escape("<a href=\"x\">'&'</a>"),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"
        );
    }
}
