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
        room: None,
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
            room: None,
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
        &["rehearse", "x.yaml", "--start-at", "T+1000000000d"],
        &["rehearse", "x.yaml", "--start-at", "T+9223372036854775807s"],
    ] {
        let out = run(args, Duration::from_secs(20));
        let err = stderr(&out);
        // Exit 2, as clap does for any bad argument; these panicked with 101.
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains("within 366 days of"), "{args:?}: {err}");
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

/// `tminus check FILE`, at most 10 s: exit status, stdout, and how long it took.
fn check(path: &Path) -> (Output, Duration) {
    let child = Command::new(BIN)
        .arg("check")
        .arg(path)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    finish(child, Duration::from_secs(10))
}

#[test]
fn check_refuses_hostile_files_with_a_located_error_in_well_under_a_second() {
    let dir = tempfile::tempdir().unwrap();
    let n = 100_000;
    let fifo = dir.path().join("fifo.yaml");
    assert!(
        Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success()
    );
    let themes = dir.path().join("themes");
    std::fs::create_dir(&themes).unwrap();
    // (file, its text unless it exists, what the first line of the report must hold)
    let deep = ": error: nested more than 32 levels deep";
    let cases: Vec<(PathBuf, Option<String>, String)> = vec![
        (
            dir.path().join("deep-flow.yaml"),
            Some(format!("{RUNBOOK}x: {}{}\n", "[".repeat(n), "]".repeat(n))),
            format!(":2:259{deep}"),
        ),
        (
            dir.path().join("deep-map.yaml"),
            Some(format!(
                "{RUNBOOK}x: {}1{}\n",
                "{a: ".repeat(n),
                "}".repeat(n)
            )),
            format!(":2:128{deep}"),
        ),
        (
            themes.join("deep.yaml"),
            Some(format!("name: t\nfg: {}{}\n", "[".repeat(n), "]".repeat(n))),
            format!(":2:260{deep}"),
        ),
        (
            dir.path().join("laughs.yaml"),
            Some(format!(
                "{RUNBOOK}a: &a [{}]\nb: &b [{}]\nc: &c [{}]\nd: [{}]\n",
                "1,".repeat(99),
                "*a,".repeat(99),
                "*b,".repeat(99),
                "*c,".repeat(99)
            )),
            ":4:65: error: more than 200000 values".into(),
        ),
        // The 50 MB event name.
        (
            dir.path().join("huge-name.yaml"),
            Some(format!(
                "event:\n  name: {}\n  starts_at: 2026-12-01T17:00:00Z\n",
                "x".repeat(50_000_000)
            )),
            ":1:1: error: cannot read: larger than 1 MiB".into(),
        ),
        (
            dir.path().join("long-name.yaml"),
            Some(format!(
                "event:\n  name: {}\n  starts_at: 2026-12-01T17:00:00Z\n",
                "x".repeat(5_000)
            )),
            ":2:9: error: a value of 5000 characters: at most 4096".into(),
        ),
        (
            PathBuf::from("/dev/zero"),
            None,
            ":1:1: error: cannot read: not a regular file (a character device)".into(),
        ),
        (
            fifo.clone(),
            None,
            ":1:1: error: cannot read: not a regular file (a FIFO)".into(),
        ),
    ];
    for (path, text, want) in cases {
        if let Some(t) = text {
            std::fs::write(&path, t).unwrap();
        }
        let (out, took) = check(&path);
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert_eq!(out.status.code(), Some(1), "{}: {stdout}", path.display());
        let first = stdout.lines().next().unwrap_or("");
        assert!(
            first.starts_with(&format!("{}{want}", path.display())),
            "wanted {}{want}, got: {stdout}",
            path.display()
        );
        // A debug build on a shared machine: "well under a second" with room for load.
        assert!(
            took < Duration::from_secs(3),
            "{}: {took:?}",
            path.display()
        );
        println!("{}: {took:?}", path.display());
    }
}

