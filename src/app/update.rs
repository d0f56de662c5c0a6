//! `App::update`: the one place state changes, and the journal fold (`act`, `observe`,
//! `apply`). No terminal I/O here; the only I/O is the journal append, which must succeed
//! before an operator action is applied. Its jobs live beside it: `rules.rs` (alert rules over
//! time), `ingest.rs` (data in) and `input.rs` (keys and mouse).

use std::collections::{BTreeMap, VecDeque};

use chrono::{DateTime, Utc};
use crossterm::event::{KeyEvent, MouseEvent};

use super::alerts::{self, AlertKey, Severity};
use super::state::*;
use crate::journal::{Event, JournalSink, Record};
use crate::runbook::model::Runbook;
use crate::source::Update;

/// Closed alerts kept for the screen; the journal keeps them all.
const CLOSED_ALERTS_KEPT: usize = 100;
/// Acknowledgements from the room of alerts not open here yet: how many are held, and for how
/// long before the alert opens here they still count.
const EARLY_ACKS_KEPT: usize = 100;
const EARLY_ACK_SECS: i64 = 120;
/// Observed events kept in memory while the journal cannot be written.
const UNSAVED_KEPT: usize = 10_000;

#[derive(Debug, Clone, PartialEq)]
pub enum Msg {
    /// The clock moved: re-evaluate phases, overdue items and escalation.
    Tick,
    Key(KeyEvent),
    /// A wheel turn (clicks come as `Click`).
    Mouse(MouseEvent),
    /// A left click, already placed by the UI's layout (`ui::mouse_msg`): the pane under the
    /// pointer and the row there, if any. The app never asks the UI where things are.
    Click {
        pane: Pane,
        row: Option<usize>,
    },
    Resize(u16, u16),
    Source(Update),
    /// What the room's sync task reported.
    Room(crate::room::RoomUpdate),
    /// Something the event loop wants the operator to read (a recording that stopped).
    Notice(String),
}

/// A parsed `verify:` rule: "<metric id> <op> <number>".
#[derive(Debug, Clone, PartialEq)]
pub struct VerifyRule {
    pub checklist: usize,
    pub item: usize,
    pub metric: usize,
    pub op: String,
    pub value: f64,
}

impl VerifyRule {
    pub fn holds(&self, v: f64) -> bool {
        match self.op.as_str() {
            ">=" => v >= self.value,
            "<=" => v <= self.value,
            ">" => v > self.value,
            "<" => v < self.value,
            "==" => v == self.value,
            _ => false,
        }
    }
}

/// Splits "web_instances >= 40" into its three parts. Shared with runbook validation.
pub fn parse_verify(s: &str) -> Option<(String, String, f64)> {
    let ops = [">=", "<=", "==", ">", "<"];
    let (pos, op) = ops
        .iter()
        .filter_map(|op| s.find(op).map(|p| (p, *op)))
        .min_by_key(|(p, op)| (*p, std::cmp::Reverse(op.len())))?;
    let id = s[..pos].trim();
    let value = s[pos + op.len()..].trim().parse::<f64>().ok()?;
    if id.is_empty()
        || !id.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        || !value.is_finite()
    {
        return None;
    }
    Some((id.to_string(), op.to_string(), value))
}

pub struct AppOptions {
    pub runbook_path: String,
    pub t0: DateTime<Utc>,
    pub operator: String,
    pub mode: Mode,
    /// `--allow-writes`: quota increase requests may be sent (each still confirmed).
    pub allow_writes: bool,
    /// How many times real time the clock runs (a rehearsal or replay at `--speed N`).
    pub speed: f64,
    /// Where live data comes from, for the header.
    pub data_label: Option<String>,
    /// Alone, in a team room, or watching one.
    pub seat: super::room::Seat,
    /// The room, when `seat` is in one.
    pub room: Option<super::room::RoomState>,
}

impl AppOptions {
    /// One operator alone on simulated data at normal speed, read-only: where tests,
    /// benchmarks and fuzzing start (real sessions set every field from the command line).
    pub fn simulated(
        runbook_path: impl Into<String>,
        t0: DateTime<Utc>,
        operator: impl Into<String>,
    ) -> AppOptions {
        AppOptions {
            runbook_path: runbook_path.into(),
            t0,
            operator: operator.into(),
            mode: Mode::Simulated,
            allow_writes: false,
            speed: 1.0,
            data_label: None,
            seat: Default::default(),
            room: None,
        }
    }
}

