//! The model, the endpoint config and the endpoint as the stack wants them. The model's and the
//! config's names end in a hash of their content: a change is a new resource, and the endpoint
//! moves to it.

use bodyline_stack::{content_hash, LocalModel, Target};
use bodyline_terms::{LOCAL_COMMAND_VAR, LOCAL_URL_VAR};

use crate::desired::{
    BucketDesired, Deriving, EndpointConfigDesired, EndpointDesired, ModelDesired, RoleDesired,
    TopicsDesired,
};

/// Derives the model, run by `role`; on the local target its environment tells the local
/// runtime how to serve it (the runtime finds it through `DescribeModel`).
pub(crate) fn desired_model(x: &Deriving<'_>, role: &RoleDesired) -> ModelDesired {
    let stack = x.stack;
    let mut environment = stack.model.environment.clone();
    if stack.target == Target::Local {
        match &stack.model.local {
            LocalModel::Command(cmd) => environment.insert(LOCAL_COMMAND_VAR.into(), cmd.clone()),
            LocalModel::Url(url) => environment.insert(LOCAL_URL_VAR.into(), url.clone()),
        };
    }
    let mut model = ModelDesired {
        name: String::new(),
        arn: String::new(),
        image: stack.model.image.clone(),
        model_data_url: stack.model.model_data_url.clone(),
        environment,
        execution_role_arn: role.arn.clone(),
    };
    model.name = x.names.model(&content_hash(&model));
    model.arn = x.arns.model(&model.name);
    model
}

/// Derives the endpoint config of `model`: its one variant, and `AsyncInferenceConfig` with
/// the bucket's paths, the key and the topics.
pub(crate) fn desired_endpoint_config(
    x: &Deriving<'_>,
    model: &ModelDesired,
    bucket: &BucketDesired,
    topics: Option<&TopicsDesired>,
) -> EndpointConfigDesired {
    let stack = x.stack;
    let mut config = EndpointConfigDesired {
        name: String::new(),
        arn: String::new(),
        model: model.name.clone(),
        variant: x.names.variant.clone(),
        instance_type: stack.endpoint.instance_type.clone(),
        instance_count: stack.endpoint.instance_count,
        output_path: bucket.output_path.clone(),
        failure_path: bucket.failure_path.clone(),
        kms_key_id: stack.async_inference.kms_key_id.clone(),
        success_topic: topics.map(|t| t.success.arn.clone()),
        error_topic: topics.map(|t| t.error.arn.clone()),
        max_concurrent_invocations_per_instance: stack
            .async_inference
            .max_concurrent_invocations_per_instance,
    };
    config.name = x.names.endpoint_config(&content_hash(&config));
    config.arn = x.arns.endpoint_config(&config.name);
    config
}

/// Derives the endpoint.
pub(crate) fn desired_endpoint(x: &Deriving<'_>) -> EndpointDesired {
    EndpointDesired {
        name: x.names.endpoint.clone(),
        arn: x.arns.endpoint(&x.names.endpoint),
    }
}
