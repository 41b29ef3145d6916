//! Messages between the browser and the server.

use json_patch::PatchOperation;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The default cap on one request's body, and so on one event: big enough
/// for any form, small enough that a flood cannot exhaust memory.
pub const DEFAULT_MAX_PAYLOAD: usize = 64 * 1024;

/// One UI event, from the client to the server.
///
/// `seq` counts from 1 per session. The server applies each number exactly
/// once and in order, so a client may resend anything it has not seen acked.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ClientEvent {
    /// The event's place in the session's order.
    pub seq: u64,
    /// The [`HandlerId`](crate::HandlerId) name of the handler to run.
    pub handler: String,
    /// The handler's arguments.
    #[serde(default)]
    pub args: Value,
}

/// One step of the server's ordered stream to a client. On the wire it is
/// compact (see `compact`): `{"u":[version,acked,ops]}` for an update,
/// `{"s":[version,acked,state]}` for a snapshot.
#[derive(Clone, Debug, PartialEq)]
pub enum ServerMessage {
    /// The whole document: sent first on a fresh stream, and whenever the
    /// client's last version has left the server's replay ring.
    Snapshot {
        /// The document's version.
        version: u64,
        /// Every event with `seq <= acked` has been applied.
        acked: u64,
        /// The document itself.
        state: Value,
    },
    /// A step from the version before.
    Update(Update),
}

impl ServerMessage {
    /// The document version this message leaves the client at.
    pub fn version(&self) -> u64 {
        match self {
            Self::Snapshot { version, .. } => *version,
            Self::Update(update) => update.version,
        }
    }
}

/// A change to the session document plus what came with it.
///
/// `version` rises by exactly one when `ops` is non-empty; an update with no
/// ops (an ack, a notice, a client action) repeats the current version.
///
/// On the wire: `[version, acked, ops]`, each op an array (`[0, path,
/// value]` for an add; see `compact`), and a fourth element
/// `{"actions", "error", "missing"}`, with only those present, when any is.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Update {
    /// The document's version after this update.
    pub version: u64,
    /// The change, as JSON Patch operations on the document.
    pub ops: Vec<PatchOperation>,
    /// Every event with `seq <= acked` has been applied.
    pub acked: u64,
    /// Client-side effects the handlers asked for, in order.
    pub actions: Vec<Action>,
    /// A handler that failed since the last update.
    pub error: Option<Notice>,
    /// The server holds later events but this seq never arrived: the client
    /// should resend from it.
    pub missing: Option<u64>,
}

/// Something the user did not see happen, as they are told about it: a
/// handler that failed, or a task that stopped with the server that ran it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Notice {
    /// The handler's name.
    pub handler: String,
    /// What went wrong.
    pub message: String,
    /// Failed (the default, left out on the wire) or stopped.
    #[serde(default, skip_serializing_if = "NoticeKind::is_failed")]
    pub kind: NoticeKind,
}

/// What a [`Notice`] is about.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NoticeKind {
    /// The handler failed, and its changes were rolled back.
    #[default]
    Failed,
    /// A background task stopped because the server that ran it did (a
    /// restart, a crash); the app did not declare it restartable.
    Stopped,
    /// The handler did not run: the session is not logged in, and the
    /// app requires a login for it.
    Refused,
}

impl NoticeKind {
    fn is_failed(&self) -> bool {
        *self == Self::Failed
    }
}

impl Notice {
    /// A handler failed with `message`.
    pub fn failed(handler: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            handler: handler.into(),
            message: message.into(),
            kind: NoticeKind::Failed,
        }
    }

    /// `handler` was refused, for the reason `message` gives.
    pub fn refused(handler: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            handler: handler.into(),
            message: message.into(),
            kind: NoticeKind::Refused,
        }
    }

    /// A task of `handler` stopped, for the reason `message` gives.
    pub fn stopped(handler: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            handler: handler.into(),
            message: message.into(),
            kind: NoticeKind::Stopped,
        }
    }
}

impl std::fmt::Display for Notice {
    /// The sentence a page shows: "counter/save failed: disk full".
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let what = match self.kind {
            NoticeKind::Failed => "failed",
            NoticeKind::Stopped => "stopped",
            NoticeKind::Refused => "refused",
        };
        write!(f, "{} {what}: {}", self.handler, self.message)
    }
}

