//! `cargo xtask bench migrate`: `bodyline migrate --check` over the cargo registry sources
//! against ripgrep and ast-grep, and the no-prefilter mode against a bare syn parse pass.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{bail, Context as _};
use xshell::{cmd, Shell};

use crate::target_dir;

const RUNS: usize = 5;

/// Run the benchmark and return a markdown section with min/median/max and ratios of medians.
pub(crate) fn run(sh: &Shell, root: &Path) -> anyhow::Result<String> {
    let home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")))
        .context("neither CARGO_HOME nor HOME is set; cannot find the cargo registry")?;
    let corpus = home.join("registry/src");
    if !corpus.is_dir() {
        bail!(
            "{} does not exist; build the workspace once so the registry sources are unpacked",
            corpus.display()
        );
    }
    let _dir = sh.push_dir(root);
    cmd!(sh, "cargo build --release --quiet -p bodyline-cli").run()?;
    cmd!(
        sh,
        "cargo build --release --quiet -p bodyline-migrate --example parse_all"
    )
    .run()?;
    let target = target_dir(root);
    let bodyline = target.join("release/bodyline");
    let parse_all = target.join("release/examples/parse_all");

    let rg = ensure_ripgrep(sh);
    let ast_grep = find_ast_grep(sh, root);

    // The report file would land in this checkout's `.bodyline/`, where `bodyline plan` reads
    // the real migration report: the benchmark must not overwrite it with the registry's.
    let ours = timing(|| cmd!(sh, "{bodyline} migrate --check --no-report-file {corpus}"))?;
    // The analysis' cost over a bare parse, as alternating pairs: the machine's drift between
    // the two sides of one pair is small, so the ratio is judged per pair.
    let (full, parse, paired) = paired(
        || {
            cmd!(
                sh,
                "{bodyline} migrate --check --no-report-file --no-prefilter {corpus}"
            )
        },
        || cmd!(sh, "{parse_all} {corpus}"),
    )?;
    let rg_time = match &rg {
        Some(rg) => Some(timing(|| cmd!(sh, "{rg} -l input_location {corpus}"))?),
        None => None,
    };
    let sg_time = match &ast_grep {
        Some(sg) => {
            let pattern = "$RECV.input_location($URI)";
            Some(timing(|| {
                cmd!(sh, "{sg} run --lang rust --pattern {pattern} {corpus}")
            })?)
        }
        None => None,
    };

    let growth = site_growth(sh, root, &bodyline)?;

    let ratio = |a: Duration, b: Duration| a.as_secs_f64() / b.as_secs_f64().max(1e-9);
    let mut out = String::from("## bodyline migrate benchmark\n\n");
    out.push_str(&format!(
        "Corpus: `{}`; {RUNS} runs after one warm-up: min / median / max wall time, ratios of medians.\n\n| command | min | median | max | ratio | target |\n|---|---|---|---|---|---|\n",
        corpus.display()
    ));
    out.push_str(&format!(
        "| `bodyline migrate --check` | {} | | |\n",
        ours.cells()
    ));
    match rg_time {
        Some(t) => out.push_str(&format!(
            "| `rg -l input_location` | {} | bodyline = {:.2}x ripgrep | <= 1.5x |\n",
            t.cells(),
            ratio(ours.median, t.median)
        )),
        None => out.push_str("| `rg -l input_location` | | missing (ripgrep not installed and apt-get failed) | | | <= 1.5x |\n"),
    }
    match sg_time {
        Some(t) => out.push_str(&format!(
            "| `ast-grep run -p '$RECV.input_location($URI)'` | {} | ast-grep = {:.1}x bodyline | >= 5x |\n",
            t.cells(),
            ratio(t.median, ours.median)
        )),
        None => out.push_str("| `ast-grep` | | missing (install npm `@ast-grep/cli` or PyPI `ast-grep-cli`) | | | >= 5x |\n"),
    }
    out.push_str(&format!(
        "| `bodyline migrate --check --no-prefilter` | {} | {:.2}x the parse pass (ratio of medians) | |\n",
        full.cells(),
        ratio(full.median, parse.median)
    ));
    out.push_str(&format!(
        "| the same, per alternating pair ({RUNS} pairs) | {} | min / median / max of the pair ratios | <= 1.3x (median) |\n",
        paired.cells()
    ));
    out.push_str(&format!(
        "| bare `syn::parse_file` pass (`examples/parse_all`) | {} | | |\n",
        parse.cells()
    ));
    out.push_str(&growth);
    Ok(out)
}

