//! The journal: an append-only JSON-lines file holding every operator action and every alert.
//!
//! A record is written, flushed and fsynced before the app applies it, so whatever the screen
//! shows as done survives a crash. On start-up the app's operator state is the fold of the file.

use std::fs::{self, File, OpenOptions};
use std::io::{BufReader, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::app::alerts::{AlertKey, Severity};

/// One line of the journal.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Record {
    pub ts: DateTime<Utc>,
    pub operator: String,
    #[serde(flatten)]
    pub event: Event,
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

/// Where journal records go. The file journal is the real one; tests may use memory.
pub trait JournalSink {
    /// Durably appends `record`; only after `Ok` may the app treat it as done.
    fn append(&mut self, record: &Record) -> Result<()>;
    /// Where the journal lives, for the help overlay.
    fn location(&self) -> String;
}

/// A journal file, locked against a second tminus writing to it at the same time.
#[derive(Debug)]
pub struct FileJournal {
    path: PathBuf,
    file: File,
}

impl FileJournal {
    /// Opens (creating it and its directory if needed) and locks the journal at `path`.
    pub fn open(path: &Path) -> Result<Self> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            fs::create_dir_all(dir)
                .with_context(|| format!("creating the journal directory {}", dir.display()))?;
        }
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .read(true)
            .open(path)
            .with_context(|| format!("opening the journal {}", path.display()))?;
        if let Err(e) = file.try_lock() {
            match e {
                fs::TryLockError::WouldBlock => bail!(
                    "the journal {} is in use by another tminus; give this one its own with --journal PATH",
                    path.display()
                ),
                fs::TryLockError::Error(e) => {
                    return Err(e)
                        .with_context(|| format!("locking the journal {}", path.display()));
                }
            }
        }
        Ok(Self {
            path: path.to_path_buf(),
            file,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl JournalSink for FileJournal {
    fn append(&mut self, record: &Record) -> Result<()> {
        let mut line = serde_json::to_vec(record)?;
        line.push(b'\n');
        // One write call per record: with O_APPEND a record is never interleaved or split by
        // another writer, and a crash mid-write leaves at most one torn last line (skipped on read).
        self.file
            .write_all(&line)
            .and_then(|()| self.file.sync_data())
            .with_context(|| format!("writing the journal {}", self.path.display()))
    }

    fn location(&self) -> String {
        self.path.display().to_string()
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

/// Reads every record of a journal file. A torn last line (crash mid-write) is ignored; a bad
/// line elsewhere is an error naming its line, since it means the file was edited or corrupted.
pub fn read(path: &Path) -> Result<Vec<Record>> {
    // A regular file only (a FIFO would block, a device never end), each line capped.
    let file = match crate::limits::open_file(path) {
        Ok(f) => f,
        Err(crate::limits::ReadError::Io(e)) if e.kind() == std::io::ErrorKind::NotFound => {
            return Ok(Vec::new());
        }
        Err(e) => return Err(e).with_context(|| format!("reading the journal {}", path.display())),
    };
    let lines: Vec<String> =
        crate::limits::lines(BufReader::new(file), crate::limits::MAX_JOURNAL_LINE)
            .collect::<std::io::Result<_>>()
            .with_context(|| format!("reading the journal {}", path.display()))?;
    let mut records = Vec::with_capacity(lines.len());
    let last = lines.len().saturating_sub(1);
    for (i, line) in lines.iter().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        match serde_json::from_str::<Record>(line) {
            Ok(r) => records.push(r),
            Err(_) if i == last => break,
            Err(e) => bail!(
                "{}:{}: unreadable journal record: {e}",
                path.display(),
                i + 1
            ),
        }
    }
    Ok(records)
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
            event,
        }
    }

    #[test]
    fn round_trips_and_ignores_a_torn_last_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/launch.journal");
        {
            let mut j = FileJournal::open(&path).unwrap();
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

    #[test]
    fn a_corrupt_middle_line_is_reported_with_its_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("j");
        fs::write(&path, "garbage\n{}\n").unwrap();
        let err = read(&path).unwrap_err().to_string();
        assert!(err.contains(":1: unreadable"), "{err}");
    }

    #[test]
    fn a_second_writer_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("j");
        let _first = FileJournal::open(&path).unwrap();
        let err = FileJournal::open(&path).unwrap_err().to_string();
        assert!(err.contains("in use"), "{err}");
    }

    #[test]
    fn missing_journal_reads_empty() {
        assert!(read(Path::new("/nonexistent/tminus/j")).unwrap().is_empty());
    }
}
