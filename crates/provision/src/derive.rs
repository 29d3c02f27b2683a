//! Derives the whole desired stack: the names and ARNs, whether the stack keeps S3 input, then
//! each kind's part from its module (`resources/*`'s `desired`), in the order their parts
//! depend on each other: bucket and topics, the role and invoker policies that name them, the
//! model the role runs, the endpoint config that names the model, bucket and topics.

use bodyline_stack::{stack_tags, Arns, Names, Stack, CREATED_TAG, REGION_TAG};

use crate::desired::{Context, Deriving, Desired, InputDesired};
use crate::resources::{bucket, iam, sagemaker, scaling, topics};
use crate::ProvisionError;

impl Desired {
    /// Derives the desired stack; renders and lints every policy document (a template that
    /// breaks a least-privilege rule stops here, before any call).
    pub fn new(stack: &Stack, ctx: &Context) -> Result<Desired, ProvisionError> {
        let names = Names::new(stack, &ctx.account);
        let arns = Arns::new(&stack.region, &ctx.account);
        let x = Deriving {
            stack,
            ctx,
            names: &names,
            arns: &arns,
        };
        let input = input(&x)?;
        let bucket = bucket::desired(&x, &input)?;
        let topics = topics::desired(&x);
        let role = iam::desired_role(&x, topics.as_ref(), &input)?;
        let invoker = iam::desired_invoker(&x, &bucket, &input)?;
        let model = sagemaker::desired_model(&x, &role);
        let endpoint_config =
            sagemaker::desired_endpoint_config(&x, &model, &bucket, topics.as_ref());
        let endpoint = sagemaker::desired_endpoint(&x);
        let scaling = scaling::desired(&x);
        Ok(Desired {
            stack: stack.name.clone(),
            target: stack.target,
            region: stack.region.clone(),
            context: ctx.clone(),
            tags: stack_tags(&stack.name)
                .into_iter()
                .chain([
                    (CREATED_TAG.to_string(), ctx.created.clone()),
                    (REGION_TAG.to_string(), stack.region.clone()),
                ])
                .collect(),
            bucket,
            topics,
            role,
            invoker,
            model,
            endpoint_config,
            endpoint,
            input,
            scaling,
            source: stack.clone(),
            names,
        })
    }
}

/// Whether the stack keeps S3 input (`bucket.input`, or what the migration report says): the
/// bucket's input rule and both policies' input grants follow it.
fn input(x: &Deriving<'_>) -> Result<InputDesired, ProvisionError> {
    let decision = x.stack.input_decision()?;
    let b = &x.stack.bucket;
    Ok(InputDesired {
        keep: decision.keep,
        prefix: b.input_prefix.clone(),
        objects_arn: x.arns.objects_under(&x.names.bucket, &b.input_prefix),
        reason: decision.reason,
    })
}
