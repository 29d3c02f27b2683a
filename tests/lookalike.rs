//! A foreign look-alike of each resource kind, made by someone else between `bodyline setup`'s
//! observe and its create, through the real binary: setup stops with the "exists but is not
//! ours" error, and neither that setup nor the teardown after it changes the look-alike (its
//! tags, policies, objects and description are compared before and after, as text).
//!
//! The look-alike is made by the forwarder in front of the local stack, right before it
//! forwards setup's first mutating call: observe has seen the name free, and every create
//! comes after.

use std::sync::{Arc, Mutex};

use anyhow::{ensure, Context as _};
use aws_config::SdkConfig;
use bodyline_provision::Desired;
use bodyline_stack::LocalEnv;
use bodyline_tests::forwarder::{Forwarder, Inspector, Verdict};
use bodyline_tests::unique;
use serde_json::json;

use crate::kill::{on_local_stack, Context, Project};

/// The resource kinds setup creates, in the order it creates them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Bucket,
    Topic,
    Role,
    Policy,
    Model,
    EndpointConfig,
    Endpoint,
}

const KINDS: [Kind; 7] = [
    Kind::Bucket,
    Kind::Topic,
    Kind::Role,
    Kind::Policy,
    Kind::Model,
    Kind::EndpointConfig,
    Kind::Endpoint,
];

const OWNER: (&str, &str) = ("owner", "someone-else");

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_look_alike_of_each_kind_made_mid_setup_is_refused_and_left_whole() -> anyhow::Result<()>
{
    on_local_stack(|ctx| async move {
        for kind in KINDS {
            scenario(&ctx, kind)
                .await
                .with_context(|| format!("look-alike {kind:?}"))?;
        }
        Ok(())
    })
    .await
}

async fn scenario(ctx: &Context, kind: Kind) -> anyhow::Result<()> {
    let project = Project::named(ctx, &unique("alike")).await?;
    let planned =
        bodyline_provision::plan_stack(&project.stack, &ctx.sdk, project.dir.path()).await?;
    let desired = planned.plan.desired.clone();
    let name = name_of(&desired, kind)?;

    // The forwarder makes the look-alike just before setup's first mutating call.
    let made = Arc::new(Mutex::new(false));
    let sdk = ctx.sdk.clone();
    let (d, flag) = (desired.clone(), made.clone());
    let inspect: Inspector = Arc::new(move |parts, body| {
        let mutating = crate::kill::is_mutating(parts, body);
        let mut done = flag
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if !mutating || *done {
            return Verdict::Forward;
        }
        *done = true;
        let (sdk, d) = (sdk.clone(), d.clone());
        Verdict::FirstRun(Box::pin(async move {
            if let Err(e) = make(&sdk, &d, kind).await {
                eprintln!("making the look-alike failed: {e:#}");
            }
        }))
    });
    let forwarder = Forwarder::start(&ctx.env.endpoint_url, inspect).await?;
    LocalEnv {
        endpoint_url: forwarder.url.clone(),
        ..ctx.env.clone()
    }
    .write(project.dir.path())?;

    let out = project.run(&["setup"]).await?;
    ensure!(
        *made
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner),
        "setup made no mutating call\n{out}"
    );
    let before = snapshot(&ctx.sdk, &desired, kind).await?;
    ensure!(
        out.status.code() == Some(1),
        "setup did not stop at the look-alike\n{out}"
    );
    ensure!(
        out.stderr.contains(&name)
            && out.stderr.contains(&format!(
                "exists but is not tagged bodyline:stack={}",
                desired.stack
            ))
            && out.stderr.contains("owner=someone-else"),
        "the error does not name {name}, the rule and the owner\n{out}"
    );
    ensure!(
        before.contains("someone-else"),
        "the look-alike lost its owner's tag: {before}"
    );

    let teardown = project.run(&["teardown", "--yes"]).await?;
    ensure!(teardown.status.success(), "teardown\n{teardown}");
    let after = snapshot(&ctx.sdk, &desired, kind).await?;
    ensure!(
        before == after,
        "the look-alike changed\nbefore: {before}\nafter:  {after}\n{teardown}"
    );
    remove(&ctx.sdk, &desired, kind).await
}

