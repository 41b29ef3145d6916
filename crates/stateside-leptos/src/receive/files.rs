//! An upload request read as its handler's files: the declared sizes
//! first, checked against the engine's limits before any file is read,
//! then each file streamed and held to its declared size.

use std::sync::{Arc, Mutex, PoisonError};

use axum::body::Bytes;
use futures::{Stream, stream};
use multer::{Constraints, Field, Multipart, SizeLimit};
use stateside::{Config, Upload, UploadError, Uploads};
use stateside_wire::{FILE_FIELD, ProtocolError, SIZES_FIELD};

use super::body::SharedBody;

/// The first refusal an upload met, for the route's answer: the handler
/// may have swallowed the error, or never asked for the file that had it.
#[derive(Clone, Default)]
pub(super) struct Failure(Arc<Mutex<Option<ProtocolError>>>);

impl Failure {
    fn record(&self, error: UploadError) -> UploadError {
        let mut first = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        first.get_or_insert_with(|| protocol_error(&error));
        error
    }

    pub(super) fn first(&self) -> Option<ProtocolError> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

/// An upload request whose sizes were read and are within the limits.
pub(super) struct Request {
    multipart: Multipart<'static>,
    sizes: Vec<u64>,
    failure: Failure,
}

impl Request {
    /// Reads the request's declared sizes and checks them against the
    /// engine's limits.
    pub(super) async fn open(
        content_type: &str,
        body: SharedBody,
        config: &Config,
        failure: Failure,
    ) -> Result<Self, ProtocolError> {
        let boundary = multer::parse_boundary(content_type).map_err(|_| {
            ProtocolError::Malformed("an upload is a multipart/form-data request".to_owned())
        })?;
        let framing = config.max_payload as u64;
        let limits = SizeLimit::new()
            .whole_stream(config.max_upload_request_bytes.saturating_add(framing))
            .for_field(SIZES_FIELD, framing);
        let mut multipart =
            Multipart::with_constraints(body, boundary, Constraints::new().size_limit(limits));
        let sizes = read_sizes(&mut multipart).await?;
        let too_large = |limit: u64| ProtocolError::TooLarge {
            limit: usize::try_from(limit).unwrap_or(usize::MAX),
        };
        let file_limit = config.max_upload_file_bytes;
        if sizes.iter().any(|&size| size > file_limit) {
            return Err(too_large(file_limit));
        }
        let total = sizes
            .iter()
            .try_fold(0u64, |total, &size| total.checked_add(size));
        let request_limit = config.max_upload_request_bytes;
        if total.is_none_or(|total| total > request_limit) {
            return Err(too_large(request_limit));
        }
        Ok(Self {
            multipart,
            sizes,
            failure,
        })
    }

    /// The files, for the handler, one after another as the request
    /// brings them.
    pub(super) fn files(self) -> Uploads {
        let Self {
            multipart,
            sizes,
            failure,
        } = self;
        let start = Some((multipart, sizes.into_iter(), failure));
        Uploads::new(stream::unfold(start, |reading| async move {
            let (mut multipart, mut sizes, failure) = reading?;
            match next_file(&mut multipart, sizes.next(), &failure).await {
                Ok(Some(upload)) => Some((Ok(upload), Some((multipart, sizes, failure)))),
                Ok(None) => None,
                Err(error) => Some((Err(failure.record(error)), None)),
            }
        }))
    }
}

async fn read_sizes(multipart: &mut Multipart<'static>) -> Result<Vec<u64>, ProtocolError> {
    let failed = |error| protocol_error(&upload_error(error));
    let field = multipart
        .next_field()
        .await
        .map_err(failed)?
        .filter(|field| field.name() == Some(SIZES_FIELD))
        .ok_or_else(|| {
            ProtocolError::Malformed(format!("an upload starts with its `{SIZES_FIELD}` part"))
        })?;
    let sizes = field.bytes().await.map_err(failed)?;
    serde_json::from_slice(&sizes).map_err(|error| {
        ProtocolError::Malformed(format!(
            "`{SIZES_FIELD}` is not a JSON array of sizes: {error}"
        ))
    })
}

/// The file of the next part, whose declared size is `size`; `None` after
/// the last one.
async fn next_file(
    multipart: &mut Multipart<'static>,
    size: Option<u64>,
    failure: &Failure,
) -> Result<Option<Upload>, UploadError> {
    let field = multipart.next_field().await.map_err(upload_error)?;
    let (field, size) = match (field, size) {
        (None, None) => return Ok(None),
        (Some(field), Some(size)) => (field, size),
        (None, Some(_)) => return Err(malformed("the request has fewer files than sizes")),
        (Some(_), None) => return Err(malformed("the request has more files than sizes")),
    };
    if field.name() != Some(FILE_FIELD) {
        return Err(malformed(&format!(
            "each file comes in a `{FILE_FIELD}` part"
        )));
    }
    let name = field.file_name().unwrap_or_default().to_owned();
    let content_type = field
        .content_type()
        .map(ToString::to_string)
        .unwrap_or_default();
    let bytes = held_to_size(field, name.clone(), size, failure.clone());
    Upload::new(&name, &content_type, size, bytes).map(Some)
}

/// A file's bytes, which must come to exactly `size`.
fn held_to_size(
    field: Field<'static>,
    name: String,
    size: u64,
    failure: Failure,
) -> impl Stream<Item = Result<Bytes, UploadError>> + Send {
    stream::unfold(Some((field, 0u64)), move |reading| {
        let (name, failure) = (name.clone(), failure.clone());
        async move {
            let (mut field, seen) = reading?;
            let error = match field.chunk().await {
                Ok(Some(chunk)) => {
                    let seen = seen + chunk.len() as u64;
                    if seen <= size {
                        return Some((Ok(chunk), Some((field, seen))));
                    }
                    malformed(&format!("{name} is larger than its declared {size} bytes"))
                }
                Ok(None) if seen == size => return None,
                Ok(None) => malformed(&format!("{name} has {seen} bytes, not its declared {size}")),
                Err(error) => upload_error(error),
            };
            Some((Err(failure.record(error)), None))
        }
    })
}

fn malformed(why: &str) -> UploadError {
    UploadError::Malformed(why.to_owned())
}

fn upload_error(error: multer::Error) -> UploadError {
    match error {
        multer::Error::StreamSizeExceeded { limit }
        | multer::Error::FieldSizeExceeded { limit, .. } => UploadError::TooLarge { limit },
        // The body itself failed: the page went, or the connection broke.
        multer::Error::StreamReadFailed(_) => UploadError::Cut,
        other => UploadError::Malformed(other.to_string()),
    }
}

fn protocol_error(error: &UploadError) -> ProtocolError {
    match error {
        UploadError::TooLarge { limit } => ProtocolError::TooLarge {
            limit: usize::try_from(*limit).unwrap_or(usize::MAX),
        },
        UploadError::Malformed(why) => ProtocolError::Malformed(why.clone()),
        UploadError::Cut => ProtocolError::Malformed(error.to_string()),
        UploadError::Io(_) => ProtocolError::Server(error.to_string()),
    }
}
