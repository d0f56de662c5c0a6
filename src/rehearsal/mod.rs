//! Game days: `tminus rehearse` runs the war room on the simulator with injected faults and a
//! scaled clock, in a journal of its own, and scores the result (`score`).

pub mod score;
#[cfg(test)]
mod tests;

use std::path::{Path, PathBuf};

use anyhow::{Result, bail};
use chrono::{DateTime, Utc};

use crate::journal::{self, Event};

/// `.tminus/<runbook stem>.rehearsal.journal`: never the real event's journal.
pub fn default_journal(runbook: &Path) -> PathBuf {
    let stem = runbook
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or("runbook");
    PathBuf::from(".tminus").join(format!("{stem}.rehearsal.journal"))
}

/// Makes `path` ready for a new rehearsal: each game day starts from an empty journal, so an
/// earlier one is moved aside (`<name>.<wall time>.journal`, kept for its score), and a journal
/// that holds a real session is refused rather than mixed with a game. Returns where an earlier
/// rehearsal went, if anywhere.
pub fn prepare_journal(path: &Path, now: DateTime<Utc>) -> Result<Option<PathBuf>> {
    let past = journal::read(path)?;
    if past.is_empty() {
        return Ok(None);
    }
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
            "{} holds a real session, not a rehearsal; give the rehearsal its own journal (the default is .tminus/<runbook>.rehearsal.journal)",
            path.display()
        );
    }
    let aside = path.with_extension(format!("{}.journal", now.format("%Y%m%dT%H%M%S")));
    std::fs::rename(path, &aside).map_err(|e| {
        anyhow::anyhow!(
            "moving the previous rehearsal {} aside to {}: {e}",
            path.display(),
            aside.display()
        )
    })?;
    Ok(Some(aside))
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
    use crate::journal::{FileJournal, JournalSink, Record};

    fn started(rehearsal: bool) -> Record {
        Record {
            ts: DateTime::parse_from_rfc3339("2026-12-01T16:30:00Z")
                .unwrap()
                .to_utc(),
            operator: "jane".into(),
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

    #[test]
    fn an_earlier_rehearsal_is_set_aside_and_a_real_journal_refused() {
        let dir = tempfile::tempdir().unwrap();
        let now = DateTime::parse_from_rfc3339("2026-11-25T03:04:05Z")
            .unwrap()
            .to_utc();
        let path = dir.path().join("web.rehearsal.journal");
        assert_eq!(prepare_journal(&path, now).unwrap(), None);
        {
            let mut j = FileJournal::open(&path).unwrap();
            j.append(&started(true)).unwrap();
        }
        let aside = prepare_journal(&path, now).unwrap().unwrap();
        assert_eq!(
            aside,
            dir.path().join("web.rehearsal.20261125T030405.journal")
        );
        assert!(!path.exists());
        assert_eq!(journal::read(&aside).unwrap().len(), 1);

        let real = dir.path().join("launch.journal");
        {
            let mut j = FileJournal::open(&real).unwrap();
            j.append(&started(false)).unwrap();
        }
        let err = prepare_journal(&real, now).unwrap_err().to_string();
        assert!(err.contains("holds a real session"), "{err}");
        assert!(real.exists());
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
