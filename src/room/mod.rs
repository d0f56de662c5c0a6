//! The team's war room: one ordered log of journal records per room, shared through a
//! DynamoDB table, so what one person ticks, acknowledges or notes every other tminus in the
//! room folds into its state too.
//!
//! The protocol, all in this module:
//! - One item per record, keyed by the room (partition key `room`) and a sequence number (sort
//!   key `seq`, from 1). A record is appended with a conditional write at the next number
//!   (`attribute_not_exists(seq)`): two writers can never take the same place. The loser reads
//!   what it missed, folds it, and tries the next number.
//! - Every record carries an idempotency key (`id`: the writing session and its own count), so
//!   a write retried after a timeout that had in fact landed is found among the newer records
//!   and never written twice.
//! - Item 0 holds the room itself: the runbook's text and T-0, fixed by the first session.
//! - Every item carries `ttl` (epoch seconds): a finished room ages out of the table.
//!
//! - Presence lives beside the log, in the partition `<room>#seats`: one item per seat,
//!   rewritten every few seconds (who, their role, watching or not, last seen).
//!
//! `table` is the I/O: the DynamoDB client behind the calls this protocol makes; `sync` the
//! task that runs them for a war room while it is open.

pub mod sync;
pub mod table;

use serde::{Deserialize, Serialize};

use crate::journal::Record;

/// How long a room's items live after their last write (DynamoDB TTL): a month covers the
/// review and the scale-down.
pub const TTL_SECS: i64 = 30 * 86_400;

/// Whether `s` is `min..=max` letters, digits, `.`, `_` or `-`: what room and table names may
/// hold (DynamoDB's rule for table names; a room name is part of every key).
fn key_name(s: &str, min: usize, max: usize) -> bool {
    (min..=max).contains(&s.len())
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
}

/// `--room NAME`: 1 to 100 letters, digits, `.`, `_` and `-`.
pub fn parse_room_name(s: &str) -> Result<String, String> {
    key_name(s, 1, 100).then(|| s.to_string()).ok_or_else(|| {
        format!(
            "{:?}: a room name is 1 to 100 letters, digits, '.', '_' or '-' (e.g. spring-sale)",
            crate::text::clean(s)
        )
    })
}

/// `--room-table TABLE`: DynamoDB's table-name rule.
pub fn parse_table_name(s: &str) -> Result<String, String> {
    key_name(s, 3, 255).then(|| s.to_string()).ok_or_else(|| {
        format!(
            "{:?}: a DynamoDB table name is 3 to 255 letters, digits, '.', '_' or '-'",
            crate::text::clean(s)
        )
    })
}

/// The room's own item (seq 0): what every joiner runs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RoomMeta {
    pub event_name: String,
    pub runbook_yaml: String,
    pub t0: chrono::DateTime<chrono::Utc>,
    pub created_by: String,
    pub created_at: chrono::DateTime<chrono::Utc>,
    /// Where the room's data comes from: "live", "simulated" or "rehearsal". Every seat plays
    /// the same: a simulated room's seats run the same simulator with the same seed.
    #[serde(default = "live")]
    pub mode: String,
    #[serde(default)]
    pub seed: u64,
    /// A rehearsal's clock: how fast, and where on the runbook's timeline it stood at
    /// `created_at`, so every seat's scaled clock shows the same time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rehearsal: Option<RoomClock>,
}

fn live() -> String {
    "live".into()
}

/// A rehearsal room's shared clock.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct RoomClock {
    pub speed: f64,
    /// The session time at `RoomMeta::created_at`.
    pub started_at: chrono::DateTime<chrono::Utc>,
    #[serde(default)]
    pub surprise: bool,
}

impl RoomClock {
    /// The session time at wall time `now`.
    pub fn session_time(
        &self,
        created_at: chrono::DateTime<chrono::Utc>,
        now: chrono::DateTime<chrono::Utc>,
    ) -> chrono::DateTime<chrono::Utc> {
        let real_ms = (now - created_at).num_milliseconds().max(0) as f64;
        let ms = (real_ms * self.speed).min(366.0 * 86_400_000.0) as i64;
        self.started_at + chrono::Duration::milliseconds(ms)
    }
}

