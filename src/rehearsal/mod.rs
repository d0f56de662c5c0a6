//! Game days: `tminus rehearse` runs the war room on the simulator with injected faults and a
//! scaled clock, in a journal of its own, and scores the result (`score`).

pub mod score;
#[cfg(test)]
mod tests;

use std::path::{Path, PathBuf};

use anyhow::{Result, bail};

use crate::journal::{Event, Record};

/// `.tminus/<runbook stem>.rehearsal.journal`: never the real event's journal.
pub fn default_journal(runbook: &Path) -> PathBuf {
    let stem = runbook
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or("runbook");
    PathBuf::from(".tminus").join(format!("{stem}.rehearsal.journal"))
}

/// Whether a journal's records are a rehearsal to move aside before a new one: each game day
/// starts from an empty journal (an earlier one is kept, for its score), and a journal that
/// holds a real session is refused rather than mixed with a game. For
/// `FileJournal::open_rotating`, which does it under the journal's lock.
pub fn rotate_journal(past: &[Record]) -> Result<bool> {
    let real = past.iter().any(|r| {
        matches!(
            r.event,
            Event::SessionStarted {
                rehearsal: false,
                ..
            }
        )
    });
    if real {
        bail!(
            "this journal holds a real session, not a rehearsal; give the rehearsal its own journal (the default is .tminus/<runbook>.rehearsal.journal)"
        );
    }
    Ok(true)
}

/// `--speed`: a number of times real time, above 0 and at most `clock::MAX_SPEED`.
pub fn parse_speed(s: &str) -> std::result::Result<f64, String> {
    let v: f64 = s
        .trim()
        .trim_start_matches(['x', '×'])
        .parse()
        .map_err(|_| format!("{s:?} is not a number; e.g. --speed 10 for ten times real time"))?;
    if v.is_finite() && v > 0.0 && v <= crate::clock::MAX_SPEED {
        Ok(v)
    } else {
        Err(format!(
            "speed {s} is out of range: above 0 and at most {}",
            crate::clock::MAX_SPEED
        ))
    }
}

#[cfg(test)]
mod unit_tests {
    use super::*;
    use crate::journal::{self, FileJournal, JournalSink, Opened};
    use chrono::{DateTime, Utc};

    fn started(rehearsal: bool) -> Record {
        Record {
            ts: DateTime::parse_from_rfc3339("2026-12-01T16:30:00Z")
                .unwrap()
                .to_utc(),
            operator: "jane".into(),
            room: None,
            event: Event::SessionStarted {
                runbook: "r.yaml".into(),
                event_name: "E".into(),
                t0: DateTime::parse_from_rfc3339("2026-12-01T17:00:00Z")
                    .unwrap()
                    .to_utc(),
                mode: if rehearsal { "rehearsal" } else { "live" }.into(),
                seed: None,
                rehearsal,
                speed: rehearsal.then_some(10.0),
                surprise: false,
            },
        }
    }

    #[test]
    fn rehearsal_journals_are_their_own() {
        assert_eq!(
            default_journal(Path::new("runbooks/gameday-web.yaml")),
            PathBuf::from(".tminus/gameday-web.rehearsal.journal")
        );
    }

    fn open(path: &std::path::Path, now: DateTime<Utc>) -> anyhow::Result<Opened> {
        FileJournal::open_rotating(path, now, rotate_journal)
    }

    #[test]
    fn an_earlier_rehearsal_is_set_aside_and_a_real_journal_refused() {
        let dir = tempfile::tempdir().unwrap();
        let now = DateTime::parse_from_rfc3339("2026-11-25T03:04:05Z")
            .unwrap()
            .to_utc();
        let path = dir.path().join("web.rehearsal.journal");
        let mut first = open(&path, now).unwrap();
        assert_eq!(first.set_aside, None);
        first.journal.append(&started(true)).unwrap();
        // While the first rehearsal runs, a second one on the same journal is refused: it
        // must not move the first one's live journal aside.
        let err = open(&path, now).unwrap_err().to_string();
        assert!(err.contains("in use"), "{err}");
        assert_eq!(journal::read(&path).unwrap().len(), 1);
        drop(first);
        let second = open(&path, now).unwrap();
        let aside = second.set_aside.clone().unwrap();
        assert_eq!(
            aside,
            dir.path().join("web.rehearsal.20261125T030405.journal")
        );
        assert!(second.past.is_empty());
        assert_eq!(journal::read(&aside).unwrap().len(), 1);
        // Two rotations within one second keep both earlier journals.
        let mut second = second;
        second.journal.append(&started(true)).unwrap();
        drop(second);
        let third = open(&path, now).unwrap();
        assert_eq!(
            third.set_aside.unwrap(),
            dir.path().join("web.rehearsal.20261125T030405-2.journal")
        );
        assert_eq!(journal::read(&aside).unwrap().len(), 1);

        let real = dir.path().join("launch.journal");
        {
            let mut o = FileJournal::open(&real).unwrap();
            o.journal.append(&started(false)).unwrap();
        }
        let err = open(&real, now).unwrap_err().to_string();
        assert!(err.contains("holds a real session"), "{err}");
        assert_eq!(journal::read(&real).unwrap().len(), 1);
    }

    #[test]
    fn old_journals_without_rehearsal_fields_still_parse() {
        let line = r#"{"ts":"2026-12-01T16:00:00Z","operator":"jane","type":"session_started","runbook":"r.yaml","event_name":"E","t0":"2026-12-01T17:00:00Z","mode":"simulated","seed":42}"#;
        let r: Record = serde_json::from_str(line).unwrap();
        assert!(matches!(
            r.event,
            Event::SessionStarted {
                rehearsal: false,
                speed: None,
                surprise: false,
                seed: Some(42),
                ..
            }
        ));
        let json = serde_json::to_string(&started(true)).unwrap();
        assert!(json.contains(r#""rehearsal":true,"speed":10.0"#), "{json}");
    }

    #[test]
    fn speeds() {
        assert_eq!(parse_speed("10"), Ok(10.0));
        assert_eq!(parse_speed("x20"), Ok(20.0));
        assert_eq!(parse_speed("0.5"), Ok(0.5));
        assert!(parse_speed("0").is_err());
        assert!(parse_speed("-2").is_err());
        assert!(parse_speed("5000").is_err());
        assert!(parse_speed("fast").unwrap_err().contains("not a number"));
    }
}
