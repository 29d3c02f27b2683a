//! The stack file as a user writes it: the template parses, and bad input gets clear errors.

use std::path::Path;

use bodyline_stack::{LocalModel, Stack, StackError, Target};

const MINIMAL: &str = r#"
[stack]
name = "scoring"

[model]
image = "123456789012.dkr.ecr.us-east-1.amazonaws.com/scorer:1"
"#;

fn parse(text: &str) -> Result<Stack, StackError> {
    Stack::parse(text, Path::new("bodyline.toml"))
}

fn error_of(text: &str) -> String {
    match parse(text) {
        Ok(stack) => panic!("expected an error, got {stack:?}"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn the_template_parses_and_targets_the_local_stack() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../templates/bodyline.toml");
    let stack = Stack::load(&path).expect("templates/bodyline.toml is a valid stack");
    assert_eq!(stack.target, Target::Local);
    assert_eq!(stack.name, "bodyline-demo");
    assert!(stack.async_inference.notifications);
    assert_eq!(
        stack.model.local,
        LocalModel::Command("bodyline-model".into())
    );
}

#[test]
fn defaults_are_safe() {
    let stack = parse(MINIMAL).unwrap();
    assert_eq!(stack.target, Target::Local, "AWS only when asked");
    assert_eq!(stack.region, "us-east-1");
    assert_eq!(stack.endpoint.instance_type, "ml.m5.large");
    assert_eq!(stack.bucket.output_prefix, "output");
    assert_eq!(stack.bucket.failure_prefix, "failure");
    assert_eq!(stack.async_inference.kms_key_id, None);
}

#[test]
fn malformed_toml_points_at_line_and_column() {
    let err = error_of("[stack]\nname = \"a\n");
    assert!(err.contains("bodyline.toml"), "{err}");
    assert!(err.contains("line 2"), "{err}");
}

#[test]
fn an_unknown_key_is_a_typo_not_ignored() {
    let err = error_of(&MINIMAL.replace("[model]", "[model]\nimgae = \"x\""));
    assert!(err.contains("imgae"), "{err}");
    assert!(err.contains("line"), "{err}");
}

#[test]
fn a_missing_image_is_named() {
    let err = error_of("[stack]\nname = \"a\"\n[model]\n");
    assert!(err.contains("image"), "{err}");
}

#[test]
fn an_unknown_target_lists_the_choices() {
    let err = error_of(&MINIMAL.replace(
        "name = \"scoring\"",
        "name = \"scoring\"\ntarget = \"azure\"",
    ));
    assert!(err.contains("azure"), "{err}");
    assert!(err.contains("local") && err.contains("aws"), "{err}");
}

#[test]
fn every_invalid_name_is_reported_at_once_with_rule_and_fix() {
    let text = r#"
[stack]
name = "-bad_name"
region = "mars-1"

[model]
image = "not an image"
model_data_url = "http://example.com/model.tar.gz"
environment = { "1BAD" = "x" }

[endpoint]
instance_type = "m5.large"
instance_count = 0

[async_inference]
kms_key_id = "my key"

[bucket]
name = "Bad_Bucket"
output_prefix = "out"
failure_prefix = "out/failures"

[invokers]
principals = ["arn:aws:iam::12:role/x"]
"#;
    let err = error_of(text);
    for field in [
        "stack.name",
        "stack.region",
        "model.image",
        "model.model_data_url",
        "model.environment",
        "endpoint.instance_type",
        "endpoint.instance_count",
        "async_inference.kms_key_id",
        "bucket.name",
        "bucket.failure_prefix",
        "invokers.principals",
    ] {
        assert!(err.contains(field), "{field} missing from:\n{err}");
    }
    // Each line names the rule and a fix.
    assert!(err.contains("must be an S3 bucket name"), "{err}");
    assert!(err.contains("e.g. \"ml.m5.large\""), "{err}");
}

#[test]
fn reserved_environment_and_ambiguous_local_model_are_rejected() {
    let text = MINIMAL.replace(
        "[model]",
        "[model]\nenvironment = { BODYLINE_LOCAL_COMMAND = \"x\" }\nlocal_command = \"a\"\nlocal_url = \"http://127.0.0.1:1\"",
    );
    let err = error_of(&text);
    assert!(err.contains("reserved"), "{err}");
    assert!(err.contains("either a command or a URL"), "{err}");
}

#[test]
fn prefixes_are_normalised() {
    let stack = parse(&format!(
        "{MINIMAL}\n[bucket]\noutput_prefix = \"/async/out/\"\nfailure_prefix = \"async/fail\"\n"
    ))
    .unwrap();
    assert_eq!(stack.bucket.output_prefix, "async/out");
}

#[test]
fn a_missing_file_is_named() {
    let err = Stack::load(Path::new("/nonexistent/bodyline.toml")).unwrap_err();
    assert!(
        err.to_string().contains("/nonexistent/bodyline.toml"),
        "{err}"
    );
}

#[test]
fn values_beyond_aws_service_limits_are_refused_before_any_call() {
    // What the contract test (tests/contract.rs) would find on the wire, refused here first:
    // a prefix that makes S3OutputPath or the policies too long, an environment SageMaker
    // does not take.
    let env: Vec<String> = (0..101).map(|i| format!("V{i} = \"x\"")).collect();
    let text = MINIMAL.replace(
        "[model]",
        &format!(
            "[model]\nenvironment = {{ {}, BIG = \"{}\" }}",
            env.join(", "),
            "v".repeat(1025)
        ),
    ) + &format!("\n[bucket]\noutput_prefix = \"{}\"\n", "o".repeat(257));
    let err = error_of(&text);
    for expected in [
        "bucket.output_prefix",
        "at most 256 characters",
        "model.environment.BIG",
        "SageMaker's EnvironmentValue",
        "at most 100 variables",
    ] {
        assert!(err.contains(expected), "{expected:?} not in {err}");
    }
}

#[test]
fn a_stack_name_from_the_command_line_follows_the_same_rule() {
    let stack = parse(MINIMAL).unwrap();
    let renamed = stack.clone().with_name("ci-1234").expect("a valid name");
    assert_eq!(renamed.name, "ci-1234");
    assert_eq!(
        bodyline_stack::Names::new(&renamed, "123456789012").bucket,
        "ci-1234-123456789012-us-east-1",
        "derived names follow the override"
    );
    assert_eq!(renamed.model, stack.model, "only the name changes");
    for bad in ["-bad", "a_b", "", &"a".repeat(33)] {
        let err = stack.clone().with_name(bad).unwrap_err().to_string();
        assert!(
            err.contains("stack.name (from --stack-name or BODYLINE_STACK_NAME)")
                && err.contains("SageMaker name"),
            "{bad:?}: {err}"
        );
    }
}