/// What the sync task tells the war room.
#[derive(Debug, Clone, PartialEq)]
pub enum RoomUpdate {
    /// New records of the log, in order (others', and this war room's own that landed).
    Entries(Vec<Entry>),
    /// This war room's record `id` is in the log at `seq`.
    Synced { id: String, seq: u64 },
    /// The table answered (`None`), or failed and why.
    Link { error: Option<String> },
    /// Who is in the room, as read at `read_at` (wall-clock time, like the items' `last_seen`:
    /// a rehearsal's session clock runs elsewhere).
    Seats {
        seats: Vec<Presence>,
        read_at: chrono::DateTime<chrono::Utc>,
    },
}

/// One seat's presence item.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Presence {
    pub session: String,
    pub operator: String,
    #[serde(default)]
    pub role: Option<String>,
    #[serde(default)]
    pub watcher: bool,
    pub joined_at: chrono::DateTime<chrono::Utc>,
    pub last_seen: chrono::DateTime<chrono::Utc>,
    /// The seat closed its war room (written on the way out).
    #[serde(default)]
    pub left: bool,
}

/// A seat's sort key in `<room>#seats`: a stable number from its session id (FNV-1a), within
/// the 53 bits every JSON reader keeps exact.
pub fn seat_number(session: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in session.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h & ((1 << 53) - 1)
}

/// One record of the shared log, where it sits and who wrote it.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub seq: u64,
    /// `<session>:<n>`: unique per write, the same on every retry of it.
    pub id: String,
    pub record: Record,
}

/// A record waiting to be appended, with its idempotency key.
#[derive(Debug, Clone, PartialEq)]
pub struct Outgoing {
    pub id: String,
    pub record: Record,
}

/// What one instance knows of the shared log: everything up to `seen`, in order, and the
/// keys it has seen (so nothing is folded or written twice).
#[derive(Debug, Default)]
pub struct Follower {
    pub seen: u64,
    /// Every key seen, with its place in the log.
    ids: std::collections::HashMap<String, u64>,
}

impl Follower {
    /// A follower that already holds the log up to `seen` and the keys in `known` (what a
    /// war room's local journal has from an earlier run).
    pub fn resume(seen: u64, known: impl IntoIterator<Item = (String, u64)>) -> Follower {
        Follower {
            seen,
            ids: known.into_iter().collect(),
        }
    }

    /// Takes newly read entries (any order, possibly overlapping what was seen); returns the
    /// ones not seen before, in log order, to fold.
    pub fn take(&mut self, mut entries: Vec<Entry>) -> Vec<Entry> {
        entries.sort_by_key(|e| e.seq);
        let mut out = Vec::new();
        for e in entries {
            if e.seq <= self.seen {
                continue;
            }
            self.seen = e.seq;
            if !self.ids.contains_key(&e.id) {
                self.ids.insert(e.id.clone(), e.seq);
                out.push(e);
            }
        }
        out
    }

    /// Whether a record with this key is already in the log (a retried write that landed).
    pub fn has(&self, id: &str) -> bool {
        self.ids.contains_key(id)
    }

    /// Where the record with this key is in the log, if it is.
    pub fn seq_of(&self, id: &str) -> Option<u64> {
        self.ids.get(id).copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::journal::Event;

    fn entry(seq: u64, id: &str) -> Entry {
        Entry {
            seq,
            id: id.into(),
            record: Record::new(
                chrono::DateTime::from_timestamp(1_800_000_000, 0).unwrap(),
                "jane",
                Event::Note { text: id.into() },
            ),
        }
    }

    #[test]
    fn a_follower_folds_each_record_once_in_log_order() {
        let mut f = Follower::default();
        let got = f.take(vec![entry(2, "b:1"), entry(1, "a:1")]);
        assert_eq!(got.iter().map(|e| e.seq).collect::<Vec<_>>(), vec![1, 2]);
        // A page read again, and a duplicate key at a later place (never written by this
        // protocol, but a hand-edited table must not double a tick).
        let got = f.take(vec![entry(2, "b:1"), entry(3, "c:1"), entry(4, "a:1")]);
        assert_eq!(
            got.iter().map(|e| e.id.as_str()).collect::<Vec<_>>(),
            vec!["c:1"]
        );
        assert_eq!(f.seen, 4);
        assert!(f.has("a:1") && !f.has("d:1"));
    }
}
