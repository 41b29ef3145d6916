//! The browser's half of a code exchange ([`Action::ExchangeCode`]): POST
//! the code with the tab's session token to the app's route, whose answer
//! sets a cookie no script may, then reconnect so the session's request
//! context carries it, then tell the handler that asked how it went.
//!
//! [`Action::ExchangeCode`]: stateside_wire::Action::ExchangeCode

use leptos::prelude::window;
use stateside_wire::{CodeExchange, is_app_path};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

use super::{reconnect, stored_token};
use crate::Stateside;

pub(crate) async fn exchange(
    stateside: Stateside,
    url: String,
    code: String,
    then: Option<String>,
) {
    let done = match stored_token() {
        Some(token) if is_app_path(&url) => post(&url, &CodeExchange { token, code })
            .await
            .unwrap_or(false),
        _ => false,
    };
    if done {
        reconnect();
    } else {
        web_sys::console::error_1(
            &format!("stateside: the code exchange with `{url}` failed").into(),
        );
    }
    // Queued behind the reconnect, so it reaches the session through the
    // connection that carries the new cookie.
    if let Some(handler) = then {
        stateside.call_named(handler, serde_json::Value::Bool(done));
    }
}

/// POSTs `body` as JSON to `url`, same-origin with cookies; whether the
/// answer was a success.
async fn post(url: &str, body: &CodeExchange) -> Result<bool, JsValue> {
    let json =
        serde_json::to_string(body).map_err(|error| JsValue::from_str(&error.to_string()))?;
    let headers = web_sys::Headers::new()?;
    headers.set("content-type", "application/json")?;
    let init = web_sys::RequestInit::new();
    init.set_method("POST");
    init.set_headers(&headers);
    init.set_credentials(web_sys::RequestCredentials::SameOrigin);
    init.set_body(&JsValue::from_str(&json));
    let response = JsFuture::from(window().fetch_with_str_and_init(url, &init)).await?;
    Ok(response.dyn_into::<web_sys::Response>()?.ok())
}
