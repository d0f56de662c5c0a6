//! Recordings: every update a session receives, appended as it arrives, so an event can be
//! replayed through the same UI later (a review, or the base of a game day).
//!
//! JSON lines: a header (with the runbook's YAML, so a recording stands alone), then one line
//! per update with the time it arrived. Each line is flushed as it is written; a process killed
//! mid-line leaves at most one torn last line, which `read` skips.

use std::fs::OpenOptions;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::source::Update;

pub const FORMAT_VERSION: u32 = 1;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Header {
    /// Marks the file and its format version.
    pub tminus_recording: u32,
    pub event_name: String,
    pub runbook_path: String,
    pub runbook_yaml: String,
    pub t0: DateTime<Utc>,
    pub started: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    pub at: DateTime<Utc>,
    pub update: Update,
}

pub struct Recorder {
    out: crate::journal::LineFile,
    /// Bytes in the file, against `limits::MAX_RECORDING_BYTES`.
    bytes: u64,
}

/// Where a war room records what it receives.
#[derive(Debug, Clone, PartialEq)]
pub enum RecordTo {
    /// Beside the journal (`beside`): every war room unless told not to, so `report` has
    /// charts. A file of another session there is set aside, as the journal is.
    BesideJournal,
    /// `--record FILE`: refused if it holds another event.
    File(PathBuf),
    /// `--no-record`.
    Off,
}

/// The recording that goes with a journal: `.tminus/demo.journal` -> `.tminus/demo.recording`.
pub fn beside(journal: &Path) -> PathBuf {
    journal.with_extension("recording")
}

impl Recorder {
    /// Starts a recording, or continues one of the same event (a restarted war room).
    pub fn open(path: &Path, header: &Header) -> Result<Recorder> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        }
        // A FIFO would block in open until someone reads it, a device never fill up: a
        // recording is a regular file.
        if let Ok(m) = path.metadata()
            && !m.is_file()
        {
            bail!(
                "{} is not a regular file: choose another --record file",
                path.display()
            );
        }
        let existing = path.metadata().map(|m| m.len() > 0).unwrap_or(false);
        if existing {
            // A torn last line (killed mid-write, a full disk) is moved aside first, so the
            // next entry does not land on it and make the file unreadable.
            let bytes = crate::journal::read_bytes(path)?.unwrap_or_default();
            let parsed = crate::journal::parse::<serde_json::Value>(
                path,
                &bytes,
                crate::limits::MAX_RECORDING_LINE,
            )?;
            if let Some(torn) = parsed.torn {
                crate::journal::repair_tail(path, &bytes, torn, Utc::now())?;
            }
            let (old, _) = read(path)?;
            if old.event_name != header.event_name || old.t0 != header.t0 {
                bail!(
                    "{} records another event ({} at T-0 {}): choose another --record file",
                    path.display(),
                    old.event_name,
                    old.t0
                );
            }
        }
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .with_context(|| format!("opening {}", path.display()))?;
        let bytes = file.metadata().map(|m| m.len()).unwrap_or(0);
        let mut r = Recorder {
            out: crate::journal::LineFile::new(file),
            bytes,
        };
        if !existing {
            r.line(header)?;
        }
        Ok(r)
    }

    /// Opens the recording beside a journal: continues it when it is this session's (a
    /// restart), and first sets aside one from another session (`new_session`: the journal
    /// was just set aside too; or it records another event or T-0, or cannot be read).
    /// Returns where the old one went.
    pub fn open_beside(
        path: &Path,
        header: &Header,
        new_session: bool,
        now: DateTime<Utc>,
    ) -> Result<(Recorder, Option<PathBuf>)> {
        let existing = path.metadata().is_ok_and(|m| m.is_file() && m.len() > 0);
        let ours = existing
            && !new_session
            && read(path)
                .is_ok_and(|(h, _)| h.event_name == header.event_name && h.t0 == header.t0);
        let mut aside = None;
        if existing && !ours {
            let to = crate::journal::unique_aside(path, now);
            std::fs::rename(path, &to).with_context(|| {
                format!(
                    "moving the earlier recording {} aside to {}",
                    path.display(),
                    to.display()
                )
            })?;
            aside = Some(to);
        }
        Ok((Recorder::open(path, header)?, aside))
    }

    /// One whole line or nothing: a full disk never leaves a fragment for the next entry. A
    /// recording stops at `limits::MAX_RECORDING_BYTES` rather than fill the disk the journal
    /// needs.
    fn line<T: Serialize>(&mut self, value: &T) -> Result<()> {
        let mut line = serde_json::to_vec(value)?;
        line.push(b'\n');
        let cap = crate::limits::MAX_RECORDING_BYTES;
        if self.bytes + line.len() as u64 > cap {
            bail!("it reached its {} MiB cap", cap / (1024 * 1024));
        }
        self.out.append(&line, false)?;
        self.bytes += line.len() as u64;
        Ok(())
    }

    /// Appends one update. Failing to record never stops the war room: the caller reports it.
    pub fn record(&mut self, at: DateTime<Utc>, update: &Update) -> Result<()> {
        #[derive(Serialize)]
        struct EntryRef<'a> {
            at: DateTime<Utc>,
            update: &'a Update,
        }
        self.line(&EntryRef { at, update })
    }
}

