//! `tminus report` on a fixed journal and recording: the figures in Markdown, and the HTML
//! opened in a headless browser (Debian's chromium, installed by scripts/test) without errors.

use std::path::Path;
use std::process::Command;

use chrono::{DateTime, Duration, Utc};
use tminus::app::alerts::{AlertKey, Severity};
use tminus::journal::{Event, Record};
use tminus::record::{FORMAT_VERSION, Header, Recorder};
use tminus::source::{Sample, Update};

const BIN: &str = env!("CARGO_BIN_EXE_tminus");
const RUNBOOK: &str = "event: { name: Report Launch, starts_at: 2026-12-01T17:00:00Z }\nmetrics:\n  - { id: p99, title: p99 latency, namespace: N, metric: M, stat: p99, unit: ms, warn: 500, crit: 900 }\nchecklists:\n  - name: Go\n    items:\n      - { id: go, title: Go decision, due: T-5m }\n";

fn t(s: i64) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-12-01T17:00:00Z")
        .unwrap()
        .to_utc()
        + Duration::seconds(s)
}

fn fixture(dir: &Path) {
    let key = AlertKey::Metric("p99".into());
    let records = [
        (
            -600,
            Event::SessionStarted {
                runbook: "r.yaml".into(),
                event_name: "Report Launch".into(),
                t0: t(0),
                mode: "live".into(),
                seed: None,
                rehearsal: false,
                speed: None,
                surprise: false,
            },
        ),
        (
            -400,
            Event::ItemDone {
                item: "go".into(),
                auto: false,
            },
        ),
        (
            60,
            Event::AlertOpened {
                key: key.clone(),
                severity: Severity::Crit,
                message: "p99 latency 950 ms >= 900".into(),
            },
        ),
        (210, Event::AlertAcknowledged { key: key.clone() }),
        (360, Event::AlertClosed { key }),
    ];
    let lines: Vec<String> = records
        .into_iter()
        .map(|(s, event)| {
            serde_json::to_string(&Record {
                ts: t(s),
                operator: "jane".into(),
                event,
            })
            .unwrap()
        })
        .collect();
    std::fs::write(dir.join("event.journal"), lines.join("\n") + "\n").unwrap();
    let header = Header {
        tminus_recording: FORMAT_VERSION,
        event_name: "Report Launch".into(),
        runbook_path: "r.yaml".into(),
        runbook_yaml: RUNBOOK.into(),
        t0: t(0),
        started: t(-600),
    };
    let mut r = Recorder::open(&dir.join("event.rec"), &header).unwrap();
    let points = (-30..30)
        .map(|i| Sample {
            at: t(i * 20),
            value: 400.0 + 600.0 * (-(i as f64 / 8.0).powi(2)).exp(),
        })
        .collect();
    r.record(
        t(600),
        &Update::Samples {
            metric: 0,
            points,
            settled_to: None,
        },
    )
    .unwrap();
}

fn report(dir: &Path, args: &[&str]) -> std::process::Output {
    Command::new(BIN)
        .arg("report")
        .arg(dir.join("event.journal"))
        .arg("--recording")
        .arg(dir.join("event.rec"))
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn markdown_review_of_a_fixed_event() {
    let dir = tempfile::tempdir().unwrap();
    fixture(dir.path());
    let out = report(dir.path(), &[]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let md = String::from_utf8(out.stdout).unwrap();
    assert!(md.starts_with("# Event review: Report Launch"), "{md}");
    assert!(
        md.contains("| p99 latency | CRIT | T+1m | 2m30s by jane | 5m | — |"),
        "{md}"
    );
    assert!(md.contains("| p99 latency | 1000 ms | T+0 | 1 |"), "{md}");
    assert!(md.contains("1 items: 1 on time"), "{md}");
}

#[test]
fn html_review_opens_in_a_headless_browser() {
    let dir = tempfile::tempdir().unwrap();
    fixture(dir.path());
    let html = dir.path().join("review.html");
    let out = report(
        dir.path(),
        &["--format", "html", "-o", html.to_str().unwrap()],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let chromium = ["chromium", "chromium-browser"]
        .into_iter()
        .find(|c| {
            Command::new(c)
                .arg("--version")
                .output()
                .is_ok_and(|o| o.status.success())
        })
        .expect(
            "chromium is needed for this test: scripts/test installs it (apt-get install chromium)",
        );
    let run = Command::new(chromium)
        .args([
            "--headless",
            "--disable-gpu",
            "--no-sandbox",
            "--enable-logging=stderr",
            "--v=0",
        ])
        .arg(format!(
            "--user-data-dir={}",
            dir.path().join("profile").display()
        ))
        .arg("--dump-dom")
        .arg(format!("file://{}", html.display()))
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let dom = String::from_utf8_lossy(&run.stdout);
    assert!(dom.contains("Event review: Report Launch"), "{dom}");
    assert!(dom.contains("<svg") && dom.contains("polyline"), "{dom}");
    let log = String::from_utf8_lossy(&run.stderr);
    let console_errors: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("CONSOLE") || l.contains("Uncaught"))
        .collect();
    assert!(console_errors.is_empty(), "{console_errors:?}");
}
