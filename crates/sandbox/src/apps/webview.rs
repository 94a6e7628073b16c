//! The app's in-app browser: it sends the app's User-Agent, keeps one
//! phone's cookies, follows redirects as a browser does and submits forms.

use axum::http::header::{ACCEPT_LANGUAGE, CONTENT_TYPE, COOKIE, LOCATION, SET_COOKIE, USER_AGENT};
use axum::http::{Method, StatusCode};
use reqwest::Url;

use super::jar::Jar;
use super::markup::Form;
use super::PlayError;

/// Browsers give up after about twenty.
const MAX_REDIRECTS: usize = 20;

/// A page the web view shows.
#[derive(Debug)]
pub(super) struct Loaded {
    /// Where it ended up, after redirects.
    pub url: Url,
    /// The last answer's status.
    pub status: StatusCode,
    /// The page.
    pub html: String,
}

/// One phone's web view.
pub(super) struct WebView {
    http: reqwest::Client,
    user_agent: &'static str,
    jar: Jar,
}

impl WebView {
    /// A fresh web view, with no cookies; `http` must not follow redirects.
    pub fn new(http: reqwest::Client, user_agent: &'static str) -> WebView {
        WebView {
            http,
            user_agent,
            jar: Jar::default(),
        }
    }

    /// Opens `url`.
    pub async fn get(&mut self, url: Url) -> Result<Loaded, PlayError> {
        self.navigate(Method::GET, url, None).await
    }

    /// Sends `fields` to `url` as a form POST.
    pub async fn post(
        &mut self,
        url: Url,
        fields: &[(String, String)],
    ) -> Result<Loaded, PlayError> {
        let body = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(fields)
            .finish();
        self.navigate(Method::POST, url, Some(body)).await
    }

    /// Submits `form` of `page`, as its button would.
    pub async fn submit(&mut self, page: &Loaded, form: &Form) -> Result<Loaded, PlayError> {
        let mut action = page.url.join(form.action()).map_err(|error| {
            PlayError::unexpected(
                &page.url,
                format!("form action {:?}: {error}", form.action()),
            )
        })?;
        if form.posts() {
            return self.post(action, &form.fields).await;
        }
        action.set_query(None);
        action.query_pairs_mut().extend_pairs(&form.fields);
        self.get(action).await
    }

    async fn navigate(
        &mut self,
        mut method: Method,
        mut url: Url,
        mut body: Option<String>,
    ) -> Result<Loaded, PlayError> {
        for _ in 0..=MAX_REDIRECTS {
            let mut request = self
                .http
                .request(method.clone(), url.clone())
                .header(USER_AGENT, self.user_agent)
                // The apps' web views speak their phone's language.
                .header(ACCEPT_LANGUAGE, "zh-CN,zh;q=0.9");
            if let Some(cookies) = self.jar.header(&url) {
                request = request.header(COOKIE, cookies);
            }
            if let Some(body) = &body {
                request = request
                    .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
                    .body(body.clone());
            }
            let response = request
                .send()
                .await
                .map_err(|error| PlayError::unreachable(&url, &error))?;
            for set_cookie in response.headers().get_all(SET_COOKIE) {
                if let Ok(set_cookie) = set_cookie.to_str() {
                    self.jar.store(&url, set_cookie);
                }
            }
            let status = response.status();
            let location = response
                .headers()
                .get(LOCATION)
                .and_then(|location| location.to_str().ok());
            if let (true, Some(location)) = (status.is_redirection(), location) {
                let next = url.join(location).map_err(|error| {
                    PlayError::unexpected(&url, format!("Location {location:?}: {error}"))
                })?;
                // 307 and 308 repeat the request; the others turn it into a GET.
                if !matches!(
                    status,
                    StatusCode::TEMPORARY_REDIRECT | StatusCode::PERMANENT_REDIRECT
                ) {
                    method = Method::GET;
                    body = None;
                }
                url = next;
                continue;
            }
            let html = response
                .text()
                .await
                .map_err(|error| PlayError::unreachable(&url, &error))?;
            return Ok(Loaded { url, status, html });
        }
        Err(PlayError::unexpected(
            url,
            format!("more than {MAX_REDIRECTS} redirects"),
        ))
    }
}
