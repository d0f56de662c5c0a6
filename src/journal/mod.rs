//! The journal: an append-only JSON-lines file holding every operator action and every alert.
//!
//! A record is written, flushed and fsynced before the app applies it, so whatever the screen
//! shows as done survives a crash. On start-up the app's operator state is the fold of the file.
//!
//! This module is the journal's one owner: it locks it (a `<journal>.lock` beside it, held for
//! the whole session, so rotation happens under the lock too), moves an earlier session aside
//! under a unique name when asked, and repairs a torn tail (a crash or a full disk mid-write)
//! by moving the partial line to a side file before anything is appended after it.

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

pub mod describe;

use crate::vocab::{AlertKey, Severity};

/// One line of the journal.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Record {
    pub ts: DateTime<Utc>,
    pub operator: String,
    /// Where the record stands in a team room's shared log (`--room`); absent outside rooms
    /// and on what this war room observed for itself (alerts, phases, data-verified ticks).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub room: Option<RoomStamp>,
    #[serde(flatten)]
    pub event: Event,
}

impl Record {
    /// A record outside any room's log.
    pub fn new(ts: DateTime<Utc>, operator: impl Into<String>, event: Event) -> Record {
        Record {
            ts,
            operator: operator.into(),
            room: None,
            event,
        }
    }
}

/// A record's place in the room's shared log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoomStamp {
    /// Idempotency key, `<session>:<n>`: the same on every retry of the write.
    pub id: String,
    /// Its sequence number in the room, once known (a record written here waits for
    /// `room_synced`; one read from the room has it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seq: Option<u64>,
    /// The last sequence number its writer had folded when acting: a record whose `base` is
    /// below another's `seq` on the same target was made without seeing it (concurrent).
    #[serde(default)]
    pub base: u64,
}

/// A go/no-go vote.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Vote {
    Go,
    NoGo,
}

