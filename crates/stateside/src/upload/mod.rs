//! Files a page uploads, as an upload handler receives them: one request's
//! files in order ([`Uploads`]), each with its name, type and size and its
//! bytes as they arrive ([`Upload`]).
//!
//! Nothing here knows HTTP: a transport turns a request into [`Uploads`]
//! and enforces the limits (every [`Upload`]'s stream yields exactly its
//! declared size, or fails), and the engine runs the handler as a
//! background task of the session ([`SessionHandle::upload`](crate::SessionHandle::upload)).
//! Bytes are never gathered in memory: a handler streams them where they
//! go, to a file with [`Upload::save_to`] or anywhere with
//! [`Upload::stream`].

mod file;
mod handler;

use std::{fmt, io, pin::Pin};

use bytes::Bytes;
use futures::{Stream, StreamExt};

pub use file::Upload;
pub(crate) use handler::{UploadHandler, upload_handler};

/// An upload's bytes, as they arrive.
pub type ByteStream = Pin<Box<dyn Stream<Item = Result<Bytes, UploadError>> + Send>>;

/// The files of one upload request, in the order the page sent them.
pub struct Uploads {
    files: Pin<Box<dyn Stream<Item = Result<Upload, UploadError>> + Send>>,
}

impl Uploads {
    /// The files a transport read from a request. Each must be finished
    /// with (read to its end, or dropped) before the next is asked for.
    pub fn new(files: impl Stream<Item = Result<Upload, UploadError>> + Send + 'static) -> Self {
        Self {
            files: Box::pin(files),
        }
    }

    /// The next file, or `None` after the last. Read or drop each file
    /// before asking for the next: they arrive one after another on one
    /// connection.
    ///
    /// # Errors
    ///
    /// The request broke off, went over a limit, or is malformed.
    pub async fn next(&mut self) -> Result<Option<Upload>, UploadError> {
        self.files.next().await.transpose()
    }
}

impl fmt::Debug for Uploads {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Uploads")
    }
}

/// Why an upload could not be read or stored.
#[derive(Debug, thiserror::Error)]
pub enum UploadError {
    /// A file, or the request as a whole, is over a limit
    /// ([`Config::max_upload_file_bytes`](crate::Config::max_upload_file_bytes),
    /// [`Config::max_upload_request_bytes`](crate::Config::max_upload_request_bytes)).
    #[error("the upload is over the server's limit of {limit} bytes")]
    TooLarge {
        /// The limit, in bytes.
        limit: u64,
    },
    /// The request does not read as an upload.
    #[error("malformed upload: {0}")]
    Malformed(String),
    /// The request broke off before its end: the page cancelled it, or the
    /// connection dropped.
    #[error("the upload was cut off before its end")]
    Cut,
    /// The handler could not store what it received.
    #[error("could not store the upload: {0}")]
    Io(#[from] io::Error),
}

impl UploadError {
    /// Whether the sender is at fault: it then hears why from the
    /// transport's answer, and no error notice is raised in its session.
    pub fn is_the_senders(&self) -> bool {
        !matches!(self, Self::Io(_))
    }
}
