//! Bounds where input comes in, as a user (or an attacker) meets them with the real binary:
//! absurd durations, output to a closed pipe or a full disk, hostile files for `check`.
//! Every test is bounded in time (a watchdog kills the child) and in memory.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_tminus");
const RUNBOOK: &str = "event: { name: Bounds, starts_at: 2026-12-01T17:00:00Z }\n";

/// Waits for `child` at most `limit`, killing it then; its output and how long it took.
fn finish(mut child: Child, limit: Duration) -> (Output, Duration) {
    let start = Instant::now();
    loop {
        if child.try_wait().unwrap().is_some() {
            break;
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let out = child.wait_with_output().unwrap();
            panic!(
                "still running after {limit:?}; stderr: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let took = start.elapsed();
    (child.wait_with_output().unwrap(), took)
}

fn run(args: &[&str], limit: Duration) -> Output {
    let child = Command::new(BIN)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    finish(child, limit).0
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// A journal and its runbook, for `report`.
fn journal(dir: &Path) -> PathBuf {
    let runbook = dir.join("r.yaml");
    std::fs::write(&runbook, RUNBOOK).unwrap();
    let t0 = chrono::DateTime::parse_from_rfc3339("2026-12-01T17:00:00Z")
        .unwrap()
        .to_utc();
    let mut lines = vec![tminus::journal::Record {
        ts: t0,
        operator: "jane".into(),
        event: tminus::journal::Event::SessionStarted {
            runbook: runbook.display().to_string(),
            event_name: "Bounds".into(),
            t0,
            mode: "live".into(),
            seed: None,
            rehearsal: false,
            speed: None,
            surprise: false,
        },
    }];
    for i in 0..200 {
        lines.push(tminus::journal::Record {
            ts: t0 + chrono::Duration::seconds(i),
            operator: "jane".into(),
            event: tminus::journal::Event::Note {
                text: format!("note {i}: {}", "x".repeat(200)),
            },
        });
    }
    let path = dir.join("event.journal");
    let text: String = lines
        .iter()
        .map(|r| serde_json::to_string(r).unwrap() + "\n")
        .collect();
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn absurd_durations_are_usage_errors_not_panics() {
    for args in [
        &["demo", "--in", "1000000000d"][..],
        &["run", "x.yaml", "--t0", "+9223372036854775807s"],
        &["run", "x.yaml", "--t0", "+1000000000d"],
        &["run", "x.yaml", "--t0", "+367d"],
    ] {
        let out = run(args, Duration::from_secs(20));
        let err = stderr(&out);
        // Exit 2, as clap does for any bad argument; these panicked with 101.
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains("within 366 days of now"), "{args:?}: {err}");
        assert!(!err.contains("panicked"), "{args:?}: {err}");
    }
}

#[test]
fn a_closed_pipe_ends_report_quietly() {
    let dir = tempfile::tempdir().unwrap();
    let j = journal(dir.path());
    // The reader is gone before tminus writes anything (`| head -c 0`, deterministically).
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let child = Command::new(BIN)
        .arg("report")
        .arg(&j)
        .stdout(writer)
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (out, _) = finish(child, Duration::from_secs(20));
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(!err.contains("panicked"), "{err}");

    // `| head -c 100`: the reader takes 100 bytes and leaves mid-report.
    let mut child = Command::new(BIN)
        .arg("report")
        .arg(&j)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = [0u8; 100];
    child.stdout.take().unwrap().read_exact(&mut first).unwrap();
    let (out, _) = finish(child, Duration::from_secs(20));
    assert!(first.starts_with(b"# Event review"));
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
}

#[test]
fn a_full_disk_is_an_error_message_not_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    let j = journal(dir.path());
    let runbook = dir.path().join("r.yaml");
    for args in [
        vec!["report".to_string(), j.display().to_string()],
        vec!["cost".to_string(), runbook.display().to_string()],
        vec!["check".to_string(), runbook.display().to_string()],
    ] {
        let full = std::fs::OpenOptions::new()
            .write(true)
            .open("/dev/full")
            .unwrap();
        let child = Command::new(BIN)
            .args(&args)
            .stdout(full)
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let (out, _) = finish(child, Duration::from_secs(20));
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {err}");
        assert!(
            err.contains("writing to standard output: No space left on device"),
            "{args:?}: {err}"
        );
        assert!(!err.contains("panicked"), "{args:?}: {err}");
    }
}