/// Sites in one generated file, doubling: `migrate --check`'s cost must grow linearly.
const GENERATED_SITES: [usize; 4] = [1_000, 2_000, 4_000, 8_000];

/// `bodyline migrate --check` (the human report, which `--check` prints) on one generated file
/// of N upload-then-invoke functions for each N in [`GENERATED_SITES`], and the growth factor
/// per doubling of N (target: at most 2.2x, i.e. linear with some slack).
fn site_growth(sh: &Shell, root: &Path, bodyline: &Path) -> anyhow::Result<String> {
    let dir = target_dir(root).join("bench-migrate-generated");
    let mut rows = Vec::new();
    for sites in GENERATED_SITES {
        let krate = dir.join(sites.to_string());
        write_generated_crate(&krate, sites)?;
        let stats = timing(|| cmd!(sh, "{bodyline} migrate --check --no-report-file {krate}"))?;
        rows.push((sites, stats));
    }
    let mut out = format!(
        "\nOne generated file of N upload-then-invoke functions (`{}`), `migrate --check`:\n\n| sites in one file | min | median | max | growth from the row above | target |\n|---|---|---|---|---|---|\n",
        dir.display()
    );
    let mut previous: Option<Duration> = None;
    for (sites, stats) in &rows {
        let growth = previous.map_or(String::new(), |p| {
            format!(
                "{:.2}x",
                stats.median.as_secs_f64() / p.as_secs_f64().max(1e-9)
            )
        });
        let target = if previous.is_some() { "<= 2.2x" } else { "" };
        out.push_str(&format!(
            "| {sites} | {} | {growth} | {target} |\n",
            stats.cells()
        ));
        previous = Some(stats.median);
    }
    Ok(out)
}

/// A crate whose `src/lib.rs` holds `sites` functions that upload a payload, then pass its URI.
fn write_generated_crate(dir: &Path, sites: usize) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir.join("src"))?;
    std::fs::write(
        dir.join("Cargo.toml"),
        "[package]\nname = \"generated\"\nversion = \"0.1.0\"\nedition = \"2021\"\n",
    )?;
    let mut text = String::from("//! Generated by `cargo xtask bench migrate`.\n");
    for i in 0..sites {
        text.push_str(&format!(
            r#"
pub async fn submit_{i}(s3: &aws_sdk_s3::Client, rt: &aws_sdk_sagemakerruntime::Client, bucket: &str, payload: Vec<u8>) -> anyhow::Result<()> {{
    let key = format!("jobs/{i}/{{}}.json", uuid::Uuid::new_v4());
    s3.put_object().bucket(bucket).key(&key).body(payload.into()).send().await?;
    rt.invoke_endpoint_async().endpoint_name("ep").input_location(format!("s3://{{bucket}}/{{key}}")).send().await?;
    Ok(())
}}
"#
        ));
    }
    std::fs::write(dir.join("src/lib.rs"), text)?;
    Ok(())
}

/// `RUNS` alternating pairs of `a` then `b` (after one warm-up of each): the wall times of each
/// side, and the ratios a/b of each pair.
fn paired<'a>(
    a: impl Fn() -> xshell::Cmd<'a>,
    b: impl Fn() -> xshell::Cmd<'a>,
) -> anyhow::Result<(Stats, Stats, Ratios)> {
    run_once(&a)?;
    run_once(&b)?;
    let (mut left, mut right, mut ratios) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..RUNS {
        let (ta, tb) = (run_once(&a)?, run_once(&b)?);
        ratios.push(ta.as_secs_f64() / tb.as_secs_f64().max(1e-9));
        left.push(ta);
        right.push(tb);
    }
    Ok((Stats::of(left), Stats::of(right), Ratios::of(ratios)))
}

/// Min, median and max of per-pair ratios.
struct Ratios {
    min: f64,
    median: f64,
    max: f64,
}

impl Ratios {
    fn of(mut ratios: Vec<f64>) -> Ratios {
        ratios.sort_by(f64::total_cmp);
        let at = |i: usize| ratios.get(i).copied().unwrap_or_default();
        Ratios {
            min: at(0),
            median: at(ratios.len() / 2),
            max: at(ratios.len().saturating_sub(1)),
        }
    }

