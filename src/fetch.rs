//! Fetching a key set (or asking the session service) over HTTP(S) with reqwest: timeout, size limit,
//! redirects judged hop by hop.

use crate::error::{Code, Error, Result};
use reqwest::header::{HeaderMap, HeaderName, HeaderValue, ACCEPT, CACHE_CONTROL, CONTENT_LENGTH, LOCATION};
use reqwest::{redirect, Client, Url};
use std::future::Future;
use std::net::IpAddr;
use std::pin::Pin;
use std::time::Duration;

/// A fetched document: its body and the `Cache-Control: max-age` it came with, in milliseconds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fetched {
  pub body: Vec<u8>,
  pub max_age_ms: Option<u64>,
  pub status: u16,
}

pub type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

/// Something that can produce the key set document. HTTP in production; a canned source in unit tests.
pub trait Fetch: Send + Sync + 'static {
  fn fetch(&self) -> BoxFuture<Result<Fetched>>;
}

pub const MAX_REDIRECTS: usize = 3;

/// True for `localhost`, `127.0.0.0/8` and `[::1]`.
pub fn is_loopback(url: &Url) -> bool {
  match url.host() {
    Some(url::Host::Domain(domain)) => domain.eq_ignore_ascii_case("localhost"),
    Some(url::Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
    Some(url::Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
    None => false,
  }
}

/// The https rule (README: Options): `https:` always; `http:` only on loopback or when explicitly allowed.
pub fn scheme_allowed(url: &Url, allow_insecure_http: bool) -> bool {
  match url.scheme() {
    "https" => true,
    "http" => allow_insecure_http || is_loopback(url),
    _ => false,
  }
}

/// Parses and checks a URL given in the options; the message names the option.
pub fn parse_url(value: &str, option: &str, allow_insecure_http: bool) -> std::result::Result<Url, String> {
  let url = Url::parse(value).map_err(|e| format!("{option} is not a valid URL ({e})"))?;
  if !scheme_allowed(&url, allow_insecure_http) {
    return Err(format!(
      "{option} must use https: (http: is allowed only for localhost, 127.0.0.0/8 and [::1], or with allowInsecureHttp)"
    ));
  }
  if !url.username().is_empty() || url.password().is_some() {
    return Err(format!("{option} must not contain credentials"));
  }
  Ok(url)
}

/// `Cache-Control: max-age=N` in milliseconds; `no-cache`/`no-store` count as 0 (then clamped up).
pub fn cache_control_max_age(headers: &HeaderMap) -> Option<u64> {
  let mut max_age = None;
  for value in headers.get_all(CACHE_CONTROL) {
    let Ok(text) = value.to_str() else { continue };
    for directive in text.split(',') {
      let directive = directive.trim().to_ascii_lowercase();
      if directive == "no-cache" || directive == "no-store" {
        return Some(0);
      }
      if let Some(seconds) = directive.strip_prefix("max-age=") {
        if let Ok(seconds) = seconds.trim_matches('"').parse::<u64>() {
          max_age = Some(seconds.saturating_mul(1000));
        }
      }
    }
  }
  max_age
}

pub struct HttpSettings {
  pub timeout: Duration,
  pub max_bytes: u64,
  pub headers: Vec<(String, String)>,
  pub allow_insecure_http: bool,
  /// Follow up to `MAX_REDIRECTS` redirects under the https rule (the key set), or none at all (the
  /// session service: a redirected POST would come back as a GET whose answer is not Hanko's).
  pub follow_redirects: bool,
}

/// One reqwest client per key cache (or session checker); the connection pool is reused across fetches.
/// Cloning is cheap: reqwest's client is an `Arc` inside.
#[derive(Clone)]
pub struct HttpClient {
  client: Client,
  timeout: Duration,
  max_bytes: u64,
  headers: HeaderMap,
  allow_insecure_http: bool,
  follow_redirects: bool,
}

/// Extra trusted roots from `NODE_EXTRA_CA_CERTS` (a PEM file), as Node's own HTTPS client trusts them,
/// so a private CA configured for the process covers the key set too.
fn extra_ca_certs() -> std::result::Result<Vec<reqwest::Certificate>, String> {
  let Some(path) = std::env::var_os("NODE_EXTRA_CA_CERTS") else {
    return Ok(vec![]);
  };
  let pem =
    std::fs::read(&path).map_err(|e| format!("NODE_EXTRA_CA_CERTS: cannot read {}: {e}", path.to_string_lossy()))?;
  reqwest::Certificate::from_pem_bundle(&pem).map_err(|e| format!("NODE_EXTRA_CA_CERTS: not PEM certificates: {e}"))
}

/// A URL as messages show it: without query string or fragment (they may carry secrets).
pub fn shown_url(url: &Url) -> String {
  let mut shown = url.clone();
  shown.set_query(None);
  shown.set_fragment(None);
  shown.to_string()
}

/// The likeliest mistake behind a 404: the JWKS URL passed where the Hanko API URL belongs.
fn url_hint(url: &Url, status: u16) -> &'static str {
  if status == 404 && url.path().matches("jwks.json").count() >= 2 {
    " (jwksHost takes the Hanko API URL, not the JWKS URL: pass https://<project>.hanko.io, or set jwksUri)"
  } else {
    ""
  }
}

/// Whether two URLs share an origin (RFC 6454 §4: scheme, host, port).
fn same_origin(a: &Url, b: &Url) -> bool {
  a.scheme() == b.scheme() && a.host() == b.host() && a.port_or_known_default() == b.port_or_known_default()
}

impl HttpClient {
  pub fn new(settings: &HttpSettings) -> std::result::Result<HttpClient, String> {
    let mut headers = HeaderMap::new();
    for (name, value) in &settings.headers {
      let name =
        HeaderName::from_bytes(name.as_bytes()).map_err(|_| format!("jwks.headers: {name:?} is not a header name"))?;
      let value =
        HeaderValue::from_str(value).map_err(|_| format!("jwks.headers: the value of {name} is not valid"))?;
      headers.insert(name, value);
    }
    // Redirects are followed here, not by reqwest, so each hop can be judged: the https rule, no
    // downgrade from https, and custom headers only to the origin they were configured for.
    let mut builder = Client::builder()
      .redirect(redirect::Policy::none())
      .connect_timeout(settings.timeout)
      .user_agent(concat!("hanko-auth/", env!("CARGO_PKG_VERSION")));
    let extra = extra_ca_certs()?;
    if !extra.is_empty() {
      builder = builder.tls_certs_merge(extra);
    }
    let client = builder
      .build()
      .map_err(|e| format!("cannot build the HTTP client: {e}"))?;
    Ok(HttpClient {
      client,
      timeout: settings.timeout,
      max_bytes: settings.max_bytes,
      headers,
      allow_insecure_http: settings.allow_insecure_http,
      follow_redirects: settings.follow_redirects,
    })
  }

  fn describe(err: &reqwest::Error) -> Error {
    if err.is_timeout() {
      return Error::new(Code::JwksTimeout, "the request timed out");
    }
    let mut message = err.to_string();
    let mut source = std::error::Error::source(err);
    while let Some(cause) = source {
      message.push_str(": ");
      message.push_str(&cause.to_string());
      source = cause.source();
    }
    Error::new(Code::JwksUnavailable, message)
  }

  /// GET (or POST with a JSON body) with the whole exchange, body included, bounded by the timeout and
  /// the body bounded by `max_bytes` while it streams in. A status other than 2xx is an error.
  pub async fn request(&self, url: Url, json_body: Option<Vec<u8>>, what: &str) -> Result<Fetched> {
    let fetched = self.exchange(url.clone(), json_body, what).await?;
    if !(200..300).contains(&fetched.status) {
      return Err(Error::new(
        Code::JwksUnavailable,
        format!(
          "{what} {} answered HTTP {}{}",
          shown_url(&url),
          fetched.status,
          url_hint(&url, fetched.status)
        ),
      ));
    }
    Ok(fetched)
  }

  /// As `request`, but any status comes back with its body for the caller to judge (redirects are
  /// followed first when the client follows them).
  pub async fn exchange(&self, url: Url, json_body: Option<Vec<u8>>, what: &str) -> Result<Fetched> {
    match tokio::time::timeout(self.timeout, self.follow(url, json_body, what)).await {
      Ok(result) => result,
      Err(_) => Err(Error::new(
        Code::JwksTimeout,
        format!("{what} did not answer within {} ms", self.timeout.as_millis()),
      )),
    }
  }

  /// The request and up to `MAX_REDIRECTS` redirects (RFC 9110 §15.4), each hop under the https rule;
  /// an `https:` URL never leads to `http:` (loopback included), and the configured headers go only to
  /// the first URL's origin.
  async fn follow(&self, first: Url, json_body: Option<Vec<u8>>, what: &str) -> Result<Fetched> {
    let refused = |why: String| Error::new(Code::JwksUnavailable, format!("{what}: {why}"));
    let mut url = first.clone();
    for hop in 0..=MAX_REDIRECTS {
      let fetched = self.once(url.clone(), json_body.clone(), &first, what).await?;
      let location = match fetched.location.as_deref() {
        Some(location) if self.follow_redirects && (300..400).contains(&fetched.status) => location,
        _ => return Ok(fetched.into_fetched()),
      };
      if hop == MAX_REDIRECTS {
        return Err(refused(format!("more than {MAX_REDIRECTS} redirects")));
      }
      let next = url
        .join(location)
        .map_err(|_| refused("a redirect to an invalid URL".into()))?;
      if url.scheme() == "https" && next.scheme() != "https" {
        return Err(refused("a redirect from https: to http: is refused".into()));
      }
      if !scheme_allowed(&next, self.allow_insecure_http) {
        return Err(refused("a redirect to a URL the https rule does not allow".into()));
      }
      url = next;
    }
    Err(refused(format!("more than {MAX_REDIRECTS} redirects")))
  }

  async fn once(&self, url: Url, json_body: Option<Vec<u8>>, first: &Url, what: &str) -> Result<Hop> {
    let builder = match json_body {
      None => self.client.get(url.clone()),
      Some(body) => self
        .client
        .post(url.clone())
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .body(body),
    };
    let builder = if same_origin(&url, first) {
      builder.headers(self.headers.clone())
    } else {
      builder
    };
    let mut response = builder
      .header(ACCEPT, "application/json")
      .send()
      .await
      .map_err(|e| Self::describe(&e))?;
    let status = response.status();
    let location = response
      .headers()
      .get(LOCATION)
      .and_then(|v| v.to_str().ok())
      .map(str::to_owned);
    let too_large = || {
      Error::new(
        Code::JwksInvalid,
        format!("{what} is larger than {} bytes", self.max_bytes),
      )
    };
    let declared = response
      .headers()
      .get(CONTENT_LENGTH)
      .and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    if declared.is_some_and(|len| len > self.max_bytes) {
      return Err(too_large());
    }
    let max_age_ms = cache_control_max_age(response.headers());
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(|e| Self::describe(&e))? {
      if body.len() as u64 + chunk.len() as u64 > self.max_bytes {
        return Err(too_large());
      }
      body.extend_from_slice(&chunk);
    }
    Ok(Hop {
      body,
      max_age_ms,
      status: status.as_u16(),
      location,
    })
  }
}

/// One response on the way: a redirect to follow, or the answer.
struct Hop {
  body: Vec<u8>,
  max_age_ms: Option<u64>,
  status: u16,
  location: Option<String>,
}

impl Hop {
  fn into_fetched(self) -> Fetched {
    Fetched {
      body: self.body,
      max_age_ms: self.max_age_ms,
      status: self.status,
    }
  }
}

/// The production key-set source.
pub struct HttpFetch {
  pub client: HttpClient,
  pub url: Url,
}

impl Fetch for HttpFetch {
  fn fetch(&self) -> BoxFuture<Result<Fetched>> {
    let (client, url) = (self.client.clone(), self.url.clone());
    Box::pin(async move { client.request(url, None, "the JWKS endpoint").await })
  }
}

#[cfg(test)]
mod tests {
  #![allow(clippy::unwrap_used)]
  use super::*;

  #[test]
  fn https_rule() {
    let ok = |u: &str, insecure| parse_url(u, "jwksUri", insecure).is_ok();
    assert!(ok("https://auth.example.com/.well-known/jwks.json", false));
    assert!(ok("http://localhost:8000/x", false));
    assert!(ok("http://127.1.2.3:8000/x", false));
    assert!(ok("http://[::1]:8000/x", false));
    assert!(!ok("http://auth.example.com/x", false));
    assert!(ok("http://auth.example.com/x", true));
    assert!(!ok("ftp://localhost/x", true));
    assert!(!ok("https://user:pw@auth.example.com/", false));
    assert!(!ok("not a url", false));
    assert!(parse_url("http://10.0.0.1/", "jwksHost", false)
      .unwrap_err()
      .contains("jwksHost"));
  }

  #[test]
  fn cache_control() {
    let mut h = HeaderMap::new();
    assert_eq!(cache_control_max_age(&h), None);
    h.insert(CACHE_CONTROL, HeaderValue::from_static("public, max-age=600"));
    assert_eq!(cache_control_max_age(&h), Some(600_000));
    h.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    assert_eq!(cache_control_max_age(&h), Some(0));
    h.insert(CACHE_CONTROL, HeaderValue::from_static("max-age=abc"));
    assert_eq!(cache_control_max_age(&h), None);
  }
}
