//! The words every bodyline crate shares, defined once: the inline `Body` limit, the migration
//! report (the one file `migrate` writes and `stack`/`verify` read) with its default path, and
//! the container variables that tell the local runtime how to run a model.
//!
//! This crate depends on no AWS crate (and on nothing of ours), so `migrate`, which must stay
//! free of AWS crates, shares these with the rest instead of copying them.

mod report;

pub use report::{
    MigrationReport, ReportCrate, ReportError, ReportSite, DEFAULT_MIGRATION_REPORT,
    MIGRATION_REPORT_VERSION,
};

/// The largest `Body` `InvokeEndpointAsync` accepts, in bytes; larger payloads go through S3
/// (`InputLocation`). A larger body is a synchronous `ValidationError`.
pub const MAX_INLINE_BODY_BYTES: usize = 128_000;

/// [`MAX_INLINE_BODY_BYTES`] as migrate writes it into rewritten code.
pub const MAX_INLINE_BODY_LITERAL: &str = "128_000";

/// The container environment variable naming the command that serves a model on the local
/// stack (`<command> serve`, SageMaker's container contract).
pub const LOCAL_COMMAND_VAR: &str = "BODYLINE_LOCAL_COMMAND";

/// The container environment variable naming an already running model server on the local
/// stack.
pub const LOCAL_URL_VAR: &str = "BODYLINE_LOCAL_URL";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_literal_is_the_limit() {
        assert_eq!(
            MAX_INLINE_BODY_LITERAL.replace('_', "").parse::<usize>(),
            Ok(MAX_INLINE_BODY_BYTES)
        );
    }
}
