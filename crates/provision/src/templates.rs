//! The IAM policy templates (`templates/iam/*.json`, minijinja) and their rendering into JSON.

use minijinja::Environment;
use serde_json::Value;

use crate::ProvisionError;

/// The execution role's inline policy.
pub const EXECUTION_ROLE_TEMPLATE: &str = "execution-role.json";
/// The execution role's trust policy.
pub const EXECUTION_TRUST_TEMPLATE: &str = "execution-trust.json";
/// The invoker managed policy.
pub const INVOKER_TEMPLATE: &str = "invoker.json";
/// The output bucket's TLS-only policy (aws target).
pub const BUCKET_TLS_TEMPLATE: &str = "bucket-tls.json";

/// Every policy template, by file name, with its source (compiled in, so the binary carries them).
pub const TEMPLATES: [(&str, &str); 4] = [
    (
        EXECUTION_ROLE_TEMPLATE,
        include_str!("../../../templates/iam/execution-role.json"),
    ),
    (
        EXECUTION_TRUST_TEMPLATE,
        include_str!("../../../templates/iam/execution-trust.json"),
    ),
    (
        INVOKER_TEMPLATE,
        include_str!("../../../templates/iam/invoker.json"),
    ),
    (
        BUCKET_TLS_TEMPLATE,
        include_str!("../../../templates/iam/bucket-tls.json"),
    ),
];

fn tojson(value: minijinja::Value) -> Result<minijinja::Value, minijinja::Error> {
    use minijinja::{Error, ErrorKind};
    if value.is_undefined() {
        return Err(Error::new(
            ErrorKind::UndefinedError,
            "a variable passed to tojson is not defined",
        ));
    }
    serde_json::to_string(&value)
        .map(minijinja::Value::from_safe_string)
        .map_err(|e| Error::new(ErrorKind::InvalidOperation, e.to_string()))
}

/// Renders one template with `context` and parses the result: a template that does not yield
/// JSON is an error naming the template.
pub fn render_policy(template: &'static str, context: &Value) -> Result<Value, ProvisionError> {
    let err = |message: String| ProvisionError::Template { template, message };
    let source = TEMPLATES
        .iter()
        .find(|(name, _)| *name == template)
        .map(|(_, src)| *src)
        .ok_or_else(|| err("no such template".into()))?;
    let mut env = Environment::new();
    // Undefined variables are errors: a typo in a template must not render as an empty string.
    env.set_undefined_behavior(minijinja::UndefinedBehavior::Strict);
    // The built-in `tojson` turns an undefined variable into `null`; this one refuses it, so a
    // missing value can never become `"Resource": null`.
    env.add_filter("tojson", tojson);
    env.add_template(template, source)
        .map_err(|e| err(format!("{e:#}")))?;
    let text = env
        .get_template(template)
        .and_then(|t| t.render(context))
        .map_err(|e| err(format!("{e:#}")))?;
    serde_json::from_str(&text).map_err(|e| err(format!("rendered text is not JSON: {e}")))
}

#[cfg(test)]
mod tests {
    use serde_json::{json, Value};

    use super::*;
    use crate::lint::lint_document;
    use crate::testutil::{desired, stack, stack_with};

    fn actions_and_resources(doc: &Value) -> Vec<(String, Vec<String>)> {
        let list = |v: &Value| match v {
            Value::String(s) => vec![s.clone()],
            Value::Array(a) => a
                .iter()
                .filter_map(|x| x.as_str().map(String::from))
                .collect(),
            _ => Vec::new(),
        };
        doc["Statement"]
            .as_array()
            .into_iter()
            .flatten()
            .flat_map(|st| {
                let resources = list(&st["Resource"]);
                list(&st["Action"])
                    .into_iter()
                    .map(move |a| (a, resources.clone()))
            })
            .collect()
    }

