//! What `setup` and `teardown` share about waiting for the endpoint: the `--wait-timeout`
//! option, a spinner on stderr with the endpoint's phase and the time waited, and what is said
//! when the wait runs out (the stack is still converging; the same command continues it).

use std::io::IsTerminal as _;
use std::process::ExitCode;
use std::time::Duration;

/// How long to wait for the endpoint.
#[derive(clap::Args, Debug)]
pub struct WaitArgs {
    /// Longest wait for the endpoint to be InService (setup) or gone (teardown), e.g. 90s,
    /// 20m, 1h. Past it the command exits 1, the stack keeps converging, and running the same
    /// command again continues the wait (it creates and deletes nothing twice). Default: 1h
    /// for setup, 30m for teardown.
    #[arg(
        long,
        value_name = "DURATION",
        env = "BODYLINE_WAIT_TIMEOUT",
        value_parser = crate::sweep::parse_age
    )]
    pub wait_timeout: Option<Duration>,
}

/// The progress display: a spinner on a terminal, plain lines otherwise, nothing under `-q`.
pub struct Display {
    bar: indicatif::ProgressBar,
    quiet: bool,
    log: WaitLog,
}

/// The lines a wait writes: one for each new phase and, without a spinner (a log, where
/// silence looks like a hang), one a minute saying how long it has been.
#[derive(Debug)]
struct WaitLog {
    limit: Duration,
    phase: Option<String>,
    logged_minute: u64,
}

impl WaitLog {
    fn next(
        &mut self,
        endpoint: &str,
        status: &str,
        goal: &str,
        elapsed: Duration,
        no_spinner: bool,
    ) -> Option<String> {
        let phase = format!("endpoint {endpoint}: {status}");
        let minute = elapsed.as_secs() / 60;
        if self.phase.as_deref() != Some(phase.as_str()) {
            let line = format!(
                "  {phase}; waiting for {goal} (up to {})",
                render(self.limit)
            );
            self.phase = Some(phase);
            self.logged_minute = minute;
            Some(line)
        } else if no_spinner && minute > self.logged_minute {
            self.logged_minute = minute;
            Some(format!(
                "  {phase} after {minute}m of up to {}",
                render(self.limit)
            ))
        } else {
            None
        }
    }
}

impl Display {
    /// A spinner when `spinner` (text output) and stderr is a terminal and not `quiet`.
    pub fn new(spinner: bool, quiet: bool, limit: Duration) -> Display {
        let bar = if spinner && !quiet && std::io::stderr().is_terminal() {
            let bar = indicatif::ProgressBar::new_spinner();
            bar.enable_steady_tick(Duration::from_millis(120));
            if let Ok(style) =
                indicatif::ProgressStyle::with_template("{spinner} {elapsed:>4} {msg}")
            {
                bar.set_style(style);
            }
            bar
        } else {
            indicatif::ProgressBar::hidden()
        };
        Display {
            bar,
            quiet,
            log: WaitLog {
                limit,
                phase: None,
                logged_minute: 0,
            },
        }
    }

    /// A line above the spinner (or on stderr when there is none).
    pub fn line(&self, text: String) {
        if self.quiet {
            return;
        }
        if self.bar.is_hidden() {
            eprintln!("{text}");
        } else {
            self.bar.println(text);
        }
    }

    /// What the spinner says.
    pub fn message(&self, text: String) {
        self.bar.set_message(text);
    }

    /// The endpoint is `status` after `elapsed` of waiting for `goal`: the spinner shows the
    /// phase and counts the wait; [`WaitLog`] says when a line is due.
    pub fn waiting(&mut self, endpoint: &str, status: &str, goal: &str, elapsed: Duration) {
        if self.log.phase.is_none() {
            self.bar.reset_elapsed();
        }
        let hidden = self.bar.is_hidden();
        if let Some(line) = self.log.next(endpoint, status, goal, elapsed, hidden) {
            self.line(line);
        }
        self.message(format!(
            "endpoint {endpoint}: {status}; waiting for {goal} (up to {})",
            render(self.log.limit)
        ));
    }

