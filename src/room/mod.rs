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
//! `table` is the I/O: the DynamoDB client behind the calls this protocol makes.

pub mod table;

use serde::{Deserialize, Serialize};

use crate::journal::Record;

/// How long a room's items live after their last write (DynamoDB TTL): a month covers the
/// review and the scale-down.
pub const TTL_SECS: i64 = 30 * 86_400;

/// The room's own item (seq 0): what every joiner runs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RoomMeta {
    pub event_name: String,
    pub runbook_yaml: String,
    pub t0: chrono::DateTime<chrono::Utc>,
    pub created_by: String,
    pub created_at: chrono::DateTime<chrono::Utc>,
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
    ids: std::collections::HashSet<String>,
}

impl Follower {
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
            if self.ids.insert(e.id.clone()) {
                out.push(e);
            }
        }
        out
    }

    /// Whether a record with this key is already in the log (a retried write that landed).
    pub fn has(&self, id: &str) -> bool {
        self.ids.contains(id)
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
            record: Record {
                ts: chrono::DateTime::from_timestamp(1_800_000_000, 0).unwrap(),
                operator: "jane".into(),
                event: Event::Note { text: id.into() },
            },
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
