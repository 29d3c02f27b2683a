//! The durable queue: accepted requests in a `redb` table, written with group commit.
//!
//! Appends are acknowledged only after the transaction holding them is committed (fsync'd), so a
//! 202 always means "on disk". One writer thread batches whatever has arrived into one
//! transaction: under load, hundreds of appends share one fsync.
//!
//! Removals are not urgent: a removal lost in a crash only means the finished request is looked
//! at again on restart (its object is found and it is dropped). So removals alone wait a moment
//! for company and are committed without waiting for the disk; a durable commit (any append, or
//! at least once a second) persists them. Committing each removal durably on its own cost the
//! writer about half a millisecond per finished request, CPU that the object store (moto, on the
//! same cores) needs for the writes that finish requests.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use redb::{ReadableTable, TableDefinition};
use tokio::sync::oneshot;

use super::RuntimeError;

const JOBS: TableDefinition<u64, &[u8]> = TableDefinition::new("jobs");

/// At least this often a commit is durable, which persists the removals before it and lets redb
/// reuse the pages of removed entries.
const DURABLE_AT_LEAST_EVERY: Duration = Duration::from_secs(1);
/// How long removals alone wait for more operations before they are committed.
const REMOVALS_GATHER: Duration = Duration::from_millis(20);

/// How many operations one transaction takes at most, so one commit cannot grow without bound.
const MAX_BATCH: usize = 4096;

enum Op {
    Append {
        key: u64,
        value: Vec<u8>,
        done: oneshot::Sender<Result<(), String>>,
    },
    Remove(u64),
    /// Commit what came before, then stop.
    Close,
}

/// Entries found at open: journal key and value, oldest first.
pub(crate) type Pending = Vec<(u64, Vec<u8>)>;

/// Handle to the journal; cheap to share behind an `Arc`.
pub(crate) struct Journal {
    path: PathBuf,
    next: AtomicU64,
    ops: mpsc::Sender<Op>,
    writer: std::sync::Mutex<Option<std::thread::JoinHandle<()>>>,
}

/// Why an append did not reach the disk.
#[derive(thiserror::Error, Debug)]
#[error("the runtime journal {path} could not record the request: {message}")]
pub(crate) struct AppendError {
    pub path: PathBuf,
    pub message: String,
}

impl Journal {
    /// Opens (or creates) `<dir>/journal.redb` and returns it with every entry still in it, oldest
    /// first: the requests a previous run accepted and did not finish.
    pub(crate) fn open(dir: &Path) -> Result<(Journal, Pending), RuntimeError> {
        let path = dir.join("journal.redb");
        let error = |message: String| RuntimeError::Journal {
            path: path.clone(),
            message,
        };
        let db = redb::Database::create(&path).map_err(|e| error(e.to_string()))?;
        let pending = read_all(&db).map_err(error)?;
        let next = pending.last().map_or(1, |(key, _)| key + 1);
        let (tx, rx) = mpsc::channel();
        let thread_path = path.clone();
        let writer = std::thread::Builder::new()
            .name("bodyline-journal".into())
            .spawn(move || write_loop(db, rx, &thread_path))
            .map_err(|e| error(format!("cannot start the writer thread: {e}")))?;
        Ok((
            Journal {
                path,
                next: AtomicU64::new(next),
                ops: tx,
                writer: std::sync::Mutex::new(Some(writer)),
            },
            pending,
        ))
    }

    /// Writes `value` durably and returns its sequence number once it is committed.
    pub(crate) async fn append(&self, value: Vec<u8>) -> Result<u64, AppendError> {
        let key = self.next.fetch_add(1, Ordering::Relaxed);
        let (done, wait) = oneshot::channel();
        let error = |message: String| AppendError {
            path: self.path.clone(),
            message,
        };
        self.ops
            .send(Op::Append { key, value, done })
            .map_err(|_| error("the journal is closed (the runtime is shutting down)".into()))?;
        match wait.await {
            Ok(Ok(())) => Ok(key),
            Ok(Err(message)) => Err(error(message)),
            Err(_) => Err(error("the journal writer stopped".into())),
        }
    }

    /// Forgets a finished request. Not awaited: a removal lost in a crash only means the request
    /// is looked at again on restart, where its output or failure object is found and it is dropped.
    pub(crate) fn remove(&self, key: u64) {
        let _ = self.ops.send(Op::Remove(key));
    }

    /// Stops the writer after it has committed everything sent so far.
    pub(crate) async fn close(&self) {
        let handle = self.writer.lock().ok().and_then(|mut h| h.take());
        if let Some(handle) = handle {
            let _ = self.ops.send(Op::Close);
            let _ = tokio::task::spawn_blocking(move || handle.join()).await;
        }
    }
}