    #[test]
    fn every_template_renders_to_json_that_passes_the_lint() {
        // Every optional part on (ECR image, model artifact, topics, KMS), on both targets.
        let kms = "kms_key_id = \"arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab\"";
        let mut rendered = 0;
        for target in ["local", "aws"] {
            for s in [stack(target), stack_with(target, kms)] {
                let d = desired(&s);
                let mut docs = vec![&d.role.policy, &d.role.trust, &d.invoker.document];
                docs.extend(d.bucket.policy.as_ref());
                for doc in docs {
                    assert_eq!(lint_document(doc), vec![], "{doc:#}");
                    rendered += 1;
                }
            }
        }
        // The TLS policy exists only on the aws target.
        assert_eq!(rendered, 2 * 3 + 2 * 4);
        // And each template on its own, with every variable absent where that is allowed.
        for (name, _) in TEMPLATES {
            let ctx = json!({
                "output_objects": ["arn:aws:s3:::b/output/*"], "log_group": "arn:aws:logs:us-east-1:1:log-group:/aws/sagemaker/Endpoints/e:*",
                "metrics_namespace": "/aws/sagemaker/Endpoints", "ecr_repository": null, "model_artifact": null,
                "topics": null, "kms_key": null, "local_caller": null, "endpoint_arn": "arn:aws:sagemaker:us-east-1:1:endpoint/e",
                "bucket_arn": "arn:aws:s3:::b", "input_objects": null, "list_prefixes": ["output/*"],
            });
            let doc = render_policy(name, &ctx).unwrap();
            assert_eq!(lint_document(&doc), vec![], "{name}");
        }
    }

    #[test]
    fn the_execution_policy_is_scoped_as_the_spec_says() {
        let kms = "kms_key_id = \"alias/outputs\"";
        let mut s = stack_with("aws", kms);
        s.bucket.input = bodyline_stack::InputMode::S3;
        let d = desired(&s);
        let got = actions_and_resources(&d.role.policy);
        let on = |action: &str| -> Vec<String> {
            got.iter()
                .filter(|(a, _)| a == action)
                .flat_map(|(_, r)| r.clone())
                .collect()
        };
        let prefixes = vec![
            format!("arn:aws:s3:::{}/output/*", d.bucket.name),
            format!("arn:aws:s3:::{}/failure/*", d.bucket.name),
        ];
        assert_eq!(on("s3:PutObject"), prefixes);
        assert_eq!(on("s3:AbortMultipartUpload"), prefixes);
        assert_eq!(
            on("s3:GetObject"),
            vec![
                "arn:aws:s3:::models-123456789012/scorer/model.tar.gz".to_string(),
                format!("arn:aws:s3:::{}/input/*", d.bucket.name)
            ]
        );
        assert_eq!(
            on("ecr:BatchGetImage"),
            vec!["arn:aws:ecr:us-east-1:123456789012:repository/scorer".to_string()]
        );
        assert_eq!(on("ecr:GetAuthorizationToken"), vec!["*".to_string()]);
        assert_eq!(
            on("sns:Publish"),
            vec![
                "arn:aws:sns:us-east-1:123456789012:demo-success".to_string(),
                "arn:aws:sns:us-east-1:123456789012:demo-error".to_string()
            ]
        );
        assert_eq!(
            on("kms:GenerateDataKey"),
            vec!["arn:aws:kms:us-east-1:123456789012:alias/outputs".to_string()]
        );
        assert_eq!(
            on("logs:PutLogEvents"),
            vec![
                "arn:aws:logs:us-east-1:123456789012:log-group:/aws/sagemaker/Endpoints/demo:*"
                    .to_string()
            ]
        );
        // Without notifications, a key or S3 input, those statements are absent, not empty.
        let mut s = stack("aws");
        s.async_inference.notifications = false;
        s.bucket.input = bodyline_stack::InputMode::None;
        let plain = actions_and_resources(&desired(&s).role.policy);
        assert!(
            !plain.iter().any(|(a, r)| a == "sns:Publish"
                || a.starts_with("kms:")
                || r.iter().any(|r| r.contains("/input/"))),
            "{plain:?}"
        );
    }