impl Vote {
    pub fn label(self) -> &'static str {
        match self {
            Vote::Go => "GO",
            Vote::NoGo => "NO-GO",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Event {
    /// A session opened the war room.
    SessionStarted {
        runbook: String,
        event_name: String,
        t0: DateTime<Utc>,
        mode: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        seed: Option<u64>,
        /// A game day (`tminus rehearse`): simulated data, injected faults, a scaled clock.
        /// Absent from journals written before rehearsals existed, hence the defaults.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        rehearsal: bool,
        /// How many times real time the session's clock ran (rehearsals only).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        speed: Option<f64>,
        /// Whether `--surprise` added unannounced faults.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        surprise: bool,
    },
    /// The operator closed the war room (written by rehearsals, whose score needs the end).
    SessionEnded {},
    /// A rehearsal fault began, as the simulator reported it. `at` is when it began on the
    /// session's clock, which may be a little before the record's `ts`.
    FaultInjected {
        fault: String,
        description: String,
        target: String,
        at: DateTime<Utc>,
        until: DateTime<Utc>,
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        surprise: bool,
        /// Alerts that count as detecting it.
        #[serde(default)]
        affects: Vec<AlertKey>,
    },
    /// A rehearsal fault ended: its target is back to normal.
    FaultRecovered {
        fault: String,
        at: DateTime<Utc>,
    },
    PhaseEntered {
        phase: String,
    },
    ItemDone {
        item: String,
        /// Ticked by a `verify:` rule rather than by hand.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        auto: bool,
    },
    ItemInProgress {
        item: String,
    },
    /// An item the war room added to a checklist: an increase the capacity plan says to
    /// request before its lead time runs out.
    ItemAdded {
        checklist: String,
        item: crate::runbook::model::Item,
    },
    /// Back to todo (untick).
    ItemReopened {
        item: String,
    },
    ItemSkipped {
        item: String,
        reason: String,
    },
    Note {
        text: String,
    },
    AlertOpened {
        key: AlertKey,
        severity: Severity,
        message: String,
    },
    /// Severity changed while open (warn to crit or back).
    AlertSeverity {
        key: AlertKey,
        severity: Severity,
        message: String,
    },
    /// The open alert's signal cleared and breached again `flaps` times: it stays one alert,
    /// shown as flapping. Journalled when it starts flapping.
    AlertFlapping {
        key: AlertKey,
        flaps: u32,
    },
    AlertEscalated {
        key: AlertKey,
        level: usize,
        who: String,
        contact: String,
    },
    AlertAcknowledged {
        key: AlertKey,
    },
    AlertClosed {
        key: AlertKey,
    },
    /// An operator took a role from the runbook's `roles:` (one role per operator at a time).
    RoleTaken {
        role: String,
    },
    /// A go/no-go vote, for the role the operator holds.
    VoteCast {
        role: String,
        vote: Vote,
        #[serde(default)]
        reason: String,
    },
    /// The scribe's structured status update (also handed to the notify command).
    StatusUpdate {
        conditions: String,
        actions: String,
        needs: String,
    },
    /// An operator moved an alert's escalation by hand: to `level` (an index into the
    /// runbook's levels), up or down; the escalation clock restarts from here.
    AlertLevelSet {
        key: AlertKey,
        level: usize,
        who: String,
        contact: String,
    },
    /// An acknowledged alert not resolved within `escalation.ack_expires`: the
    /// acknowledgement lapses and escalation resumes.
    AlertAckExpired {
        key: AlertKey,
    },
    /// The room took this war room's record `id` at `seq` (kept so a restart knows the order).
    RoomSynced {
        id: String,
        seq: u64,
    },
    /// An operator confirmed a quota increase request (only with --allow-writes).
    QuotaIncreaseRequested {
        service: String,
        code: String,
        current: Option<f64>,
        desired: f64,
    },
    /// What AWS said about a quota increase request: sent, its status, or why it failed.
    QuotaRequestStatus {
        code: String,
        status: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        request_id: Option<String>,
    },
}

impl Event {
    /// Whether the record is an operator's decision (made through `App::act`), shared with the
    /// team's room: ticks, notes, acknowledgements, roles, votes, status updates, escalation by
    /// hand, quota requests. Everything else (alerts, phases, data-verified ticks, the plan's items) each
    /// war room observes for itself from the same data, so the room never holds one alert per
    /// instance.
    pub fn is_decision(&self) -> bool {
        match self {
            Event::ItemDone { auto, .. } => !auto,
            Event::ItemInProgress { .. }
            | Event::ItemReopened { .. }
            | Event::ItemSkipped { .. }
            | Event::Note { .. }
            | Event::AlertAcknowledged { .. }
            | Event::AlertLevelSet { .. }
            | Event::RoleTaken { .. }
            | Event::VoteCast { .. }
            | Event::StatusUpdate { .. }
            | Event::QuotaIncreaseRequested { .. } => true,
            Event::SessionStarted { .. }
            | Event::SessionEnded {}
            | Event::FaultInjected { .. }
            | Event::FaultRecovered { .. }
            | Event::PhaseEntered { .. }
            | Event::ItemAdded { .. }
            | Event::AlertOpened { .. }
            | Event::AlertSeverity { .. }
            | Event::AlertFlapping { .. }
            | Event::AlertEscalated { .. }
            | Event::AlertAckExpired { .. }
            | Event::AlertClosed { .. }
            // What AWS answered this seat's request: the request itself is the decision.
            | Event::QuotaRequestStatus { .. }
            | Event::RoomSynced { .. } => false,
        }
    }

    /// The checklist item a decision is about, if any: the target whose latest record in the
    /// log wins.
    pub fn item(&self) -> Option<&str> {
        match self {
            Event::ItemDone { item, .. }
            | Event::ItemInProgress { item }
            | Event::ItemReopened { item }
            | Event::ItemSkipped { item, .. } => Some(item),
            _ => None,
        }
    }
}

/// Folds one journal record into the alert episodes, oldest first: the one rule the war room
/// (live and on restart), `report` and the game-day score share. An `alert_opened` for a key
/// already open (a journal cut short by a crash between the two) closes the earlier episode
/// where the new one opens. Returns whether the record was about an alert.
pub fn fold_alert(alerts: &mut Vec<crate::vocab::Alert>, r: &Record) -> bool {
    use crate::vocab::Alert;
    let open = |alerts: &mut Vec<Alert>, key: &AlertKey| {
        alerts.iter().rposition(|a| a.is_open() && &a.key == key)
    };
    match &r.event {
        Event::AlertOpened {
            key,
            severity,
            message,
        } => {
            if let Some(i) = open(alerts, key) {
                alerts[i].closed_at = Some(r.ts);
            }
            alerts.push(Alert {
                key: key.clone(),
                severity: *severity,
                message: message.clone(),
                opened_at: r.ts,
                acked: None,
                level: None,
                escalated_at: None,
                closed_at: None,
                flaps: 0,
                worst: *severity,
                fired: vec![r.ts],
            });
        }
        Event::AlertSeverity {
            key,
            severity,
            message,
        } => {
            if let Some(i) = open(alerts, key) {
                let a = &mut alerts[i];
                a.severity = *severity;
                a.worst = a.worst.max(*severity);
                a.message = message.clone();
                a.fired.push(r.ts);
            }
        }
        Event::AlertFlapping { key, flaps } => {
            if let Some(i) = open(alerts, key) {
                alerts[i].flaps = *flaps;
                alerts[i].fired.push(r.ts);
            }
        }
        Event::AlertEscalated { key, level, .. } => {
            if let Some(i) = open(alerts, key) {
                let a = &mut alerts[i];
                if a.level.is_none_or(|l| *level > l) {
                    a.level = Some(*level);
                    a.escalated_at = Some((r.ts, *level));
                }
            }
        }
        Event::AlertLevelSet { key, level, .. } => {
            if let Some(i) = open(alerts, key) {
                alerts[i].level = Some(*level);
                alerts[i].escalated_at = Some((r.ts, *level));
            }
        }
        Event::AlertAckExpired { key } => {
            if let Some(i) = open(alerts, key) {
                let a = &mut alerts[i];
                a.acked = None;
                a.escalated_at = a.level.map(|l| (r.ts, l));
            }
        }
        Event::AlertAcknowledged { key } => {
            if let Some(i) = open(alerts, key) {
                alerts[i]
                    .acked
                    .get_or_insert_with(|| (r.operator.clone(), r.ts));
            }
        }
        Event::AlertClosed { key } => {
            if let Some(i) = open(alerts, key) {
                alerts[i].closed_at = Some(r.ts);
            }
        }
        _ => return false,
    }
    true
}

/// Every alert episode of `records`, in the order they opened.
pub fn alert_episodes(records: &[Record]) -> Vec<crate::vocab::Alert> {
    let mut alerts = Vec::new();
    for r in records {
        fold_alert(&mut alerts, r);
    }
    alerts
}

/// Where journal records go. The file journal is the real one; tests may use memory.
pub trait JournalSink {
    /// Durably appends `record`; only after `Ok` may the app treat it as done.
    fn append(&mut self, record: &Record) -> Result<()>;
    /// Where the journal lives, for the help overlay.
    fn location(&self) -> String;
}

/// `rb` with the items the war room added during the journal's sessions (`ItemAdded`), so a
/// report or a score sees the checklist the operators saw.
pub fn with_added_items(
    rb: &crate::runbook::Runbook,
    records: &[Record],
) -> crate::runbook::Runbook {
    let mut rb = rb.clone();
    for r in records {
        if let Event::ItemAdded { checklist, item } = &r.event {
            rb.add_item(checklist, item.clone());
        }
    }
    rb
}

/// A journal file, locked against a second tminus writing to it at the same time.
#[derive(Debug)]
pub struct FileJournal {
    path: PathBuf,
    file: LineFile,
    /// `<journal>.lock`, locked for as long as this journal is open.
    _lock: File,
}

/// A journal opened for a session: the writer, what it held, and what was done to it.
#[derive(Debug)]
pub struct Opened {
    pub journal: FileJournal,
    pub past: Vec<Record>,
    /// Where an earlier session's journal was moved, if it was.
    pub set_aside: Option<PathBuf>,
    /// A torn tail that was moved out of the way, if there was one.
    pub repaired: Option<Repair>,
}

/// A partial last line (a crash or a full disk mid-write), moved to a side file so the next
/// append starts on a line of its own.
#[derive(Debug, Clone, PartialEq)]
pub struct Repair {
    /// The line number it had in the journal.
    pub line: usize,
    pub bytes: usize,
    pub moved_to: PathBuf,
}

impl std::fmt::Display for Repair {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "the journal's last line {} was cut short ({} bytes, a crash or a full disk): moved to {}",
            self.line,
            self.bytes,
            self.moved_to.display()
        )
    }
}

