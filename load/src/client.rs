//! Plain HTTP/1 on loopback: one pooled client, and browser-like sessions
//! that keep their cookies.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::{Method, Request, header};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;

/// The shared client (connections are pooled per host).
pub(crate) type Http = Client<HttpConnector, Full<Bytes>>;

/// A client that keeps enough idle connections for every worker.
pub(crate) fn client() -> Http {
    let mut connector = HttpConnector::new();
    connector.set_nodelay(true);
    connector.set_connect_timeout(Some(Duration::from_secs(2)));
    Client::builder(TokioExecutor::new())
        .pool_max_idle_per_host(512)
        .build(connector)
}

/// Unix time in seconds, with fractions.
pub(crate) fn unix_now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

/// How a request ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Outcome {
    /// An HTTP answer with this status.
    Status(u16),
    /// No answer within the request timeout.
    Timeout,
    /// The connection failed (refused, reset, closed early).
    Transport,
}

impl Outcome {
    /// The key in the per-endpoint counts.
    pub(crate) fn key(self) -> String {
        match self {
            Self::Status(status) => status.to_string(),
            Self::Timeout => "timeout".to_owned(),
            Self::Transport => "transport".to_owned(),
        }
    }
}

/// One answer, with its timing.
#[derive(Debug, Clone)]
pub(crate) struct Answer {
    pub(crate) outcome: Outcome,
    pub(crate) body: Bytes,
    /// The `Retry-After` header, when present and a number of seconds.
    pub(crate) retry_after: Option<u64>,
    pub(crate) latency: Duration,
    /// Unix seconds when the request was sent and its answer received.
    pub(crate) sent_at: f64,
    pub(crate) received_at: f64,
}

impl Answer {
    /// The status, if an HTTP answer came.
    pub(crate) fn status(&self) -> Option<u16> {
        match self.outcome {
            Outcome::Status(status) => Some(status),
            Outcome::Timeout | Outcome::Transport => None,
        }
    }

    /// The body as JSON (`Null` if it is not).
    pub(crate) fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or(serde_json::Value::Null)
    }
}

/// One browser: a base URL and the cookies it was given.
#[derive(Debug, Clone)]
pub(crate) struct Session {
    base: String,
    cookies: Vec<(String, String)>,
}

impl Session {
    /// A session without cookies on `base` (`http://127.0.0.1:3000`).
    pub(crate) fn new(base: &str) -> Self {
        Self {
            base: base.trim_end_matches('/').to_owned(),
            cookies: Vec::new(),
        }
    }

    /// Sends one request, bounded by `timeout`, and keeps the cookies set
    /// by the answer.
    pub(crate) async fn send(
        &mut self,
        http: &Http,
        method: Method,
        path: &str,
        body: Option<&serde_json::Value>,
        timeout: Duration,
    ) -> Answer {
        let sent_at = unix_now();
        let started = Instant::now();
        let finish = |outcome, body, retry_after| Answer {
            outcome,
            body,
            retry_after,
            latency: started.elapsed(),
            sent_at,
            received_at: unix_now(),
        };
        let mut builder = Request::builder()
            .method(method)
            .uri(format!("{}{path}", self.base))
            .header(header::ACCEPT, "application/json");
        if !self.cookies.is_empty() {
            let jar = self
                .cookies
                .iter()
                .map(|(name, value)| format!("{name}={value}"))
                .collect::<Vec<_>>()
                .join("; ");
            builder = builder.header(header::COOKIE, jar);
        }
        let payload = match body {
            Some(json) => {
                builder = builder.header(header::CONTENT_TYPE, "application/json");
                Bytes::from(json.to_string())
            }
            None => Bytes::new(),
        };
        let Ok(request) = builder.body(Full::new(payload)) else {
            return finish(Outcome::Transport, Bytes::new(), None);
        };
        let exchange = async {
            let response = http.request(request).await.ok()?;
            let (parts, body) = response.into_parts();
            let body = body.collect().await.ok()?.to_bytes();
            Some((parts, body))
        };
        match tokio::time::timeout(timeout, exchange).await {
            Err(_) => finish(Outcome::Timeout, Bytes::new(), None),
            Ok(None) => finish(Outcome::Transport, Bytes::new(), None),
            Ok(Some((parts, body))) => {
                for value in parts.headers.get_all(header::SET_COOKIE) {
                    if let Ok(value) = value.to_str() {
                        self.keep_cookie(value);
                    }
                }
                let retry_after = parts
                    .headers
                    .get(header::RETRY_AFTER)
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.trim().parse().ok());
                finish(Outcome::Status(parts.status.as_u16()), body, retry_after)
            }
        }
    }

    /// Applies one `Set-Cookie`: stores, replaces or (empty value,
    /// `Max-Age=0`) removes the cookie.
    fn keep_cookie(&mut self, set_cookie: &str) {
        let mut parts = set_cookie.split(';');
        let Some((name, value)) = parts.next().and_then(|pair| pair.split_once('=')) else {
            return;
        };
        let (name, value) = (name.trim().to_owned(), value.trim().to_owned());
        let expired = parts.any(|attr| attr.trim().eq_ignore_ascii_case("max-age=0"));
        self.cookies.retain(|(n, _)| *n != name);
        if !expired && !value.is_empty() {
            self.cookies.push((name, value));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookies_are_stored_replaced_and_removed() {
        let mut session = Session::new("http://127.0.0.1:1/");
        session.keep_cookie("id=abc; Path=/; HttpOnly");
        session.keep_cookie("other=1");
        session.keep_cookie("id=def; Path=/");
        assert_eq!(
            session.cookies,
            vec![
                ("other".to_owned(), "1".to_owned()),
                ("id".to_owned(), "def".to_owned())
            ]
        );
        session.keep_cookie("id=; Max-Age=0");
        assert_eq!(session.cookies, vec![("other".to_owned(), "1".to_owned())]);
        assert_eq!(session.base, "http://127.0.0.1:1");
    }
}
