//! The war room as one seat in a team's room (`--room`): which records go to the shared log,
//! where each record stands in the log's order, and the rule that settles two people acting
//! on one thing at once (the later in the log wins; the other is kept and shown as lost).
//!
//! The sync task (`crate::room::sync`) does the I/O; this module only folds what it reports.
//! The local journal stays the durable cache: a decision is written here first (with its
//! idempotency key), shown as queued until the room takes it, and sent again after a restart
//! if the room never said it had it.

use std::collections::{HashMap, HashSet, VecDeque};

use chrono::{DateTime, Utc};

use super::state::App;
use crate::journal::{Event, Record, RoomStamp};
use crate::room::{Entry, Outgoing, Presence, RoomUpdate};

/// Conflict notes kept for the timeline; the journal keeps every record.
const CONFLICTS_KEPT: usize = 1_000;

/// Where this war room sits: alone, in a room with a say, or watching one. The policies below
/// are the only place that decides what a seat may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Seat {
    /// No room: the journal is this operator's own.
    #[default]
    Solo,
    /// One of the team in a room: decisions go to the shared log.
    Member,
    /// `tminus watch`: everything on screen, nothing it can do.
    Watcher,
}

impl Seat {
    /// Whether the operator may tick, note, acknowledge, vote or post updates.
    pub fn can_act(self) -> bool {
        self != Seat::Watcher
    }

    /// Whether the seat's vote is counted in the go/no-go poll.
    pub fn votes(self) -> bool {
        self != Seat::Watcher
    }

    /// Whether this seat may run the notify command at all (a watcher never pages; in a room
    /// only the pager seat does, see `RoomState::is_pager`).
    pub fn may_page(self) -> bool {
        self != Seat::Watcher
    }

    pub fn label(self) -> &'static str {
        match self {
            Seat::Solo => "solo",
            Seat::Member => "member",
            Seat::Watcher => "watching",
        }
    }
}

/// Where a record stands in the order that decides conflicts. Records this war room observed
/// for itself (`Local`) always apply; a record in the room's log (`Log`) applies unless a
/// later one already did; this war room's own decisions still waiting for the room
/// (`Pending`) will land after everything seen so far, so they win over what arrives
/// meanwhile.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default, Hash)]
pub enum Pos {
    #[default]
    Local,
    Log(u64),
    Pending(u64),
}

impl Pos {
    /// Whether a record at `self` replaces the effect of one at `current`.
    pub fn wins_over(self, current: Pos) -> bool {
        self == Pos::Local || self >= current
    }
}

/// A seat not heard from for this long is shown as gone (presence is written every 5 s).
pub const SEAT_GONE_AFTER_SECS: i64 = 30;

/// The link to the room's table, as the sync task reports it, on the session's clock.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Link {
    pub last_ok: Option<DateTime<Utc>>,
    /// The latest failure, and when the failures began; cleared by the next success.
    pub error: Option<(String, DateTime<Utc>)>,
}

/// The room as this war room knows it.
#[derive(Debug, Clone, Default)]
pub struct RoomState {
    pub name: String,
    /// This process's part of every idempotency key it writes.
    pub session: String,
    next: u64,
    /// Own decisions not yet in the log, oldest first, with their place among them.
    pub queued: VecDeque<(String, u64)>,
    /// Every record id the local journal holds (own and others'), with its seq when known.
    known: HashMap<String, Option<u64>>,
    /// The highest seq folded: the `base` of the next decision.
    pub seen: u64,
    /// Records for the sync task to send, taken by the event loop.
    pub(crate) outgoing: Vec<Outgoing>,
    pub link: Link,
    /// The presence items as last read, and when (wall clock).
    pub seats: Vec<Presence>,
    pub seats_read_at: Option<DateTime<Utc>>,
    /// Record id -> how a conflict went for it, for the timeline.
    pub conflicts: HashMap<String, String>,
    conflict_order: VecDeque<String>,
}

impl RoomState {
    pub fn new(name: impl Into<String>, session: impl Into<String>) -> RoomState {
        RoomState {
            name: name.into(),
            session: session.into(),
            ..RoomState::default()
        }
    }

    /// A fresh idempotency key, unique to this process.
    fn next_id(&mut self) -> (String, u64) {
        self.next += 1;
        (format!("{}:{}", self.session, self.next), self.next)
    }