    /// Clears the spinner.
    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

/// `3600 s` → `1h`, `1200 s` → `20m`, `90 s` → `90s`: the way `--wait-timeout` is written.
pub fn render(d: Duration) -> String {
    let s = d.as_secs();
    if s >= 3600 && s % 3600 == 0 {
        format!("{}h", s / 3600)
    } else if s >= 60 && s % 60 == 0 {
        format!("{}m", s / 60)
    } else {
        format!("{s}s")
    }
}

/// The command line as typed, for "run it again": `bodyline` and the arguments, each quoted
/// for a POSIX shell when it needs to be.
pub fn command_line(args: impl IntoIterator<Item = String>) -> String {
    let mut words = vec!["bodyline".to_string()];
    words.extend(args.into_iter().skip(1).map(|a| {
        let plain = !a.is_empty()
            && a.chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_./=:,@%+".contains(c));
        if plain {
            a
        } else {
            format!("'{}'", a.replace('\'', r"'\''"))
        }
    }));
    words.join(" ")
}

/// What a wait that ran out of time says: the library's error (it names the endpoint, its
/// status, the time waited and that the stack is still converging), then the exact command
/// that continues. With `json`, stdout also gets one document for scripts.
pub fn still_converging(
    message: &str,
    json: Option<serde_json::Value>,
    command: &str,
) -> (Option<String>, String) {
    let stderr = format!("error: {message}\nTo continue, run the same command again: {command}\n");
    let stdout = json.map(|mut doc| {
        doc["outcome"] = "still_converging".into();
        doc["message"] = message.into();
        doc["rerun"] = command.into();
        serde_json::to_string_pretty(&doc).unwrap_or_default() + "\n"
    });
    (stdout, stderr)
}

/// Prints [`still_converging`]'s output; the exit code is 1, like any unfinished command.
pub fn report_still_converging(
    message: &str,
    json: Option<serde_json::Value>,
) -> std::io::Result<ExitCode> {
    use std::io::Write as _;
    let (stdout, stderr) = still_converging(message, json, &command_line(std::env::args()));
    if let Some(out) = stdout {
        let mut lock = std::io::stdout().lock();
        lock.write_all(out.as_bytes())?;
        lock.flush()?;
    }
    eprint!("{stderr}");
    Ok(ExitCode::FAILURE)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_render_the_way_they_are_written() {
        assert_eq!(render(Duration::from_secs(3600)), "1h");
        assert_eq!(render(Duration::from_secs(1200)), "20m");
        assert_eq!(render(Duration::from_secs(90)), "90s");
        assert_eq!(render(Duration::ZERO), "0s");
    }

    #[test]
    fn a_wait_logs_each_phase_and_without_a_spinner_each_minute() {
        let mut log = WaitLog {
            limit: Duration::from_secs(3600),
            phase: None,
            logged_minute: 0,
        };
        let mut lines = Vec::new();
        for (status, secs, no_spinner) in [
            ("Creating", 0, true),
            ("Creating", 15, true),
            ("Creating", 61, true),
            ("Creating", 75, true),
            ("Creating", 130, false),
            ("Updating", 140, false),
        ] {
            lines.extend(log.next(
                "demo-endpoint",
                status,
                "InService",
                Duration::from_secs(secs),
                no_spinner,
            ));
        }
        assert_eq!(
            lines,
            vec![
                "  endpoint demo-endpoint: Creating; waiting for InService (up to 1h)",
                "  endpoint demo-endpoint: Creating after 1m of up to 1h",
                "  endpoint demo-endpoint: Updating; waiting for InService (up to 1h)",
            ]
        );
    }

    #[test]
    fn the_rerun_command_is_the_command_as_typed_and_quoted() {
        let args = [
            "/usr/local/bin/bodyline",
            "setup",
            "--target",
            "aws",
            "--wait-timeout",
            "20m",
            "--stack-file",
            "my stack's.toml",
        ]
        .map(String::from);
        assert_eq!(
            command_line(args),
            r"bodyline setup --target aws --wait-timeout 20m --stack-file 'my stack'\''s.toml'"
        );
    }

    #[test]
    fn a_wait_that_ran_out_says_how_to_continue_and_json_gets_a_document() {
        let (stdout, stderr) = still_converging(
            "endpoint demo-endpoint is still Creating after waiting 1200 s",
            None,
            "bodyline setup --wait-timeout 20m",
        );
        assert_eq!(stdout, None);
        assert_eq!(
            stderr,
            "error: endpoint demo-endpoint is still Creating after waiting 1200 s\nTo continue, run the same command again: bodyline setup --wait-timeout 20m\n"
        );
        let (stdout, _) = still_converging(
            "m",
            Some(serde_json::json!({"stack": "demo", "endpoint": "demo-endpoint"})),
            "bodyline setup --format json",
        );
        let doc: serde_json::Value =
            serde_json::from_str(&stdout.unwrap_or_default()).unwrap_or_default();
        assert_eq!(doc["outcome"], "still_converging");
        assert_eq!(doc["endpoint"], "demo-endpoint");
        assert_eq!(doc["rerun"], "bodyline setup --format json");
    }
}
