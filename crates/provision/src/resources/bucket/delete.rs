//! Deleting the output bucket: emptied first (every version, marker and upload), its outputs
//! optionally backed up; an interrupted setup's untagged, empty bucket with `DeleteBucket` alone.

use std::path::{Path, PathBuf};

use std::time::{Duration, Instant};

use aws_sdk_s3::types::{Delete, ObjectIdentifier};
use bodyline_aws::AwsFailure;

use crate::owned::deleting::{Deleted, Deleting, DeletionOutcome, Pending};
use crate::owned::error::TeardownError;
use crate::owned::failure::{aws_error, none_if_missing};
use crate::owned::resource::{FoundBy, OwnedResource};

/// S3 deletes at most this many keys per `DeleteObjects`.
const DELETE_BATCH: usize = 1000;

/// Downloads every current object under `prefixes` to `<dir>/<bucket>/<key>`; returns the files.
/// `Ok(None)` when the bucket is already gone.
pub(crate) async fn backup(
    s3: &aws_sdk_s3::Client,
    bucket: &str,
    prefixes: &[String],
    dir: &Path,
) -> Result<Option<Vec<PathBuf>>, TeardownError> {
    let mut written = Vec::new();
    for prefix in prefixes {
        let Some(keys) = keys_under(s3, bucket, prefix).await? else {
            return Ok(None);
        };
        for key in &keys {
            let resource = format!("s3://{bucket}/{key}");
            let Some(out) = none_if_missing(
                "GetObject",
                &resource,
                s3.get_object().bucket(bucket).key(key).send().await,
            )?
            else {
                continue; // expired or deleted since the listing
            };
            let bytes = out
                .body
                .collect()
                .await
                .map_err(|e| TeardownError::Aws {
                    operation: "GetObject",
                    resource: resource.clone(),
                    code: None,
                    message: Some(e.to_string()),
                    status: None,
                })?
                .into_bytes();
            let path = dir.join(bucket).join(safe_relative(key));
            write(&path, &bytes)?;
            written.push(path);
        }
    }
    Ok(Some(written))
}

/// Every current key under `<prefix>/` (every key when `prefix` is empty); `Ok(None)` when
/// the bucket is gone.
///
/// The listing asks for `prefix` without its trailing slash and filters here: moto (5.2.1,
/// IAM enforced) rejects a `prefix` query containing `/` with `SignatureDoesNotMatch`, and
/// the filter keeps `output2/…` out on AWS too.
pub async fn keys_under(
    s3: &aws_sdk_s3::Client,
    bucket: &str,
    prefix: &str,
) -> Result<Option<Vec<String>>, TeardownError> {
    let dir = if prefix.is_empty() {
        String::new()
    } else {
        format!("{prefix}/")
    };
    let query = prefix.split('/').next().unwrap_or(prefix);
    let mut keys = Vec::new();
    let mut pages = s3
        .list_objects_v2()
        .bucket(bucket)
        .prefix(query)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let Some(page) = none_if_missing("ListObjectsV2", bucket, page)? else {
            return Ok(None);
        };
        keys.extend(
            page.contents()
                .iter()
                .filter_map(|o| o.key())
                .filter(|k| k.starts_with(&dir))
                .map(str::to_string),
        );
    }
    Ok(Some(keys))
}

fn write(path: &Path, bytes: &[u8]) -> Result<(), TeardownError> {
    let io = |source| TeardownError::Backup {
        path: path.to_path_buf(),
        source,
    };
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(io)?;
    }
    std::fs::write(path, bytes).map_err(io)
}

/// A relative path for an object key that can never leave the backup directory: segments that
/// a file system would interpret (`.`, `..`, empty) are escaped instead of followed.
pub(crate) fn safe_relative(key: &str) -> PathBuf {
    key.split('/')
        .map(|segment| match segment {
            "" => "%2F".to_string(),
            "." => "%2E".to_string(),
            ".." => "%2E%2E".to_string(),
            s => s.replace('\\', "%5C").replace('\0', "%00"),
        })
        .collect()
}

/// What emptying a bucket removed.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Emptied {
    pub versions: usize,
    pub uploads: usize,
}

