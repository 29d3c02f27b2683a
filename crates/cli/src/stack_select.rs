//! Which stack a command acts on, and where: the flags `plan`, `setup` and `teardown` share,
//! and the one way a stack file is loaded with the command line's overrides.

use std::path::{Path, PathBuf};

use bodyline_stack::{ProjectDir, Stack, Target};

use crate::output_format::OutputFormat;

/// Which stack, where.
#[derive(clap::Args, Debug)]
pub struct StackSelect {
    /// The stack file.
    #[arg(long, default_value = "bodyline.toml")]
    pub stack_file: PathBuf,
    /// Where the stack lives; overrides `stack.target` of the file.
    #[arg(long, value_parser = parse_target)]
    pub target: Option<Target>,
    /// The stack's name; overrides `stack.name` of the file (same rule). The state file and
    /// every derived name follow it.
    #[arg(long, env = "BODYLINE_STACK_NAME", value_name = "NAME")]
    pub stack_name: Option<String>,
    /// The project root (holds `.bodyline/`: local stack connection and state).
    #[arg(long, default_value = ".")]
    pub root: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
    pub format: OutputFormat,
}

impl StackSelect {
    /// The selected stack, with the command line's overrides applied.
    pub(crate) fn load(&self) -> anyhow::Result<Stack> {
        load(
            &self.stack_file,
            self.target,
            self.stack_name.as_deref(),
            &self.root,
        )
    }
}

pub(crate) fn parse_target(s: &str) -> Result<Target, String> {
    s.parse()
}

/// Loads the stack file and applies the command line's `--target`, `--stack-name` and
/// `--root` (the project directory, whose `.bodyline/` holds the migration report); the
/// first two are checked here, before any call.
pub(crate) fn load(
    stack_file: &Path,
    target: Option<Target>,
    stack_name: Option<&str>,
    root: &Path,
) -> anyhow::Result<Stack> {
    let mut stack = Stack::load(stack_file)?.in_project(ProjectDir::new(root));
    if let Some(name) = stack_name {
        stack = stack.with_name(name)?;
    }
    Ok(match target {
        Some(t) => stack.with_target(t),
        None => stack,
    })
}