impl App {
    /// Builds the app and replays `past` journal records into it, so a restart (or a crash)
    /// resumes exactly where the journal left off.
    pub fn new(
        runbook: Runbook,
        opts: AppOptions,
        now: DateTime<Utc>,
        journal: Box<dyn JournalSink>,
        past: Vec<Record>,
    ) -> App {
        let items = runbook
            .checklists
            .iter()
            .map(|c| vec![ItemState::default(); c.items.len()])
            .collect();
        let mut app = App {
            metrics: vec![MetricState::default(); runbook.metrics.len()],
            quotas: vec![QuotaState::default(); runbook.quotas.len()],
            runbook,
            runbook_path: opts.runbook_path,
            t0: opts.t0,
            now,
            operator: opts.operator,
            mode: opts.mode,
            journal,
            alarms: BTreeMap::new(),
            alarm_episodes: BTreeMap::new(),
            items,
            alerts: Vec::new(),
            timeline: VecDeque::new(),
            sources: BTreeMap::new(),
            phase: None,
            ui: UiState::default(),
            allow_writes: opts.allow_writes,
            data_label: opts.data_label,
            speed: opts.speed,
            should_quit: false,
            dirty: true,
            verify: Vec::new(),
            last_phase_journalled: None,
            outbox: Vec::new(),
            unsaved: VecDeque::new(),
            unsaved_dropped: 0,
            commands: Vec::new(),
            faults_journalled: Default::default(),
            plan: None,
            phase_costs: Vec::new(),
            seat: opts.seat,
            room: opts.room,
            votes: BTreeMap::new(),
            roles_held: BTreeMap::new(),
            acked_by: Default::default(),
            last_update: None,
            update_reminded: None,
            early_acks: Default::default(),
            opened_at: past
                .iter()
                .find(|r| matches!(r.event, Event::SessionStarted { .. }))
                .map(|r| r.ts)
                .unwrap_or(now),
        };
        // Only live sessions poll AWS; nothing else shows what polling costs.
        if app.mode == Mode::Live {
            app.phase_costs = crate::source::aws::plan::cost_by_phase(&app.runbook);
        }
        app.verify = app.verify_rules();
        // Each record at its place in the room's order, so a restart settles conflicts as the
        // log did (this war room's own records still queued stay after everything else).
        let synced = super::room::synced_seqs(&past);
        for (n, r) in past.iter().enumerate() {
            app.apply_at(r, super::room::position(r, &synced, n as u64));
        }
        app.restore_room(&past);
        // Alerts restored as open resume their episode, so hysteresis and the clear time carry
        // over a restart instead of the alert opening again.
        let open: Vec<(AlertKey, Severity, u32)> = app
            .alerts
            .iter()
            .filter(|a| a.is_open())
            .map(|a| (a.key.clone(), a.severity, a.flaps))
            .collect();
        for (key, severity, flaps) in open {
            let episode = alerts::Episode::resumed(severity, flaps);
            match &key {
                AlertKey::Metric(id) => {
                    if let Some(i) = app.runbook.metrics.iter().position(|m| &m.id == id) {
                        app.metrics[i].severity = Some(severity);
                        app.metrics[i].episode = episode;
                    }
                }
                AlertKey::Quota(code) => {
                    if let Some(i) = app.runbook.quotas.iter().position(|q| &q.code == code) {
                        app.quotas[i].severity = Some(severity);
                        app.quotas[i].episode = episode;
                    }
                }
                AlertKey::Alarm(name) => {
                    app.alarm_episodes.insert(name.clone(), episode);
                }
                _ => {}
            }
        }
        app
    }

    pub(super) fn verify_rules(&self) -> Vec<VerifyRule> {
        let mut rules = Vec::new();
        for (c, list) in self.runbook.checklists.iter().enumerate() {
            for (i, item) in list.items.iter().enumerate() {
                let Some((id, op, value)) = item.verify.as_deref().and_then(parse_verify) else {
                    continue;
                };
                if let Some(metric) = self.runbook.metrics.iter().position(|m| m.id == id) {
                    rules.push(VerifyRule {
                        checklist: c,
                        item: i,
                        metric,
                        op,
                        value,
                    });
                }
            }
        }
        rules
    }

    /// Records this session journalled since the last call: the event loop hands alert
    /// events to the notify command.
    pub fn take_outbox(&mut self) -> Vec<Record> {
        std::mem::take(&mut self.outbox)
    }

    /// AWS writes the operator confirmed, for the event loop to carry out.
    pub fn take_commands(&mut self) -> Vec<Command> {
        std::mem::take(&mut self.commands)
    }