fn name_of(d: &Desired, kind: Kind) -> anyhow::Result<String> {
    Ok(match kind {
        Kind::Bucket => d.bucket.name.clone(),
        Kind::Topic => d
            .topics
            .as_ref()
            .context("the template stack has topics")?
            .success
            .name
            .clone(),
        Kind::Role => d.role.name.clone(),
        Kind::Policy => d.invoker.name.clone(),
        Kind::Model => d.model.name.clone(),
        Kind::EndpointConfig => d.endpoint_config.name.clone(),
        Kind::Endpoint => d.endpoint.name.clone(),
    })
}

/// Someone else's resource of `kind` under the stack's name, tagged `owner=someone-else`.
async fn make(sdk: &SdkConfig, d: &Desired, kind: Kind) -> anyhow::Result<()> {
    let name = name_of(d, kind)?;
    let (key, value) = OWNER;
    let sm = aws_sdk_sagemaker::Client::new(sdk);
    let sm_tag = aws_sdk_sagemaker::types::Tag::builder()
        .key(key)
        .value(value)
        .build();
    let account = d.context.account.clone();
    let their_model = format!("{name}-theirs");
    match kind {
        Kind::Bucket => {
            let s3 = aws_sdk_s3::Client::new(sdk);
            s3.create_bucket().bucket(&name).send().await?;
            s3.put_bucket_tagging()
                .bucket(&name)
                .tagging(
                    aws_sdk_s3::types::Tagging::builder()
                        .tag_set(
                            aws_sdk_s3::types::Tag::builder()
                                .key(key)
                                .value(value)
                                .build()?,
                        )
                        .build()?,
                )
                .send()
                .await?;
            s3.put_object()
                .bucket(&name)
                .key("output/precious.txt")
                .body(b"theirs".to_vec().into())
                .send()
                .await?;
        }
        Kind::Topic => {
            aws_sdk_sns::Client::new(sdk)
                .create_topic()
                .name(&name)
                .tags(
                    aws_sdk_sns::types::Tag::builder()
                        .key(key)
                        .value(value)
                        .build()?,
                )
                .send()
                .await?;
        }
        Kind::Role => {
            let iam = aws_sdk_iam::Client::new(sdk);
            iam.create_role()
                .role_name(&name)
                .assume_role_policy_document(
                    json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
                        "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]})
                    .to_string(),
                )
                .tags(aws_sdk_iam::types::Tag::builder().key(key).value(value).build()?)
                .send()
                .await?;
            iam.put_role_policy()
                .role_name(&name)
                .policy_name("theirs")
                .policy_document(their_document())
                .send()
                .await?;
        }
        Kind::Policy => {
            aws_sdk_iam::Client::new(sdk)
                .create_policy()
                .policy_name(&name)
                .policy_document(their_document())
                .tags(
                    aws_sdk_iam::types::Tag::builder()
                        .key(key)
                        .value(value)
                        .build()?,
                )
                .send()
                .await?;
        }
        Kind::Model => make_model(&sm, &name, &account, sm_tag).await?,
        Kind::EndpointConfig => {
            make_model(&sm, &their_model, &account, sm_tag.clone()).await?;
            make_config(&sm, &name, &their_model, sm_tag).await?;
        }
        Kind::Endpoint => {
            make_model(&sm, &their_model, &account, sm_tag.clone()).await?;
            make_config(&sm, &their_model, &their_model, sm_tag.clone()).await?;
            sm.create_endpoint()
                .endpoint_name(&name)
                .endpoint_config_name(&their_model)
                .tags(sm_tag)
                .send()
                .await?;
        }
    }
    Ok(())
}

fn their_document() -> String {
    json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
        "Action": "s3:ListAllMyBuckets", "Resource": "*"}]})
    .to_string()
}

