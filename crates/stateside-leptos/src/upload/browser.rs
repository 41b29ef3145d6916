//! The request itself: the form's files as `multipart/form-data`, sent
//! with XMLHttpRequest, whose events move the uploader's signals.

use leptos::{ev::SubmitEvent, prelude::*};
use stateside_wire::{FILE_FIELD, ProtocolError, SIZES_FIELD, TOKEN_HEADER, UPLOAD_PATH};
use wasm_bindgen::{JsCast, JsValue, closure::Closure};
use web_sys::{
    Event, File, FormData, HtmlFormElement, HtmlInputElement, ProgressEvent, XmlHttpRequest,
};

use super::{
    Uploader,
    progress::{FileProgress, UploadStatus, complete, explain, spread},
};

/// An upload on its way. Its callbacks live as long as it does: until the
/// next upload of the same uploader replaces it.
pub(crate) struct InFlight {
    request: XmlHttpRequest,
    _progress: Closure<dyn FnMut(ProgressEvent)>,
    _ended: [Closure<dyn FnMut(Event)>; 3],
}

impl InFlight {
    pub(crate) fn abort(&self) {
        let _ = self.request.abort();
    }
}

/// Sends the files of the form `event` submitted.
pub(crate) fn send_form(uploader: Uploader, event: &SubmitEvent) {
    let files = event
        .target()
        .and_then(|target| target.dyn_into::<HtmlFormElement>().ok())
        .map(|form| files_of(&form))
        .unwrap_or_default();
    if files.is_empty() {
        uploader
            .status
            .set(UploadStatus::Failed("Choose a file first.".to_owned()));
        return;
    }
    let Some(token) = crate::client::token() else {
        uploader.status.set(UploadStatus::Failed(
            "Not connected yet; upload again in a moment.".to_owned(),
        ));
        return;
    };
    uploader.files.set(
        files
            .iter()
            .map(|file| FileProgress {
                name: file.name(),
                size: file.size() as u64,
                sent: 0,
            })
            .collect(),
    );
    uploader.status.set(UploadStatus::Sending);
    match send(uploader, &files, &token) {
        Ok(request) => uploader.request.set_value(Some(request)),
        Err(error) => uploader.status.set(UploadStatus::Failed(format!(
            "The upload could not start: {error:?}"
        ))),
    }
}

/// Every file chosen in the form's file inputs, in order.
fn files_of(form: &HtmlFormElement) -> Vec<File> {
    let Ok(inputs) = form.query_selector_all("input[type=file]") else {
        return Vec::new();
    };
    (0..inputs.length())
        .filter_map(|i| inputs.get(i)?.dyn_into::<HtmlInputElement>().ok()?.files())
        .flat_map(|list| (0..list.length()).filter_map(move |i| list.get(i)))
        .collect()
}

fn send(uploader: Uploader, files: &[File], token: &str) -> Result<InFlight, JsValue> {
    let request = XmlHttpRequest::new()?;
    request.open("POST", &format!("{UPLOAD_PATH}{}", uploader.handler))?;
    request.set_request_header(TOKEN_HEADER, token)?;
    let body = FormData::new()?;
    let sizes: Vec<u64> = files.iter().map(|file| file.size() as u64).collect();
    body.append_with_str(SIZES_FIELD, &serde_json::json!(sizes).to_string())?;
    for file in files {
        body.append_with_blob_and_filename(FILE_FIELD, file, &file.name())?;
    }
    let on_progress = Closure::<dyn FnMut(ProgressEvent)>::new(move |event: ProgressEvent| {
        if event.length_computable() {
            let (loaded, total) = (event.loaded() as u64, event.total() as u64);
            uploader.files.update(|files| spread(files, loaded, total));
        }
    });
    request
        .upload()?
        .set_onprogress(Some(on_progress.as_ref().unchecked_ref()));
    let on_load = Closure::<dyn FnMut(Event)>::new(move |event: Event| {
        let request = event
            .target()
            .and_then(|target| target.dyn_into::<XmlHttpRequest>().ok());
        if let Some(request) = request {
            answered(uploader, &request);
        }
    });
    let on_error = Closure::<dyn FnMut(Event)>::new(move |_| {
        uploader.status.set(UploadStatus::Failed(
            "The connection was lost before the upload ended.".to_owned(),
        ));
    });
    let on_abort = Closure::<dyn FnMut(Event)>::new(move |_| {
        uploader.status.set(UploadStatus::Cancelled);
    });
    request.set_onload(Some(on_load.as_ref().unchecked_ref()));
    request.set_onerror(Some(on_error.as_ref().unchecked_ref()));
    request.set_onabort(Some(on_abort.as_ref().unchecked_ref()));
    request.send_with_opt_form_data(Some(&body))?;
    Ok(InFlight {
        request,
        _progress: on_progress,
        _ended: [on_load, on_error, on_abort],
    })
}

/// The server answered: the handler took every file, or the upload was
/// refused.
fn answered(uploader: Uploader, request: &XmlHttpRequest) {
    let status = request.status().unwrap_or_default();
    if (200..300).contains(&status) {
        uploader.files.update(|files| complete(files));
        uploader.status.set(UploadStatus::Done);
        return;
    }
    let body = request.response_text().ok().flatten().unwrap_or_default();
    let why = match serde_json::from_str::<ProtocolError>(&body) {
        Ok(error) => uploader
            .files
            .with_untracked(|files| explain(&error, files)),
        Err(_) => format!("The upload failed: the server answered {status}."),
    };
    uploader.status.set(UploadStatus::Failed(why));
}
