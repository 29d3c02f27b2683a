//! Every bodyline stack in an account and region, found by its `bodyline:stack` tag alone (no
//! stack file names, no state file), with each resource's creation time: what `sweep` judges.
//!
//! Each service is listed whole, by the listings the resource modules register (the ones
//! discovery runs, in the same order), and the tags of every resource are read; a resource whose tags
//! cannot be read is not counted (not knowing is not owning). The creation time is the one AWS
//! reports (SageMaker, S3, IAM, Application Auto Scaling); SNS topics and CloudWatch alarms have
//! none, so theirs is the `bodyline:created` tag setup writes.

use std::collections::BTreeMap;
use std::time::SystemTime;

use bodyline_stack::{parse_created_tag, CREATED_TAG, REGION_TAG, STACK_TAG};
use serde::Serialize;

use super::registry::listings;
use crate::owned::error::TeardownError;
use crate::owned::listing::{Filter, Listed};
use crate::owned::resource::ResourceKind;
use crate::resources::owned;
use bodyline_aws::Clients;

/// One resource that carries a `bodyline:stack` tag.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TaggedResource {
    /// What it is.
    pub kind: ResourceKind,
    /// Its name (a scaling target's resource id).
    pub name: String,
    /// When it was created: as AWS reports it, else from its `bodyline:created` tag.
    #[serde(skip)]
    pub created: Option<SystemTime>,
    /// Whether it lives in the region (IAM is global: a stack of another region has roles too).
    #[serde(skip)]
    pub regional: bool,
    /// The region its `bodyline:region` tag names (setup writes it since that tag exists).
    #[serde(skip)]
    pub region: Option<String>,
}

/// The tagged resources of every stack, by stack name.
pub(crate) type Inventory = BTreeMap<String, Vec<TaggedResource>>;

/// Runs every module's listings in discovery order and groups what carries `bodyline:stack`
/// by its value (a scalable target or policy carries its endpoint's, from its listing).
pub(crate) async fn inventory(clients: &Clients, region: &str) -> Result<Inventory, TeardownError> {
    let every = |_: &str| true;
    let no_name_is_the_stacks = |_: &str| false;
    let filter = Filter {
        stack: None,
        wanted: &every,
        exact_name: &no_name_is_the_stacks,
        region: Some(region),
    };
    let mut acc = Inventory::new();
    let mut listed: Vec<Listed> = Vec::new();
    for listing in listings(&owned()) {
        let these = (listing.list)(clients, &filter, &listed).await?;
        for resource in &these {
            add(&mut acc, resource);
        }
        listed.extend(these);
    }
    for resources in acc.values_mut() {
        resources.sort_by(|a, b| (a.kind, &a.name).cmp(&(b.kind, &b.name)));
    }
    Ok(acc)
}

/// Adds a resource under its stack tag, if it has one.
fn add(acc: &mut Inventory, listed: &Listed) {
    let tag = |key: &str| {
        listed
            .tags
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    };
    let Some(stack) = tag(STACK_TAG) else {
        return;
    };
    acc.entry(stack.to_string())
        .or_default()
        .push(TaggedResource {
            kind: listed.kind,
            name: listed.name.clone(),
            created: listed
                .created
                .or_else(|| tag(CREATED_TAG).and_then(parse_created_tag)),
            regional: listed.regional,
            region: tag(REGION_TAG).map(str::to_string),
        });
}
