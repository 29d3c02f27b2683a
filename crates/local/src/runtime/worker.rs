//! Running an accepted request to its end: wait for a free slot on the endpoint (or expire),
//! call the model, write exactly one output or failure object as the execution role, notify.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use bytes::Bytes;

use bodyline_aws::{error_chain, AwsFailure};

use super::endpoints::LookupError;
use super::job::{Job, Queued};
use super::notify::{self, Ending};
use super::policy;
use super::roles::RoleSession;
use super::s3uri::S3Uri;
use super::Shared;

/// The content type of failure objects.
const FAILURE_CONTENT_TYPE: &str = "text/plain; charset=utf-8";

/// What the model answered.
struct Answer {
    content_type: String,
    body: Bytes,
}

/// Why a request ended in a failure object; the text is what the failure object says.
#[derive(Debug)]
pub(crate) enum Failure {
    Expired {
        ttl_seconds: u32,
    },
    Timeout {
        seconds: u32,
    },
    ModelError {
        status: u16,
        body: String,
    },
    ModelDied {
        how: String,
    },
    ModelUnavailable {
        reason: String,
    },
    ModelUnreachable {
        detail: String,
    },
    EndpointGone {
        endpoint: String,
    },
    InputUnreadable {
        location: String,
        role: String,
        detail: String,
    },
    OutputNotWritten {
        location: String,
        role: String,
        detail: String,
    },
    RoleUnusable {
        detail: String,
    },
    Internal {
        detail: String,
    },
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::Expired { ttl_seconds } => write!(
                f,
                "RequestExpired: the request waited in the queue longer than its RequestTTLSeconds ({ttl_seconds} s) and was not processed"
            ),
            Failure::Timeout { seconds } => write!(
                f,
                "InvocationTimeout: the model did not answer within InvocationTimeoutSeconds ({seconds} s)"
            ),
            Failure::ModelError { status, body } => {
                let kind = if *status < 500 { "client" } else { "server" };
                write!(f, "ModelError: Received {kind} error ({status}) from the model with message \"{body}\"")
            }
            Failure::ModelDied { how } => write!(
                f,
                "ModelError: {how} while handling the request; the runtime restarts it"
            ),
            Failure::ModelUnavailable { reason } => write!(f, "ModelNotReady: {reason}"),
            Failure::ModelUnreachable { detail } => {
                write!(f, "ModelError: the request to the model failed: {detail}")
            }
            Failure::EndpointGone { endpoint } => write!(
                f,
                "EndpointNotFound: endpoint {endpoint} no longer exists, so the queued request could not run"
            ),
            Failure::InputUnreadable { location, role, detail } => write!(
                f,
                "ClientError: the execution role {role} could not read the input {location}: {detail}"
            ),
            Failure::OutputNotWritten { location, role, detail } => write!(
                f,
                "ClientError: the model answered, but the execution role {role} could not write the output to {location}: {detail}"
            ),
            Failure::RoleUnusable { detail } => write!(f, "ClientError: {detail}"),
            Failure::Internal { detail } => write!(f, "InternalFailure: {detail}"),
        }
    }
}

/// Queues `queued` (journal key `seq`) for its workers. `resumed` requests come from a previous
/// run and may already have their object, if that run died between the write and the journal.
pub(crate) fn submit(shared: &Arc<Shared>, seq: u64, queued: Queued, resumed: bool) {
    let task_shared = shared.clone();
    shared.tasks.spawn(async move {
        let shared = task_shared;
        tokio::select! {
            // Cancelled work stays in the journal and runs again after the next start.
            _ = shared.shutdown.cancelled() => {}
            _ = run(&shared, seq, queued, resumed) => {}
        }
    });
}

async fn run(shared: &Arc<Shared>, seq: u64, queued: Queued, resumed: bool) {
    let job = &queued.job;
    if resumed && already_finished(shared, job).await {
        shared.journal.remove(seq);
        return;
    }
    let concurrency = match shared.endpoints.get(&job.endpoint_name).await {
        Ok(info) => info.concurrency(),
        Err(_) => 1,
    };
    let lane = shared.lane(&job.endpoint_name, concurrency);
    let waited = tokio::select! {
        permit = lane.acquire_owned() => permit.ok(),
        _ = tokio::time::sleep(until(job.deadline())) => None,
    };
    // A slot that came free only at the deadline is no use: the request has expired.
    let slot = waited.filter(|_| SystemTime::now() < job.deadline());
    let outcome = match &slot {
        Some(_) => invoke(shared, &queued).await,
        None => Err(Failure::Expired {
            ttl_seconds: job.ttl_seconds,
        }),
    };
    // The slot stays taken until the request's object is written, not only while the model
    // runs: the write is part of the request, and releasing the slot earlier lets the model,
    // which answers far faster than the object store takes writes, pile up unbounded concurrent
    // writes on the object store (on moto: a full accept queue, connections retried after
    // seconds, requests finishing out of order).
    finish(shared, job, outcome).await;
    drop(slot);
    shared.journal.remove(seq);
}

