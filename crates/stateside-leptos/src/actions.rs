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
        Action::Toast { message } => stateside.toast(message),
        Action::Redirect { to } | Action::Download { url: to, .. } if !is_web_url(&to) => {
            web_sys::console::error_1(&format!("stateside: refused to open `{to}`").into());
        }
        Action::Redirect { to } => {
            let _ = window().location().set_href(&to);
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
        Action::RunScript { code } => {
            if let Err(error) = js_sys::eval(&code) {
                web_sys::console::error_2(&"stateside: script failed".into(), &error);
            }
        }
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
