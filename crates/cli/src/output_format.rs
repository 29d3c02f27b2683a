//! The output format of the commands that print either a text for people or one JSON document
//! (`plan`, `setup`, `verify`, `teardown`). `migrate` has its own (`MigrateFormat`: human,
//! JSON, SARIF).

/// How results are printed.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum OutputFormat {
    /// For people: a table or lines of text.
    Text,
    /// One JSON document on stdout, for scripts and CI.
    Json,
}