    fn cells(&self) -> String {
        format!("{:.2}x | {:.2}x | {:.2}x", self.min, self.median, self.max)
    }
}

/// Wall times of repeated runs of one command (also `bench provisioning`'s `setup` runs).
pub(crate) struct Stats {
    min: Duration,
    median: Duration,
    max: Duration,
}

impl Stats {
    /// The min, median and max of `times` (zero when there are none).
    pub(crate) fn of(mut times: Vec<Duration>) -> Stats {
        times.sort();
        let at = |i: usize| times.get(i).copied().unwrap_or_default();
        Stats {
            min: at(0),
            median: at(times.len() / 2),
            max: at(times.len().saturating_sub(1)),
        }
    }

    /// The `min | median | max` cells of a table row.
    pub(crate) fn cells(&self) -> String {
        let ms = |d: Duration| format!("{:.0} ms", d.as_secs_f64() * 1000.0);
        format!("{} | {} | {}", ms(self.min), ms(self.median), ms(self.max))
    }
}

/// Wall times of `RUNS` runs (after a warm-up).
fn timing<'a>(make: impl Fn() -> xshell::Cmd<'a>) -> anyhow::Result<Stats> {
    run_once(&make)?;
    let times = (0..RUNS)
        .map(|_| run_once(&make))
        .collect::<anyhow::Result<Vec<_>>>()?;
    Ok(Stats::of(times))
}

/// The wall time of one run, output discarded; the exit status is not judged (`--check` exits
/// 1 when it finds sites, `rg` exits 1 when nothing matches).
fn run_once<'a>(make: &dyn Fn() -> xshell::Cmd<'a>) -> anyhow::Result<Duration> {
    let started = Instant::now();
    make()
        .ignore_status()
        .quiet()
        .ignore_stdout()
        .ignore_stderr()
        .run()?;
    Ok(started.elapsed())
}

/// `rg`, installing Debian's `ripgrep` if it is missing; None when that fails.
fn ensure_ripgrep(sh: &Shell) -> Option<PathBuf> {
    if cmd!(sh, "rg --version")
        .quiet()
        .ignore_stdout()
        .ignore_stderr()
        .run()
        .is_ok()
    {
        return Some(PathBuf::from("rg"));
    }
    // The package lists may be missing on a fresh machine: update them once, then install.
    let _ = cmd!(sh, "apt-get update -qq")
        .quiet()
        .ignore_stdout()
        .ignore_stderr()
        .run();
    let installed = cmd!(sh, "apt-get install -y -qq ripgrep")
        .quiet()
        .ignore_stdout()
        .ignore_stderr()
        .run()
        .is_ok();
    (installed
        && cmd!(sh, "rg --version")
            .quiet()
            .ignore_stdout()
            .ignore_stderr()
            .run()
            .is_ok())
    .then(|| PathBuf::from("rg"))
}

/// `ast-grep` (or its `sg` alias, when `sg` really is ast-grep and not shadow's `sg`).
fn find_ast_grep(sh: &Shell, root: &Path) -> Option<PathBuf> {
    for name in ["ast-grep", "sg"] {
        if let Ok(v) = cmd!(sh, "{name} --version").quiet().ignore_stderr().read() {
            if v.contains("ast-grep") || name == "ast-grep" {
                return Some(PathBuf::from(name));
            }
        }
    }
    // Not on PATH (`sg` here may be another program): install PyPI's ast-grep-cli into a
    // project-local virtualenv, so nothing outside the checkout changes.
    let venv = root.join(".bodyline").join("bench-venv");
    let bin = venv.join("bin").join("ast-grep");
    if !bin.exists() {
        let pip = venv.join("bin").join("pip");
        let made = cmd!(sh, "python3 -m venv {venv}")
            .quiet()
            .ignore_stdout()
            .run()
            .is_ok()
            && cmd!(sh, "{pip} install -q ast-grep-cli")
                .quiet()
                .ignore_stdout()
                .run()
                .is_ok();
        if !made {
            return None;
        }
    }
    cmd!(sh, "{bin} --version")
        .quiet()
        .ignore_stdout()
        .run()
        .is_ok()
        .then_some(bin)
}