/// The header and every complete entry, oldest first (a torn last line left out).
pub fn read(path: &Path) -> Result<(Header, Vec<Entry>)> {
    // A regular file only (a FIFO would block, a device never end), each line capped.
    let bytes = crate::journal::read_bytes(path)?
        .with_context(|| format!("opening {}: no such file", path.display()))?;
    let lines = crate::journal::parse::<serde_json::Value>(
        path,
        &bytes,
        crate::limits::MAX_RECORDING_LINE,
    )?
    .records;
    let mut lines = lines.into_iter();
    let first = lines
        .next()
        .with_context(|| format!("{} is empty", path.display()))?;
    let header: Header = serde_json::from_value(first).with_context(|| {
        format!(
            "{}:1: not a tminus recording (expected a header line)",
            path.display()
        )
    })?;
    if header.tminus_recording > FORMAT_VERSION {
        bail!(
            "{} is recording format {}; this tminus reads up to {FORMAT_VERSION}",
            path.display(),
            header.tminus_recording
        );
    }
    let mut entries = Vec::with_capacity(lines.len());
    for (i, l) in lines.enumerate() {
        let e = serde_json::from_value::<Entry>(l)
            .with_context(|| format!("{}:{}: not a recording entry", path.display(), i + 2))?;
        entries.push(e);
    }
    Ok((header, entries))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::{AlarmState, Sample};
    use std::io::Write;

    fn header() -> Header {
        Header {
            tminus_recording: FORMAT_VERSION,
            event_name: "Launch".into(),
            runbook_path: "runbooks/launch.yaml".into(),
            runbook_yaml: "event: {}".into(),
            t0: DateTime::from_timestamp(1_800_000_000, 0).unwrap(),
            started: DateTime::from_timestamp(1_799_990_000, 0).unwrap(),
        }
    }

    #[test]
    fn entries_round_trip_and_a_torn_line_is_skipped() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("rec/launch.rec");
        let at = |s: i64| DateTime::from_timestamp(1_799_990_000 + s, 0).unwrap();
        let updates = [
            Update::Samples {
                metric: 1,
                points: vec![Sample {
                    at: at(0),
                    value: 42.5,
                }],
                settled_to: None,
            },
            Update::Alarm {
                name: "web-p99".into(),
                state: AlarmState::Alarm,
                reason: "Threshold Crossed".into(),
                changed_at: at(5),
            },
        ];
        {
            let mut r = Recorder::open(&path, &header()).unwrap();
            r.record(at(1), &updates[0]).unwrap();
        }
        // A restart continues the same file.
        {
            let mut r = Recorder::open(&path, &header()).unwrap();
            r.record(at(6), &updates[1]).unwrap();
        }
        let mut f = OpenOptions::new().append(true).open(&path).unwrap();
        f.write_all(b"{\"at\":\"2026-").unwrap();
        let (h, entries) = read(&path).unwrap();
        assert_eq!(h, header());
        assert_eq!(entries.len(), 2);
        assert_eq!(entries[0].at, at(1));
        assert_eq!(entries[1].update, updates[1]);

        // A restart after the tear moves the fragment aside and appends on a line of its own:
        // before, the next entry landed on the fragment and the file no longer read.
        {
            let mut r = Recorder::open(&path, &header()).unwrap();
            r.record(at(9), &updates[0]).unwrap();
        }
        let (_, entries) = read(&path).unwrap();
        assert_eq!(entries.len(), 3);
        assert_eq!(entries[2].at, at(9));
        let side = std::fs::read_dir(path.parent().unwrap())
            .unwrap()
            .flatten()
            .find(|e| e.file_name().to_string_lossy().contains(".torn-"))
            .expect("the fragment is kept");
        assert_eq!(std::fs::read(side.path()).unwrap(), b"{\"at\":\"2026-");

        // Not a regular file: refused before open() could block on it.
        let err = Recorder::open(Path::new("/dev/null"), &header())
            .err()
            .unwrap()
            .to_string();
        assert!(err.contains("not a regular file"), "{err}");

        // Another event's recording is not appended to.
        let mut other = header();
        other.event_name = "Another".into();
        let err = Recorder::open(&path, &other).err().unwrap().to_string();
        assert!(err.contains("records another event"), "{err}");
    }
}
