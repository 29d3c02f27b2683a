//! The model, the endpoint config and the endpoint as setup's flows run them: what observe
//! reads of them (and of the stack's leftovers), whose they are, and the endpoint's wait and
//! retirement, behind [`Resource`].

use bodyline_aws::Clients;
use bodyline_stack::{ResourceRecord, State};

use super::{
    apply, describe_config, describe_model, leftovers, observe_endpoint, plan, retire_one,
    wait_in_service, Leftover, SageMakerObserved, Step,
};
use crate::desired::Desired;
use crate::owned::ownership::{check_owned, record, Created};
use crate::owned::planned::{Kind, Planned};
use crate::owned::registration::Owns;
use crate::resources::module::{ApplyContext, InFlight, Resource};
use crate::ProvisionError;

/// The model, the endpoint config and the endpoint.
pub(crate) struct SageMaker;

impl Resource for SageMaker {
    type Observed = SageMakerObserved;
    type Step = Step;

    fn owns(&self) -> Owns {
        super::OWNS
    }

    fn state_records(&self, d: &Desired) -> Vec<(&'static str, ResourceRecord)> {
        vec![
            ("model", record(&d.model.name, &d.model.arn)),
            (
                "endpoint_config",
                record(&d.endpoint_config.name, &d.endpoint_config.arn),
            ),
            ("endpoint", record(&d.endpoint.name, &d.endpoint.arn)),
        ]
    }

    fn observe<'a>(
        &'a self,
        desired: &'a Desired,
        clients: &'a Clients,
        _state: Option<&'a State>,
    ) -> InFlight<'a, SageMakerObserved> {
        Box::pin(async move {
            let model = describe_model(clients, &desired.model.name).await?;
            let endpoint_config = describe_config(clients, &desired.endpoint_config.name)
                .await?
                .map(|(t, _)| t);
            let endpoint = observe_endpoint(desired, clients).await?;
            // What the endpoint runs now is kept as well as what the plan wants: it is
            // retired by the switch, after the endpoint is ready, not as a leftover.
            let in_use_config = endpoint.as_ref().map(|e| e.config_name.clone());
            let in_use_model = endpoint
                .as_ref()
                .and_then(|e| e.current_config.as_ref())
                .and_then(|c| c.model.as_ref())
                .map(|m| m.name.clone());
            let keep_configs = [Some(desired.endpoint_config.name.clone()), in_use_config];
            let keep_models = [Some(desired.model.name.clone()), in_use_model];
            Ok(SageMakerObserved {
                model,
                endpoint_config,
                endpoint,
                leftover_configs: leftovers(desired, clients, Leftover::Config, &keep_configs)
                    .await?,
                leftover_models: leftovers(desired, clients, Leftover::Model, &keep_models).await?,
            })
        })
    }

    fn check_ownership(&self, d: &Desired, o: &SageMakerObserved) -> Result<(), ProvisionError> {
        if let Some(m) = &o.model {
            check_owned(d, Kind::Model, &m.name, &m.tags)?;
        }
        if let Some(c) = &o.endpoint_config {
            check_owned(d, Kind::EndpointConfig, &c.name, &c.tags)?;
        }
        if let Some(e) = &o.endpoint {
            check_owned(d, Kind::Endpoint, &d.endpoint.name, &e.tags)?;
        }
        Ok(())
    }

    fn plan(&self, d: &Desired, o: &SageMakerObserved) -> Vec<Planned<Step>> {
        plan(d, o)
    }

    fn apply<'a>(
        &'a self,
        step: &'a Step,
        _kind: Kind,
        cx: &'a mut ApplyContext<'_>,
    ) -> InFlight<'a, Created> {
        Box::pin(apply(
            step,
            cx.desired,
            cx.clients,
            cx.options,
            &mut *cx.progress,
        ))
    }

    fn waits(&self, step: &Step) -> bool {
        step.waits()
    }

    fn retires(&self, step: &Step, kind: Kind, resource: &str) -> Vec<(Kind, String)> {
        step.retires(kind, resource)
    }

    fn retire<'a>(&'a self, clients: &'a Clients, kind: Kind, name: &'a str) -> InFlight<'a, ()> {
        Box::pin(retire_one(clients, kind, name))
    }

    fn wait_ready<'a>(&'a self, cx: &'a mut ApplyContext<'_>) -> InFlight<'a, String> {
        Box::pin(wait_in_service(
            cx.clients,
            cx.desired,
            cx.options,
            &mut *cx.progress,
        ))
    }

    #[cfg(test)]
    fn up_to_date(&self, d: &Desired) -> SageMakerObserved {
        let tagged = |name: &str, arn: &str| crate::owned::ownership::Tagged {
            name: name.into(),
            arn: arn.into(),
            tags: d.tags.clone(),
        };
        SageMakerObserved {
            model: Some(tagged(&d.model.name, &d.model.arn)),
            endpoint_config: Some(tagged(&d.endpoint_config.name, &d.endpoint_config.arn)),
            endpoint: Some(super::EndpointObserved {
                arn: d.endpoint.arn.clone(),
                tags: d.tags.clone(),
                status: "InService".into(),
                failure_reason: None,
                config_name: d.endpoint_config.name.clone(),
                pending_config: None,
                current_config: None,
            }),
            leftover_configs: Vec::new(),
            leftover_models: Vec::new(),
        }
    }
}