/// Deletes every object version and delete marker and aborts every multipart upload.
/// `Ok(None)` when the bucket is already gone.
pub(crate) async fn empty(
    s3: &aws_sdk_s3::Client,
    bucket: &str,
) -> Result<Option<Emptied>, TeardownError> {
    let mut emptied = Emptied::default();
    let mut previous: Vec<ObjectIdentifier> = Vec::new();
    // Each round lists from the start: deleting while paging with markers could skip keys.
    loop {
        let Some(listing) = none_if_missing(
            "ListObjectVersions",
            bucket,
            s3.list_object_versions().bucket(bucket).send().await,
        )?
        else {
            return Ok(None);
        };
        let mut ids = Vec::new();
        for v in listing.versions() {
            ids.push(identifier(v.key(), v.version_id()));
        }
        for m in listing.delete_markers() {
            ids.push(identifier(m.key(), m.version_id()));
        }
        let ids: Vec<ObjectIdentifier> = ids.into_iter().flatten().collect();
        if ids.is_empty() {
            break;
        }
        if ids == previous {
            // S3 said the deletes succeeded, yet the same versions are listed again.
            return Err(TeardownError::ObjectsNotDeleted {
                bucket: bucket.to_string(),
                count: ids.len(),
                first: format!("{} still listed after DeleteObjects", ids[0].key()),
            });
        }
        for batch in ids.chunks(DELETE_BATCH) {
            let delete = Delete::builder()
                .set_objects(Some(batch.to_vec()))
                .quiet(true)
                .build()
                .map_err(|e| TeardownError::Aws {
                    operation: "DeleteObjects",
                    resource: bucket.to_string(),
                    code: None,
                    message: Some(e.to_string()),
                    status: None,
                })?;
            let out = s3
                .delete_objects()
                .bucket(bucket)
                .delete(delete)
                .send()
                .await
                .map_err(|e| aws_error("DeleteObjects", bucket, e))?;
            if let Some(first) = out.errors().first() {
                return Err(TeardownError::ObjectsNotDeleted {
                    bucket: bucket.to_string(),
                    count: out.errors().len(),
                    first: format!(
                        "{} {}",
                        first.key().unwrap_or("?"),
                        first.code().unwrap_or("no code")
                    ),
                });
            }
            emptied.versions += batch.len();
        }
        previous = ids;
    }
    loop {
        let Some(listing) = none_if_missing(
            "ListMultipartUploads",
            bucket,
            s3.list_multipart_uploads().bucket(bucket).send().await,
        )?
        else {
            return Ok(None);
        };
        if listing.uploads().is_empty() {
            break;
        }
        for upload in listing.uploads() {
            let (Some(key), Some(id)) = (upload.key(), upload.upload_id()) else {
                continue;
            };
            none_if_missing(
                "AbortMultipartUpload",
                &format!("s3://{bucket}/{key}"),
                s3.abort_multipart_upload()
                    .bucket(bucket)
                    .key(key)
                    .upload_id(id)
                    .send()
                    .await,
            )?;
            emptied.uploads += 1;
        }
    }
    Ok(Some(emptied))
}

fn identifier(key: Option<&str>, version: Option<&str>) -> Option<ObjectIdentifier> {
    ObjectIdentifier::builder()
        .key(key?)
        .set_version_id(version.map(str::to_string))
        .build()
        .ok()
}

/// Deletes the bucket: an interrupted setup's untagged one with `DeleteBucket` alone (never
/// emptied: S3 refuses while anything is in it), the stack's after backing it up and emptying it.
pub(crate) fn delete<'a>(cx: &'a mut Deleting<'_>, r: &'a OwnedResource) -> Pending<'a> {
    Box::pin(async move {
        let name = r.name.as_str();
        if r.found_by != FoundBy::InterruptedSetup {
            return delete_bucket(cx, name).await;
        }
        match cx.clients.s3.delete_bucket().bucket(name).send().await {
            Ok(_) => Ok((
                DeletionOutcome::Deleted,
                "empty and untagged: an interrupted setup's".to_string(),
            )),
            Err(err) => {
                let failure = AwsFailure::of(&err);
                if failure.is_not_found() {
                    Ok((DeletionOutcome::AlreadyGone, String::new()))
                } else {
                    Err(TeardownError::aws("DeleteBucket", name, failure))
                }
            }
        }
    })
}

async fn delete_bucket(cx: &mut Deleting<'_>, name: &str) -> Deleted {
    let clients = cx.clients;
    let mut detail = Vec::new();
    if let Some(dir) = &cx.options.backup_dir {
        match backup(&clients.s3, name, cx.backup_prefixes, dir).await? {
            Some(files) => {
                detail.push(format!("{} objects backed up", files.len()));
                cx.backed_up.extend(files);
            }
            None => return Ok((DeletionOutcome::AlreadyGone, String::new())),
        }
    }
    // Outputs can still land between emptying and deleting: inferences accepted before the
    // endpoint went away finish later (on AWS, and in the local runtime, which drains its
    // queue). A BucketNotEmpty empties again after a pause, for as long as the bucket keeps
    // filling, up to two minutes.
    let mut removed = Emptied::default();
    let deadline = Instant::now() + Duration::from_secs(120);
    let mut pause = Duration::from_millis(200);
    loop {
        let Some(emptied) = empty(&clients.s3, name).await? else {
            return Ok((DeletionOutcome::AlreadyGone, detail.join(", ")));
        };
        removed.versions += emptied.versions;
        removed.uploads += emptied.uploads;
        match clients.s3.delete_bucket().bucket(name).send().await {
            Ok(_) => {
                detail.push(format!(
                    "{} object versions, {} uploads removed",
                    removed.versions, removed.uploads
                ));
                return Ok((DeletionOutcome::Deleted, detail.join(", ")));
            }
            Err(err) => {
                let failure = AwsFailure::of(&err);
                if failure.is_not_found() {
                    return Ok((DeletionOutcome::AlreadyGone, detail.join(", ")));
                }
                if failure.code.as_deref() != Some("BucketNotEmpty") || Instant::now() > deadline {
                    return Err(TeardownError::aws("DeleteBucket", name, failure));
                }
            }
        }
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(Duration::from_secs(2));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backup_paths_never_leave_the_backup_dir() {
        assert_eq!(safe_relative("output/a.out"), PathBuf::from("output/a.out"));
        let p = safe_relative("output/../../etc/passwd");
        assert!(
            p.components()
                .all(|c| matches!(c, std::path::Component::Normal(_))),
            "{p:?}"
        );
        let p = safe_relative("/abs//x");
        assert!(p.is_relative(), "{p:?}");
        assert!(
            p.components()
                .all(|c| matches!(c, std::path::Component::Normal(_))),
            "{p:?}"
        );
    }
}
