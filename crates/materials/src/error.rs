//! Errors of the material pipeline: the material's own fault (told to the instructor, never
//! retried) apart from internal failures (logged, retried by the job queue).

use ainative_ports::PortError;

/// Why a material cannot be processed: the instructor must upload something else. The
/// message is meant for the instructor and goes into the failed stage's `error`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RejectedMaterial {
    /// The PDF's structure is damaged or uses features the extractor does not support.
    #[error("the PDF could not be read: {0}")]
    UnreadablePdf(String),
    /// The PDF needs a password.
    #[error("the PDF is encrypted; upload a copy without a password")]
    EncryptedPdf,
    /// The PDF has pages but no text layer (a scan).
    #[error(
        "the PDF has no selectable text (scanned pages are not supported); \
         upload a PDF with a text layer"
    )]
    PdfWithoutText,
    /// A text or markdown material that is not UTF-8.
    #[error("the material is not UTF-8 text (invalid byte at offset {offset}); save it as UTF-8")]
    NotUtf8 {
        /// Byte offset of the first invalid sequence.
        offset: usize,
    },
    /// Nothing but whitespace, markup or control characters.
    #[error("the material contains no text")]
    Empty,
    /// More chunks than a material may have.
    #[error("the material is too long ({chunks} chunks; at most {max}); split it into several")]
    TooLong {
        /// Chunks the material would have.
        chunks: usize,
        /// The limit.
        max: usize,
    },
    /// Every chunk was empty, a duplicate or unreadable.
    #[error(
        "no part of the material passed the quality checks \
         (it is empty, repeated or unreadable text)"
    )]
    NothingReadable,
}

/// An error of a pipeline stage or of retrieval.
#[derive(Debug, thiserror::Error)]
pub enum MaterialError {
    /// The material itself cannot be processed (see [`RejectedMaterial`]).
    #[error(transparent)]
    Rejected(#[from] RejectedMaterial),
    /// Building or searching the BM25 index failed (a bug or exhausted resources).
    #[error("the retrieval index failed")]
    Index(#[source] tantivy::TantivyError),
    /// The embeddings endpoint failed; retryable when it is
    /// [`PortError::Unavailable`].
    #[error("the embeddings endpoint failed")]
    Embedding(#[source] PortError),
    /// The embeddings endpoint answered vectors that do not fit the chunks.
    #[error("the embeddings endpoint answered unusable vectors: {0}")]
    BadVectors(String),
}

impl MaterialError {
    /// True when the material itself is at fault: mark the stage failed at once.
    pub fn is_rejection(&self) -> bool {
        matches!(self, Self::Rejected(_))
    }

    /// True when running the stage again later may succeed (the embeddings endpoint was
    /// unavailable, or an internal failure).
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Rejected(_) | Self::BadVectors(_) => false,
            Self::Embedding(e) => e.is_unavailable(),
            Self::Index(_) => true,
        }
    }

    /// What the failed stage's `error` should say: the reason for a rejected material, a
    /// generic sentence otherwise (details belong in the logs, not in the status).
    pub fn instructor_message(&self) -> String {
        match self {
            Self::Rejected(reason) => reason.to_string(),
            Self::Embedding(_) | Self::BadVectors(_) => {
                "the embeddings service failed while indexing the material".to_owned()
            }
            Self::Index(_) => "an internal error stopped the processing".to_owned(),
        }
    }
}

/// A failure of [`MaterialPipeline::process`](crate::MaterialPipeline::process): which stage
/// and why.
#[derive(Debug, thiserror::Error)]
#[error("stage {stage} failed")]
pub struct StageError {
    /// The stage that failed.
    pub stage: ainative_domain::Stage,
    /// Why.
    #[source]
    pub error: MaterialError,
}