fn until(deadline: SystemTime) -> Duration {
    deadline
        .duration_since(SystemTime::now())
        .unwrap_or(Duration::ZERO)
}

/// The output or failure object of `job` already exists (checked with the control plane's
/// credentials: this is the runtime's bookkeeping, not the role's work).
async fn already_finished(shared: &Shared, job: &Job) -> bool {
    for location in [&job.output, &job.failure] {
        let mut pause = WRITE_RETRY_PAUSE.0;
        loop {
            let head = shared
                .admin_s3
                .head_object()
                .bucket(&location.bucket)
                .key(&location.key)
                .send()
                .await;
            match head {
                Ok(_) => {
                    tracing::info!(inference_id = %job.inference_id, %location, "resumed request already finished");
                    return true;
                }
                // No answer (moto restarting): not knowing is not "absent"; running the request
                // again could end it in a second object.
                Err(e) if AwsFailure::of(&e).is_transient() => {
                    tokio::time::sleep(pause).await;
                    pause = (pause * 2).min(WRITE_RETRY_PAUSE.1);
                }
                Err(_) => break,
            }
        }
    }
    false
}

async fn invoke(shared: &Shared, queued: &Queued) -> Result<Answer, Failure> {
    let job = &queued.job;
    let started = Instant::now();
    let timeout = Duration::from_secs(job.timeout_seconds.into());
    let info = shared
        .endpoints
        .get(&job.endpoint_name)
        .await
        .map_err(|e| match e {
            LookupError::NotFound(_) => Failure::EndpointGone {
                endpoint: job.endpoint_name.clone(),
            },
            LookupError::ControlPlane(detail) | LookupError::Unavailable(detail) => {
                Failure::Internal { detail }
            }
        })?;
    let input = match &job.input_location {
        None => queued.body.clone(),
        Some(location) => read_input(shared, job, location).await?,
    };
    let host = shared
        .models
        .host(&info.model)
        .map_err(|reason| Failure::ModelUnavailable { reason })?;
    let (url, generation) = host
        .ready(timeout.saturating_sub(started.elapsed()))
        .await
        .map_err(|reason| Failure::ModelUnavailable { reason })?;
    let mut request = shared
        .http
        .post(format!("{url}/invocations"))
        .timeout(
            timeout
                .saturating_sub(started.elapsed())
                .max(Duration::from_millis(1)),
        )
        .header("X-Amzn-SageMaker-Inference-Id", &job.inference_id)
        .body(input);
    if let Some(content_type) = &job.content_type {
        request = request.header("Content-Type", content_type);
    }
    if let Some(accept) = &job.accept {
        request = request.header("Accept", accept);
    }
    if let Some(attributes) = &job.custom_attributes {
        request = request.header("X-Amzn-SageMaker-Custom-Attributes", attributes);
    }
    let response = async {
        let response = request.send().await?;
        let status = response.status();
        let content_type = response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("application/octet-stream")
            .to_string();
        let body = response.bytes().await?;
        Ok::<_, reqwest::Error>((status, content_type, body))
    }
    .await;
    match response {
        Ok((status, content_type, body)) if status.is_success() => {
            Ok(Answer { content_type, body })
        }
        Ok((status, _, body)) => Err(Failure::ModelError {
            status: status.as_u16(),
            body: String::from_utf8_lossy(&body).chars().take(1024).collect(),
        }),
        Err(e) if e.is_timeout() => Err(Failure::Timeout {
            seconds: job.timeout_seconds,
        }),
        Err(e) => Err(match host.exit_of(generation).await {
            Some(how) => Failure::ModelDied { how },
            None => Failure::ModelUnreachable {
                detail: error_chain(&e),
            },
        }),
    }
}

async fn read_input(shared: &Shared, job: &Job, location: &S3Uri) -> Result<Bytes, Failure> {
    let unreadable = |detail: String| Failure::InputUnreadable {
        location: location.to_string(),
        role: job.execution_role_arn.clone(),
        detail,
    };
    let session = shared
        .roles
        .session(&job.execution_role_arn)
        .await
        .map_err(|detail| Failure::RoleUnusable { detail })?;
    role_may(shared, &session, job, "s3:GetObject", location)
        .await
        .map_err(unreadable)?;
    let object = session
        .s3
        .get_object()
        .bucket(&location.bucket)
        .key(&location.key)
        .send()
        .await
        .map_err(|e| unreadable(aws_sdk_s3::error::DisplayErrorContext(&e).to_string()))?;
    let body = object
        .body
        .collect()
        .await
        .map_err(|e| unreadable(e.to_string()))?;
    Ok(body.into_bytes())
}

