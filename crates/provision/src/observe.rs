//! Read-only calls that find what of a stack exists, by its derived names, and whose it is, by tag.

use bodyline_stack::{Stack, State, Target};

use crate::desired::{Context, Desired, Principal};
pub use crate::owned::ownership::Tagged;
pub use crate::resources::bucket::BucketObserved;
pub use crate::resources::iam::{PolicyObserved, RoleObserved};
pub use crate::resources::sagemaker::EndpointObserved;
use crate::resources::sagemaker::{
    describe_config, describe_model, leftovers, observe_endpoint, Leftover,
};
use crate::resources::{bucket, iam, topics};
use crate::ProvisionError;
use bodyline_aws::Clients;

/// What exists of a stack, as read from the account. Only reads produce it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Observed {
    /// The output bucket.
    pub bucket: Option<BucketObserved>,
    /// The success topic.
    pub success_topic: Option<Tagged>,
    /// The error topic.
    pub error_topic: Option<Tagged>,
    /// The execution role.
    pub role: Option<RoleObserved>,
    /// The invoker policy.
    pub invoker: Option<PolicyObserved>,
    /// The model with the desired (hashed) name.
    pub model: Option<Tagged>,
    /// The endpoint config with the desired (hashed) name.
    pub endpoint_config: Option<Tagged>,
    /// The endpoint.
    pub endpoint: Option<EndpointObserved>,
    /// Configured invoker principals that do not exist.
    pub missing_principals: Vec<Principal>,
    /// The stack's endpoint configs (found by name pattern and tag) that neither the endpoint
    /// nor the plan uses: left over from an interrupted run.
    pub leftover_configs: Vec<Tagged>,
    /// The stack's models (found the same way) that no config in use needs.
    pub leftover_models: Vec<Tagged>,
    /// Scale to zero: target, policies and alarm, by the stack's names.
    pub scaling: crate::resources::scaling::ScalingObserved,
}

/// Resolves the caller: the account and ARN every name and policy derives from.
///
/// On the aws target, missing credentials are reported here, before any other call.
pub async fn identify(stack: &Stack, clients: &Clients) -> Result<Context, ProvisionError> {
    if stack.target == Target::Aws {
        bodyline_aws::resolve_credentials(clients.sdk())
            .await
            .map_err(|message| ProvisionError::NoCredentials { message })?;
    }
    let me = bodyline_aws::caller(&clients.sts)
        .await
        .map_err(|f| ProvisionError::from_failure("GetCallerIdentity", "the caller", f))?;
    Ok(Context {
        account: me.account.unwrap_or_default(),
        caller_arn: me.arn.unwrap_or_default(),
        created: bodyline_stack::created_tag_value(std::time::SystemTime::now()),
    })
}

/// Reads what exists of the stack. Makes only `Describe`/`Get`/`List`/`Head` calls.
///
/// `state` is the stack's state file, if any: it only matters for a bucket that an
/// interrupted setup created and could not tag yet ([`BucketObserved::adopt`]).
pub async fn observe(
    desired: &Desired,
    clients: &Clients,
    state: Option<&State>,
) -> Result<Observed, ProvisionError> {
    let mut observed = Observed {
        bucket: bucket::observe(desired, clients, state).await?,
        ..Observed::default()
    };
    if let Some(topics) = &desired.topics {
        observed.success_topic =
            topics::observe(clients, &topics.success.name, &topics.success.arn).await?;
        observed.error_topic =
            topics::observe(clients, &topics.error.name, &topics.error.arn).await?;
    }
    observed.role = iam::observe_role(desired, clients).await?;
    observed.invoker = iam::observe_invoker(desired, clients).await?;
    observed.missing_principals = iam::missing_principals(desired, clients).await?;
    observed.model = describe_model(clients, &desired.model.name).await?;
    observed.endpoint_config = describe_config(clients, &desired.endpoint_config.name)
        .await?
        .map(|(t, _)| t);
    observed.endpoint = observe_endpoint(desired, clients).await?;
    let in_use_config = observed.endpoint.as_ref().map(|e| e.config_name.clone());
    let in_use_model = observed
        .endpoint
        .as_ref()
        .and_then(|e| e.current_config.as_ref())
        .and_then(|c| c.model.as_ref())
        .map(|m| m.name.clone());
    let keep_configs = [Some(desired.endpoint_config.name.clone()), in_use_config];
    let keep_models = [Some(desired.model.name.clone()), in_use_model];
    observed.leftover_configs =
        leftovers(desired, clients, Leftover::Config, &keep_configs).await?;
    observed.leftover_models = leftovers(desired, clients, Leftover::Model, &keep_models).await?;
    observed.scaling = crate::resources::scaling::observe_scaling(desired, clients).await?;
    Ok(observed)
}