    /// The renderer's caller says the state on screen is current; the next change sets
    /// `dirty` again.
    pub fn mark_drawn(&mut self) {
        self.dirty = false;
    }

    pub fn journal_location(&self) -> String {
        self.journal.location()
    }

    /// Folds one message into the state. `now` is the clock's time when the message arrived.
    pub fn update(&mut self, now: DateTime<Utc>, msg: Msg) {
        let second_changed = now.timestamp() != self.now.timestamp();
        self.now = now;
        if !self.unsaved.is_empty() && self.flush_unsaved().is_ok() {
            self.flash("journal writable again: every waiting event saved".into());
        }
        match msg {
            Msg::Tick => {
                if second_changed {
                    self.dirty = true;
                }
            }
            Msg::Key(key) => self.on_key(key),
            Msg::Mouse(m) => self.on_mouse(m),
            Msg::Click { pane, row } => self.on_click(pane, row),
            Msg::Resize(w, h) => {
                self.ui.size = (w, h);
                self.dirty = true;
            }
            Msg::Source(u) => self.on_source(u),
            Msg::Room(u) => self.on_room(u),
            Msg::Notice(text) => self.flash(text),
        }
        self.evaluate_time_rules();
    }

    /// An operator's action: journalled and, only once it is durably written, applied. On a
    /// failed write the action is refused and the operator told why (typed text is kept).
    /// Records still waiting to be saved go first, so the journal keeps the order of events.
    /// In a room the decision is queued for the shared log once it is on disk; a watching seat
    /// makes no decisions at all.
    pub fn act(&mut self, event: Event) -> bool {
        if event.is_decision() && !self.seat.can_act() {
            self.flash(
                "watching: this seat is read-only (join with tminus run --room to act)".into(),
            );
            return false;
        }
        let (record, pos, written) = self.write(event, true);
        match written {
            Ok(()) => {
                self.apply_at(&record, pos);
                self.queue_for_room(&record, pos);
                self.outbox.push(record);
                true
            }
            Err(e) => {
                self.flash(format!("NOT SAVED: {e:#}"));
                false
            }
        }
    }

    /// Something the war room observed (an alert opening, escalating or closing, a phase, a
    /// check verified by data): it happened whether or not the disk takes it. Applied and sent
    /// on (the notify command still pages) at once; when the journal cannot be written it
    /// waits in `unsaved`, shown as NOT SAVED, and is written, in order, as soon as it can be.
    /// It is this war room's own observation: never sent to a room (every seat observes for
    /// itself).
    pub fn observe(&mut self, event: Event) {
        let (record, pos, written) = self.write(event, false);
        if let Err(e) = written {
            self.keep_unsaved(record.clone(), &e);
        }
        self.apply_at(&record, pos);
        self.outbox.push(record);
    }

    /// Keeps a record the journal refused, to write in order once it can; shown as NOT SAVED.
    pub(super) fn keep_unsaved(&mut self, record: Record, e: &anyhow::Error) {
        if self.unsaved.len() >= UNSAVED_KEPT {
            // A journal that has failed for this long: the oldest waiting record is lost;
            // say so rather than grow without bound.
            self.unsaved.pop_front();
            self.unsaved_dropped += 1;
        }
        self.unsaved.push_back(record);
        self.flash(format!(
            "NOT SAVED: {} event(s) waiting for the journal: {e:#}",
            self.unsaved.len()
        ));
    }

    /// The record for `event` now (stamped for the room when it is an operator's decision,
    /// `decided`, made in one), its place in the room's order, and whether it reached the
    /// journal (after every record still waiting, so the journal keeps the order of events).
    fn write(
        &mut self,
        event: Event,
        decided: bool,
    ) -> (Record, super::room::Pos, anyhow::Result<()>) {
        let mut record = Record::new(self.now, self.operator.clone(), event);
        let pos = if decided {
            self.stamp(&mut record)
        } else {
            super::room::Pos::Local
        };
        let written = self
            .flush_unsaved()
            .and_then(|()| self.journal.append(&record));
        (record, pos, written)
    }

    /// Writes the records waiting for the journal, oldest first, stopping at the first failure.
    pub(super) fn flush_unsaved(&mut self) -> anyhow::Result<()> {
        while let Some(r) = self.unsaved.front() {
            self.journal.append(r)?;
            self.unsaved.pop_front();
            self.dirty = true;
        }
        Ok(())
    }