/// Writes the one object this request ends in, then publishes the notification.
async fn finish(shared: &Shared, job: &Job, outcome: Result<Answer, Failure>) {
    let session = shared.roles.session(&job.execution_role_arn).await;
    let failure = match (outcome, &session) {
        (Ok(answer), Ok(session)) => {
            match put_as_role(
                shared,
                session,
                job,
                &job.output,
                answer.body.clone(),
                &answer.content_type,
            )
            .await
            {
                Ok(()) => {
                    let ending = Ending::Completed {
                        content_type: &answer.content_type,
                        body: &answer.body,
                    };
                    publish(shared, session, job, job.success_topic.as_deref(), &ending).await;
                    return;
                }
                Err(detail) => Failure::OutputNotWritten {
                    location: job.output.to_string(),
                    role: job.execution_role_arn.clone(),
                    detail,
                },
            }
        }
        (Ok(_), Err(detail)) => Failure::RoleUnusable {
            detail: detail.clone(),
        },
        (Err(failure), _) => failure,
    };
    let reason = failure.to_string();
    tracing::info!(inference_id = %job.inference_id, endpoint = %job.endpoint_name, %reason, "inference failed");
    let text = Bytes::from(reason.clone().into_bytes());
    let written = match &session {
        Ok(session) => match put_as_role(
            shared,
            session,
            job,
            &job.failure,
            text,
            FAILURE_CONTENT_TYPE,
        )
        .await
        {
            Ok(()) => Ok(()),
            // Refused (transient errors were retried): the role cannot write its own failure
            // object. On AWS the request would end with no object at all; locally the runtime
            // writes it with its own credentials and says so in it, so nothing is lost and the
            // misconfigured role is named where the user looks.
            Err(detail) => {
                tracing::warn!(inference_id = %job.inference_id, role = %job.execution_role_arn, location = %job.failure, %detail, "the execution role cannot write the failure object; writing it with the runtime's credentials");
                let text = format!(
                    "{reason}\n\nThe execution role {role} could not write this failure object to {location} ({detail}), so bodyline's local runtime wrote it with its own credentials. On AWS this request would end with no object: give the role s3:PutObject on {prefix}*",
                    role = job.execution_role_arn,
                    location = job.failure,
                    prefix = failure_prefix(&job.failure),
                );
                put(
                    &shared.admin_s3,
                    &job.failure,
                    Bytes::from(text.into_bytes()),
                    FAILURE_CONTENT_TYPE,
                )
                .await
            }
        },
        // Without the role nothing can be written as the role; the failure object still has to
        // exist, so the runtime writes it with its own credentials and says why in it.
        Err(_) => put(&shared.admin_s3, &job.failure, text, FAILURE_CONTENT_TYPE).await,
    };
    if let Err(detail) = written {
        tracing::error!(
            inference_id = %job.inference_id,
            location = %job.failure,
            role = %job.execution_role_arn,
            %detail,
            "the failure object could not be written; the request ends without an object"
        );
        record_stranded(shared, job, &reason, &detail);
    }
    if let Ok(session) = &session {
        let ending = Ending::Failed { reason: &reason };
        publish(shared, session, job, job.error_topic.as_deref(), &ending).await;
    }
}

/// Records a request that ends with no object (its bucket is gone, say), so `bodyline local up`
/// and `status` report it instead of it vanishing into a log.
fn record_stranded(shared: &Shared, job: &Job, reason: &str, detail: &str) {
    let line = serde_json::json!({
        "inference_id": job.inference_id,
        "endpoint": job.endpoint_name,
        "output": job.output.to_string(),
        "failure": job.failure.to_string(),
        "reason": reason,
        "write_error": detail,
    });
    let appended = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&shared.stranded)
        .and_then(|mut file| {
            use std::io::Write;
            writeln!(file, "{line}")
        });
    if let Err(e) = appended {
        tracing::error!(file = %shared.stranded.display(), error = %e, "cannot record a request that ended with no object");
    }
}

/// `s3://bucket/failure/` of `s3://bucket/failure/id-error.out`: where the role needs the grant.
fn failure_prefix(location: &S3Uri) -> String {
    let text = location.to_string();
    match text.rfind('/') {
        Some(slash) => text[..=slash].to_string(),
        None => text,
    }
}

