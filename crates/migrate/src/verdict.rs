//! What happened at each `invoke_endpoint_async` call site: the verdicts and their reasons.

use std::fmt;

use serde::Serialize;

/// The outcome for one `invoke_endpoint_async()` call site.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "verdict", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Verdict {
    /// The upload was removed and the payload is sent inline.
    Rewritten,
    /// A size branch sends small payloads inline and keeps the upload for large ones.
    Branched,
    /// Left alone, for the given reason.
    Skipped {
        /// Why the site was left alone.
        reason: SkipReason,
    },
}

/// Why a call site was left alone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", content = "detail", rename_all = "snake_case")]
#[non_exhaustive]
pub enum SkipReason {
    /// The URI (or its key) comes in as a parameter: the upload happens elsewhere.
    UriParameter(String),
    /// An upload to the same bucket is in the function, but the URI's key cannot be proved to
    /// be its key; the detail names the part that differs.
    UriMismatch(String),
    /// No upload of the object was seen in this function: it already exists in S3.
    NoUpload(String),
    /// The key or URI is returned or stored: the object must stay in S3.
    Escapes(String),
    /// The invoke runs before the `put_object` of the same key.
    InvokeBeforeUpload(String),
    /// `custom_attributes` carries data alongside `input_location`.
    CustomAttributes,
    /// The call is inside a `macro_rules!` definition.
    MacroRules,
    /// The call is inside a macro invocation whose input is not Rust syntax bodyline parses
    /// (the macro's name).
    InsideMacro(String),
    /// A `// bodyline: keep-s3` marker asks to keep the S3 input.
    OptOut,
    /// The request already sends an inline body.
    AlreadyInline,
    /// The request is the large-payload arm of a size branch bodyline (or a person) wrote.
    AlreadyBranched,
    /// The request sets no input location that can be seen here.
    NoInputLocation,
    /// A shape bodyline does not rewrite (yet); the detail says which.
    Unsupported(String),
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Verdict::Rewritten => f.write_str("rewritten"),
            Verdict::Branched => f.write_str("branched"),
            Verdict::Skipped { reason } => write!(f, "skipped: {reason}"),
        }
    }
}

impl fmt::Display for SkipReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SkipReason::UriParameter(d) => write!(f, "the input URI is a parameter ({d}); the upload happens elsewhere"),
            SkipReason::UriMismatch(d) => write!(f, "the input URI cannot be proved to be the uploaded object: {d}"),
            SkipReason::NoUpload(d) => write!(f, "no upload of this object in the function ({d}); it already exists in S3, there are no bytes to inline"),
            SkipReason::Escapes(d) => write!(f, "the object name escapes the function ({d}); the input must stay in S3"),
            SkipReason::InvokeBeforeUpload(d) => write!(f, "invoke runs before the put_object of the same key ({d}): a latent race, fix it by hand"),
            SkipReason::CustomAttributes => f.write_str("the payload travels in custom_attributes next to input_location; converting needs a container change"),
            SkipReason::MacroRules => f.write_str("inside a macro_rules! definition; edit the macro by hand"),
            SkipReason::InsideMacro(name) => write!(f, "inside macro `{name}!`: not analysed; check it by hand"),
            SkipReason::OptOut => f.write_str("opted out with `// bodyline: keep-s3`"),
            SkipReason::AlreadyInline => f.write_str("already sends an inline body"),
            SkipReason::AlreadyBranched => f.write_str("large-payload arm of an existing size branch"),
            SkipReason::NoInputLocation => f.write_str("no input_location is set on this request here"),
            SkipReason::Unsupported(d) => write!(f, "not rewritten: {d}"),
        }
    }
}

/// One `invoke_endpoint_async()` call site and its verdict.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Site {
    /// 1-based line of the `invoke_endpoint_async` call.
    pub line: usize,
    /// 1-based column (in chars) of the `invoke_endpoint_async` call.
    pub column: usize,
    /// Byte range of the `invoke_endpoint_async` name in the original text.
    pub range: std::ops::Range<usize>,
    /// The verdict.
    #[serde(flatten)]
    pub verdict: Verdict,
    /// Extra facts for the report (dropped upload settings, kept bindings, ...).
    pub notes: Vec<String>,
}
