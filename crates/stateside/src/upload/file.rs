//! One uploaded file: what the page said of it, and its bytes.

use std::{fmt, path::Path};

use bytes::Bytes;
use futures::{Stream, StreamExt};
use tokio::io::AsyncWriteExt;

use super::{ByteStream, UploadError};

/// One file of an upload, its bytes still arriving.
pub struct Upload {
    name: String,
    content_type: String,
    size: u64,
    body: ByteStream,
}

impl Upload {
    /// A file as a transport read it: `name` as the page gave it,
    /// `content_type` (empty if unknown), `size` in bytes as declared, and
    /// its bytes, which must come to exactly `size` or end in an error.
    ///
    /// # Errors
    ///
    /// [`UploadError::Malformed`] if `name` is not a plain file name: empty,
    /// `.` or `..`, or holding a path separator or a control character. A
    /// handler may then join [`name`](Self::name) to a directory as it is.
    pub fn new(
        name: &str,
        content_type: &str,
        size: u64,
        body: impl Stream<Item = Result<Bytes, UploadError>> + Send + 'static,
    ) -> Result<Self, UploadError> {
        let plain = !matches!(name, "" | "." | "..")
            && !name
                .chars()
                .any(|c| matches!(c, '/' | '\\') || c.is_control());
        if !plain {
            return Err(UploadError::Malformed(format!(
                "`{}` is not a plain file name",
                name.escape_debug()
            )));
        }
        Ok(Self {
            name: name.to_owned(),
            content_type: content_type.to_owned(),
            size,
            body: Box::pin(body),
        })
    }

    /// The file's name, as the page gave it: a plain name, never a path.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The file's type as the page gave it (`image/png`), or empty.
    pub fn content_type(&self) -> &str {
        &self.content_type
    }

    /// The file's size in bytes. The bytes are checked against it as they
    /// arrive: the stream yields exactly this many, or fails.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// The bytes, as they arrive.
    pub fn stream(self) -> ByteStream {
        self.body
    }

    /// Writes the file to `path` and returns its size. The bytes go to a
    /// temporary file beside `path`, renamed to `path` only once they are
    /// all there, so `path` never holds part of a file; if the upload
    /// breaks off, fails, or the task is cancelled, the temporary file is
    /// removed. An existing file at `path` is replaced.
    ///
    /// # Errors
    ///
    /// The upload broke off or was refused, or the file could not be
    /// written.
    pub async fn save_to(self, path: impl AsRef<Path>) -> Result<u64, UploadError> {
        let path = path.as_ref();
        let dir = match path.parent() {
            Some(dir) if !dir.as_os_str().is_empty() => dir,
            _ => Path::new("."),
        };
        // Removed when dropped: on an error, or when the task is cancelled
        // and this future with it.
        let partial = tempfile::Builder::new()
            .prefix(".upload-")
            .tempfile_in(dir)?;
        let mut file = tokio::fs::File::from_std(partial.as_file().try_clone()?);
        let mut body = self.body;
        let mut written = 0;
        while let Some(chunk) = body.next().await {
            let chunk = chunk?;
            file.write_all(&chunk).await?;
            written += chunk.len() as u64;
        }
        file.flush().await?;
        drop(file);
        partial.persist(path).map_err(|error| error.error)?;
        Ok(written)
    }
}

impl fmt::Debug for Upload {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Upload")
            .field("name", &self.name)
            .field("content_type", &self.content_type)
            .field("size", &self.size)
            .finish_non_exhaustive()
    }
}
