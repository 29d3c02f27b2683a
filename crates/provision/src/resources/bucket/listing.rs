//! Where discovery finds the output bucket: [`LISTING`], every bucket of the account with its
//! tags, and its claim on the untagged, empty bucket of an interrupted setup
//! ([`interrupted_creation`], found by [`FoundBy::InterruptedSetup`]).

use std::time::{Duration, SystemTime};

use bodyline_aws::tags::from_s3;
use bodyline_aws::{AwsFailure, Clients};
use bodyline_stack::{ownership, Ownership};

use crate::owned::error::TeardownError;
use crate::owned::failure::aws_error;
use crate::owned::listing::{instant, ClaimFuture, Filter, ListFuture, Listed, Listing, Scope};
use crate::owned::ownership::tag_refs;
use crate::owned::resource::{FoundBy, ResourceKind};

/// S3 buckets, with the interrupted setup's claim.
pub(crate) const LISTING: Listing = Listing::new(40, "buckets", list).claiming(claim);

fn list<'a>(clients: &'a Clients, filter: &'a Filter<'a>, _: &'a [Listed]) -> ListFuture<'a> {
    Box::pin(buckets(clients, filter))
}

fn claim<'a>(clients: &'a Clients, scope: &'a Scope<'a>, bucket: &'a Listed) -> ClaimFuture<'a> {
    Box::pin(async move {
        let interrupted = interrupted_creation(clients, scope, bucket).await?;
        Ok(interrupted.then_some(FoundBy::InterruptedSetup))
    })
}

/// Buckets. One without tags reads as an empty tag set; one gone since the listing, or whose
/// tags cannot be read and that is not one of the stack's exact names
/// ([`Filter::exact_name`]), is left out.
async fn buckets(clients: &Clients, filter: &Filter<'_>) -> Result<Vec<Listed>, TeardownError> {
    let mut listed = Vec::new();
    let mut pages = clients.s3.list_buckets().into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| aws_error("ListBuckets", "the account", e))?;
        for b in page.buckets() {
            if let Some(name) = b.name() {
                // S3 lists every region's buckets; one that names no region is taken as here.
                let here = match (filter.region, b.bucket_region()) {
                    (Some(region), Some(its)) => its == region,
                    _ => true,
                };
                listed.push((name.to_string(), instant(b.creation_date()), here));
            }
        }
    }
    let mut out = Vec::new();
    for (name, created, regional) in listed {
        if !(filter.wanted)(&name) {
            continue;
        }
        let tags = match clients.s3.get_bucket_tagging().bucket(&name).send().await {
            Ok(out) => from_s3(out.tag_set()),
            Err(err) => {
                let failure = AwsFailure::of(&err);
                match failure.code.as_deref() {
                    Some("NoSuchTagSet") => Vec::new(),
                    Some("NoSuchBucket") => continue,
                    _ if !(filter.exact_name)(&name) => continue,
                    _ => return Err(TeardownError::aws("GetBucketTagging", &name, failure)),
                }
            }
        };
        out.push(Listed {
            kind: ResourceKind::Bucket,
            arn: Some(format!("arn:aws:s3:::{name}")),
            name,
            created,
            regional,
            tags,
            scaling: None,
        });
    }
    Ok(out)
}

/// How recent an untagged bucket with the stack's exact bucket name must be for teardown to
/// take it for an interrupted setup's when no state file records it (a CI runner keeps none).
pub(crate) const INTERRUPTED_SETUP_WINDOW: Duration = Duration::from_secs(24 * 60 * 60);

/// A bucket an interrupted setup made (between `CreateBucket` and `PutBucketTagging`), so
/// teardown removes it: empty (no object version, delete marker or upload), and either
/// recorded in the state file as being created, or — with no state file, as on a fresh CI
/// runner — untagged, with exactly the stack's bucket name, no bucket policy, and created
/// within [`INTERRUPTED_SETUP_WINDOW`]. It is deleted with `DeleteBucket` alone, which S3
/// refuses for a bucket that holds anything, so no one's data can go with it; the worst a
/// look-alike can lose is an empty, policy-less name. Anything else is judged by its tag.
async fn interrupted_creation(
    clients: &Clients,
    scope: &Scope<'_>,
    bucket: &Listed,
) -> Result<bool, TeardownError> {
    let (name, tags) = (bucket.name.as_str(), &bucket.tags);
    if ownership(scope.stack(), tag_refs(tags)) != Ownership::Foreign {
        return Ok(false);
    }
    let recorded = scope.state.is_some_and(|s| s.is_creating("bucket", name));
    if !recorded {
        let recent = bucket.created.is_some_and(|created| {
            SystemTime::now()
                .duration_since(created)
                .is_ok_and(|age| age <= INTERRUPTED_SETUP_WINDOW)
        });
        if scope.state.is_some() || !tags.is_empty() || name != scope.names.bucket || !recent {
            return Ok(false);
        }
        match clients.s3.get_bucket_policy().bucket(name).send().await {
            Err(e) if AwsFailure::of(&e).has_code(&["NoSuchBucketPolicy"]) => {}
            Ok(_) => return Ok(false),
            Err(e) => return Err(aws_error("GetBucketPolicy", name, e)),
        }
    }
    super::bucket_is_empty(&clients.s3, name)
        .await
        .map_err(|e| aws_error("ListObjectVersions", name, e))
}