/// With a by-policy session (moto cannot assume the role, see `roles`): whether the role's own
/// policies allow `action` on the object; an `AccessDenied`-like refusal when they do not. An
/// assumed session needs no check: the control plane enforces the role's policies itself.
async fn role_may(
    shared: &Shared,
    session: &RoleSession,
    job: &Job,
    action: &str,
    location: &S3Uri,
) -> Result<(), String> {
    if !session.by_policy {
        return Ok(());
    }
    let arn = format!("arn:aws:s3:::{}/{}", location.bucket, location.key);
    match policy::role_allows(&shared.iam, &job.execution_role_arn, action, &arn).await? {
        true => Ok(()),
        false => Err(format!(
            "AccessDenied: the policies of {} do not allow {action} on {arn} (checked by bodyline's local runtime, since moto cannot assume a role that trusts no AWS principal)",
            job.execution_role_arn
        )),
    }
}

/// Writes the object as the execution role (see [`role_may`] for roles moto cannot assume).
async fn put_as_role(
    shared: &Shared,
    session: &RoleSession,
    job: &Job,
    location: &S3Uri,
    body: Bytes,
    content_type: &str,
) -> Result<(), String> {
    role_may(shared, session, job, "s3:PutObject", location).await?;
    put(&session.s3, location, body, content_type).await
}

/// Pauses between attempts of a write that failed on the way (not refused): from the first to
/// the last, doubling.
const WRITE_RETRY_PAUSE: (Duration, Duration) =
    (Duration::from_millis(100), Duration::from_secs(5));

/// Writes the object, retrying for as long as the failure is on the way (moto busy, a connection
/// refused or timed out, a 5xx): an accepted request must end in an object, and giving up on a
/// transient error would end it in none. A refusal (4xx, such as `AccessDenied`) is returned at
/// once. Runtime shutdown cancels the retries; the journal keeps the request for the next start.
async fn put(
    client: &aws_sdk_s3::Client,
    location: &S3Uri,
    body: Bytes,
    content_type: &str,
) -> Result<(), String> {
    let mut pause = WRITE_RETRY_PAUSE.0;
    loop {
        let sent = client
            .put_object()
            .bucket(&location.bucket)
            .key(&location.key)
            .content_type(content_type)
            .body(body.clone().into())
            .send()
            .await;
        let error = match sent {
            Ok(_) => return Ok(()),
            Err(e) => e,
        };
        let detail = aws_sdk_s3::error::DisplayErrorContext(&error).to_string();
        if !AwsFailure::of(&error).is_transient() {
            return Err(detail);
        }
        tracing::warn!(%location, error = %detail, retry_in = ?pause, "writing the object failed on the way; retrying");
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(WRITE_RETRY_PAUSE.1);
    }
}

async fn publish(
    shared: &Shared,
    session: &RoleSession,
    job: &Job,
    topic: Option<&str>,
    ending: &Ending<'_>,
) {
    let Some(topic) = topic else { return };
    let message = notify::encode(&notify::message(job, &shared.region, ending));
    let sent = if session.by_policy {
        // The session's client is the control plane's: the role's grant is checked below.
        None
    } else {
        Some(
            session
                .sns
                .publish()
                .topic_arn(topic)
                .message(&message)
                .send()
                .await,
        )
    };
    let denied = match sent {
        None => "the role is checked by policy (moto cannot assume it)".to_string(),
        Some(Ok(_)) => return,
        Some(Err(e)) if e.raw_response().map(|r| r.status().as_u16()) == Some(403) => {
            aws_sdk_sns::error::DisplayErrorContext(&e).to_string()
        }
        Some(Err(e)) => {
            tracing::warn!(
                inference_id = %job.inference_id,
                %topic,
                error = %aws_sdk_sns::error::DisplayErrorContext(&e),
                "the notification could not be published"
            );
            return;
        }
    };
    // moto matches SNS statements only against `*`; see `policy` for why this is checked here.
    match policy::role_allows(&shared.iam, &job.execution_role_arn, "sns:Publish", topic).await {
        Ok(true) => {
            if let Err(e) = shared
                .admin_sns
                .publish()
                .topic_arn(topic)
                .message(message)
                .send()
                .await
            {
                tracing::warn!(
                    inference_id = %job.inference_id,
                    %topic,
                    error = %aws_sdk_sns::error::DisplayErrorContext(&e),
                    "the notification could not be published"
                );
            }
        }
        Ok(false) => tracing::warn!(
            inference_id = %job.inference_id,
            %topic,
            role = %job.execution_role_arn,
            error = %denied,
            "the execution role may not sns:Publish to the topic; no notification"
        ),
        Err(e) => {
            tracing::warn!(inference_id = %job.inference_id, %topic, error = %e, "no notification")
        }
    }
}
