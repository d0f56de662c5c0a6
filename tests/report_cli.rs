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

/// Records at seconds from T-0, by jane, as JSON lines.
fn write_journal(path: &Path, records: impl IntoIterator<Item = (i64, Event)>) {
    let lines: Vec<String> = records
        .into_iter()
        .map(|(s, event)| {
            serde_json::to_string(&Record {
                ts: t(s),
                operator: "jane".into(),
                room: None,
                event,
            })
            .unwrap()
        })
        .collect();
    std::fs::write(path, lines.join("\n") + "\n").unwrap();
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
    write_journal(&dir.join("event.journal"), records);
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
    // Every chart the browser built has a line with data in it.
    let charts: Vec<&str> = dom.split("<svg").skip(1).collect();
    assert!(!charts.is_empty(), "{dom}");
    for c in &charts {
        let points = c
            .split("<polyline class=\"series\" points=\"")
            .nth(1)
            .and_then(|p| p.split('"').next())
            .unwrap_or("");
        assert!(
            points.split(' ').count() >= 2,
            "a chart without data: <svg{c}"
        );
    }
    assert!(!dom.contains("<pre>"), "real HTML, not preformatted text");
    let log = String::from_utf8_lossy(&run.stderr);
    let console_errors: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("CONSOLE") || l.contains("Uncaught"))
        .collect();
    assert!(console_errors.is_empty(), "{console_errors:?}");

    // A laptop and a phone: both render, and the page is not blank.
    for (w, name) in [(1280, "wide"), (420, "narrow")] {
        let png = dir.path().join(format!("{name}.png"));
        let shot = Command::new(chromium)
            .args([
                "--headless",
                "--disable-gpu",
                "--no-sandbox",
                "--disable-background-networking",
                "--no-first-run",
                "--hide-scrollbars",
            ])
            .arg(format!("--window-size={w},1600"))
            .arg(format!(
                "--user-data-dir={}",
                dir.path().join(format!("profile-{name}")).display()
            ))
            .arg(format!("--screenshot={}", png.display()))
            .arg(format!("file://{}", html.display()))
            .output()
            .unwrap();
        assert!(
            shot.status.success(),
            "{}",
            String::from_utf8_lossy(&shot.stderr)
        );
        let bytes = std::fs::read(&png).unwrap();
        assert!(bytes.starts_with(b"\x89PNG"), "{name}: not a PNG");
        // PNG width is bytes 16..20 of the IHDR chunk.
        let width = u32::from_be_bytes(bytes[16..20].try_into().unwrap());
        assert_eq!(width, w, "{name}");
        assert!(
            bytes.len() > 20_000,
            "{name}: {} bytes, a blank page?",
            bytes.len()
        );
    }
}

/// What no byte of a command's output may be: controls other than the line break (ESC, BEL,
/// C1 CSI...), bidi overrides and isolates, and zero-width joiners.
fn assert_inert(what: &str, out: &str) {
    let bad: Vec<(usize, char)> = out
        .char_indices()
        .filter(|&(_, c)| {
            (c.is_control() && c != '\n')
                || matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200D}')
        })
        .collect();
    assert!(bad.is_empty(), "{what}: {bad:?} in:\n{out}");
}

