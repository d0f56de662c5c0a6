//! The sync task: while a war room is open, the one place that talks to its room's table.
//! It sends this seat's decisions in order (each with its idempotency key, so a retry never
//! duplicates), reads what others appended at least once a second, and keeps presence. The
//! war room never waits for it: everything goes through channels, and a table that cannot be
//! reached only makes the queue longer and the header say so.

use std::collections::VecDeque;
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::sync::mpsc;

use super::table::Table;
use super::{Follower, Outgoing, Presence, RoomUpdate};

/// How often the log is read for others' records: the bound is once a second.
pub const POLL: Duration = Duration::from_millis(500);
/// How often presence is written and read.
pub const PRESENCE_EVERY: Duration = Duration::from_secs(5);
/// Longest a single call to the table may take before it counts as a failure: the queue is
/// kept and retried, the war room goes on.
pub const CALL_TIMEOUT: Duration = Duration::from_secs(5);
/// Longest wait between retries while the table is unreachable.
const MAX_BACKOFF: Duration = Duration::from_secs(5);

/// What the war room tells the sync task.
#[derive(Debug, Clone, PartialEq)]
pub enum ToSync {
    /// A decision to append, in the order made.
    Send(Box<Outgoing>),
    /// The role this seat now holds (for presence).
    Role(Option<String>),
}

/// Everything the task needs, fixed for the session.
pub struct SyncTask {
    pub table: Table,
    pub room: String,
    pub seat: Presence,
    /// What the local journal already holds: the log up to `seen` and these keys.
    pub seen: u64,
    pub known: Vec<(String, u64)>,
    /// Wall-clock time, for presence and TTLs (the session clock may be a rehearsal's).
    pub now: fn() -> DateTime<Utc>,
}

async fn call<T>(f: impl std::future::Future<Output = Result<T, String>>) -> Result<T, String> {
    match tokio::time::timeout(CALL_TIMEOUT, f).await {
        Ok(r) => r,
        Err(_) => Err(format!(
            "the room's table did not answer within {} s",
            CALL_TIMEOUT.as_secs()
        )),
    }
}

impl SyncTask {
    /// Runs until the war room closes its end of `rx` (then one last try to send what is
    /// queued, bounded by `CALL_TIMEOUT` a record).
    pub async fn run(
        mut self,
        mut rx: mpsc::UnboundedReceiver<ToSync>,
        tx: mpsc::Sender<RoomUpdate>,
    ) {
        let mut follower = Follower::resume(self.seen, std::mem::take(&mut self.known));
        let mut queue: VecDeque<Outgoing> = VecDeque::new();
        let mut failures: u32 = 0;
        let mut last_presence: Option<tokio::time::Instant> = None;
        let mut healthy: Option<bool> = None;
        let mut open = true;
        while open {
            let wait = if failures == 0 {
                POLL
            } else {
                (POLL * 2u32.saturating_pow(failures.min(4))).min(MAX_BACKOFF)
            };
            tokio::select! {
                msg = rx.recv() => match msg {
                    Some(m) => self.take(m, &mut queue),
                    None => open = false,
                },
                () = tokio::time::sleep(wait) => {}
            }
            while let Ok(m) = rx.try_recv() {
                self.take(m, &mut queue);
            }
            let result = self.round(&mut follower, &mut queue, &tx).await;
            let presence_due = last_presence.is_none_or(|t| t.elapsed() >= PRESENCE_EVERY);
            let result = match result {
                Ok(()) if presence_due => {
                    last_presence = Some(tokio::time::Instant::now());
                    self.presence(&tx).await
                }
                r => r,
            };
            let ok = result.is_ok();
            failures = if ok { 0 } else { failures.saturating_add(1) };
            // Said when it changes (and each failure, with its reason), not every round: an
            // idle war room redraws only when something changed.
            if healthy != Some(ok) || !ok {
                healthy = Some(ok);
                let _ = tx
                    .send(RoomUpdate::Link {
                        error: result.err(),
                    })
                    .await;
            }
        }
        // The war room closed: say so, so the others show this seat as gone at once instead
        // of "here" for half a minute.
        self.seat.left = true;
        self.seat.last_seen = (self.now)();
        let _ = call(self.table.put_seat(&self.room, &self.seat)).await;
    }

    fn take(&mut self, m: ToSync, queue: &mut VecDeque<Outgoing>) {
        match m {
            ToSync::Send(o) => queue.push_back(*o),
            ToSync::Role(r) => self.seat.role = r,
        }
    }

    /// Sends what is queued, oldest first (stopping at the first failure, so order holds),
    /// then reads what others wrote.
    async fn round(
        &mut self,
        follower: &mut Follower,
        queue: &mut VecDeque<Outgoing>,
        tx: &mpsc::Sender<RoomUpdate>,
    ) -> Result<(), String> {
        while let Some(out) = queue.front() {
            // Filled as the records are read, so a call that fails or times out after reading
            // still hands them on (the follower has moved past them).
            let mut missed = Vec::new();
            let appended =
                call(
                    self.table
                        .append(&self.room, follower, out, (self.now)(), &mut missed),
                )
                .await;
            if !missed.is_empty() {
                let _ = tx.send(RoomUpdate::Entries(missed)).await;
            }
            let seq = appended.map_err(|e| format!("{e} ({} queued)", queue.len()))?;
            let _ = tx
                .send(RoomUpdate::Synced {
                    id: out.id.clone(),
                    seq,
                })
                .await;
            queue.pop_front();
        }
        let newer = call(self.table.read_after(&self.room, follower.seen)).await?;
        let fresh = follower.take(newer);
        if !fresh.is_empty() {
            let _ = tx.send(RoomUpdate::Entries(fresh)).await;
        }
        Ok(())
    }

    async fn presence(&mut self, tx: &mpsc::Sender<RoomUpdate>) -> Result<(), String> {
        self.seat.last_seen = (self.now)();
        call(self.table.put_seat(&self.room, &self.seat)).await?;
        let seats = call(self.table.seats(&self.room)).await?;
        let _ = tx
            .send(RoomUpdate::Seats {
                seats,
                read_at: (self.now)(),
            })
            .await;
        Ok(())
    }
}