#[test]
fn commands_refuse_fifos_devices_and_endless_lines_instead_of_hanging() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("fifo");
    assert!(
        Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success()
    );
    let fifo = fifo.display().to_string();
    // A journal line longer than the cap: named, not read to the end of the disk.
    let j = journal(dir.path());
    let mut text = std::fs::read_to_string(&j).unwrap();
    text.push_str(&"x".repeat(2 * 1024 * 1024));
    text.push('\n');
    let long = dir.path().join("long.journal");
    std::fs::write(&long, text).unwrap();
    let long = long.display().to_string();
    for (args, want) in [
        (vec!["report", fifo.as_str()], "not a regular file (a FIFO)"),
        (
            vec!["report", "/dev/zero"],
            "not a regular file (a character device)",
        ),
        (
            vec!["report", long.as_str()],
            "line 202 is longer than 1 MiB",
        ),
        (vec!["replay", fifo.as_str()], "not a regular file (a FIFO)"),
        (vec!["replay", "/dev/zero"], "not a regular file"),
        (vec!["quotas", fifo.as_str()], "not a regular file (a FIFO)"),
        (
            vec!["cost", "/dev/zero"],
            "not a regular file (a character device)",
        ),
        (
            vec!["run", fifo.as_str(), "--simulate"],
            "not a regular file (a FIFO)",
        ),
    ] {
        let out = run(&args, Duration::from_secs(10));
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {err}");
        assert!(err.contains(want), "{args:?}: wanted {want}: {err}");
    }
}

/// `tminus quotas` against an endpoint that accepts connections and never answers: one honest
/// line within its 20 s budget for AWS, not a timeout per call (101 s) saying it will retry.
#[test]
fn quotas_against_a_silent_endpoint_ends_within_its_budget_and_says_so() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for c in listener.incoming().flatten() {
            held.push(c); // accepted, never answered
        }
    });
    let dir = tempfile::tempdir().unwrap();
    let runbook = dir.path().join("q.yaml");
    std::fs::write(
        &runbook,
        format!(
            "{RUNBOOK}aws: {{ region: us-east-1 }}\nmetrics:\n  - {{ id: used, namespace: AWS/Usage, metric: ResourceCount, stat: Maximum }}\nquotas:\n  - {{ service: lambda, code: L-B99A9384, usage_metric: used }}\n  - {{ service: ec2, code: L-1216C47A }}\n  - {{ service: vpc, code: L-F678F1CE }}\n"
        ),
    )
    .unwrap();
    let child = Command::new(BIN)
        .arg("quotas")
        .arg(&runbook)
        .args(["--endpoint-url", &endpoint])
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_CONFIG_FILE", dir.path().join("none"))
        .env("AWS_SHARED_CREDENTIALS_FILE", dir.path().join("none"))
        .env_remove("AWS_PROFILE")
        .env_remove("AWS_ENDPOINT_URL")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (out, took) = finish(child, Duration::from_secs(45));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(2), "{stdout}{}", stderr(&out));
    assert!(
        stdout.contains(&format!("error: no answer from {endpoint} within 20 s")),
        "{stdout}"
    );
    assert!(!stdout.contains("retrying"), "{stdout}");
    assert_eq!(stdout.matches(" error\n").count(), 3, "{stdout}");
    // The budget, the pacing between quota calls, start-up: well under the 60 s it was.
    assert!(took < Duration::from_secs(30), "{took:?}");
    println!("quotas against a silent endpoint: {took:?}");
}

#[test]
fn room_names_tables_and_missing_tables_are_usage_errors() {
    let limit = Duration::from_secs(10);
    let o = run(
        &[
            "demo",
            "--room",
            "bad\u{1b}]0;x\u{7}name",
            "--room-table",
            "rooms",
        ],
        limit,
    );
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("a room name is 1 to 100 letters"),
        "{}",
        stderr(&o)
    );
    assert!(
        !stderr(&o).contains('\u{1b}'),
        "no escape reaches the terminal"
    );
    let o = run(&["watch", "--room", "sale", "--room-table", "ab"], limit);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("a DynamoDB table name is 3 to 255"),
        "{}",
        stderr(&o)
    );
    let o = Command::new(BIN)
        .args(["demo", "--room", "sale"])
        .env_remove("TMINUS_ROOM_TABLE")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("--room-table"), "{}", stderr(&o));
    // A table nobody answers for: `room create` says so, in bounded time, exit 1.
    let start = Instant::now();
    let o = Command::new(BIN)
        .args([
            "room",
            "create",
            "rooms",
            "--region",
            "us-east-1",
            "--endpoint-url",
            "http://127.0.0.1:9",
        ])
        .env("AWS_ACCESS_KEY_ID", "x")
        .env("AWS_SECRET_ACCESS_KEY", "x")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("cannot reach the AWS endpoint"),
        "{}",
        stderr(&o)
    );
    assert!(start.elapsed() < Duration::from_secs(60));
}