async fn make_model(
    sm: &aws_sdk_sagemaker::Client,
    name: &str,
    account: &str,
    tag: aws_sdk_sagemaker::types::Tag,
) -> anyhow::Result<()> {
    sm.create_model()
        .model_name(name)
        .execution_role_arn(format!("arn:aws:iam::{account}:role/theirs"))
        .primary_container(
            aws_sdk_sagemaker::types::ContainerDefinition::builder()
                .image("theirs:1")
                .build(),
        )
        .tags(tag)
        .send()
        .await?;
    Ok(())
}

async fn make_config(
    sm: &aws_sdk_sagemaker::Client,
    name: &str,
    model: &str,
    tag: aws_sdk_sagemaker::types::Tag,
) -> anyhow::Result<()> {
    sm.create_endpoint_config()
        .endpoint_config_name(name)
        .production_variants(
            aws_sdk_sagemaker::types::ProductionVariant::builder()
                .variant_name("theirs")
                .model_name(model)
                .initial_instance_count(1)
                .instance_type(aws_sdk_sagemaker::types::ProductionVariantInstanceType::MlM5Large)
                .build(),
        )
        .tags(tag)
        .send()
        .await?;
    Ok(())
}

/// What someone else would notice of the look-alike: its configuration, tags, policies and
/// objects, as text. Timestamps are left out (they do not change; moto may render them
/// differently per call).
async fn snapshot(sdk: &SdkConfig, d: &Desired, kind: Kind) -> anyhow::Result<String> {
    let name = name_of(d, kind)?;
    let sm = aws_sdk_sagemaker::Client::new(sdk);
    let sm_tags = |arn: Option<String>| {
        let sm = sm.clone();
        async move {
            let arn = arn.context("no ARN")?;
            let tags = sm.list_tags().resource_arn(&arn).send().await?;
            anyhow::Ok(format!("{arn} {:?}", tags.tags()))
        }
    };
    Ok(match kind {
        Kind::Bucket => {
            let s3 = aws_sdk_s3::Client::new(sdk);
            let tags = s3.get_bucket_tagging().bucket(&name).send().await?;
            let mut text = format!("{:?}", tags.tag_set());
            let listed = s3.list_objects_v2().bucket(&name).send().await?;
            for object in listed.contents() {
                let key = object.key().unwrap_or_default();
                let body = s3.get_object().bucket(&name).key(key).send().await?;
                let bytes = body.body.collect().await?.into_bytes();
                text.push_str(&format!(" {key}={}", String::from_utf8_lossy(&bytes)));
            }
            for (what, answer) in [
                (
                    "policy",
                    s3.get_bucket_policy().bucket(&name).send().await.is_ok(),
                ),
                (
                    "lifecycle",
                    s3.get_bucket_lifecycle_configuration()
                        .bucket(&name)
                        .send()
                        .await
                        .is_ok(),
                ),
                (
                    "public-access-block",
                    s3.get_public_access_block()
                        .bucket(&name)
                        .send()
                        .await
                        .is_ok(),
                ),
            ] {
                text.push_str(&format!(" {what}={answer}"));
            }
            text
        }
        Kind::Topic => {
            let sns = aws_sdk_sns::Client::new(sdk);
            let arn = d.topics.as_ref().context("topics")?.success.arn.clone();
            let attributes = sns.get_topic_attributes().topic_arn(&arn).send().await?;
            let mut attributes: Vec<_> = attributes.attributes().into_iter().flatten().collect();
            attributes.sort();
            let tags = sns
                .list_tags_for_resource()
                .resource_arn(&arn)
                .send()
                .await?;
            format!("{attributes:?} {:?}", tags.tags())
        }
        Kind::Role => {
            let iam = aws_sdk_iam::Client::new(sdk);
            let role = iam.get_role().role_name(&name).send().await?;
            let role = role.role().context("role")?;
            let mut text = format!("{:?} {:?}", role.assume_role_policy_document(), role.tags());
            let inline = iam.list_role_policies().role_name(&name).send().await?;
            for policy in inline.policy_names() {
                let document = iam
                    .get_role_policy()
                    .role_name(&name)
                    .policy_name(policy)
                    .send()
                    .await?;
                text.push_str(&format!(" {policy}={}", document.policy_document()));
            }
            let attached = iam
                .list_attached_role_policies()
                .role_name(&name)
                .send()
                .await?;
            text.push_str(&format!(" attached={:?}", attached.attached_policies()));
            text
        }
        Kind::Policy => {
            let iam = aws_sdk_iam::Client::new(sdk);
            let arn = d.invoker.arn.clone();
            let policy = iam.get_policy().policy_arn(&arn).send().await?;
            let policy = policy.policy().context("policy")?;
            let version = policy.default_version_id().unwrap_or_default().to_string();
            let document = iam
                .get_policy_version()
                .policy_arn(&arn)
                .version_id(&version)
                .send()
                .await?;
            let tags = iam.list_policy_tags().policy_arn(&arn).send().await?;
            let entities = iam
                .list_entities_for_policy()
                .policy_arn(&arn)
                .send()
                .await?;
            format!(
                "{version} {:?} {:?} roles={:?} users={:?}",
                document.policy_version().and_then(|v| v.document()),
                tags.tags(),
                entities.policy_roles(),
                entities.policy_users()
            )
        }
        Kind::Model => {
            let m = sm.describe_model().model_name(&name).send().await?;
            let tags = sm_tags(m.model_arn().map(str::to_string)).await?;
            format!(
                "{:?} {:?} {tags}",
                m.execution_role_arn(),
                m.primary_container()
            )
        }
        Kind::EndpointConfig => {
            let c = sm
                .describe_endpoint_config()
                .endpoint_config_name(&name)
                .send()
                .await?;
            let tags = sm_tags(c.endpoint_config_arn().map(str::to_string)).await?;
            format!(
                "{:?} {:?} {tags}",
                c.production_variants(),
                c.async_inference_config()
            )
        }
        Kind::Endpoint => {
            let e = sm.describe_endpoint().endpoint_name(&name).send().await?;
            let tags = sm_tags(e.endpoint_arn().map(str::to_string)).await?;
            format!("{:?} {tags}", e.endpoint_config_name())
        }
    })
}

