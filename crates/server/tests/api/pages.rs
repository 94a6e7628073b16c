//! Reading a provider's HTML page as a browser would: its forms' actions
//! and hidden fields.

use reqwest::StatusCode;

use crate::world::{send, World};

/// The value of a hidden input of a page.
pub fn hidden(page: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = page
        .find(&marker)
        .map(|at| at + marker.len())
        .unwrap_or_else(|| panic!("no {name} on {page}"));
    let length = page[start..].find('"').unwrap();
    unescape(&page[start..start + length])
}

fn unescape(text: &str) -> String {
    text.replace("&#13;", "\r")
        .replace("&#10;", "\n")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

/// The action and hidden inputs of the page's form `testid`.
pub fn form_of(page: &str, testid: &str) -> (String, Vec<(String, String)>) {
    let start = page
        .find(&format!("data-testid=\"{testid}\""))
        .and_then(|at| page[..at].rfind("<form"))
        .unwrap_or_else(|| panic!("no form {testid} on {page}"));
    let form = &page[start..start + page[start..].find("</form>").unwrap()];
    let action = {
        let at = form.find("action=\"").unwrap() + "action=\"".len();
        unescape(&form[at..at + form[at..].find('"').unwrap()])
    };
    let inputs = form
        .split("<input type=\"hidden\" name=\"")
        .skip(1)
        .map(|input| {
            let (name, rest) = input.split_once('"').unwrap();
            let at = rest.find("value=\"").unwrap() + "value=\"".len();
            let value = &rest[at..at + rest[at..].find('"').unwrap()];
            (name.to_owned(), unescape(value))
        })
        .collect();
    (action, inputs)
}

/// The browser submits the page's form `testid` back to the server, which
/// sends it on to the shop: where to.
pub async fn come_back(world: &World, page: &str, testid: &str) -> String {
    let (action, inputs) = form_of(page, testid);
    assert!(action.starts_with(&world.url("/return/")), "{action}");
    let back = send(world.http.post(&action).form(&inputs)).await;
    assert_eq!(back.status(), StatusCode::SEE_OTHER);
    back.headers()["location"].to_str().unwrap().to_owned()
}

/// The shopper presses `testid` on a provider's page, the form's button
/// for `outcome`: the page it leads to.
pub async fn press(world: &World, page: &str, testid: &str, outcome: &str) -> String {
    let (action, mut inputs) = form_of(page, testid);
    inputs.push(("outcome".into(), outcome.into()));
    let action = if action.starts_with('/') {
        format!("{}{action}", world.sandbox)
    } else {
        action
    };
    world
        .http
        .post(&action)
        .form(&inputs)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}