fn read_all(db: &redb::Database) -> Result<Pending, String> {
    // Creating the table in a write transaction first makes a fresh file readable.
    let txn = db.begin_write().map_err(text)?;
    txn.open_table(JOBS).map_err(text)?;
    txn.commit().map_err(text)?;
    let txn = db.begin_read().map_err(text)?;
    let table = txn.open_table(JOBS).map_err(text)?;
    let mut out = Vec::new();
    for entry in table.iter().map_err(text)? {
        let (key, value) = entry.map_err(text)?;
        out.push((key.value(), value.value().to_vec()));
    }
    Ok(out)
}

fn write_loop(db: redb::Database, rx: mpsc::Receiver<Op>, path: &Path) {
    let mut last_durable = Instant::now();
    while let Ok(first) = rx.recv() {
        let mut batch = vec![first];
        drain(&rx, &mut batch);
        if batch.iter().all(|op| matches!(op, Op::Remove(_))) {
            gather_removals(&rx, &mut batch);
        }
        let closing = batch.iter().any(|op| matches!(op, Op::Close));
        let durable = last_durable.elapsed() >= DURABLE_AT_LEAST_EVERY
            || batch.iter().any(|op| !matches!(op, Op::Remove(_)));
        let result = commit(&db, &batch, durable);
        match &result {
            Ok(()) if durable => last_durable = Instant::now(),
            Ok(()) => {}
            Err(message) => {
                tracing::error!(journal = %path.display(), error = %message, "journal commit failed");
            }
        }
        for op in batch {
            if let Op::Append { done, .. } = op {
                let _ = done.send(result.clone());
            }
        }
        if closing {
            break;
        }
    }
}

/// Moves what has already arrived into `batch`, up to [`MAX_BATCH`].
fn drain(rx: &mpsc::Receiver<Op>, batch: &mut Vec<Op>) {
    while batch.len() < MAX_BATCH {
        match rx.try_recv() {
            Ok(op) => batch.push(op),
            Err(_) => break,
        }
    }
}

/// Lets a batch of removals wait up to [`REMOVALS_GATHER`] for more; an append (or close)
/// ends the wait at once, so no 202 waits for removals.
fn gather_removals(rx: &mpsc::Receiver<Op>, batch: &mut Vec<Op>) {
    let until = Instant::now() + REMOVALS_GATHER;
    while batch.len() < MAX_BATCH {
        let left = until.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return;
        }
        match rx.recv_timeout(left) {
            Ok(Op::Remove(key)) => batch.push(Op::Remove(key)),
            Ok(urgent) => {
                batch.push(urgent);
                drain(rx, batch);
                return;
            }
            Err(_) => return,
        }
    }
}

/// Commits `batch` in one transaction; `durable` waits for the disk.
fn commit(db: &redb::Database, batch: &[Op], durable: bool) -> Result<(), String> {
    let mut txn = db.begin_write().map_err(text)?;
    if !durable {
        txn.set_durability(redb::Durability::None);
    }
    {
        let mut table = txn.open_table(JOBS).map_err(text)?;
        for op in batch {
            match op {
                Op::Append { key, value, .. } => {
                    table.insert(*key, value.as_slice()).map_err(text)?;
                }
                Op::Remove(key) => {
                    table.remove(*key).map_err(text)?;
                }
                Op::Close => {}
            }
        }
    }
    txn.commit().map_err(text)?;
    Ok(())
}

/// redb's error types are large; callers only need the text.
fn text(e: impl Into<redb::Error>) -> String {
    e.into().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn open(dir: &Path) -> (Journal, Pending) {
        match Journal::open(dir) {
            Ok(opened) => opened,
            Err(e) => panic!("the journal opens: {e}"),
        }
    }

    #[tokio::test]
    async fn removals_committed_lazily_are_on_disk_after_close() {
        let dir = tempfile::tempdir().expect("temp dir");
        let (journal, pending) = open(dir.path());
        assert!(pending.is_empty());
        let mut keys = Vec::new();
        for value in [b"a".to_vec(), b"b".to_vec(), b"c".to_vec()] {
            keys.push(journal.append(value).await.expect("append"));
        }
        // Removals alone go out without waiting for the disk; the append after them must not
        // wait for their gathering window to end, and close must persist them.
        journal.remove(keys[0]);
        journal.remove(keys[2]);
        let d = journal.append(b"d".to_vec()).await.expect("append");
        journal.remove(d);
        journal.close().await;

        let (reopened, pending) = open(dir.path());
        assert_eq!(pending, vec![(keys[1], b"b".to_vec())]);
        // Numbering continues after the last entry still there.
        let next = reopened.append(b"e".to_vec()).await.expect("append");
        assert!(next > keys[1], "{next} after {}", keys[1]);
        reopened.close().await;
    }
}