    /// The first seq from which the room must be read again on start: every seq below it is in
    /// the local journal.
    pub fn contiguous_seen(&self) -> u64 {
        let seqs: HashSet<u64> = self.known.values().flatten().copied().collect();
        (1..).find(|s| !seqs.contains(s)).unwrap_or(1) - 1
    }

    /// Ids already in the local journal with their seq, for the sync task's follower.
    pub fn known_seqs(&self) -> Vec<(String, u64)> {
        self.known
            .iter()
            .filter_map(|(id, s)| s.map(|s| (id.clone(), s)))
            .collect()
    }

    /// Seconds since `seat` was last heard from, as of the last presence read.
    pub fn silent_for(&self, seat: &Presence) -> i64 {
        self.seats_read_at
            .map_or(0, |t| (t - seat.last_seen).num_seconds().max(0))
    }

    /// The seats heard from lately, in the order they joined.
    pub fn here(&self) -> impl Iterator<Item = &Presence> {
        self.seats
            .iter()
            .filter(|s| !s.left && self.silent_for(s) < SEAT_GONE_AFTER_SECS)
    }

    /// Seats that left or went quiet within the hour, most recently seen first.
    pub fn away(&self) -> Vec<&Presence> {
        let mut away: Vec<&Presence> = self
            .seats
            .iter()
            .filter(|s| {
                let silent = self.silent_for(s);
                silent < 3_600 && (s.left || silent >= SEAT_GONE_AFTER_SECS)
            })
            .collect();
        away.sort_by_key(|s| std::cmp::Reverse(s.last_seen));
        away
    }

    /// The seat that runs the notify command for the room: the longest-present member seat
    /// still heard from (ties by session id), so an alert pages once, not once per seat.
    /// Every seat decides from the same presence items; if they briefly disagree an alert
    /// may page twice, never zero times for longer than `SEAT_GONE_AFTER_SECS`.
    pub fn is_pager(&self) -> bool {
        let pager = self
            .here()
            .filter(|s| !s.watcher)
            .min_by(|a, b| (a.joined_at, &a.session).cmp(&(b.joined_at, &b.session)));
        // Before the first presence read this seat pages: missing a page is worse than two.
        pager.is_none_or(|p| p.session == self.session)
    }

    fn note_conflict(&mut self, id: &str, text: String) {
        if self.conflicts.insert(id.to_string(), text).is_none() {
            self.conflict_order.push_back(id.to_string());
            if self.conflict_order.len() > CONFLICTS_KEPT
                && let Some(old) = self.conflict_order.pop_front()
            {
                self.conflicts.remove(&old);
            }
        }
    }
}

/// Where `record` stands, given the seqs the journal recorded for this war room's own records.
pub fn position(record: &Record, synced: &HashMap<String, u64>, local_n: u64) -> Pos {
    match &record.room {
        None => Pos::Local,
        Some(RoomStamp { seq: Some(s), .. }) => Pos::Log(*s),
        Some(RoomStamp { id, .. }) => match synced.get(id) {
            Some(s) => Pos::Log(*s),
            None => Pos::Pending(local_n),
        },
    }
}

/// The seqs `room_synced` records give this war room's own records.
pub fn synced_seqs(records: &[Record]) -> HashMap<String, u64> {
    records
        .iter()
        .filter_map(|r| match &r.event {
            Event::RoomSynced { id, seq } => Some((id.clone(), *seq)),
            _ => None,
        })
        .collect()
}

impl App {
    /// Stamps a decision for the room (a fresh idempotency key and the log position it was
    /// made at) when this war room is in one; records it observed for itself stay unstamped.
    pub(super) fn stamp(&mut self, record: &mut Record) -> Pos {
        let Some(room) = self.room.as_mut() else {
            return Pos::Local;
        };
        if !record.event.is_decision() {
            return Pos::Local;
        }
        let (id, n) = room.next_id();
        record.room = Some(RoomStamp {
            id,
            seq: None,
            base: room.seen,
        });
        Pos::Pending(n)
    }

    /// After a stamped record reached the local journal: queue it for the room.
    pub(super) fn queue_for_room(&mut self, record: &Record, pos: Pos) {
        let (Some(room), Some(stamp)) = (self.room.as_mut(), record.room.as_ref()) else {
            return;
        };
        let Pos::Pending(n) = pos else { return };
        room.known.insert(stamp.id.clone(), None);
        room.queued.push_back((stamp.id.clone(), n));
        room.outgoing.push(Outgoing {
            id: stamp.id.clone(),
            record: record.clone(),
        });
    }

