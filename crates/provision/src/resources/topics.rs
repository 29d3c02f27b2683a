//! The SNS success and error topics, observed, planned, applied and deleted here, and found
//! by discovery through [`listing`].

mod listing;

use bodyline_aws::{AwsFailure, Clients};
use bodyline_stack::{ResourceRecord, State};

use crate::desired::{Deriving, Desired, TopicDesired, TopicsDesired};
use crate::error::build_err;
use crate::owned::deleting::{deleted_or_already_gone, Deleting, Pending};
use crate::owned::failure::none_if_missing;
use crate::owned::ownership::{
    check_owned, found_after_create, found_before_create, lacks_managed_tag, record, Created,
    Tagged,
};
use crate::owned::planned::{Action, Kind, Planned};
use crate::owned::registration::{registered, Owns};
use crate::owned::resource::{OwnedResource, ResourceKind};
use crate::resources::module::{ApplyContext, InFlight, Resource};
use crate::ProvisionError;

/// Derives the success and error topics, when notifications are on.
pub(crate) fn desired(x: &Deriving<'_>) -> Option<TopicsDesired> {
    let (names, arns) = (x.names, x.arns);
    x.stack
        .async_inference
        .notifications
        .then(|| TopicsDesired {
            success: TopicDesired {
                name: names.success_topic.clone(),
                arn: arns.topic(&names.success_topic),
            },
            error: TopicDesired {
                name: names.error_topic.clone(),
                arn: arns.topic(&names.error_topic),
            },
        })
}

/// Deletes a topic, by its ARN.
pub(crate) fn delete_topic<'a>(cx: &'a mut Deleting<'_>, r: &'a OwnedResource) -> Pending<'a> {
    Box::pin(async move {
        let arn = r.arn.as_deref().unwrap_or(&r.name);
        let deleted = none_if_missing(
            "DeleteTopic",
            arn,
            cx.clients.sns.delete_topic().topic_arn(arn).send().await,
        )?
        .is_some();
        Ok(deleted_or_already_gone(deleted, String::new()))
    })
}

/// Reads a topic and its tags, by ARN; `None` when it does not exist.
pub(crate) async fn observe(
    clients: &Clients,
    name: &str,
    arn: &str,
) -> Result<Option<Tagged>, ProvisionError> {
    match clients
        .sns
        .get_topic_attributes()
        .topic_arn(arn)
        .send()
        .await
    {
        Ok(_) => {}
        Err(e)
            if AwsFailure::of(&e).has_code(&["NotFound"])
                || AwsFailure::of(&e).status == Some(404) =>
        {
            return Ok(None)
        }
        Err(e) => return Err(ProvisionError::aws("GetTopicAttributes", arn, e)),
    }
    let tags = clients
        .sns
        .list_tags_for_resource()
        .resource_arn(arn)
        .send()
        .await
        .map_err(|e| ProvisionError::aws("ListTagsForResource", arn, e))?
        .tags()
        .iter()
        .map(|t| (t.key().to_string(), t.value().to_string()))
        .collect();
    Ok(Some(Tagged {
        name: name.to_string(),
        arn: arn.to_string(),
        tags,
    }))
}

/// What apply does to a topic.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Step {
    /// Create it, tagged.
    Create,
    /// Add the stack's tags.
    Tag,
}

/// Plans both topics, when the stack has them: create, tag, or nothing.
pub(crate) fn plan(
    d: &Desired,
    success: &Option<Tagged>,
    error: &Option<Tagged>,
) -> Vec<Planned<Step>> {
    let Some(topics) = &d.topics else {
        return Vec::new();
    };
    let planned = |kind, name: &str, action, detail: &str, step| Planned {
        kind,
        resource: name.to_string(),
        action,
        detail: detail.to_string(),
        step,
    };
    [
        (Kind::SuccessTopic, &topics.success, success),
        (Kind::ErrorTopic, &topics.error, error),
    ]
    .into_iter()
    .map(|(kind, want, have)| match have {
        None => planned(
            kind,
            &want.name,
            Action::Create,
            "new topic, tagged",
            Some(Step::Create),
        ),
        Some(t) if lacks_managed_tag(&t.tags) => planned(
            kind,
            &want.name,
            Action::Update,
            "add the bodyline:managed tag",
            Some(Step::Tag),
        ),
        Some(_) => planned(kind, &want.name, Action::NoOp, "exists, tagged", None),
    })
    .collect()
}