    #[test]
    fn the_invoker_may_invoke_and_read_and_put_only_inputs_only_while_s3_input_is_kept() {
        let mut s = stack("aws");
        s.bucket.input = bodyline_stack::InputMode::None;
        let d = desired(&s);
        let got = actions_and_resources(&d.invoker.document);
        let inline_only = vec![
            (
                "sagemaker:InvokeEndpointAsync".to_string(),
                vec![d.endpoint.arn.clone()],
            ),
            (
                "s3:GetObject".to_string(),
                vec![
                    format!("arn:aws:s3:::{}/output/*", d.bucket.name),
                    format!("arn:aws:s3:::{}/failure/*", d.bucket.name),
                ],
            ),
            (
                "s3:ListBucket".to_string(),
                vec![format!("arn:aws:s3:::{}", d.bucket.name)],
            ),
        ];
        assert_eq!(got, inline_only);
        // Listing (and so telling "not yet" from "denied") only under the result prefixes.
        let list = d.invoker.document["Statement"]
            .as_array()
            .and_then(|sts| sts.iter().find(|st| st["Action"] == "s3:ListBucket"))
            .expect("a ListBucket statement");
        assert_eq!(
            list["Condition"],
            json!({"StringLike": {"s3:prefix": ["output/*", "failure/*"]}})
        );

        s.bucket.input = bodyline_stack::InputMode::S3;
        let d = desired(&s);
        let mut with_input = inline_only;
        with_input.push((
            "s3:PutObject".to_string(),
            vec![format!("arn:aws:s3:::{}/input/*", d.bucket.name)],
        ));
        assert_eq!(actions_and_resources(&d.invoker.document), with_input);
    }

    #[test]
    fn the_invoker_may_decrypt_with_the_stack_key_only_through_s3_in_the_region() {
        let decrypt = |kms: &str| {
            let d = desired(&stack_with("aws", kms));
            let statements = d.invoker.document["Statement"].as_array().cloned();
            let found: Vec<Value> = statements
                .into_iter()
                .flatten()
                .filter(|st| st["Action"] == "kms:Decrypt")
                .collect();
            assert_eq!(lint_document(&d.invoker.document), vec![]);
            found
        };
        let key = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab";
        assert_eq!(
            decrypt(&format!("kms_key_id = \"{key}\"")),
            vec![json!({
                "Sid": "DecryptOutputs", "Effect": "Allow", "Action": "kms:Decrypt", "Resource": key,
                "Condition": {"StringEquals": {"kms:ViaService": "s3.us-east-1.amazonaws.com"}}
            })]
        );
        // A bare key id is the key in the stack's account and region.
        assert_eq!(
            decrypt("kms_key_id = \"1234abcd-12ab-34cd-56ef-1234567890ab\"")[0]["Resource"],
            key
        );
        // An alias: IAM matches the key a request uses, so every key narrowed by its alias.
        assert_eq!(
            decrypt("kms_key_id = \"alias/outputs\""),
            vec![json!({
                "Sid": "DecryptOutputs", "Effect": "Allow", "Action": "kms:Decrypt",
                "Resource": "arn:aws:kms:us-east-1:123456789012:key/*",
                "Condition": {
                    "StringEquals": {"kms:ViaService": "s3.us-east-1.amazonaws.com"},
                    "ForAnyValue:StringEquals": {"kms:ResourceAliases": "alias/outputs"}
                }
            })]
        );
        // No key, no KMS statement.
        assert_eq!(decrypt(""), Vec::<Value>::new());
    }

    #[test]
    fn the_trust_policy_names_the_local_caller_only_on_the_local_target() {
        let aws = desired(&stack("aws")).role.trust;
        assert_eq!(
            aws["Statement"][0]["Principal"],
            json!({"Service": "sagemaker.amazonaws.com"})
        );
        let local = desired(&stack("local")).role.trust;
        assert_eq!(
            local["Statement"][0]["Principal"],
            json!({"Service": "sagemaker.amazonaws.com", "AWS": "arn:aws:iam::123456789012:user/bodyline-admin"})
        );
        assert_eq!(local["Statement"].as_array().map(Vec::len), Some(1));
    }

    #[test]
    fn a_template_error_names_the_template() {
        let err = render_policy(INVOKER_TEMPLATE, &json!({}))
            .unwrap_err()
            .to_string();
        assert!(err.contains("invoker.json"), "{err}");
    }
}
