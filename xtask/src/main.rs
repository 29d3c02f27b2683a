//! bodyline's project tasks, run as `cargo xtask <task>` (an alias in `.cargo/config.toml`).
//!
//! Tasks are Rust, not shell scripts, so they run the same on every machine: commands go
//! through `xshell`, and every path hangs off [`project_root`].

mod bench_migrate;
mod bench_runtime;
mod bench_stack;
mod demo;
#[cfg(test)]
mod module_cycles;
mod tidy;

use std::path::{Path, PathBuf};

use anyhow::{bail, Context as _};
use xshell::{cmd, Shell};

/// `bench runtime` hosts the load generator, the front door and the runtime in this process;
/// they allocate per request, as `bodyline local` does (see its allocator).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const USAGE: &str = "\
usage: cargo xtask <task>

tasks:
  setup   build bodyline, start the local stack (target = local), and run `bodyline setup`
          with templates/bodyline.toml (set BODYLINE_STACK_FILE to use another stack file)
  teardown
          run `bodyline teardown` on the same stack file (confirmation is implied on the
          local target; pass --yes for AWS), then stop the local stack
  demo [--keep]
          the whole story on the local stack with a scratch copy of examples/legacy-app:
          setup, the old app, migrate, the migrated app (same outputs, fewer requests),
          verify, --compare-s3, teardown; a summary table (`cargo xtask demo --help`)
  bench [migrate|request|runtime|provisioning]...
          benchmarks side by side with their peers, written to docs/BENCHMARKS.md
          (migrate: `bodyline migrate --check` vs ripgrep vs ast-grep on the cargo registry;
          request: inline Body vs S3 upload + InputLocation, 1,000 submits each;
          runtime: submits/s and completions/s vs moto's PutObject ceiling;
          provisioning: a no-op `setup` re-run, mutating calls and wall time)
  test    install what the tests need (moto into .bodyline/venv), then run every test,
          rustfmt and clippy: the one command CI runs
";

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let task = args.next().unwrap_or_default();
    let rest: Vec<String> = args.collect();
    // `cargo xtask` runs under `cargo run`, which sets CARGO_PKG_* and friends; a nested cargo
    // that inherits them rebuilds ring (its build script watches them) and the AWS SDK above it.
    // Removed before any thread or child exists (the Shell copies the environment), so every
    // child of every task (the demo's cargo and bodyline too) starts without them.
    let set_by_cargo: Vec<_> = std::env::vars_os()
        .map(|(key, _)| key)
        .filter(|key| bodyline_migrate::is_set_by_cargo(&key.to_string_lossy()))
        .collect();
    for key in set_by_cargo {
        std::env::remove_var(key);
    }
    let sh = Shell::new()?;
    sh.change_dir(project_root());
    match task.as_str() {
        "setup" => setup(&sh, &rest),
        "teardown" => teardown(&sh, &rest),
        "test" => test(&sh, &rest),
        "bench" => bench(&sh, &rest),
        "demo" => demo::run(&project_root(), &rest),
        "" | "help" | "-h" | "--help" => {
            print!("{USAGE}");
            Ok(())
        }
        other => bail!("unknown task {other:?}\n\n{USAGE}"),
    }
}

/// The workspace root: xtask lives one level below it.
fn project_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}

/// The target directory every build shares (the workspace's, unless `CARGO_TARGET_DIR` says).
fn target_dir(root: &Path) -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target"))
}

/// The `bodyline` binary of this workspace's dev build.
fn bodyline_bin() -> PathBuf {
    target_dir(&project_root()).join("debug").join("bodyline")
}

/// The variables of this process that cargo set for the crate being run (`cargo run`,
/// `cargo test`): `CARGO_MANIFEST_DIR`, `CARGO_PKG_NAME`, ... Build scripts such as ring's
/// declare `rerun-if-env-changed` on them and cargo compares against its own environment, so a
/// nested cargo that inherits them sees ring as changed and recompiles it and every crate
/// above it (rustls, the AWS SDK), and the next plain `cargo build` does it all over again.
fn stack_file() -> String {
    std::env::var("BODYLINE_STACK_FILE").unwrap_or_else(|_| "templates/bodyline.toml".to_string())
}

fn setup(sh: &Shell, extra: &[String]) -> anyhow::Result<()> {
    let stack_file = stack_file();
    // The model server is built too: the local runtime starts it next to `bodyline`.
    cmd!(
        sh,
        "cargo build --package bodyline-cli --package bodyline-model"
    )
    .run()?;
    let bodyline = bodyline_bin();
    if !stack_targets_aws(sh, &stack_file)? {
        cmd!(sh, "{bodyline} local up").run()?;
    }
    cmd!(sh, "{bodyline} setup --stack-file {stack_file} {extra...}").run()?;
    Ok(())
}