/// A journal and runbook holding terminal escapes (OSC 0 title, OSC 52 clipboard, CSI, C1),
/// bidi overrides, zero-width joiners, line breaks and Markdown table syntax in every field the
/// review quotes: the review prints all of it as inert text and every table keeps its columns.
#[test]
fn hostile_journal_and_runbook_text_prints_inert() {
    const ESCAPES: &str = "\u{1b}]0;pwned\u{7}\u{1b}]52;c;cm0gLXJmIH4=\u{7}\u{1b}[2J\u{9b}6n";
    let dir = tempfile::tempdir().unwrap();
    let runbook = dir.path().join("hostile.yaml");
    std::fs::write(
        &runbook,
        r#"event: { name: "Launch \e]0;pwned\a | \u202Eevil", starts_at: 2026-12-01T17:00:00Z }
metrics:
  - { id: p99, title: "p99 | \e[31mlatency\x9b", namespace: N, metric: M, stat: p99, unit: "m\e]0;u\as", warn: 500, crit: 900 }
quotas:
  - { service: lambda, code: L-B99A9384, title: "Lambda | \e]52;c;aGk=\a concurrency" }
checklists:
  - name: Go
    items:
      - { id: go, title: "Go x\u200D日本 | `decision` <b>", due: T-5m }
      - { id: skip, title: "Skip me \e[5m", due: T-4m }
"#,
    )
    .unwrap();
    let key = AlertKey::Metric("p99".into());
    let who = format!("jane{ESCAPES}\u{202E}");
    let records = [
        (
            -600,
            Event::SessionStarted {
                runbook: runbook.display().to_string(),
                event_name: format!("Launch{ESCAPES}"),
                t0: t(0),
                mode: format!("live{ESCAPES}"),
                seed: None,
                rehearsal: false,
                speed: None,
                surprise: false,
            },
        ),
        (
            -500,
            Event::PhaseEntered {
                phase: format!("Go | {ESCAPES}"),
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
            -300,
            Event::ItemSkipped {
                item: "skip".into(),
                reason: format!("no | time\n## Fake section {ESCAPES}"),
            },
        ),
        (
            60,
            Event::AlertOpened {
                key: key.clone(),
                severity: Severity::Crit,
                message: format!("p99 | 950 {ESCAPES}"),
            },
        ),
        (210, Event::AlertAcknowledged { key: key.clone() }),
        (
            300,
            Event::Note {
                text: format!(
                    "cause | found\r\n| forged | row |\n<img src=x onerror=alert(1)> x\u{200D}日 {ESCAPES}"
                ),
            },
        ),
        (360, Event::AlertClosed { key }),
    ];
    let lines: Vec<String> = records
        .into_iter()
        .map(|(s, event)| {
            serde_json::to_string(&Record {
                ts: t(s),
                operator: who.clone(),
                room: None,
                event,
            })
            .unwrap()
        })
        .collect();
    let journal = dir.path().join("event.journal");
    std::fs::write(&journal, lines.join("\n") + "\n").unwrap();

    let run = |format: &str| {
        let out = Command::new(BIN)
            .arg("report")
            .arg(&journal)
            .arg("--runbook")
            .arg(&runbook)
            .args(["--format", format])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };

    let md = run("markdown");
    assert_inert("markdown", &md);
    // Every row of a table has as many cells as its header: `|` in a field is escaped.
    let unescaped_pipes = |l: &str| {
        let b = l.as_bytes();
        (0..b.len())
            .filter(|&i| b[i] == b'|' && (i == 0 || b[i - 1] != b'\\'))
            .count()
    };
    let mut tables = 0;
    let mut header = None;
    for l in md.lines() {
        match (l.starts_with('|'), header) {
            (true, None) => {
                header = Some(unescaped_pipes(l));
                tables += 1;
            }
            (true, Some(n)) => assert_eq!(unescaped_pipes(l), n, "{l}\nin:\n{md}"),
            (false, _) => header = None,
        }
    }
    assert_eq!(tables, 3, "alerts, metrics, quotas:\n{md}");
    // A line break in a field cannot start a line of its own (a forged heading or row).
    assert!(!md.contains("\n## Fake"), "{md}");
    assert!(!md.contains("\n| forged"), "{md}");
    // Nor can it smuggle in HTML or a code span.
    assert!(!md.replace("\\<", "").contains('<'), "{md}");
    assert!(!md.contains(" `decision`"), "{md}");
    // What was there is still there to read.
    assert!(md.contains("?]0;pwned?"), "{md}");
    assert!(md.contains("p99 \\| ?\\[31mlatency?"), "{md}");
    assert!(md.contains("Go x日本 \\| \\`decision\\` \\<b\\>"), "{md}");

    let html = run("html");
    assert_inert("html", &html);
    assert!(!html.contains("<img") && !html.contains("<b>"), "{html}");
    assert!(html.contains("&lt;img src=x"), "{html}");
}

/// An error quoting what it could not read (serde names the unknown record type) prints it
/// inert on stderr too.
#[test]
fn an_unreadable_hostile_record_is_reported_inert() {
    let dir = tempfile::tempdir().unwrap();
    let journal = dir.path().join("bad.journal");
    std::fs::write(
        &journal,
        "{\"ts\":\"2026-12-01T17:00:00Z\",\"operator\":\"x\",\"type\":\"\\u001b]0;pwned\\u0007\\u009b6n\"}\n\
         {\"ts\":\"2026-12-01T17:00:01Z\",\"operator\":\"x\",\"type\":\"session_ended\"}\n",
    )
    .unwrap();
    let out = Command::new(BIN)
        .arg("report")
        .arg(&journal)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert_inert("stderr", &err);
    assert!(err.contains("`?]0;pwned??6n`"), "{err}");
}

#[test]
fn a_demo_journal_is_reviewed_from_any_directory() {
    // Before: "runbooks/demo.yaml: cannot read the runbook" anywhere but the repository.
    let dir = tempfile::tempdir().unwrap();
    let started = Record {
        ts: t(-180),
        operator: "jane".into(),
        room: None,
        event: Event::SessionStarted {
            runbook: "runbooks/demo.yaml".into(),
            event_name: "Spring Sale Launch (demo)".into(),
            t0: t(0),
            mode: "simulated".into(),
            seed: Some(42),
            rehearsal: false,
            speed: None,
            surprise: false,
        },
    };
    let path = dir.path().join("demo.journal");
    std::fs::write(&path, serde_json::to_string(&started).unwrap() + "\n").unwrap();
    let out = Command::new(BIN)
        .arg("report")
        .arg(&path)
        .current_dir(dir.path())
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.contains("Spring Sale Launch (demo)"), "{text}");
}

