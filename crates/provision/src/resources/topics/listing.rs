//! Where discovery finds the SNS topics: [`LISTING`], every topic of the region with its tags.

use bodyline_aws::tags::from_sns;
use bodyline_aws::Clients;

use crate::owned::error::TeardownError;
use crate::owned::failure::{aws_error, none_if_missing};
use crate::owned::listing::{Filter, ListFuture, Listed, Listing};
use crate::owned::resource::ResourceKind;

/// SNS topics.
pub(crate) const LISTING: Listing = Listing::new(50, "topics", list);

fn list<'a>(clients: &'a Clients, filter: &'a Filter<'a>, _: &'a [Listed]) -> ListFuture<'a> {
    Box::pin(topics(clients, filter))
}

/// SNS topics, named by the last segment of their ARN.
async fn topics(clients: &Clients, filter: &Filter<'_>) -> Result<Vec<Listed>, TeardownError> {
    let mut arns = Vec::new();
    let mut items = clients.sns.list_topics().into_paginator().items().send();
    while let Some(t) = items.next().await {
        let t = t.map_err(|e| aws_error("ListTopics", "the region", e))?;
        arns.extend(t.topic_arn().map(str::to_string));
    }
    let mut out = Vec::new();
    for arn in arns {
        let name = arn.rsplit(':').next().unwrap_or_default().to_string();
        if !(filter.wanted)(&name) {
            continue;
        }
        let tagged = clients
            .sns
            .list_tags_for_resource()
            .resource_arn(&arn)
            .send()
            .await;
        let Some(tagged) = none_if_missing("ListTagsForResource", &arn, tagged)? else {
            continue;
        };
        out.push(Listed {
            kind: ResourceKind::Topic,
            name,
            tags: from_sns(tagged.tags()),
            arn: Some(arn),
            created: None,
            regional: true,
            scaling: None,
        });
    }
    Ok(out)
}
