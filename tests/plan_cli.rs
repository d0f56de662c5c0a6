//! `tminus plan` as a user runs it, on simulated history (the live path is in `aws_wire.rs`):
//! the table, the JSON, exit codes and refusals.

use std::process::{Command, Output};

const BIN: &str = env!("CARGO_BIN_EXE_tminus");

fn plan(args: &[&str]) -> Output {
    Command::new(BIN)
        .arg("plan")
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("run tminus")
}

/// A launch with T-0 a month away, so request-by dates are ahead of us, and one far behind.
fn runbook(dir: &tempfile::TempDir, t0_days: i64, extra: &str) -> String {
    let t0 = (chrono::Utc::now() + chrono::Duration::days(t0_days)).to_rfc3339();
    let path = dir.path().join("launch.yaml");
    std::fs::write(
        &path,
        format!(
            "event: {{ name: \"Launch \\u001b]0;owned\\u0007| x\", starts_at: \"{t0}\", forecast: 22x }}
metrics:
  - {{ id: conc, title: Lambda concurrency, namespace: AWS/Lambda, metric: ClaimedAccountConcurrency, stat: Maximum, warn: 800, crit: 950, sim: {{ base: 20, peak: 40 }} }}
  - {{ id: p99, namespace: AWS/ApplicationELB, metric: TargetResponseTime, stat: p99, unit: ms, warn: 900, crit: 1200, sim: {{ base: 200, peak: 300 }} }}
quotas:
  - {{ service: lambda, code: L-B99A9384, title: Lambda concurrency, sim: {{ value: 1000, base: 50, peak: 100 }} }}
  - {{ service: ec2, code: L-1216C47A, title: EC2 vCPU, lead_time: 10d, sim: {{ value: 5000, base: 10, peak: 20 }} }}
{extra}"
        ),
    )
    .unwrap();
    path.display().to_string()
}