    /// Records for the sync task to send, in the order they were made.
    pub fn take_room_outgoing(&mut self) -> Vec<Outgoing> {
        self.room
            .as_mut()
            .map(|r| std::mem::take(&mut r.outgoing))
            .unwrap_or_default()
    }

    /// On start: what the journal says about the room (ids and seqs known, own records still
    /// queued, to send again with their keys).
    pub(super) fn restore_room(&mut self, past: &[Record]) {
        let synced = synced_seqs(past);
        let Some(room) = self.room.as_mut() else {
            return;
        };
        for (n, r) in past.iter().enumerate() {
            let Some(stamp) = &r.room else { continue };
            let seq = stamp.seq.or_else(|| synced.get(&stamp.id).copied());
            room.known.insert(stamp.id.clone(), seq);
            if let Some(s) = seq {
                room.seen = room.seen.max(s);
            } else {
                room.queued.push_back((stamp.id.clone(), n as u64));
                room.outgoing.push(Outgoing {
                    id: stamp.id.clone(),
                    record: r.clone(),
                });
            }
        }
        // Own keys continue after the journal's: a restarted process writes new ids only.
        room.next = past.len() as u64;
    }

    /// What the sync task reported.
    pub fn on_room(&mut self, update: RoomUpdate) {
        self.dirty = true;
        match update {
            RoomUpdate::Entries(entries) => {
                for e in entries {
                    self.take_entry(e);
                }
            }
            RoomUpdate::Synced { id, seq } => self.synced(&id, seq),
            RoomUpdate::Link { error } => {
                let now = self.now;
                if let Some(room) = self.room.as_mut() {
                    match error {
                        None => {
                            room.link.last_ok = Some(now);
                            room.link.error = None;
                        }
                        Some(e) => {
                            let since = room.link.error.as_ref().map_or(now, |(_, t)| *t);
                            room.link.error = Some((e, since));
                        }
                    }
                }
            }
            RoomUpdate::Seats { mut seats, read_at } => {
                if let Some(room) = self.room.as_mut() {
                    seats.sort_by(|a, b| (a.joined_at, &a.session).cmp(&(b.joined_at, &b.session)));
                    room.seats = seats;
                    room.seats_read_at = Some(read_at);
                }
            }
        }
    }

    /// Folds one record of the log: an own record that landed is marked synced; one already
    /// in the journal is skipped; anything else is written to the local journal (the cache)
    /// and applied at its place in the log.
    fn take_entry(&mut self, e: Entry) {
        let Some(room) = self.room.as_mut() else {
            return;
        };
        room.seen = room.seen.max(e.seq);
        match room.known.get(&e.id) {
            Some(None) => return self.synced(&e.id, e.seq),
            Some(Some(_)) => return,
            None => {}
        }
        room.known.insert(e.id.clone(), Some(e.seq));
        let mut record = e.record;
        let base = record.room.as_ref().map(|s| s.base).unwrap_or(0);
        record.room = Some(RoomStamp {
            id: e.id,
            seq: Some(e.seq),
            base,
        });
        // Only decisions travel; anything else in a log (a hand-edited table) is not folded.
        if !record.event.is_decision() {
            return;
        }
        // In the room's log it happened, whether or not this disk takes it: kept in order for
        // the journal like an observed event.
        self.cache(record.clone());
        self.apply_at(&record, Pos::Log(e.seq));
    }

    /// Writes a record read from the room to the local journal, or keeps it waiting with the
    /// observed events when the journal cannot take it.
    fn cache(&mut self, record: Record) {
        let written = self
            .flush_unsaved()
            .and_then(|()| self.journal.append(&record));
        if let Err(e) = written {
            self.keep_unsaved(record, &e);
        }
    }