/// Removes the look-alike, so the next scenario starts from a clean account.
async fn remove(sdk: &SdkConfig, d: &Desired, kind: Kind) -> anyhow::Result<()> {
    let name = name_of(d, kind)?;
    let sm = aws_sdk_sagemaker::Client::new(sdk);
    match kind {
        Kind::Bucket => {
            let s3 = aws_sdk_s3::Client::new(sdk);
            s3.delete_object()
                .bucket(&name)
                .key("output/precious.txt")
                .send()
                .await?;
            s3.delete_bucket().bucket(&name).send().await?;
        }
        Kind::Topic => {
            let arn = d.topics.as_ref().context("topics")?.success.arn.clone();
            aws_sdk_sns::Client::new(sdk)
                .delete_topic()
                .topic_arn(arn)
                .send()
                .await?;
        }
        Kind::Role => {
            let iam = aws_sdk_iam::Client::new(sdk);
            iam.delete_role_policy()
                .role_name(&name)
                .policy_name("theirs")
                .send()
                .await?;
            iam.delete_role().role_name(&name).send().await?;
        }
        Kind::Policy => {
            aws_sdk_iam::Client::new(sdk)
                .delete_policy()
                .policy_arn(&d.invoker.arn)
                .send()
                .await?;
        }
        Kind::Model => {
            sm.delete_model().model_name(&name).send().await?;
        }
        Kind::EndpointConfig | Kind::Endpoint => {
            if kind == Kind::Endpoint {
                sm.delete_endpoint().endpoint_name(&name).send().await?;
            }
            let their = format!("{name}-theirs");
            let config = if kind == Kind::Endpoint {
                &their
            } else {
                &name
            };
            sm.delete_endpoint_config()
                .endpoint_config_name(config)
                .send()
                .await?;
            sm.delete_model().model_name(&their).send().await?;
        }
    }
    Ok(())
}