#[test]
fn at_22x_the_lambda_quota_breaks_and_the_table_says_what_to_request_and_by_when() {
    let dir = tempfile::tempdir().unwrap();
    let rb = runbook(&dir, 30, "");
    let out = plan(&[&rb, "--simulate"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "projected critical: {stdout}");
    assert!(stdout.contains("peak 22x normal"), "{stdout}");
    assert!(stdout.contains("SIMULATED DATA"), "{stdout}");
    let lambda = stdout
        .lines()
        .find(|l| l.starts_with("L-B99A9384"))
        .unwrap_or_else(|| panic!("{stdout}"));
    assert!(lambda.contains("CRIT"), "{lambda}");
    // A request date three weeks before T-0, a month away: ahead of us.
    let by = (chrono::Utc::now() + chrono::Duration::days(9))
        .format("%Y-%m-%d")
        .to_string();
    assert!(lambda.contains(&by), "{lambda} (wanted {by})");
    assert!(!lambda.contains("PASSED"), "{lambda}");
    let ec2 = stdout
        .lines()
        .find(|l| l.starts_with("L-1216C47A"))
        .unwrap();
    assert!(ec2.contains("fits"), "{ec2}");
    // A p99 is not multiplied; concurrency is.
    let p99 = stdout.lines().find(|l| l.starts_with("p99")).unwrap();
    assert!(p99.contains("latency"), "{p99}");
    let conc = stdout
        .lines()
        .find(|l| l.starts_with("Lambda concurrency "))
        .unwrap();
    assert!(conc.contains("(22x)"), "{conc}");
    // The event name is runbook text: printed inert.
    assert!(
        !stdout.contains('\u{1b}') && !stdout.contains('\u{7}'),
        "{stdout:?}"
    );
}

#[test]
fn a_request_date_already_behind_us_says_passed() {
    let dir = tempfile::tempdir().unwrap();
    let rb = runbook(&dir, 5, "");
    let out = plan(&[&rb, "--simulate"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let lambda = stdout
        .lines()
        .find(|l| l.starts_with("L-B99A9384"))
        .unwrap();
    assert!(lambda.contains("PASSED"), "{lambda}");
}

#[test]
fn json_carries_the_same_plan_and_peak_overrides_the_runbook() {
    let dir = tempfile::tempdir().unwrap();
    let rb = runbook(&dir, 30, "");
    let out = plan(&[&rb, "--simulate", "--json", "--peak", "2x"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["forecast"], 2.0);
    let q = &v["quotas"][0];
    assert_eq!(q["code"], "L-B99A9384");
    assert_eq!(q["status"], "fits");
    let peak = q["peak"]["value"].as_f64().unwrap();
    let projected = q["projected"].as_f64().unwrap();
    assert!((projected - 2.0 * peak).abs() < 1e-9, "{q}");
    assert!(!String::from_utf8_lossy(&out.stdout).contains('\u{1b}'));
}

#[test]
fn bad_values_are_refused_before_anything_is_read() {
    let dir = tempfile::tempdir().unwrap();
    let rb = runbook(&dir, 30, "");
    for (args, needle) in [
        (vec!["--peak", "0x"], "bad multiplier"),
        (vec!["--peak", "lots"], "bad multiplier"),
        (vec!["--history", "200d"], "1h to 90d"),
        (vec!["--history", "2"], "bad duration"),
    ] {
        let mut all = vec![rb.as_str(), "--simulate"];
        all.extend(args.iter().copied());
        let out = plan(&all);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(needle), "{args:?}: {stderr}");
    }
    // In the runbook: located.
    let bad = runbook(&dir, 30, "plan: { history: 365d }\n");
    let out = plan(&[&bad, "--simulate"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("launch.yaml:8:"), "{stderr}");
    assert!(stderr.contains("outside 1h to 90d"), "{stderr}");
}

#[test]
fn after_the_event_the_scale_down_list_comes_from_the_journal() {
    use tminus::journal::{Event, Record};
    let dir = tempfile::tempdir().unwrap();
    let rb = dir.path().join("launch.yaml");
    std::fs::write(
        &rb,
        "event: { name: Sale, starts_at: 2026-12-01T17:00:00Z }
checklists:
  - name: Pre-scale
    items:
      - { id: asg, title: Pre-scale web ASG to 24, revert: Scale web ASG back to 12 }
",
    )
    .unwrap();
    let t0 = chrono::DateTime::parse_from_rfc3339("2026-12-01T17:00:00Z")
        .unwrap()
        .to_utc();
    let rec = |m: i64, event: Event| {
        serde_json::to_string(&Record {
            ts: t0 + chrono::Duration::minutes(m),
            operator: "jane".into(),
            room: None,
            event,
        })
        .unwrap()
    };
    let lines = [
        rec(
            -180,
            Event::SessionStarted {
                runbook: rb.display().to_string(),
                event_name: "Sale".into(),
                t0,
                mode: "live".into(),
                seed: None,
                rehearsal: false,
                speed: None,
                surprise: false,
            },
        ),
        rec(
            -120,
            Event::ItemDone {
                item: "asg".into(),
                auto: false,
            },
        ),
        rec(
            -60,
            Event::QuotaIncreaseRequested {
                service: "lambda".into(),
                code: "L-B99A9384".into(),
                current: Some(1000.0),
                desired: 5000.0,
            },
        ),
    ];
    let journal = dir.path().join("sale.journal");
    std::fs::write(&journal, lines.join("\n") + "\n").unwrap();
    let out = Command::new(BIN)
        .args(["plan", "--scale-down"])
        .arg(&journal)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("1 increase(s) requested, 1 item(s) to revert or keep"),
        "{stdout}"
    );
    assert!(
        stdout.contains("L-B99A9384") && stdout.contains("5000"),
        "{stdout}"
    );
    assert!(stdout.contains("Scale web ASG back to 12"), "{stdout}");
    // Without a RUNBOOK or --scale-down, plan says what it needs (clap, exit 2).
    let out = Command::new(BIN).arg("plan").output().unwrap();
    assert_eq!(out.status.code(), Some(2));
}
