//! Checks every state-changing request passes before it reaches the
//! service: a JSON body of bounded size, sent by this site.

use super::problem::{Problem, ProblemCode};

/// The request facts the guard reads; adapters fill it from their
/// framework's request.
#[derive(Debug, Clone, Copy, Default)]
pub struct RequestFacts<'a> {
    /// The method, upper case (`POST`).
    pub method: &'a str,
    /// The `Content-Type` header.
    pub content_type: Option<&'a str>,
    /// The `Content-Length` header, or the body's length when known.
    pub content_length: Option<u64>,
    /// The `Origin` header.
    pub origin: Option<&'a str>,
    /// The `Sec-Fetch-Site` header.
    pub sec_fetch_site: Option<&'a str>,
    /// The `Host` header (`example.com:8080`).
    pub host: Option<&'a str>,
}

/// Whether `method` changes state (everything but `GET`, `HEAD` and
/// `OPTIONS`).
#[must_use]
pub fn changes_state(method: &str) -> bool {
    !matches!(method, "GET" | "HEAD" | "OPTIONS")
}

/// Refuses a state-changing request that came from another site: a
/// `Sec-Fetch-Site` other than `same-origin` or `none` (typed in the
/// address bar), or, without it, an `Origin` whose host is not the
/// request's `Host` nor one of `allowed_origins` (full origins such as
/// `https://desk.example`). A request with neither header is not from a
/// browser's cross-site context (browsers send `Origin` on every
/// cross-origin `POST`) and passes.
///
/// # Errors
/// [`ProblemCode::CrossSite`].
pub fn check_same_site(
    facts: &RequestFacts<'_>,
    allowed_origins: &[String],
) -> Result<(), Problem> {
    if !changes_state(facts.method) {
        return Ok(());
    }
    if let Some(site) = facts.sec_fetch_site {
        return if matches!(site.trim(), "same-origin" | "none") {
            Ok(())
        } else {
            Err(Problem::new(ProblemCode::CrossSite)
                .detail("state-changing requests must come from this site"))
        };
    }
    let Some(origin) = facts.origin else {
        return Ok(());
    };
    let origin = origin.trim();
    if allowed_origins.iter().any(|o| o == origin) {
        return Ok(());
    }
    let origin_host = origin
        .split_once("://")
        .map(|(_, host)| host)
        .filter(|host| !host.contains('/'));
    match (origin_host, facts.host) {
        (Some(origin_host), Some(host)) if origin_host.eq_ignore_ascii_case(host.trim()) => Ok(()),
        _ => Err(Problem::new(ProblemCode::CrossSite)
            .detail("state-changing requests must come from this site")),
    }
}

/// Refuses a state-changing request whose body is not `application/json`
/// (415) or is larger than `max_body` bytes (413). A request without a
/// body may omit the content type.
///
/// # Errors
/// [`ProblemCode::UnsupportedMediaType`], [`ProblemCode::PayloadTooLarge`].
pub fn check_body(facts: &RequestFacts<'_>, max_body: u64) -> Result<(), Problem> {
    if !changes_state(facts.method) {
        return Ok(());
    }
    if facts.content_length.is_some_and(|len| len > max_body) {
        return Err(Problem::new(ProblemCode::PayloadTooLarge)
            .detail(format!("the request body may be at most {max_body} bytes")));
    }
    let empty = facts.content_length == Some(0);
    match facts.content_type {
        Some(ct) if is_json(ct) => Ok(()),
        None if empty => Ok(()),
        _ => Err(Problem::new(ProblemCode::UnsupportedMediaType)
            .detail("send the request body as application/json")),
    }
}

/// `application/json`, with or without parameters, any case.
fn is_json(content_type: &str) -> bool {
    content_type
        .split(';')
        .next()
        .is_some_and(|essence| essence.trim().eq_ignore_ascii_case("application/json"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn post<'a>() -> RequestFacts<'a> {
        RequestFacts {
            method: "POST",
            content_type: Some("application/json"),
            content_length: Some(20),
            host: Some("desk.example"),
            ..RequestFacts::default()
        }
    }

    #[test]
    fn same_site_requests_pass_and_cross_site_ones_are_refused() {
        let none: &[String] = &[];
        assert!(check_same_site(&post(), none).is_ok(), "no browser headers");
        let ok = RequestFacts {
            sec_fetch_site: Some("same-origin"),
            ..post()
        };
        assert!(check_same_site(&ok, none).is_ok());
        let cross = RequestFacts {
            sec_fetch_site: Some("cross-site"),
            origin: Some("https://desk.example"),
            ..post()
        };
        assert_eq!(
            check_same_site(&cross, none).unwrap_err().code,
            ProblemCode::CrossSite
        );
        let same_site = RequestFacts {
            sec_fetch_site: Some("same-site"),
            ..post()
        };
        assert!(
            check_same_site(&same_site, none).is_err(),
            "a sibling subdomain is another site"
        );
        let origin_ok = RequestFacts {
            origin: Some("https://desk.example"),
            ..post()
        };
        assert!(check_same_site(&origin_ok, none).is_ok());
        let origin_bad = RequestFacts {
            origin: Some("https://evil.example"),
            ..post()
        };
        assert!(check_same_site(&origin_bad, none).is_err());
        let null = RequestFacts {
            origin: Some("null"),
            ..post()
        };
        assert!(check_same_site(&null, none).is_err());
        let allowed = vec!["https://evil.example".to_owned()];
        assert!(
            check_same_site(&origin_bad, &allowed).is_ok(),
            "configured origins pass"
        );
        let get = RequestFacts {
            method: "GET",
            sec_fetch_site: Some("cross-site"),
            ..post()
        };
        assert!(check_same_site(&get, none).is_ok(), "reads are not guarded");
    }

    #[test]
    fn only_bounded_json_bodies_pass() {
        assert!(check_body(&post(), 1024).is_ok());
        let charset = RequestFacts {
            content_type: Some("Application/JSON; charset=utf-8"),
            ..post()
        };
        assert!(check_body(&charset, 1024).is_ok());
        for ct in [
            "application/x-www-form-urlencoded",
            "text/plain",
            "multipart/form-data",
            "application/jsonp",
        ] {
            let form = RequestFacts {
                content_type: Some(ct),
                ..post()
            };
            assert_eq!(check_body(&form, 1024).unwrap_err().status, 415, "{ct}");
        }
        let big = RequestFacts {
            content_length: Some(1 << 20),
            ..post()
        };
        assert_eq!(check_body(&big, 1024).unwrap_err().status, 413);
        let empty = RequestFacts {
            content_type: None,
            content_length: Some(0),
            ..post()
        };
        assert!(check_body(&empty, 1024).is_ok());
        let untyped = RequestFacts {
            content_type: None,
            ..post()
        };
        assert_eq!(check_body(&untyped, 1024).unwrap_err().status, 415);
    }
}
