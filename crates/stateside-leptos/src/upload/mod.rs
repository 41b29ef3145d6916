//! Uploads from the page: a form's files sent to an upload handler, with
//! each file's progress as its bytes go up, a cancel, and the server's
//! answer.
//!
//! ```ignore
//! let uploader = use_upload(RECEIVE);
//! view! {
//!     <form on:submit=move |ev| uploader.submit(ev)>
//!         <input type="file" multiple />
//!         <button type="submit">"Upload"</button>
//!         <button type="button" on:click=move |_| uploader.cancel()>"Cancel"</button>
//!     </form>
//! }
//! ```
//!
//! The files go up in one request with XMLHttpRequest (`browser`), not
//! `fetch`: a fetch reports no upload progress unless its body is a
//! stream, and Chromium sends a streamed body only over HTTP/2 or QUIC,
//! never over plain HTTP/1.1, where XMLHttpRequest's `upload.onprogress`
//! and `abort()` work on any connection. What the handler made of the
//! files comes back in the session's state, like any change.

#[cfg(feature = "hydrate")]
mod browser;
mod progress;

use leptos::{ev::SubmitEvent, prelude::*};
use stateside_wire::{Files, HandlerId};

pub use progress::{FileProgress, UploadStatus};

#[cfg(feature = "hydrate")]
type InFlight = browser::InFlight;
#[cfg(not(feature = "hydrate"))]
type InFlight = ();

/// One upload form's client: the files being sent, their progress, and
/// how the last upload went. `Copy`: it is a bundle of signals.
#[derive(Clone, Copy)]
pub struct Uploader {
    handler: &'static str,
    files: RwSignal<Vec<FileProgress>>,
    status: RwSignal<UploadStatus>,
    /// The request on its way, kept so a cancel can abort it.
    request: StoredValue<Option<InFlight>, LocalStorage>,
}

/// An uploader for the upload handler `handler`
/// (registered with `App::upload` on the server).
pub fn use_upload(handler: HandlerId<Files>) -> Uploader {
    Uploader {
        handler: handler.name(),
        files: RwSignal::new(Vec::new()),
        status: RwSignal::new(UploadStatus::Idle),
        request: StoredValue::new_local(None),
    }
}

impl Uploader {
    /// The files of the current (or last) upload, with their progress.
    pub fn files(&self) -> ReadSignal<Vec<FileProgress>> {
        self.files.read_only()
    }

    /// How the current (or last) upload stands.
    pub fn status(&self) -> ReadSignal<UploadStatus> {
        self.status.read_only()
    }

    /// Sends the files of the submitted form's file inputs, instead of
    /// letting the browser post the form. Does nothing while an upload is
    /// on its way.
    pub fn submit(&self, event: SubmitEvent) {
        event.prevent_default();
        #[cfg(feature = "hydrate")]
        if self.status.get_untracked() != UploadStatus::Sending {
            browser::send_form(*self, &event);
        }
        // Only the browser sends.
        #[cfg(not(feature = "hydrate"))]
        let _ = (self.handler, self.request);
    }

    /// Aborts the upload on its way: the server drops what it received of
    /// it, partial files included.
    pub fn cancel(&self) {
        #[cfg(feature = "hydrate")]
        self.request.with_value(|request| {
            if let Some(request) = request {
                request.abort();
            }
        });
    }
}