impl FileJournal {
    /// Opens (creating it and its directory if needed), locks, reads and repairs the journal at
    /// `path`, ready to append.
    pub fn open(path: &Path) -> Result<Opened> {
        Self::open_rotating(path, Utc::now(), |_| Ok(false))
    }

    /// Like `open`, but first asks `rotate` whether the records in the file belong to a session
    /// that is over: if so the file is moved aside (`<name>.<time>[-n].journal`, never over
    /// another) and the session starts empty. All under the lock, so two sessions can never
    /// rotate each other's live journal.
    pub fn open_rotating(
        path: &Path,
        now: DateTime<Utc>,
        rotate: impl FnOnce(&[Record]) -> Result<bool>,
    ) -> Result<Opened> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            fs::create_dir_all(dir)
                .with_context(|| format!("creating the journal directory {}", dir.display()))?;
        }
        let lock = lock(path)?;
        let (mut past, mut repaired) = read_repairing(path, now)?;
        let mut set_aside = None;
        if !past.is_empty() && rotate(&past)? {
            let aside = unique_aside(path, now);
            fs::rename(path, &aside).with_context(|| {
                format!(
                    "moving the earlier journal {} aside to {}",
                    path.display(),
                    aside.display()
                )
            })?;
            set_aside = Some(aside);
            past.clear();
            repaired = None;
        }
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .read(true)
            .open(path)
            .with_context(|| format!("opening the journal {}", path.display()))?;
        Ok(Opened {
            journal: FileJournal {
                path: path.to_path_buf(),
                file: LineFile::new(file),
                _lock: lock,
            },
            past,
            set_aside,
            repaired,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// Locks `<journal>.lock`: one tminus per journal, for the whole session.
fn lock(path: &Path) -> Result<File> {
    let mut name = path.as_os_str().to_owned();
    name.push(".lock");
    let lock_path = PathBuf::from(name);
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .with_context(|| format!("opening the journal's lock {}", lock_path.display()))?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(fs::TryLockError::WouldBlock) => bail!(
            "the journal {} is in use by another tminus; give this one its own with --journal PATH",
            path.display()
        ),
        Err(fs::TryLockError::Error(e)) => {
            Err(e).with_context(|| format!("locking the journal {}", path.display()))
        }
    }
}

/// `<stem>.<YYYYmmddTHHMMSS>.journal`, with `-2`, `-3`... when rotations come within a second.
/// A name beside `path` never used before, stamped with `now`: `demo.journal` ->
/// `demo.20261201T170000.journal` (`-2`, `-3`... within one second). Recordings beside the
/// journal are set aside under the same stamp.
pub(crate) fn unique_aside(path: &Path, now: DateTime<Utc>) -> PathBuf {
    let ext = path
        .extension()
        .map(|e| e.to_string_lossy().into_owned())
        .unwrap_or_else(|| "journal".into());
    let stamp = now.format("%Y%m%dT%H%M%S").to_string();
    (1..)
        .map(|n| {
            let suffix = if n == 1 {
                stamp.clone()
            } else {
                format!("{stamp}-{n}")
            };
            path.with_extension(format!("{suffix}.{ext}"))
        })
        .find(|p| !p.exists())
        .unwrap_or_else(|| path.with_extension(format!("aside.{ext}")))
}

/// Reads the journal (under its lock) and moves a torn tail to `<journal>.torn-<time>`, so the
/// next append starts a line of its own instead of landing on the fragment.
fn read_repairing(path: &Path, now: DateTime<Utc>) -> Result<(Vec<Record>, Option<Repair>)> {
    let Some(bytes) = read_bytes(path)? else {
        return Ok((Vec::new(), None));
    };
    let parsed = parse::<Record>(path, &bytes, crate::limits::MAX_JOURNAL_LINE)?;
    let repaired = match parsed.torn {
        Some(torn) => Some(repair_tail(path, &bytes, torn, now)?),
        None => None,
    };
    Ok((parsed.records, repaired))
}

/// Moves the bytes of a torn last line to `<file>.torn-<time>` and cuts the file just before
/// them, so the next line appended starts a line of its own. Shared with recordings.
pub(crate) fn repair_tail(
    path: &Path,
    bytes: &[u8],
    torn: Torn,
    now: DateTime<Utc>,
) -> Result<Repair> {
    let side = {
        let mut name = path.as_os_str().to_owned();
        name.push(format!(".torn-{}", now.format("%Y%m%dT%H%M%S%.3f")));
        PathBuf::from(name)
    };
    fs::write(&side, &bytes[torn.offset..]).with_context(|| {
        format!(
            "saving the torn last line of {} to {}",
            path.display(),
            side.display()
        )
    })?;
    let file = OpenOptions::new()
        .write(true)
        .open(path)
        .with_context(|| format!("repairing {}", path.display()))?;
    file.set_len(torn.offset as u64)
        .and_then(|()| file.sync_all())
        .with_context(|| format!("repairing {}", path.display()))?;
    Ok(Repair {
        line: torn.line,
        bytes: bytes.len() - torn.offset,
        moved_to: side,
    })
}

/// A journal's or recording's bytes; `None` when there is no file yet. A regular file only: a
/// FIFO would block, a device never end (`limits::open_file`).
pub(crate) fn read_bytes(path: &Path) -> Result<Option<Vec<u8>>> {
    use std::io::Read;
    let mut file = match crate::limits::open_file(path) {
        Ok(f) => f,
        Err(crate::limits::ReadError::Io(e)) if e.kind() == std::io::ErrorKind::NotFound => {
            return Ok(None);
        }
        Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
    };
    let mut bytes = Vec::new();
    file.read_to_end(&mut bytes)
        .with_context(|| format!("reading {}", path.display()))?;
    Ok(Some(bytes))
}

pub(crate) struct Parsed<T> {
    pub records: Vec<T>,
    pub torn: Option<Torn>,
}

/// Where a torn last line starts.
pub(crate) struct Torn {
    offset: usize,
    line: usize,
}

/// Every record of a JSON-lines file, and the torn last line if there is one: a last line
/// without its newline, or one that does not parse (or is not UTF-8). A bad line before the
/// last is an error naming it. Journals and recordings both read through it.
pub(crate) fn parse<T: serde::de::DeserializeOwned>(
    path: &Path,
    bytes: &[u8],
    max_line: usize,
) -> Result<Parsed<T>> {
    let mut records = Vec::new();
    let mut offset = 0;
    let mut line_no = 0;
    while offset < bytes.len() {
        line_no += 1;
        let end = bytes[offset..].iter().position(|&b| b == b'\n');
        let (line, next) = match end {
            Some(n) => (&bytes[offset..offset + n], offset + n + 1),
            None => (&bytes[offset..], bytes.len()),
        };
        let is_last = next >= bytes.len();
        // A complete line over the cap is refused, named; a torn tail is repaired below.
        if line.len() > max_line && end.is_some() {
            bail!(
                "{}: line {line_no} is longer than {} MiB: not a record tminus wrote",
                path.display(),
                max_line / (1024 * 1024)
            );
        }
        let record = std::str::from_utf8(line)
            .map_err(|e| anyhow::anyhow!("not UTF-8 text: {e}"))
            .and_then(|text| {
                if text.trim().is_empty() {
                    Ok(None)
                } else {
                    serde_json::from_str::<T>(text)
                        .map(Some)
                        .map_err(anyhow::Error::from)
                }
            });
        match record {
            Ok(Some(r)) if end.is_some() => records.push(r),
            Ok(None) if end.is_some() => {}
            // A complete record without its newline is still a fragment: the write was cut.
            Ok(_) | Err(_) if is_last => {
                return Ok(Parsed {
                    records,
                    torn: Some(Torn {
                        offset,
                        line: line_no,
                    }),
                });
            }
            Ok(_) => unreachable!("only the last line can lack a newline"),
            Err(e) => bail!(
                "{}:{line_no}: unreadable record: {e:#} (damaged, or not written by tminus: every line before it is intact; fix or remove this line, or start with another --journal)",
                path.display()
            ),
        }
        offset = next;
    }
    Ok(Parsed {
        records,
        torn: None,
    })
}

impl JournalSink for FileJournal {
    fn append(&mut self, record: &Record) -> Result<()> {
        let mut line = serde_json::to_vec(record)?;
        line.push(b'\n');
        self.file
            .append(&line, true)
            .with_context(|| format!("writing the journal {}", self.path.display()))
    }

    fn location(&self) -> String {
        self.path.display().to_string()
    }
}

/// An append-only file of whole lines. A write cut short (a full disk, an I/O error) is taken
/// back at once, so the next line never lands on a fragment and turns a torn tail into an
/// unreadable record in the middle of the file, and a line is only reported written once it is
/// complete (and, when asked, on disk). Journals and recordings both append through it.
#[derive(Debug)]
pub(crate) struct LineFile {
    file: File,
    /// Where a failed write began, when taking it back failed too: retried before the next.
    cut_at: Option<u64>,
}

impl LineFile {
    pub(crate) fn new(file: File) -> Self {
        LineFile { file, cut_at: None }
    }

    /// Appends `line` (ending in a newline) in one write call: with O_APPEND a line is never
    /// interleaved with another writer's or split, and a crash mid-write leaves at most one
    /// torn last line, which the next open moves aside.
    pub(crate) fn append(&mut self, line: &[u8], sync: bool) -> std::io::Result<()> {
        if let Some(at) = self.cut_at {
            self.file.set_len(at)?;
            self.cut_at = None;
        }
        let start = self.file.metadata()?.len();
        let written = self
            .file
            .write_all(line)
            .and_then(|()| if sync { self.file.sync_data() } else { Ok(()) });
        if let Err(e) = written {
            // Take back whatever part of the line got in; if even that fails, before the next.
            if self.file.set_len(start).is_err() {
                self.cut_at = Some(start);
            }
            return Err(e);
        }
        Ok(())
    }
}

/// An in-memory journal for tests and for `--journal` disabled runs.
#[derive(Debug, Default)]
pub struct MemoryJournal {
    pub records: Vec<Record>,
    /// When set, appends fail: lets tests check that a failed write changes nothing.
    pub fail: bool,
}

impl JournalSink for MemoryJournal {
    fn append(&mut self, record: &Record) -> Result<()> {
        if self.fail {
            bail!("journal write failed (simulated)");
        }
        self.records.push(record.clone());
        Ok(())
    }
    fn location(&self) -> String {
        "(memory)".to_string()
    }
}

/// Reads every record of a journal file without changing it (reports, scores, tests). A torn
/// last line (crash mid-write) is left out; a bad line elsewhere is an error naming its line,
/// since it means the file was edited or corrupted.
pub fn read(path: &Path) -> Result<Vec<Record>> {
    let Some(bytes) = read_bytes(path)? else {
        return Ok(Vec::new());
    };
    Ok(parse::<Record>(path, &bytes, crate::limits::MAX_JOURNAL_LINE)?.records)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(event: Event) -> Record {
        Record {
            ts: DateTime::parse_from_rfc3339("2026-12-01T16:00:00Z")
                .unwrap()
                .to_utc(),
            operator: "jane".into(),
            room: None,
            event,
        }
    }

    #[test]
    fn round_trips_and_ignores_a_torn_last_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/launch.journal");
        {
            let mut j = FileJournal::open(&path).unwrap().journal;
            j.append(&rec(Event::ItemDone {
                item: "a".into(),
                auto: false,
            }))
            .unwrap();
            j.append(&rec(Event::Note {
                text: "hello \"bridge\"\nline".into(),
            }))
            .unwrap();
        }
        let mut f = OpenOptions::new().append(true).open(&path).unwrap();
        f.write_all(b"{\"ts\":\"2026-12").unwrap();
        let got = read(&path).unwrap();
        assert_eq!(got.len(), 2);
        assert_eq!(
            got[1].event,
            Event::Note {
                text: "hello \"bridge\"\nline".into()
            }
        );
        let text = fs::read_to_string(&path).unwrap();
        assert!(
            text.starts_with(
                "{\"ts\":\"2026-12-01T16:00:00Z\",\"operator\":\"jane\",\"type\":\"item_done\""
            ),
            "{text}"
        );
    }

    fn note(text: &str) -> Record {
        rec(Event::Note { text: text.into() })
    }

    #[test]
    fn a_torn_tail_is_moved_aside_before_the_next_append_and_never_bricks_a_start() {
        // Before: the reader skipped the torn tail, the next append landed on it, and the
        // next start failed with "unreadable journal record".
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("launch.journal");
        {
            let mut j = FileJournal::open(&path).unwrap().journal;
            j.append(&note("one")).unwrap();
        }
        // A full disk cut the next record short.
        let mut f = OpenOptions::new().append(true).open(&path).unwrap();
        f.write_all(br#"{"ts":"2026-12-01T16:00:00Z","operator":"jane","type":"no"#)
            .unwrap();
        drop(f);
        let opened = FileJournal::open(&path).unwrap();
        let repair = opened.repaired.clone().expect("repaired");
        assert_eq!(repair.line, 2);
        assert!(repair.to_string().contains("cut short"), "{repair}");
        let torn = fs::read_to_string(&repair.moved_to).unwrap();
        assert!(torn.ends_with(r#""type":"no"#), "{torn}");
        let mut j = opened.journal;
        j.append(&note("two")).unwrap();
        drop(j);
        // The next start reads both, and so does a report.
        let again = FileJournal::open(&path).unwrap();
        assert!(again.repaired.is_none());
        assert_eq!(again.past, vec![note("one"), note("two")]);
        assert_eq!(read(&path).unwrap().len(), 2);
    }

    #[test]
    fn a_tail_torn_inside_a_multibyte_character_is_repaired_with_its_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("j");
        {
            let mut j = FileJournal::open(&path).unwrap().journal;
            j.append(&note("état")).unwrap();
        }
        let full = serde_json::to_string(&note("déjà vu")).unwrap();
        let cut = full.find('é').unwrap() + 1; // half of a two-byte character
        let mut f = OpenOptions::new().append(true).open(&path).unwrap();
        f.write_all(&full.as_bytes()[..cut]).unwrap();
        drop(f);
        // A read-only reader (report, score) leaves it out instead of failing on UTF-8.
        assert_eq!(read(&path).unwrap(), vec![note("état")]);
        let opened = FileJournal::open(&path).unwrap();
        assert_eq!(opened.repaired.unwrap().line, 2);
        assert_eq!(opened.past, vec![note("état")]);
        // Invalid UTF-8 before the last line is corruption, named with its line.
        fs::write(&path, b"\xff\xfe\n{}\n").unwrap();
        let err = read(&path).unwrap_err().to_string();
        assert!(err.contains(":1: unreadable record: not UTF-8"), "{err}");
    }

    /// Byte mutations of a real journal, deterministic and bounded: every truncation, flips to
    /// bytes that matter to JSON and UTF-8, lines dropped and doubled. The reader and the
    /// repairing opener never panic; either they read (with the torn tail set aside) or they
    /// name the line that is wrong.
    #[test]
    fn mutated_journals_never_panic_and_never_brick_a_start() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.journal");
        {
            let mut j = FileJournal::open(&path).unwrap().journal;
            for text in ["one", "déjà vu", "三", "quote \" and \\", "last"] {
                j.append(&note(text)).unwrap();
            }
        }
        let base = fs::read(&path).unwrap();
        let mut inputs: Vec<Vec<u8>> = (0..base.len())
            .step_by(3)
            .map(|n| base[..n].to_vec())
            .collect();
        let truncations = inputs.len();
        const BYTES: &[u8] = b"\n{}\"\\:,\x00\xff\xc3\xe4 a0";
        let mut x: u64 = 0x2545_F491_4F6C_DD1D;
        for _ in 0..400 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let mut b = base.clone();
            let at = (x as usize) % b.len();
            b[at] = BYTES[(x >> 32) as usize % BYTES.len()];
            inputs.push(b);
        }
        let lines: Vec<&[u8]> = base.split_inclusive(|&c| c == b'\n').collect();
        for i in 0..lines.len() {
            let mut without = lines.clone();
            without.remove(i);
            inputs.push(without.concat());
            let mut doubled = lines.clone();
            doubled.insert(i, lines[i]);
            inputs.push(doubled.concat());
        }
        let mut opened_ok = 0;
        let mut truncations_opened = 0;
        for (n, input) in inputs.iter().enumerate() {
            let p = dir.path().join(format!("m{n}.journal"));
            fs::write(&p, input).unwrap();
            match read(&p) {
                Ok(records) => assert!(records.len() <= 6),
                Err(e) => assert!(e.to_string().contains(".journal:"), "{e}"),
            }
            // A start either reads and can append on a line of its own, or names the line.
            match FileJournal::open(&p) {
                Ok(mut o) => {
                    opened_ok += 1;
                    truncations_opened += usize::from(n < truncations);
                    o.journal.append(&note("after")).unwrap();
                    drop(o);
                    let again = read(&p).unwrap();
                    assert_eq!(again.last(), Some(&note("after")), "input {n}");
                }
                Err(e) => assert!(e.to_string().contains("unreadable record"), "{e:#}"),
            }
        }
        // A cut anywhere (a crash, a full disk) is a torn tail: every one of them still opens.
        assert_eq!(truncations_opened, truncations);
        assert!(opened_ok > truncations, "{opened_ok} of {}", inputs.len());
    }

    #[test]
    fn a_corrupt_middle_line_is_reported_with_its_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("j");
        fs::write(&path, "garbage\n{}\n").unwrap();
        let err = read(&path).unwrap_err().to_string();
        assert!(err.contains(":1: unreadable record"), "{err}");
    }

    #[test]
    fn a_second_writer_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("j");
        let _first = FileJournal::open(&path).unwrap();
        let err = FileJournal::open(&path).unwrap_err().to_string();
        assert!(err.contains("in use"), "{err}");
        // Rotation is under the same lock: a second session cannot move the first one's live
        // journal aside.
        let err = FileJournal::open_rotating(&path, Utc::now(), |_| Ok(true))
            .unwrap_err()
            .to_string();
        assert!(err.contains("in use"), "{err}");
    }

    #[test]
    fn missing_journal_reads_empty() {
        assert!(read(Path::new("/nonexistent/tminus/j")).unwrap().is_empty());
    }
}
