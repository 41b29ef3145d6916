//! Client actions: the effects a handler sends along with its patch.
//!
//! A redirect or download to anything but an `http(s)` or relative URL is
//! refused here too, as the server refused it when the handler sent it: a
//! page that is told to go to `javascript:` does not. `RunScript` needs a
//! Content-Security-Policy that allows `eval`, which the server sends only
//! when the app turned scripts on.

use leptos::prelude::*;
use stateside_wire::{Action, is_web_url};
use wasm_bindgen::JsCast;

use crate::Stateside;

pub(crate) fn perform(stateside: Stateside, action: Action) {
    let element = |id: &str| document().get_element_by_id(id);
    match action {
        Action::Toast {
            message,
            level,
            duration_ms,
        } => stateside.toast_with(level, message, duration_ms),
        Action::Redirect { to } | Action::Download { url: to, .. } if !is_web_url(&to) => {
            web_sys::console::error_1(&format!("stateside: refused to open `{to}`").into());
        }
        Action::Redirect { to } => {
            let in_app = to.starts_with('/') && !to.starts_with("//");
            match stateside.router.get_value() {
                Some(navigate) if in_app => navigate(&to),
                _ => {
                    let _ = window().location().set_href(&to);
                }
            }
        }
        Action::SetFocus { id } => {
            if let Some(element) =
                element(&id).and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok())
            {
                let _ = element.focus();
            }
        }
        Action::SetValue { id, value } => {
            if let Some(input) =
                element(&id).and_then(|e| e.dyn_into::<web_sys::HtmlInputElement>().ok())
            {
                input.set_value(&value);
            }
        }
        Action::ScrollIntoView { id } => {
            if let Some(element) = element(&id) {
                let options = web_sys::ScrollIntoViewOptions::new();
                options.set_behavior(web_sys::ScrollBehavior::Smooth);
                element.scroll_into_view_with_scroll_into_view_options(&options);
            }
        }
        Action::Download { url, filename } => download(&url, &filename),
        Action::ConsoleLog { message } => web_sys::console::log_1(&message.into()),
        Action::ExchangeCode { url, code, then } => {
            leptos::task::spawn_local(crate::client::exchange::exchange(
                stateside, url, code, then,
            ));
        }
        Action::RunScript { code, then } => match js_sys::eval(&code) {
            Ok(result) => {
                if let Some(handler) = then {
                    stateside.call_named(handler, json_of(&result));
                }
            }
            Err(error) => web_sys::console::error_2(&"stateside: script failed".into(), &error),
        },
    }
}

/// Clicks a temporary `<a download>`, the one portable way to save a file.
fn download(url: &str, filename: &str) {
    let Ok(anchor) = document().create_element("a") else {
        return;
    };
    let Ok(anchor) = anchor.dyn_into::<web_sys::HtmlAnchorElement>() else {
        return;
    };
    anchor.set_href(url);
    anchor.set_download(filename);
    if let Some(body) = document().body() {
        let _ = body.append_child(&anchor);
        anchor.click();
        let _ = body.remove_child(&anchor);
    }
}

/// A script's result as JSON: `null` for `undefined`, a function, or a
/// value `JSON.stringify` refuses (a cycle).
fn json_of(result: &wasm_bindgen::JsValue) -> serde_json::Value {
    js_sys::JSON::stringify(result)
        .ok()
        .and_then(|text| text.as_string())
        .and_then(|text| serde_json::from_str(&text).ok())
        .unwrap_or(serde_json::Value::Null)
}