/// A game day's journal: the spike on p99 detected `detect` seconds after it began,
/// acknowledged 60 s later, resolved 120 s after that; the Go item done `late` seconds after
/// its T-5m due time.
fn game_day(dir: &Path, name: &str, detect: i64, late: i64) -> std::path::PathBuf {
    std::fs::write(dir.join("r.yaml"), RUNBOOK).unwrap();
    let key = AlertKey::Metric("p99".into());
    let records = [
        (
            -1800,
            Event::SessionStarted {
                runbook: dir.join("r.yaml").display().to_string(),
                event_name: "Report Launch".into(),
                t0: t(0),
                mode: "rehearsal".into(),
                seed: Some(42),
                rehearsal: true,
                speed: Some(10.0),
                surprise: false,
            },
        ),
        (
            -300 + late,
            Event::ItemDone {
                item: "go".into(),
                auto: false,
            },
        ),
        (
            300,
            Event::FaultInjected {
                fault: "inject[0]".into(),
                description: format!("spike p99 to {} for 3m at T+5m", 1000 + detect),
                target: "p99".into(),
                at: t(300),
                until: t(480),
                surprise: false,
                affects: vec![key.clone()],
            },
        ),
        (
            300 + detect,
            Event::AlertOpened {
                key: key.clone(),
                severity: Severity::Crit,
                message: "p99 latency 1200 ms >= 900".into(),
            },
        ),
        (360 + detect, Event::AlertAcknowledged { key: key.clone() }),
        (480 + detect, Event::AlertClosed { key }),
    ];
    let path = dir.join(name);
    write_journal(&path, records);
    path
}

#[test]
fn several_game_day_journals_are_compared_side_by_side() {
    let dir = tempfile::tempdir().unwrap();
    let a = game_day(dir.path(), "monday.journal", 150, 120);
    let b = game_day(dir.path(), "friday.journal", 45, 0);
    let out = Command::new(BIN)
        .arg("report")
        .arg(&a)
        .arg(&b)
        .output()
        .unwrap();
    let md = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        md.contains("# Game days compared: Report Launch (2 runs)"),
        "{md}"
    );
    // One fault type, though the runs tuned its size differently.
    let spike = md
        .lines()
        .find(|l| l.starts_with("| spike p99 |"))
        .unwrap_or_else(|| panic!("{md}"));
    // Each time from the fault's start, as the single review scores it.
    assert!(
        spike.contains("detect 2m30s · ack 3m30s · resolve 5m30s")
            && spike.contains("detect 45s · ack 1m45s · resolve 3m45s"),
        "{spike}"
    );
    let monday = md
        .lines()
        .find(|l| l.starts_with("| monday.journal |"))
        .unwrap();
    assert!(
        monday.contains("| 1/1 | 2m30s |") && monday.contains("×10"),
        "{monday}"
    );
    let go = md
        .lines()
        .find(|l| l.starts_with("| Go decision |"))
        .unwrap_or_else(|| panic!("{md}"));
    assert!(go.contains("late by 2m") && go.contains("on time"), "{go}");

    let out = Command::new(BIN)
        .arg("report")
        .arg(&a)
        .arg(&b)
        .args(["--format", "html"])
        .output()
        .unwrap();
    let html = String::from_utf8_lossy(&out.stdout);
    assert!(
        html.contains("<h2>Per fault type</h2>") && html.contains("<th>friday.journal</th>"),
        "{html}"
    );

    // A recording belongs to one event: refused with several journals.
    let out = Command::new(BIN)
        .arg("report")
        .arg(&a)
        .arg(&b)
        .args(["--recording", "x.rec"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("one journal"));
}
