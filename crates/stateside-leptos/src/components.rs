//! Small pieces of UI every Stateside page wants.

use leptos::prelude::*;

use stateside_wire::ToastLevel;

use crate::{Status, use_stateside};

/// A thin banner while the stream is down, or after the server lost the
/// tab's session (until dismissed). It also exposes the connection on an
/// always-present element, which tests wait on: `data-status`,
/// `data-transport`, `data-synced`, `data-unacked` and `data-session`
/// ("renewed" once a new session replaced a lost one).
#[component]
pub fn ConnectionBanner() -> impl IntoView {
    let stateside = use_stateside();
    let status = stateside.status();
    let transport = stateside.transport();
    let synced = stateside.synced();
    let unacked = stateside.unacked();
    let renewed = stateside.session_renewed();
    view! {
        <div
            class="banner"
            data-status=move || status.get().as_str()
            data-transport=move || transport.get().as_str()
            data-synced=move || synced.get().to_string()
            data-unacked=move || unacked.get().to_string()
            data-session=move || if renewed.get() { "renewed" } else { "same" }
            role="status"
        >
            <Show when=move || status.get() == Status::Reconnecting>
                <span>"Reconnecting… your clicks are kept and will be sent."</span>
            </Show>
            <Show when=move || renewed.get()>
                <span>"The server lost this tab's session; a new session was started. "</span>
                <button on:click=move |_| renewed.set(false)>"Dismiss"</button>
            </Show>
        </div>
    }
}

/// Error notices and handler toasts, newest last. Warnings and errors are
/// alerts, which a screen reader announces at once; the others are status
/// messages, announced when it is free. Each can be dismissed.
#[component]
pub fn Toasts() -> impl IntoView {
    let stateside = use_stateside();
    let toasts = stateside.toasts;
    view! {
        <div class="toasts">
            <For each=move || toasts.get() key=|toast| toast.id let:toast>
                <div
                    class=format!("toast {}", toast.level.as_str())
                    role=match toast.level {
                        ToastLevel::Warning | ToastLevel::Error => "alert",
                        ToastLevel::Info | ToastLevel::Success => "status",
                    }
                >
                    <span>{toast.text.clone()}</span>
                    <button
                        class="toast-dismiss"
                        aria-label=format!("Dismiss: {}", toast.text)
                        on:click=move |_| stateside.dismiss(toast.id)
                    >
                        "×"
                    </button>
                </div>
            </For>
        </div>
    }
}

/// Wraps server-state views. Until the first sync its `data-synced` is
/// "false", and the stylesheet hides every `.live` value inside it, so a
/// reload never flashes server-rendered defaults in place of real values.
#[component]
pub fn SyncGate(children: Children) -> impl IntoView {
    let synced = use_stateside().synced();
    view! {
        <div class="sync-gate" data-synced=move || synced.get().to_string()>
            {children()}
        </div>
    }
}
