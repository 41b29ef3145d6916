//! The security headers of every response: a strict Content-Security-Policy,
//! and the headers that stop sniffing, framing and referrer leaks.
//!
//! The policy allows scripts from this origin and the inline scripts Leptos
//! writes to start hydration, by a nonce made fresh for each response and
//! handed to Leptos through the request (see
//! [`engine_context`](crate::server::engine_context)), and WebAssembly
//! (`'wasm-unsafe-eval'`); `eval` itself only when the app turned
//! `RunScript` on. Style attributes are allowed (Leptos renders `style:`
//! bindings as them on the server), `<style>` elements from elsewhere are
//! not. No page may frame this one.
//!
//! An app route that sets a header of its own keeps it: each is added only
//! where the response has none.

use axum::{
    Router,
    extract::{Request, State},
    http::{HeaderName, HeaderValue, header},
    middleware::{self, Next},
    response::Response,
};
use stateside::Engine;
use tower_http::set_header::SetResponseHeaderLayer;

/// The nonce of this response's Content-Security-Policy, in the request's
/// extensions for whatever renders the page.
#[derive(Clone, Debug)]
pub struct CspNonce(pub String);

impl CspNonce {
    /// 128 bits from the OS random source, as hex (a valid CSP nonce).
    fn random() -> Self {
        let mut bytes = [0u8; 16];
        getrandom::fill(&mut bytes).expect("the OS random source is available");
        Self(bytes.iter().map(|byte| format!("{byte:02x}")).collect())
    }
}

/// The Content-Security-Policy for one response.
pub fn content_security_policy(nonce: &CspNonce, scripts: bool) -> String {
    let eval = if scripts { " 'unsafe-eval'" } else { "" };
    // `cargo leptos watch` reloads the page over its own WebSocket port.
    let reload = if std::env::var_os("LEPTOS_WATCH").is_some() {
        " ws:"
    } else {
        ""
    };
    format!(
        "default-src 'self'; \
         script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'{eval}; \
         style-src 'self'; style-src-attr 'unsafe-inline'; \
         img-src 'self' data:; connect-src 'self'{reload}; \
         object-src 'none'; base-uri 'none'; form-action 'self'; \
         frame-ancestors 'none'",
        nonce = nonce.0
    )
}

/// Adds the headers to every route `router` has so far.
pub(crate) fn secure<S: Clone + Send + Sync + 'static>(
    router: Router<S>,
    engine: Engine,
) -> Router<S> {
    let fixed = [
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::X_FRAME_OPTIONS, "DENY"),
        // Same-origin requests keep their `Origin` (which the guard reads);
        // other sites learn nothing of the page's URL.
        (header::REFERRER_POLICY, "same-origin"),
    ];
    fixed
        .into_iter()
        .fold(router, |router, (name, value): (HeaderName, &str)| {
            router.layer(SetResponseHeaderLayer::if_not_present(
                name,
                HeaderValue::from_static(value),
            ))
        })
        .layer(middleware::from_fn_with_state(engine, policy))
}

/// Makes the response's nonce, gives it to the request, and sets the
/// policy with it on the response.
async fn policy(State(engine): State<Engine>, mut request: Request, next: Next) -> Response {
    let nonce = CspNonce::random();
    let csp = content_security_policy(&nonce, engine.app().runs_scripts());
    request.extensions_mut().insert(nonce);
    let mut response = next.run(request).await;
    if let Ok(csp) = HeaderValue::from_str(&csp) {
        response
            .headers_mut()
            .entry(header::CONTENT_SECURITY_POLICY)
            .or_insert(csp);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn eval_only_with_scripts_and_never_framed() {
        let nonce = CspNonce("00ff".to_owned());
        let strict = content_security_policy(&nonce, false);
        assert!(strict.contains("'nonce-00ff'"));
        assert!(strict.contains("'wasm-unsafe-eval'"));
        assert!(strict.contains("frame-ancestors 'none'"));
        assert!(!strict.contains("'unsafe-eval'"));
        assert!(!strict.contains("script-src 'self' 'unsafe-inline'"));
        assert!(content_security_policy(&nonce, true).contains(" 'unsafe-eval'"));
        assert_ne!(CspNonce::random().0, CspNonce::random().0);
    }
}