    pub(super) fn flash(&mut self, text: String) {
        self.ui.flash = Some((text, self.now));
        self.dirty = true;
    }

    /// Applies a journal record to the state at its place in the room's order (`Pos::Local`
    /// outside rooms): used for live actions, records from the room and start-up replay.
    pub(super) fn apply_at(&mut self, r: &Record, pos: super::room::Pos) {
        self.dirty = true;
        match &r.event {
            Event::SessionStarted { .. } | Event::Note { .. } | Event::SessionEnded {} => {}
            // Bookkeeping for the room's order: never on the timeline.
            Event::RoomSynced { .. } => return,
            Event::RoleTaken { role } => self.take_role(r, role, pos),
            Event::VoteCast { role, vote, reason } => self.cast_vote(r, role, *vote, reason, pos),
            Event::StatusUpdate { .. } => {
                if self.last_update.as_ref().is_none_or(|(t, _)| r.ts >= *t) {
                    self.last_update = Some((r.ts, r.operator.clone()));
                }
            }
            // Kept off the timeline: in a game day the operators have to find faults for
            // themselves; the score reveals them.
            Event::FaultInjected { fault, .. } => {
                self.faults_journalled.insert((fault.clone(), true));
                return;
            }
            Event::FaultRecovered { fault, .. } => {
                self.faults_journalled.insert((fault.clone(), false));
                return;
            }
            Event::QuotaIncreaseRequested { code, desired, .. } => {
                if let Some(i) = self.runbook.quotas.iter().position(|q| &q.code == code) {
                    self.quotas[i].request = Some((*desired, "REQUESTING".into()));
                }
            }
            Event::QuotaRequestStatus { code, status, .. } => {
                if let Some(i) = self.runbook.quotas.iter().position(|q| &q.code == code)
                    && let Some(r) = self.quotas[i].request.as_mut()
                {
                    r.1 = status.clone();
                }
            }
            Event::PhaseEntered { phase } => self.last_phase_journalled = Some(phase.clone()),
            Event::ItemDone { item, auto } => {
                self.set_item(item, ItemStatus::Done, None, r, *auto, pos)
            }
            Event::ItemInProgress { item } => {
                self.set_item(item, ItemStatus::InProgress, None, r, false, pos)
            }
            Event::ItemReopened { item } => {
                self.set_item(item, ItemStatus::Todo, None, r, false, pos)
            }
            Event::ItemAdded { checklist, item } => {
                if let Some((c, _)) = self.runbook.add_item(checklist, item.clone()) {
                    self.items
                        .resize_with(self.runbook.checklists.len(), Vec::new);
                    self.items[c].push(ItemState::default());
                }
            }
            Event::ItemSkipped { item, reason } => self.set_item(
                item,
                ItemStatus::Skipped,
                Some(reason.clone()),
                r,
                false,
                pos,
            ),
            Event::AlertAcknowledged { key } => self.acknowledge(r, key, pos),
            Event::AlertOpened { .. }
            | Event::AlertSeverity { .. }
            | Event::AlertFlapping { .. }
            | Event::AlertEscalated { .. }
            | Event::AlertLevelSet { .. }
            | Event::AlertAckExpired { .. }
            | Event::AlertClosed { .. } => {
                if let Event::AlertClosed { key } | Event::AlertAckExpired { key } = &r.event {
                    self.acked_by.remove(key);
                }
                crate::journal::fold_alert(&mut self.alerts, r);
                if let Event::AlertOpened { key, .. } = &r.event {
                    self.take_early_ack(key, r.ts);
                }
                let closed = self.alerts.iter().filter(|a| !a.is_open()).count();
                if closed > CLOSED_ALERTS_KEPT
                    && let Some(i) = self.alerts.iter().position(|a| !a.is_open())
                {
                    self.alerts.remove(i);
                }
            }
        }
        if self.timeline.len() == TIMELINE_CAPACITY {
            self.timeline.pop_front();
        }
        self.timeline.push_back(r.clone());
    }

    /// Sets an item from a record, unless a record later in the room's order already set it
    /// (then this one is kept on the timeline, marked as lost).
    pub(super) fn set_item(
        &mut self,
        id: &str,
        status: ItemStatus,
        reason: Option<String>,
        r: &Record,
        auto: bool,
        pos: super::room::Pos,
    ) {
        let Some((c, i)) = self
            .runbook
            .checklists
            .iter()
            .enumerate()
            .find_map(|(c, list)| list.items.iter().position(|it| it.id == id).map(|i| (c, i)))
        else {
            // An item removed from the runbook since it was journalled: nothing to show.
            return;
        };
        let doer = super::room::Doer::of(r, pos);
        if !self.latest_wins(
            self.items[c][i].by.clone(),
            doer.as_ref(),
            "change to this item",
        ) {
            return;
        }
        self.items[c][i] = ItemState {
            status,
            skip_reason: reason,
            changed: Some((r.operator.clone(), r.ts)),
            auto,
            by: doer,
        };
    }