    fn synced(&mut self, id: &str, seq: u64) {
        let Some(room) = self.room.as_mut() else {
            return;
        };
        let Some(at) = room.queued.iter().position(|(q, _)| q == id) else {
            return;
        };
        let (_, n) = room.queued.remove(at).unwrap_or_default();
        room.known.insert(id.to_string(), Some(seq));
        room.seen = room.seen.max(seq);
        // Pending(n) now has its place in the log, wherever it set something.
        let doers = self
            .items
            .iter_mut()
            .flatten()
            .filter_map(|st| st.by.as_mut())
            .chain(self.votes.values_mut().filter_map(|v| v.by.as_mut()))
            .chain(self.roles_held.values_mut().filter_map(|r| r.by.as_mut()))
            .chain(self.acked_by.values_mut());
        for d in doers {
            if d.pos == Pos::Pending(n) {
                d.pos = Pos::Log(seq);
            }
        }
        // Kept so a restart knows the order; never shown.
        self.cache(Record::new(
            self.now,
            self.operator.clone(),
            Event::RoomSynced {
                id: id.to_string(),
                seq,
            },
        ));
    }

    /// Records how a conflict went, on both records, when `later` (in the log's order) was
    /// made without its writer having seen `earlier`: the later wins for what the latest record
    /// sets (`later_wins`), the earlier for what the first one does (an acknowledgement).
    pub(super) fn settle_conflict(
        &mut self,
        earlier: &Doer,
        later: &Doer,
        later_wins: bool,
        what: &str,
    ) {
        if !earlier.concurrent_with(later) {
            return;
        }
        let Some(room) = self.room.as_mut() else {
            return;
        };
        let (winner, loser) = if later_wins {
            (later, earlier)
        } else {
            (earlier, later)
        };
        room.note_conflict(
            &loser.id,
            format!(
                "lost to {}'s {what} (made at the same time; the room's log decides)",
                winner.operator
            ),
        );
        room.note_conflict(
            &winner.id,
            format!(
                "won over {}'s {what} (made at the same time)",
                loser.operator
            ),
        );
    }

    /// How the room settled a record, if it was in a conflict.
    pub fn conflict_note(&self, record: &Record) -> Option<&str> {
        let room = self.room.as_ref()?;
        let id = &record.room.as_ref()?.id;
        room.conflicts.get(id).map(String::as_str)
    }

    /// Whether a record of this war room's own is still waiting for the room.
    pub fn is_queued(&self, record: &Record) -> bool {
        let (Some(room), Some(s)) = (self.room.as_ref(), record.room.as_ref()) else {
            return false;
        };
        s.seq.is_none() && room.queued.iter().any(|(q, _)| q == &s.id)
    }
}

/// Who made a record and where it stands: what the conflict rule compares.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Doer {
    pub id: String,
    pub operator: String,
    pub pos: Pos,
    /// The last seq its writer had folded when acting.
    pub base: u64,
}

impl Doer {
    /// Where what `doer` set stands: `Local` when no record of the room's log set it.
    pub fn pos_of(doer: Option<&Doer>) -> Pos {
        doer.map_or(Pos::Local, |d| d.pos)
    }

    /// A stamped record at `pos`; none for records outside the room's log.
    pub fn of(record: &Record, pos: Pos) -> Option<Doer> {
        let s = record.room.as_ref()?;
        Some(Doer {
            id: s.id.clone(),
            operator: record.operator.clone(),
            pos,
            base: s.base,
        })
    }

    /// Whether `later` (after this one in the log) was made by someone else without seeing
    /// this one: its writer had folded less than this record's place.
    pub fn concurrent_with(&self, later: &Doer) -> bool {
        let Pos::Log(seq) = self.pos else {
            return false;
        };
        self.operator != later.operator && later.base < seq
    }
}

#[cfg(test)]
mod seat_tests {
    use super::*;

    #[test]
    fn a_watcher_can_do_nothing_and_is_not_counted() {
        let all = [Seat::Solo, Seat::Member, Seat::Watcher];
        assert_eq!(all.map(Seat::can_act), [true, true, false]);
        assert_eq!(all.map(Seat::votes), [true, true, false]);
        assert_eq!(all.map(Seat::may_page), [true, true, false]);
    }

    #[test]
    fn later_in_the_log_wins_and_own_waiting_records_win_over_what_arrives() {
        assert!(Pos::Log(5).wins_over(Pos::Log(4)));
        assert!(!Pos::Log(4).wins_over(Pos::Log(5)));
        assert!(!Pos::Log(9).wins_over(Pos::Pending(1)));
        assert!(Pos::Pending(2).wins_over(Pos::Log(9)));
        assert!(Pos::Local.wins_over(Pos::Pending(3)));
        assert!(Pos::Log(1).wins_over(Pos::Local));
    }
}