/// Applies a planned step to the topic of `kind`.
pub(crate) async fn apply(
    step: Step,
    kind: Kind,
    d: &Desired,
    c: &Clients,
) -> Result<Created, ProvisionError> {
    let Some(topics) = &d.topics else {
        return Ok(Created::New);
    };
    let topic = if kind == Kind::SuccessTopic {
        &topics.success
    } else {
        &topics.error
    };
    match step {
        Step::Create => {
            // CreateTopic answers with the topic that is there (moto: unchanged, AWS: an
            // error if its tags differ), so its tags are read before and after.
            let tags = observe(c, &topic.name, &topic.arn).await?.map(|t| t.tags);
            if let Some(found) = found_before_create(d, kind, &topic.name, tags)? {
                return Ok(found);
            }
            c.sns
                .create_topic()
                .name(&topic.name)
                .set_tags(Some(sns_tags(&d.tags, &topic.name)?))
                .send()
                .await
                .map_err(|e| ProvisionError::aws("CreateTopic", &topic.name, e))?;
            let tags = observe(c, &topic.name, &topic.arn).await?.map(|t| t.tags);
            found_after_create(d, kind, &topic.name, tags, false)
        }
        Step::Tag => {
            c.sns
                .tag_resource()
                .resource_arn(&topic.arn)
                .set_tags(Some(sns_tags(&d.tags, &topic.name)?))
                .send()
                .await
                .map_err(|e| ProvisionError::aws("TagResource", &topic.arn, e))?;
            Ok(Created::New)
        }
    }
}

fn sns_tags(
    tags: &[(String, String)],
    resource: &str,
) -> Result<Vec<aws_sdk_sns::types::Tag>, ProvisionError> {
    bodyline_aws::tags::to_sns(tags).map_err(build_err("TagResource", resource))
}

/// What observe reads of the two topics (both `None` when the stack has no notifications).
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct TopicsObserved {
    /// The success topic.
    pub success: Option<Tagged>,
    /// The error topic.
    pub error: Option<Tagged>,
}

/// The success and error topics, as setup's flows run them.
pub(crate) struct Topics;

impl Resource for Topics {
    type Observed = TopicsObserved;
    type Step = Step;

    fn owns(&self) -> Owns {
        OWNS
    }

    fn state_records(&self, d: &Desired) -> Vec<(&'static str, ResourceRecord)> {
        d.topics.as_ref().map_or_else(Vec::new, |t| {
            vec![
                ("success_topic", record(&t.success.name, &t.success.arn)),
                ("error_topic", record(&t.error.name, &t.error.arn)),
            ]
        })
    }

    fn observe<'a>(
        &'a self,
        desired: &'a Desired,
        clients: &'a Clients,
        _state: Option<&'a State>,
    ) -> InFlight<'a, TopicsObserved> {
        Box::pin(async move {
            let Some(topics) = &desired.topics else {
                return Ok(TopicsObserved::default());
            };
            Ok(TopicsObserved {
                success: observe(clients, &topics.success.name, &topics.success.arn).await?,
                error: observe(clients, &topics.error.name, &topics.error.arn).await?,
            })
        })
    }

    fn check_ownership(&self, d: &Desired, o: &TopicsObserved) -> Result<(), ProvisionError> {
        for (kind, topic) in [
            (Kind::SuccessTopic, &o.success),
            (Kind::ErrorTopic, &o.error),
        ] {
            if let Some(t) = topic {
                check_owned(d, kind, &t.name, &t.tags)?;
            }
        }
        Ok(())
    }

    fn plan(&self, d: &Desired, o: &TopicsObserved) -> Vec<Planned<Step>> {
        plan(d, &o.success, &o.error)
    }

    fn apply<'a>(
        &'a self,
        step: &'a Step,
        kind: Kind,
        cx: &'a mut ApplyContext<'_>,
    ) -> InFlight<'a, Created> {
        Box::pin(apply(*step, kind, cx.desired, cx.clients))
    }

    #[cfg(test)]
    fn up_to_date(&self, d: &Desired) -> TopicsObserved {
        let tagged = |t: &crate::desired::TopicDesired| Tagged {
            name: t.name.clone(),
            arn: t.arn.clone(),
            tags: d.tags.clone(),
        };
        TopicsObserved {
            success: d.topics.as_ref().map(|t| tagged(&t.success)),
            error: d.topics.as_ref().map(|t| tagged(&t.error)),
        }
    }
}

// What this module owns: the plan's kinds it produces and the kinds teardown deletes, each
// declared here with its registration (`owned/registration.rs`), so a new kind is one place.

// Associated consts in CamelCase: they were enum variants, and every caller (other crates'
// tests too) keeps writing `Kind::Bucket`, `ResourceKind::Role`.
#[allow(non_upper_case_globals)]
impl Kind {
    /// The success topic.
    pub const SuccessTopic: Kind = Kind::new("success_topic", "success topic");
    /// The error topic.
    pub const ErrorTopic: Kind = Kind::new("error_topic", "error topic");
}

#[allow(non_upper_case_globals)]
impl ResourceKind {
    /// An SNS success or error topic.
    pub const Topic: ResourceKind = ResourceKind::new(80, "topic", "topic");
}

/// The plan's kinds this module has changes for, and the kinds it deletes in deletion order
/// (the plan's kinds that make each, where discovery lists it, and its delete).
pub(crate) const OWNS: Owns = Owns {
    plans: &[Kind::SuccessTopic, Kind::ErrorTopic],
    teardown: &[registered(
        ResourceKind::Topic,
        &[Kind::SuccessTopic, Kind::ErrorTopic],
        &listing::LISTING,
        delete_topic,
    )],
};
