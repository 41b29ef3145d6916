//! An upload handler as the app keeps it: given a request's files, it
//! becomes a background task that says how it ended.

use std::{future::Future, sync::Arc};

use tokio::sync::oneshot;

use super::{UploadError, Uploads};
use crate::{
    call::{Background, HandlerFuture, TaskCore},
    state_map::SessionState,
    task::Task,
};

/// Makes the task for one request's files; the task sends whether the
/// handler returned `Ok` on `ended`.
pub(crate) type UploadHandler =
    Box<dyn Fn(Uploads, oneshot::Sender<bool>) -> Background + Send + Sync>;

pub(crate) fn upload_handler<S, F, Fut>(handler: F) -> UploadHandler
where
    S: SessionState,
    F: Fn(Task<S>, Uploads) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = anyhow::Result<()>> + Send + 'static,
{
    let handler = Arc::new(handler);
    Box::new(move |uploads: Uploads, ended: oneshot::Sender<bool>| {
        let handler = Arc::clone(&handler);
        let run: Background = Box::new(move |core: TaskCore| {
            Box::pin(async move {
                let result = handler(Task::new(core), uploads).await;
                let _ = ended.send(result.is_ok());
                match result {
                    // The sender hears why in the transport's answer; an
                    // error notice in the session would say it twice.
                    Err(error) if senders_fault(&error) => Ok(()),
                    other => other,
                }
            }) as HandlerFuture
        });
        run
    })
}

/// Whether a handler's error comes from the upload it was reading, by a
/// fault of its sender.
fn senders_fault(error: &anyhow::Error) -> bool {
    error.chain().any(|cause| {
        cause
            .downcast_ref::<UploadError>()
            .is_some_and(UploadError::is_the_senders)
    })
}
