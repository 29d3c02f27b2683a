//! The one error type of the stack crate: every variant names the file or field it is about.

use std::path::PathBuf;

/// Why a stack could not be loaded, validated, stored or turned into an SDK configuration.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StackError {
    /// The file could not be read or written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// What the operating system said.
        #[source]
        source: std::io::Error,
    },
    /// The file is not valid TOML, or does not have the shape of a stack file.
    #[error("{}: {message}", path.display())]
    Parse {
        /// The stack file.
        path: PathBuf,
        /// The parser's message, with line and column and the offending source line.
        message: String,
    },
    /// One or more fields break a rule; every problem is listed, not only the first.
    #[error("{}: {} invalid field{}:\n{}", path.display(), problems.len(), if problems.len() == 1 { "" } else { "s" }, render_problems(problems))]
    Invalid {
        /// The stack file.
        path: PathBuf,
        /// Each broken rule.
        problems: Vec<Problem>,
    },
    /// Another run holds the stack's lock (`.bodyline/locks/<stack>.lock`).
    #[error("stack {stack} is being changed by another run ({holder}); wait for it to finish, then run this again: two runs at once would race for the same resources (the lock is {}; it is released when that process ends, even if it is killed)", path.display())]
    Locked {
        /// The stack.
        stack: String,
        /// The lock file.
        path: PathBuf,
        /// Who holds it, as the holder wrote it (pid, command, start time), or why unknown.
        holder: String,
    },
    /// The state file exists but cannot be understood.
    #[error("{}: the state file is corrupt ({message}); delete it and run `bodyline setup` again: tags are the truth and owned resources are found again by tag", path.display())]
    State {
        /// The state file.
        path: PathBuf,
        /// What was wrong.
        message: String,
    },
    /// `.bodyline/local.env` is malformed.
    #[error("{}: {message}", path.display())]
    LocalEnv {
        /// The env file.
        path: PathBuf,
        /// What was wrong.
        message: String,
    },
    /// The migration report `bucket.input = "auto"` reads cannot be understood.
    #[error("{}: not a bodyline migration report ({message}); run `bodyline migrate` again to rewrite it, or set bucket.input = \"s3\" or \"none\" in the stack file", path.display())]
    MigrationReport {
        /// The report file.
        path: PathBuf,
        /// What was wrong.
        message: String,
    },
    /// The target is local but no local stack is running.
    #[error("the local stack is not running ({} does not exist); start it with `bodyline local up` (or `cargo xtask setup`)", path.display())]
    LocalStackNotRunning {
        /// Where `local.env` was expected.
        path: PathBuf,
    },
}

/// One broken rule in a stack file: the field, its value, the rule and how to fix it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// Dotted path of the field, e.g. `stack.name`.
    pub field: String,
    /// The value as written (or a summary of it).
    pub value: String,
    /// The rule the value breaks.
    pub rule: String,
    /// What to do instead.
    pub fix: String,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "  - {} = {:?}: {}; {}",
            self.field, self.value, self.rule, self.fix
        )
    }
}

fn render_problems(problems: &[Problem]) -> String {
    problems
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("\n")
}