/// A client-side effect that a handler sends along with its patch.
///
/// Elements are addressed by their `id` attribute.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum Action {
    /// Shows a short message ([`Action::toast`]).
    Toast {
        /// The text shown.
        message: String,
        /// How it looks, and whether a screen reader interrupts for it.
        #[serde(default, skip_serializing_if = "ToastLevel::is_info")]
        level: ToastLevel,
        /// How long it stays, in milliseconds: 6,000 if absent, and until
        /// the user dismisses it if 0.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        duration_ms: Option<u32>,
    },
    /// Goes to another page: a path of this app (`/notes/7`) through the
    /// app's router, without reloading it; any other URL by loading it.
    Redirect {
        /// The URL to go to: `http(s)` or relative ([`is_web_url`](crate::is_web_url)).
        to: String,
    },
    /// Moves the keyboard focus to an element.
    SetFocus {
        /// The element's `id`.
        id: String,
    },
    /// Sets an input's value.
    SetValue {
        /// The input's `id`.
        id: String,
        /// The new value.
        value: String,
    },
    /// Scrolls an element into view, smoothly.
    ScrollIntoView {
        /// The element's `id`.
        id: String,
    },
    /// Downloads `url` as `filename`.
    Download {
        /// What to download: `http(s)` or relative ([`is_web_url`](crate::is_web_url)).
        url: String,
        /// The name to save it under.
        filename: String,
    },
    /// Writes to the browser's console.
    ConsoleLog {
        /// The line written.
        message: String,
    },
    /// POSTs a one-time `code` to `url`, a path of this app, as a
    /// [`CodeExchange`](crate::CodeExchange) with the tab's session token,
    /// so the route's answer can set a cookie no script may (a login's).
    /// When it succeeds the tab reconnects, so the session's request
    /// context carries the cookie from then on; then `then`, if named, is
    /// called with `true` on success and `false` on failure.
    ExchangeCode {
        /// The route: a path of this app ([`is_app_path`](crate::is_app_path)).
        url: String,
        /// The code, which the route redeems once.
        code: String,
        /// A `HandlerId<bool>` to call once the exchange is over.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        then: Option<String>,
    },
    /// Runs JavaScript in the page. Off unless the app turns it on
    /// (`App::run_scripts` on the server), which also lets the page's
    /// Content-Security-Policy allow `eval`. Only server code can send it:
    /// clients have no way to ask for an action.
    RunScript {
        /// The script.
        code: String,
        /// A handler that gets the script's result, as JSON (Reflex's
        /// `call_script` callback); see [`Action::run_script_then`].
        #[serde(default, skip_serializing_if = "Option::is_none")]
        then: Option<String>,
    },
}

/// How a toast looks, and how urgently a screen reader announces it:
/// warnings and errors interrupt, the others wait their turn.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ToastLevel {
    /// Neutral news.
    #[default]
    Info,
    /// Something worked.
    Success,
    /// Something needs attention.
    Warning,
    /// Something failed.
    Error,
}

impl ToastLevel {
    fn is_info(&self) -> bool {
        *self == Self::Info
    }

    /// Its name, for CSS: `info`, `success`, `warning`, `error`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Info => "info",
            Self::Success => "success",
            Self::Warning => "warning",
            Self::Error => "error",
        }
    }
}

impl Action {
    /// An info toast that stays the usual 6 seconds.
    pub fn toast(message: impl Into<String>) -> Self {
        Self::Toast {
            message: message.into(),
            level: ToastLevel::Info,
            duration_ms: None,
        }
    }

    /// A toast of `level` that stays `duration` (`None`: until dismissed).
    pub fn toast_for(
        level: ToastLevel,
        message: impl Into<String>,
        duration: Option<std::time::Duration>,
    ) -> Self {
        let millis = duration.map_or(0, |duration| {
            u32::try_from(duration.as_millis())
                .unwrap_or(u32::MAX)
                .max(1)
        });
        Self::Toast {
            message: message.into(),
            level,
            duration_ms: Some(millis),
        }
    }

    /// Runs `code` in the page (needs `App::run_scripts`).
    pub fn run_script(code: impl Into<String>) -> Self {
        Self::RunScript {
            code: code.into(),
            then: None,
        }
    }

    /// Runs `code` in the page, then calls `then` with its result as JSON
    /// (`null` for `undefined` or a value JSON cannot hold). The result
    /// comes from the browser: check it like any argument.
    pub fn run_script_then(
        code: impl Into<String>,
        then: crate::HandlerId<serde_json::Value>,
    ) -> Self {
        Self::RunScript {
            code: code.into(),
            then: Some(then.name().to_owned()),
        }
    }

    /// Hands `code` to the app's route at `url`, then calls `then` with
    /// whether it worked ([`Action::ExchangeCode`]).
    pub fn exchange_code(
        url: impl Into<String>,
        code: impl Into<String>,
        then: crate::HandlerId<bool>,
    ) -> Self {
        Self::ExchangeCode {
            url: url.into(),
            code: code.into(),
            then: Some(then.name().to_owned()),
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    /// An info toast with the usual duration reads as it did before levels
    /// and durations existed, so older pages and records still understand.
    #[test]
    fn toasts_write_only_what_differs_from_the_usual() {
        let plain = serde_json::to_value(Action::toast("hi")).unwrap();
        assert_eq!(plain, json!({ "action": "toast", "message": "hi" }));
        let sticky = Action::toast_for(ToastLevel::Warning, "careful", None);
        assert_eq!(
            serde_json::to_value(&sticky).unwrap(),
            json!({ "action": "toast", "message": "careful", "level": "warning", "duration_ms": 0 })
        );
        let old: Action =
            serde_json::from_value(json!({ "action": "toast", "message": "x" })).unwrap();
        assert_eq!(old, Action::toast("x"));
        let script = Action::run_script_then("1 + 1", crate::HandlerId::new("sum"));
        assert_eq!(
            serde_json::to_value(script).unwrap(),
            json!({ "action": "run_script", "code": "1 + 1", "then": "sum" })
        );
    }
}