fn teardown(sh: &Shell, extra: &[String]) -> anyhow::Result<()> {
    let stack_file = stack_file();
    cmd!(sh, "cargo build --package bodyline-cli").run()?;
    let bodyline = bodyline_bin();
    if stack_targets_aws(sh, &stack_file)? {
        // Deleting real resources is confirmed by the user (or by an explicit --yes).
        cmd!(
            sh,
            "{bodyline} teardown --stack-file {stack_file} {extra...}"
        )
        .run()?;
    } else {
        // The local stack costs nothing and teardown touches only owned resources.
        if sh.path_exists(".bodyline/local.env") {
            cmd!(
                sh,
                "{bodyline} teardown --stack-file {stack_file} --yes {extra...}"
            )
            .run()?;
        }
        cmd!(sh, "{bodyline} local down").run()?;
    }
    Ok(())
}

/// Reads the stack file and tells whether it asks for AWS (see [`targets_aws`]).
fn stack_targets_aws(sh: &Shell, stack_file: &str) -> anyhow::Result<bool> {
    let text = sh
        .read_file(stack_file)
        .with_context(|| format!("cannot read the stack file {stack_file}"))?;
    Ok(targets_aws(&text))
}

/// Whether a stack file asks for AWS. `bodyline setup` validates the file properly; this
/// only decides whether the local stack must be started first.
fn targets_aws(stack_file: &str) -> bool {
    stack_file.lines().any(|line| {
        let line = line.split('#').next().unwrap_or("").replace(' ', "");
        line == "target=\"aws\""
    })
}

fn bench(sh: &Shell, names: &[String]) -> anyhow::Result<()> {
    const BENCHES: [&str; 4] = ["migrate", "request", "runtime", "provisioning"];
    let selected: Vec<&str> = if names.is_empty() {
        BENCHES.to_vec()
    } else {
        names.iter().map(String::as_str).collect()
    };
    let root = project_root();
    let path = root.join("docs").join("BENCHMARKS.md");
    // Sections not run now keep their last figures; the header names this machine.
    let mut sections = split_sections(&std::fs::read_to_string(&path).unwrap_or_default());
    for name in selected {
        let section = match name {
            "migrate" => bench_migrate::run(sh, &root)?,
            "runtime" => bench_runtime::run(sh, &root)?,
            "request" => bench_stack::request(sh, &root)?,
            "provisioning" => bench_stack::provisioning(sh, &root)?,
            other => bail!("unknown benchmark {other:?}; known: {}", BENCHES.join(", ")),
        };
        let heading = section.lines().next().unwrap_or_default().to_string();
        match sections.iter_mut().find(|(h, _)| *h == heading) {
            Some(slot) => slot.1 = section,
            None => sections.push((heading, section)),
        }
    }
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let rustc = cmd!(sh, "rustc --version").read().unwrap_or_default();
    let mut report = format!(
        "# Benchmarks\n\nWritten by `cargo xtask bench` (one section per benchmark: `cargo xtask bench \
         <name>` rewrites its own); peers are measured in the same run as bodyline.\n\n\
         Machine: {cores} cores, {} {}; {rustc}.\n",
        std::env::consts::OS,
        std::env::consts::ARCH
    );
    for (_, section) in &sections {
        report.push('\n');
        report.push_str(section.trim_end());
        report.push('\n');
    }
    sh.write_file(&path, &report)?;
    eprintln!("wrote {}", path.display());
    Ok(())
}

/// The `## ` sections of a benchmarks file, each with its heading line.
fn split_sections(text: &str) -> Vec<(String, String)> {
    let mut sections: Vec<(String, String)> = Vec::new();
    for line in text.lines() {
        if line.starts_with("## ") {
            sections.push((line.to_string(), String::new()));
        }
        if let Some((_, body)) = sections.last_mut() {
            body.push_str(line);
            body.push('\n');
        }
    }
    sections
}

fn test(sh: &Shell, extra: &[String]) -> anyhow::Result<()> {
    let started = std::time::Instant::now();
    // Everything the tests need is installed by this command, so a fresh machine passes too.
    cmd!(sh, "cargo build --workspace --all-targets").run()?;
    let bodyline = bodyline_bin();
    cmd!(sh, "{bodyline} local install").run()?;
    cmd!(sh, "cargo test --workspace {extra...}").run()?;
    cmd!(sh, "cargo fmt --all -- --check").run()?;
    cmd!(sh, "cargo clippy --workspace --all-targets -- -D warnings").run()?;
    eprintln!("xtask test: all green in {:.0?}", started.elapsed());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_an_explicit_aws_target_skips_the_local_stack() {
        assert!(targets_aws("[stack]\ntarget = \"aws\"\n"));
        assert!(targets_aws("target=\"aws\" # costs money"));
        assert!(!targets_aws("# target = \"aws\"\ntarget = \"local\""));
        assert!(!targets_aws("[stack]\nname = \"aws\"\n"));
    }

    #[test]
    fn a_benchmarks_file_splits_into_its_sections_without_the_header() {
        let text = "# Benchmarks\n\nMachine: x.\n\n## a\n\n| 1 |\n\n## b\nline\n";
        let sections = split_sections(text);
        assert_eq!(
            sections,
            [
                ("## a".to_string(), "## a\n\n| 1 |\n\n".to_string()),
                ("## b".to_string(), "## b\nline\n".to_string()),
            ]
        );
        assert!(split_sections("# Benchmarks\n").is_empty());
    }
}