    /// The one rule for a target that the latest record sets (an item, a role's vote, an
    /// operator's role): whether `new` replaces what `current` set, by the room's order, with
    /// a conflict noted on both when they were made without seeing each other.
    fn latest_wins(
        &mut self,
        current: Option<super::room::Doer>,
        new: Option<&super::room::Doer>,
        what: &str,
    ) -> bool {
        let new_pos = super::room::Doer::pos_of(new);
        let wins = new_pos.wins_over(super::room::Doer::pos_of(current.as_ref()));
        if let (Some(cur), Some(new)) = (&current, new) {
            if wins {
                self.settle_conflict(cur, new, true, what);
            } else {
                self.settle_conflict(new, cur, true, what);
            }
        }
        wins
    }

    /// An acknowledgement: the first in the room's order stands; a later one is kept on the
    /// timeline, marked as lost.
    fn acknowledge(&mut self, r: &Record, key: &AlertKey, pos: super::room::Pos) {
        let doer = super::room::Doer::of(r, pos);
        let open = self
            .alerts
            .iter()
            .rposition(|a| a.is_open() && &a.key == key);
        if let Some(i) = open
            && self.alerts[i].acked.is_some()
            && let Some(cur) = self.acked_by.get(key).cloned()
            && let Some(d) = &doer
        {
            if pos < cur.pos {
                // Earlier in the log than the one shown (ours, still queued): it stands.
                self.alerts[i].acked = Some((r.operator.clone(), r.ts));
                self.acked_by.insert(key.clone(), d.clone());
                self.settle_conflict(d, &cur, false, "acknowledgement");
            } else {
                self.settle_conflict(&cur, d, false, "acknowledgement");
            }
        } else if open.is_none() && matches!(pos, super::room::Pos::Log(_)) {
            // Another seat acknowledged an alert this one has not opened yet (its data came a
            // little later): held, so the alert opens here acknowledged instead of escalating.
            if self.early_acks.len() >= EARLY_ACKS_KEPT {
                self.early_acks.pop_front();
            }
            self.early_acks.push_back((r.clone(), pos));
        } else {
            crate::journal::fold_alert(&mut self.alerts, r);
            if let Some(d) = doer {
                self.acked_by.insert(key.clone(), d);
            }
        }
    }

    /// An alert just opened: an acknowledgement another seat made of it shortly before stands.
    fn take_early_ack(&mut self, key: &AlertKey, opened: DateTime<Utc>) {
        self.early_acks
            .retain(|(a, _)| (opened - a.ts).num_seconds() <= EARLY_ACK_SECS);
        if let Some(i) = self
            .early_acks
            .iter()
            .position(|(a, _)| matches!(&a.event, Event::AlertAcknowledged { key: k } if k == key))
            && let Some((ack, pos)) = self.early_acks.remove(i)
        {
            self.acknowledge(&ack, key, pos);
        }
    }

    fn take_role(&mut self, r: &Record, role: &str, pos: super::room::Pos) {
        let doer = super::room::Doer::of(r, pos);
        let current = self.roles_held.get(&r.operator).and_then(|h| h.by.clone());
        // One operator's own records never conflict with each other: the later one holds.
        if self.latest_wins(current, doer.as_ref(), "role") {
            self.roles_held.insert(
                r.operator.clone(),
                RoleHeld {
                    role: role.to_string(),
                    by: doer,
                },
            );
        }
    }

    fn cast_vote(
        &mut self,
        r: &Record,
        role: &str,
        vote: crate::journal::Vote,
        reason: &str,
        pos: super::room::Pos,
    ) {
        let doer = super::room::Doer::of(r, pos);
        let current = self.votes.get(role).and_then(|v| v.by.clone());
        if !self.latest_wins(current, doer.as_ref(), "vote for this role") {
            return;
        }
        self.votes.insert(
            role.to_string(),
            VoteState {
                vote,
                reason: reason.to_string(),
                operator: r.operator.clone(),
                at: r.ts,
                by: doer,
            },
        );
    }
}
