//! The `bodyline` binary as a user meets it: bad input, the local stack's lifecycle, completions.

use bodyline_tests::{bodyline, run};

#[test]
fn a_bad_stack_file_is_reported_with_field_rule_and_fix_and_exit_1() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("bodyline.toml"),
        "[stack]\nname = \"bad_name\"\n[model]\nimage = \"x/y\"\n[bucket]\nname = \"Bad\"\n",
    )
    .unwrap();
    let (out, _, stderr) = run(bodyline(dir.path()).arg("plan"));
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("stack.name"), "{stderr}");
    assert!(stderr.contains("bucket.name"), "{stderr}");
    assert!(stderr.contains("e.g."), "a fix is suggested: {stderr}");
}

#[test]
fn malformed_toml_names_the_line() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("bodyline.toml"), "[stack\nname = 1\n").unwrap();
    let (out, _, stderr) = run(bodyline(dir.path()).args(["setup"]));
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("line 1"), "{stderr}");
}

#[test]
fn a_missing_stack_file_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let (out, _, stderr) = run(bodyline(dir.path()).args(["plan", "--stack-file", "nope.toml"]));
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("nope.toml"), "{stderr}");
}

#[test]
fn plan_on_the_local_target_starts_a_missing_local_stack_as_setup_does() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        bodyline_tests::workspace_root().join("templates/bodyline.toml"),
        dir.path().join("bodyline.toml"),
    )
    .unwrap();
    let (out, stdout, stderr) = run(bodyline(dir.path()).arg("plan"));
    // Stopped before any assertion can fail, so no daemon outlives the test.
    let (down, _, down_err) = run(bodyline(dir.path()).args(["local", "down"]));
    assert_eq!(out.status.code(), Some(2), "{stdout}\n{stderr}");
    assert!(
        stderr.contains("started the local stack on http://"),
        "{stderr}"
    );
    assert!(
        stdout.contains("create"),
        "a fresh stack plans creates:\n{stdout}"
    );
    assert!(down.status.success(), "{down_err}");
    assert!(
        !dir.path().join(".bodyline/local.env").exists(),
        "local down left local.env behind"
    );
}

#[test]
fn the_aws_target_without_credentials_fails_before_any_call() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        bodyline_tests::workspace_root().join("templates/bodyline.toml"),
        dir.path().join("bodyline.toml"),
    )
    .unwrap();
    let mut cmd = bodyline(dir.path());
    cmd.args(["plan", "--target", "aws"])
        .env("HOME", dir.path())
        .env("AWS_CONFIG_FILE", dir.path().join("no-config"))
        .env(
            "AWS_SHARED_CREDENTIALS_FILE",
            dir.path().join("no-credentials"),
        )
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY")
        .env_remove("AWS_SESSION_TOKEN")
        .env_remove("AWS_PROFILE")
        .env_remove("AWS_ENDPOINT_URL")
        .env_remove("AWS_WEB_IDENTITY_TOKEN_FILE")
        .env_remove("AWS_CONTAINER_CREDENTIALS_FULL_URI")
        .env_remove("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI");
    let (out, _, stderr) = run(&mut cmd);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.to_lowercase().contains("credential"), "{stderr}");
}

#[test]
fn local_up_status_down_leaves_nothing_running() {
    let dir = tempfile::tempdir().unwrap();
    let (out, stdout, stderr) = run(bodyline(dir.path()).args(["local", "up"]));
    assert!(out.status.success(), "{stdout}{stderr}");
    let env_file = dir.path().join(".bodyline/local.env");
    let env = bodyline_stack::LocalEnv::read(dir.path()).expect("local up writes local.env");
    assert!(env.endpoint_url.starts_with("http://127.0.0.1:"), "{env:?}");

    // A second `up` finds the running stack instead of starting another.
    let (out, _, stderr) = run(bodyline(dir.path()).args(["local", "up"]));
    assert!(out.status.success(), "{stderr}");
    assert_eq!(
        bodyline_stack::LocalEnv::read(dir.path())
            .unwrap()
            .endpoint_url,
        env.endpoint_url
    );

    let (out, stdout, _) = run(bodyline(dir.path()).args(["local", "status"]));
    assert!(out.status.success());
    assert!(stdout.contains(&env.endpoint_url), "{stdout}");

    let (out, _, stderr) = run(bodyline(dir.path()).args(["local", "down"]));
    assert!(out.status.success(), "{stderr}");
    assert!(!env_file.exists(), "down removes local.env");
    let refused = std::net::TcpStream::connect(env.endpoint_url.trim_start_matches("http://"));
    assert!(refused.is_err(), "the front door is stopped");
}

#[test]
fn completions_are_printed_for_a_shell() {
    let dir = tempfile::tempdir().unwrap();
    let (out, stdout, _) = run(bodyline(dir.path()).args(["completions", "bash"]));
    assert!(out.status.success());
    assert!(stdout.contains("bodyline"), "{stdout}");
    assert!(stdout.contains("migrate"), "{stdout}");
}
