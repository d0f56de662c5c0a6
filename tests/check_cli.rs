//! `tminus check` as a user runs it: the real binary on real files, exit status and output.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const VALID: &str = "\
event:
  name: Spring Sale Launch
  starts_at: 2026-12-01T17:00:00Z
phases:
  - { name: Pre-flight, from: T-2h }
  - { name: Launch, from: T-0 }
metrics:
  - id: requests
    namespace: AWS/ApplicationELB
    metric: RequestCount
    stat: Sum
    warn: 100
    crit: 500
  - id: errors
    expression: \"requests * 2\"
checklists:
  - name: Go
    items:
      - { id: freeze, title: Freeze deploys, verify: \"requests > 0\" }
";

fn tminus(args: &[&Path]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tminus"))
        .arg("check")
        .args(args)
        .output()
        .expect("run tminus")
}

/// Writes VALID with `from` replaced by `to` to a temp file; the dir keeps it alive.
fn broken(from: &str, to: &str) -> (tempfile::TempDir, PathBuf) {
    assert!(VALID.contains(from), "{from}");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("launch.yaml");
    std::fs::write(&path, VALID.replacen(from, to, 1)).unwrap();
    (dir, path)
}

/// Runs check on VALID with one edit; asserts exit 1 and that stdout has `file:line:col: error:
/// ...needle`.
fn fails_at(from: &str, to: &str, line: usize, col: usize, needle: &str) -> String {
    let (_dir, path) = broken(from, to);
    let out = tminus(&[&path]);
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    let want = format!("{}:{line}:{col}: error: ", path.display());
    let hit = stdout
        .lines()
        .find(|l| l.starts_with(&want))
        .unwrap_or_else(|| panic!("no {want} in:\n{stdout}"));
    assert!(hit.contains(needle), "{hit}\nwanted: {needle}");
    stdout
}

#[test]
fn valid_runbook_exits_zero() {
    let (_dir, path) = broken("", "");
    let out = tminus(&[&path]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    let mut lines = stdout.lines();
    assert_eq!(
        lines.next(),
        Some(format!("{}: ok (runbook)", path.display()).as_str())
    );
    // `requests` has no sim: hints: only notes follow.
    assert!(lines.all(|l| l.contains(": note: ")), "{stdout}");
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "1 file checked: all ok\n"
    );
}

/// A runbook without `sim:` hints: the check says which metrics the simulator guesses and how,
/// in plain text, and still passes.
#[test]
fn notes_list_the_metrics_the_simulator_guesses() {
    let text = VALID
        .replace(
            "  - id: errors\n",
            "  - id: e5xx
    namespace: AWS/ApplicationELB
    metric: HTTPCode_Target_5XX_Count
    dimensions: { LoadBalancer: app/web/1, TargetGroup: \"tg/\\e[31mweb\" }
    stat: Sum
  - id: p99
    namespace: AWS/ApplicationELB
    metric: TargetResponseTime
    stat: p99
    warn: 0.5
  - id: orders
    namespace: \"Shop\\e[2J\"
    metric: OrdersPlaced
    dimensions: { \"Env\\e]0;owned\\a\": prod }
    stat: Sum
    direction: below
    warn: 20
  - id: failed
    namespace: \"Shop\\e[2J\"
    metric: OrdersFailed
    dimensions: { \"Env\\e]0;owned\\a\": prod }
    stat: Sum
  - id: errors\n",
        )
        .replace(
            "    metric: RequestCount\n",
            "    metric: RequestCount\n    dimensions: { LoadBalancer: app/web/1 }\n",
        );
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("launch.yaml");
    std::fs::write(&path, &text).unwrap();
    let out = tminus(&[&path]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "1 file checked: all ok\n"
    );
    let p = path.display();
    let want = [
        format!("{p}: ok (runbook)"),
        format!(
            "{p}: note: the simulator guesses 5 metrics (no sim: hints): requests, e5xx, p99, \
             orders, failed"
        ),
        format!("{p}:8:5: note: requests: under warn 100, peak 60"),
        format!("{p}:15:5: note: e5xx: 0.1 % of `requests` (same LoadBalancer)"),
        format!("{p}:20:5: note: p99: under warn 0.5, peak 0.3"),
        format!("{p}:25:5: note: orders: stays over warn 20 (direction: below), peak 200"),
        format!("{p}:32:5: note: failed: 0.1 % of `orders` (same Env?]0;owned?)"),
    ];
    assert_eq!(stdout.lines().collect::<Vec<_>>(), want, "{stdout}");
    assert!(!stdout.contains('\u{1b}') && !stdout.contains('\u{7}'));

    // With hints on every metric there is nothing to guess and nothing to say.
    let hinted = text
        .replace(
            "    stat: Sum\n",
            "    stat: Sum\n    sim: { base: 1, peak: 2 }\n",
        )
        .replace(
            "    stat: p99\n",
            "    stat: p99\n    sim: { base: 0.1, peak: 0.2 }\n",
        );
    std::fs::write(&path, hinted).unwrap();
    let out = tminus(&[&path]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        format!("{p}: ok (runbook)\n")
    );
}

/// Thresholds that contradict each other are pointed out, and still only as notes.
#[test]
fn notes_point_at_thresholds_the_simulator_cannot_keep() {
    let text = VALID.replace("\"requests * 2\"", "\"requests * 2\"\n    warn: 50");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("launch.yaml");
    std::fs::write(&path, text).unwrap();
    let out = tminus(&[&path]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    // requests is under warn 100 on its own: twice that under 50 means pulling it back to a
    // quarter, which its own rest level allows; so this one is kept...
    assert!(!stdout.contains("cannot keep"), "{stdout}");
    // ...but not when requests must stay over 100 (direction: below).
    let text = VALID
        .replace(
            "    warn: 100\n    crit: 500\n",
            "    direction: below\n    warn: 100\n",
        )
        .replace("\"requests * 2\"", "\"requests * 2\"\n    warn: 50");
    std::fs::write(&path, text).unwrap();
    let out = tminus(&[&path]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    let p = path.display();
    assert!(
        stdout.contains(&format!(
            "{p}:14:5: note: the simulator cannot keep `errors` inside its thresholds"
        )),
        "{stdout}"
    );
}

#[test]
fn unknown_key() {
    let out = fails_at(
        "    warn: 100",
        "    wran: 100",
        12,
        5,
        "unknown key `wran`",
    );
    assert!(out.contains("  hint: did you mean `warn`?"), "{out}");
}

#[test]
fn bad_offset() {
    let out = fails_at(
        "from: T-2h",
        "from: T-3x",
        5,
        31,
        "bad time offset \"T-3x\"",
    );
    assert!(
        out.contains("  hint: write T-30m, T+2h, T-0, T-1h30m"),
        "{out}"
    );
}

#[test]
fn duplicate_id() {
    fails_at(
        "  - id: errors",
        "  - id: requests",
        14,
        9,
        "duplicate metric id `requests`",
    );
}

/// A key given twice is reported where it is given the second time (the line to delete), not
/// at the start of its mapping.
#[test]
fn duplicate_key_at_its_second_occurrence() {
    let out = fails_at(
        "    crit: 500",
        "    crit: 500\n    warn: 200",
        14,
        5,
        "metrics[0]: duplicate field `warn`",
    );
    assert!(
        out.contains("  hint: each key may appear only once"),
        "{out}"
    );
    fails_at(
        "  starts_at: 2026-12-01T17:00:00Z",
        "  starts_at: 2026-12-01T17:00:00Z\n  name: Again",
        4,
        3,
        "event: duplicate field `name`",
    );
}

#[test]
fn unknown_metric_reference() {
    let out = fails_at(
        "\"requests * 2\"",
        "\"reqests * 2\"",
        15,
        17,
        "unknown metric `reqests`",
    );
    assert!(out.contains("  hint: did you mean `requests`?"), "{out}");
}

#[test]
fn phases_out_of_order() {
    fails_at(
        "from: T-0",
        "from: T-3h",
        6,
        27,
        "not after the phase before it",
    );
}

#[test]
fn warn_crit_order() {
    fails_at(
        "    crit: 500",
        "    crit: 50",
        13,
        11,
        "crit 50 must be above warn 100",
    );
}

#[test]
fn all_problems_at_once_and_a_summary() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("launch.yaml");
    let text = VALID
        .replace("from: T-0", "from: T-3h")
        .replace("crit: 500", "crit: 50")
        .replace("requests > 0", "nope > 0");
    std::fs::write(&path, text).unwrap();
    let out = tminus(&[&path]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let errors: Vec<&str> = stdout.lines().filter(|l| l.contains(": error: ")).collect();
    assert_eq!(errors.len(), 3, "{stdout}");
    // File order.
    assert!(errors[0].contains(":6:"), "{stdout}");
    assert!(errors[1].contains(":13:"), "{stdout}");
    assert!(errors[2].contains(":19:"), "{stdout}");
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "1 file checked: 3 problems in 1 file\n"
    );
}

#[test]
fn themes_and_directories() {
    let dir = tempfile::tempdir().unwrap();
    let themes = dir.path().join("themes");
    std::fs::create_dir(&themes).unwrap();
    std::fs::write(themes.join("ok.yaml"), "name: ok\nextends: light\n").unwrap();
    std::fs::write(themes.join("bad.yaml"), "name: bad\nwarn: \"#ff\"\n").unwrap();
    let out = tminus(&[&themes]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    let bad = themes.join("bad.yaml");
    assert!(
        stdout.contains(&format!(
            "{}:2:7: error: warn: bad colour \"#ff\"",
            bad.display()
        )),
        "{stdout}"
    );
    assert!(stdout.contains("ok.yaml: ok (theme)"), "{stdout}");
}

#[test]
fn shipped_themes_pass() {
    let themes = Path::new(env!("CARGO_MANIFEST_DIR")).join("themes");
    let out = tminus(&[&themes]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

#[test]
fn missing_file_exits_one() {
    let out = tminus(&[Path::new("/nonexistent/launch.yaml")]);
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.starts_with("/nonexistent/launch.yaml:1:1: error: cannot read"),
        "{stdout}"
    );
}

#[test]
fn a_simulated_session_refuses_math_the_simulator_cannot_play_located() {
    // RATE needs the whole window: live AWS computes it, the simulator cannot. Before, such a
    // metric silently showed no data in demo and rehearsal.
    let (_dir, path) = broken(
        "expression: \"requests * 2\"",
        "expression: \"1 + RATE(requests)\"",
    );
    for args in [vec!["run", "--simulate"], vec!["rehearse"]] {
        let out = Command::new(env!("CARGO_BIN_EXE_tminus"))
            .args(&args)
            .arg(&path)
            .stdin(std::process::Stdio::null())
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {err}");
        assert!(
            err.contains(&format!(
                "{}:15:22: error: the simulator cannot evaluate RATE in `errors`",
                path.display()
            )),
            "{args:?}: {err}"
        );
        assert!(err.contains("use it live with `tminus run`"), "{err}");
    }
    // `check` accepts it (it is valid CloudWatch math) and says so as a warning.
    let out = tminus(&[&path]);
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("warning: the simulator cannot evaluate RATE"),
        "{text}"
    );
}

/// No control character but the line break, no bidi override, no zero-width joiner.
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

/// Runbook text quoted by errors (unknown keys, zones, duplicate names, bad ids) and hostile
/// file names print as inert text: no OSC 0 title change, no OSC 52 clipboard write, no CSI.
#[test]
fn hostile_text_in_runbooks_and_file_names_prints_inert() {
    let dir = tempfile::tempdir().unwrap();
    let semantic = dir.path().join("semantic.yaml");
    std::fs::write(
        &semantic,
        VALID
            .replace(
                "  starts_at: 2026-12-01T17:00:00Z\n",
                "  starts_at: 2026-12-01T17:00:00Z\n  zones: [\"\\e]0;pwned\\a\", \"Asia/\\e]52;c;cm0gLXJmIH4=\\a\"]\n",
            )
            .replace(
                "  - { name: Launch, from: T-0 }",
                "  - { name: \"Go\\e[2J\\u202E\", from: T-1h }\n  - { name: \"Go\\e[2J\\u202E\", from: T-0 }",
            )
            .replace("  - id: errors", "  - id: \"e\\x9b6n\\u200D日\""),
    )
    .unwrap();
    let unknown_key = dir.path().join("key.yaml");
    std::fs::write(
        &unknown_key,
        VALID.replace("    warn: 100", "    \"wr\\e]0;t\\a\": 100"),
    )
    .unwrap();
    let out = tminus(&[&semantic, &unknown_key]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert_inert("check", &stdout);
    assert_inert("check stderr", &String::from_utf8_lossy(&out.stderr));
    for want in [
        "unknown time zone `?]0;pwned?`",
        "unknown time zone `Asia/?]52;c;cm0gLXJmIH4=?`",
        "duplicate phase name `Go?[2J?`",
        "unknown key `wr?]0;t?`",
    ] {
        assert!(stdout.contains(want), "no {want:?} in:\n{stdout}");
    }
    // One diagnostic per line (plus its hint): a quoted line break cannot forge another.
    assert!(
        stdout
            .lines()
            .all(|l| l.starts_with(dir.path().to_str().unwrap()) || l.starts_with("  hint: ")),
        "{stdout}"
    );

    // A directory's file names are printed too.
    let named = tempfile::tempdir().unwrap();
    std::fs::write(
        named.path().join("x\u{1b}]0;pwned\u{7}\u{202E}.yaml"),
        VALID,
    )
    .unwrap();
    let out = tminus(&[named.path()]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert_inert("check of a directory", &stdout);
    assert!(
        stdout.contains("x?]0;pwned??.yaml: ok (runbook)"),
        "{stdout}"
    );
}
