//! Who signed a request, and what their identity policies are, as the front door's S3 rules
//! need it: read from moto's IAM with the administrator's credentials and cached.
//!
//! A user's access key is found with `GetAccessKeyLastUsed`; an assumed role's temporary key
//! only from the `AssumeRole` answer the front door forwarded (moto offers no API that maps it).
//! Policies are cached per principal like the runtime's endpoints: trusted for [`FRESH_FOR`],
//! then served while one background re-read runs until [`STALE_FOR`] old. Every IAM call that
//! may change a policy, forwarded by the front door, [`Callers::invalidate`]s the whole cache at
//! once; a re-read that began before it is not stored.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::iam_policy::{documents, Principal};

/// How long read policies are used without asking IAM again.
pub(crate) const FRESH_FOR: Duration = Duration::from_secs(2);
/// How long read policies may be used while their re-read runs in the background.
pub(crate) const STALE_FOR: Duration = Duration::from_secs(30);
/// Temporary credentials live at most 12 hours: an older assumed-role key is forgotten.
const ASSUMED_KEY_LIFETIME: Duration = Duration::from_secs(12 * 3600);

struct Cached {
    documents: Arc<Vec<Value>>,
    checked: Instant,
    generation: u64,
}

#[derive(Default)]
struct Slot {
    entry: tokio::sync::Mutex<Option<Cached>>,
    refreshing: AtomicBool,
}

/// Callers' identities and policies.
pub(crate) struct Callers {
    iam: aws_sdk_iam::Client,
    /// Bumped by every invalidation: an entry of an older generation is not used.
    generation: Arc<AtomicU64>,
    users: Mutex<HashMap<String, (Principal, u64)>>,
    assumed: Mutex<HashMap<String, (Principal, Instant)>>,
    policies: Mutex<HashMap<Principal, Arc<Slot>>>,
}

impl Callers {
    pub(crate) fn new(iam: aws_sdk_iam::Client) -> Callers {
        Callers {
            iam,
            generation: Arc::new(AtomicU64::new(0)),
            users: Mutex::new(HashMap::new()),
            assumed: Mutex::new(HashMap::new()),
            policies: Mutex::new(HashMap::new()),
        }
    }

    /// Forgets every user key and policy read so far: IAM changed (or may have).
    pub(crate) fn invalidate(&self) {
        self.generation.fetch_add(1, Ordering::AcqRel);
    }

    /// Records that `access_key_id` belongs to the role of `assumed_role_arn`.
    pub(crate) fn learn_assumed_role(&self, access_key_id: &str, assumed_role_arn: &str) {
        let Some(role) = Principal::role_of(assumed_role_arn) else {
            return;
        };
        if let Ok(mut assumed) = self.assumed.lock() {
            assumed.retain(|_, (_, learned)| learned.elapsed() < ASSUMED_KEY_LIFETIME);
            assumed.insert(access_key_id.to_string(), (role, Instant::now()));
        }
    }

    /// The principal behind `access_key_id`; `None` when moto's IAM knows no user with it and
    /// no forwarded `AssumeRole` issued it.
    pub(crate) async fn principal(&self, access_key_id: &str) -> Result<Option<Principal>, String> {
        let generation = self.generation.load(Ordering::Acquire);
        if let Some((role, _)) = lock(&self.assumed)?.get(access_key_id) {
            return Ok(Some(role.clone()));
        }
        if let Some((user, seen)) = lock(&self.users)?.get(access_key_id) {
            if *seen == generation {
                return Ok(Some(user.clone()));
            }
        }
        let found = self
            .iam
            .get_access_key_last_used()
            .access_key_id(access_key_id)
            .send()
            .await;
        match found {
            Ok(found) => {
                let Some(name) = found.user_name() else {
                    return Ok(None);
                };
                let user = Principal::User(name.to_string());
                lock(&self.users)?.insert(access_key_id.to_string(), (user.clone(), generation));
                Ok(Some(user))
            }
            Err(e) if e.raw_response().is_some_and(|r| r.status().as_u16() == 404) => Ok(None),
            Err(e) => Err(format!(
                "GetAccessKeyLastUsed {access_key_id}: {}",
                aws_sdk_iam::error::DisplayErrorContext(&e)
            )),
        }
    }

    /// `principal`'s identity policies, at most [`FRESH_FOR`] old, or at most [`STALE_FOR`] old
    /// while a re-read runs in the background; never older than the last invalidation.
    pub(crate) async fn documents(&self, principal: &Principal) -> Result<Arc<Vec<Value>>, String> {
        let slot = lock(&self.policies)?
            .entry(principal.clone())
            .or_default()
            .clone();
        let generation = self.generation.load(Ordering::Acquire);
        let mut cached = slot.entry.lock().await;
        if let Some(entry) = cached.as_ref().filter(|c| c.generation == generation) {
            let age = entry.checked.elapsed();
            if age < FRESH_FOR {
                return Ok(entry.documents.clone());
            }
            if age < STALE_FOR {
                if !slot.refreshing.swap(true, Ordering::AcqRel) {
                    self.refresh_in_background(principal, &slot, generation);
                }
                return Ok(entry.documents.clone());
            }
        }
        let read = Arc::new(documents(&self.iam, principal).await?);
        *cached = self.entry_if_current(read.clone(), generation);
        Ok(read)
    }

    fn refresh_in_background(&self, principal: &Principal, slot: &Arc<Slot>, generation: u64) {
        let (iam, slot, principal) = (self.iam.clone(), slot.clone(), principal.clone());
        let started = Instant::now();
        // An invalidation while the re-read runs makes its answer worthless.
        let current = self.generation.clone();
        tokio::spawn(async move {
            let read = documents(&iam, &principal).await;
            let mut cached = slot.entry.lock().await;
            let superseded = cached.as_ref().is_some_and(|c| c.checked > started);
            match read {
                _ if superseded => {}
                Ok(read) if current.load(Ordering::Acquire) == generation => {
                    *cached = Some(Cached {
                        documents: Arc::new(read),
                        checked: Instant::now(),
                        generation,
                    });
                }
                Ok(_) => {}
                // A busy moto is the usual case: keep serving the entry until it is too old.
                Err(detail) => {
                    tracing::debug!(%principal, %detail, "policy re-read failed; serving the cached policies");
                }
            }
            slot.refreshing.store(false, Ordering::Release);
        });
    }

    fn entry_if_current(&self, documents: Arc<Vec<Value>>, generation: u64) -> Option<Cached> {
        (self.generation.load(Ordering::Acquire) == generation).then(|| Cached {
            documents,
            checked: Instant::now(),
            generation,
        })
    }
}

fn lock<T>(mutex: &Mutex<T>) -> Result<std::sync::MutexGuard<'_, T>, String> {
    mutex
        .lock()
        .map_err(|_| "the front door's caller cache lock is poisoned".to_string())
}
