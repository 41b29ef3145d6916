//! `/actions`: the client actions a handler can send along with its patch
//! (toasts of each level, a redirect through the app's router, focus, set
//! value, scroll, download, console). Each
//! button calls a handler on the server; the effect happens in the page.
//!
//! `RunScript` is the one left out: it needs `App::run_scripts()`, which
//! also lets the page's Content-Security-Policy allow `eval`, and no page of
//! the demo needs that.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};
use stateside_leptos::{use_field, use_stateside};
use stateside_wire::{HandlerId, State};

/// Counts the actions sent, so the page also shows a server-side change.
#[derive(Clone, Default, Debug, PartialEq, State)]
#[state(name = "actions")]
pub struct ActionsDemo {
    pub sent: u32,
    /// Where the server saw this tab connect from, and the language its
    /// browser asked for: read from the request, set when the page loads.
    pub address: String,
    pub language: String,
}

/// Which effect to ask the server for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Effect {
    Toast,
    Warning,
    Redirect,
    Focus,
    SetValue,
    Scroll,
    Download,
    ConsoleLog,
}

pub const SEND: HandlerId<Effect> = HandlerId::new("actions/send");
/// The page's `on_load` hook: reads the request context.
pub const GREET: HandlerId<()> = HandlerId::new("actions/greet");

#[cfg(feature = "ssr")]
pub mod handlers {
    //! Server side: one handler that answers with the asked-for action.

    use stateside::{Action, App, Cx};
    use stateside_wire::ToastLevel;

    use super::*;

    async fn send(mut demo: Cx<ActionsDemo>, effect: Effect) -> anyhow::Result<()> {
        demo.sent += 1;
        let sent = demo.sent;
        demo.action(match effect {
            Effect::Toast => Action::toast(format!("Hello from the server (action #{sent})")),
            Effect::Warning => Action::toast_for(
                ToastLevel::Warning,
                "Disk almost full: this warning stays until you dismiss it",
                None,
            ),
            Effect::Redirect => Action::Redirect {
                to: "/?from=redirect".to_owned(),
            },
            Effect::Focus => Action::SetFocus {
                id: "actions-input".to_owned(),
            },
            Effect::SetValue => Action::SetValue {
                id: "actions-input".to_owned(),
                value: format!("set by the server #{sent}"),
            },
            Effect::Scroll => Action::ScrollIntoView {
                id: "actions-bottom".to_owned(),
            },
            // A relative URL: only those and http(s) ones are allowed.
            Effect::Download => Action::Download {
                url: "/stateside.txt".to_owned(),
                filename: "stateside.txt".to_owned(),
            },
            Effect::ConsoleLog => Action::ConsoleLog {
                message: format!("stateside console action #{sent}"),
            },
        })?;
        Ok(())
    }

    /// What the server knows of the tab's connection, from the request
    /// itself: a tab cannot write it.
    async fn greet(mut demo: Cx<ActionsDemo>, (): ()) -> anyhow::Result<()> {
        let request = demo.request();
        let unknown = || "unknown".to_owned();
        demo.address = request
            .as_ref()
            .and_then(|request| request.client_ip())
            .map_or_else(unknown, |ip| ip.to_string());
        demo.language = request
            .as_ref()
            .and_then(|request| request.header("accept-language"))
            .and_then(|languages| languages.split([',', ';']).next())
            .map_or_else(unknown, str::to_owned);
        Ok(())
    }

    pub fn register(app: App) -> App {
        app.on(SEND, send)
            .internal(GREET, greet)
            .on_load("/actions", GREET)
    }
}

#[component]
pub fn ActionsPage() -> impl IntoView {
    let stateside = use_stateside();
    let sent = use_field(|demo: &ActionsDemo| demo.sent);
    let address = use_field(|demo: &ActionsDemo| demo.address.clone());
    let language = use_field(|demo: &ActionsDemo| demo.language.clone());
    let button = move |label: &'static str, effect: Effect| {
        view! {
            <button class="btn" on:click=move |_| stateside.call(SEND, effect)>
                {label}
            </button>
        }
    };
    view! {
        <section class="card">
            <h1>"Client actions"</h1>
            <p class="lead">"Each button asks a server handler, which answers with an effect in this page."</p>
            <div class="row wrap">
                {button("Toast", Effect::Toast)}
                {button("Warning that stays", Effect::Warning)}
                {button("Redirect", Effect::Redirect)}
                {button("Focus the input", Effect::Focus)}
                {button("Set its value", Effect::SetValue)}
                {button("Scroll to the bottom", Effect::Scroll)}
                {button("Download a file", Effect::Download)}
                {button("Console log", Effect::ConsoleLog)}
            </div>
            <input id="actions-input" class="input" placeholder="the server can focus and fill me" />
            <p>"Actions sent: " <span class="live" data-testid="sent">{sent}</span></p>
            <p>
                "The server saw this tab connect from " <span class="live">{address}</span>
                ", asking for language " <span class="live">{language}</span> "."
            </p>
        </section>
        <div class="spacer"></div>
        <crate::signup::SignUpCard />
        <p id="actions-bottom" class="card">"The bottom of the page."</p>
    }
}
