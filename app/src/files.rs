//! `/files`: uploads. The page sends the chosen files in one request to an
//! upload handler, showing each file's progress as its bytes go up, with a
//! Cancel that aborts the request; the handler, a background task of the
//! session, saves each file as it streams in and lists it in the state.
//!
//! The files go to `STATESIDE_UPLOAD_DIR` (the system's temporary
//! directory's `stateside-uploads` unless set), in a directory per
//! session. The limits are the engine's (`--upload-max-file`,
//! `--upload-max-request`).

use leptos::prelude::*;
use serde::{Deserialize, Serialize};
use stateside_leptos::{UploadStatus, use_field, use_upload};
use stateside_wire::{Files, HandlerId, List, State};

#[derive(Clone, Default, Debug, PartialEq, State)]
#[state(name = "files")]
pub struct Received {
    /// Every file the handler saved, in the order it saved them.
    pub files: List<ReceivedFile>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ReceivedFile {
    pub name: String,
    pub size: u64,
}

pub const RECEIVE: HandlerId<Files> = HandlerId::new("files/receive");

#[cfg(feature = "ssr")]
pub mod handlers {
    //! Server side: each file saved as it arrives, then listed.

    use std::{path::PathBuf, sync::Arc};

    use stateside::{App, Task, Uploads};

    use super::*;

    /// Where uploads go: `STATESIDE_UPLOAD_DIR`, or a directory in the
    /// system's temporary one.
    fn upload_dir() -> PathBuf {
        std::env::var_os("STATESIDE_UPLOAD_DIR").map_or_else(
            || std::env::temp_dir().join("stateside-uploads"),
            PathBuf::from,
        )
    }

    async fn receive(
        dir: Arc<PathBuf>,
        mut task: Task<Received>,
        mut files: Uploads,
    ) -> anyhow::Result<()> {
        // A directory per session, so two tabs' files of one name do not
        // overwrite each other.
        let dir = dir.join(task.token().log_tag());
        tokio::fs::create_dir_all(&dir).await?;
        while let Some(file) = files.next().await? {
            let name = file.name().to_owned();
            let size = file.save_to(dir.join(&name)).await?;
            task.lock().await.files.push(ReceivedFile { name, size });
        }
        Ok(())
    }

    pub fn register(app: App) -> App {
        let dir = Arc::new(upload_dir());
        app.upload(RECEIVE, move |task, files| {
            receive(Arc::clone(&dir), task, files)
        })
    }
}

#[component]
pub fn FilesPage() -> impl IntoView {
    let uploader = use_upload(RECEIVE);
    let sending = move || uploader.status().get() == UploadStatus::Sending;
    let received = use_field(|state: &Received| state.files.iter().cloned().collect::<Vec<_>>());
    view! {
        <section class="card">
            <h1>"Upload"</h1>
            <p class="lead">
                "The files stream to a handler on the server, which saves each one as it arrives."
            </p>
            <form class="upload-form" on:submit=move |ev| uploader.submit(ev)>
                <label for="upload-files">"Files"</label>
                <input id="upload-files" type="file" multiple />
                <div class="row">
                    <button class="btn btn-primary" type="submit" disabled=sending>
                        "Upload"
                    </button>
                    <button
                        class="btn"
                        type="button"
                        disabled=move || !sending()
                        on:click=move |_| uploader.cancel()
                    >
                        "Cancel"
                    </button>
                </div>
            </form>
            <ul class="uploads">
                {move || {
                    uploader
                        .files()
                        .get()
                        .into_iter()
                        .map(|file| {
                            let percent = file.percent();
                            view! {
                                <li>
                                    <span>{file.name.clone()}</span>
                                    <div
                                        class="progress"
                                        role="progressbar"
                                        aria-label=format!("Upload of {}", file.name)
                                        aria-valuemin="0"
                                        aria-valuemax="100"
                                        aria-valuenow=percent
                                    >
                                        <div
                                            class="progress-bar"
                                            style:width=format!("{percent}%")
                                        ></div>
                                    </div>
                                    <span>{format!("{percent} %")}</span>
                                </li>
                            }
                        })
                        .collect_view()
                }}
            </ul>
            <p role="status" aria-label="Upload status">{move || uploader.status().get().message()}</p>
        </section>
        <section class="card">
            <h2>"Received"</h2>
            <ul class="received live" aria-label="Received files">
                {move || {
                    received
                        .get()
                        .into_iter()
                        .map(|file| view! { <li>{format!("{} ({} bytes)", file.name, file.size)}</li> })
                        .collect_view()
                }}
            </ul>
        </section>
    }
}
