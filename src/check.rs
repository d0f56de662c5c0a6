//! `tminus check`: validates runbooks and themes like a linter, for editors and CI.
//!
//! Every problem is printed as `file:line:column: error: message` with an optional `  hint:`
//! line, valid files as `file: ok (runbook)`, and a summary last. Exit status 0 when every file
//! is valid, 1 otherwise.
//!
//! A valid runbook whose metrics lack `sim:` hints is followed by notes on what the simulator
//! (`tminus demo`, `--simulate`, `tminus rehearse`) will guess for them: a summary line, then
//! `file:line:column: note: id: reason` per metric, and any threshold it cannot keep healthy.
//! Notes never change the exit status.
//!
//! Which files are themes: a file whose parent directory is named `themes`, or any other file
//! whose top level is a mapping without an `event` key but with a theme key (`extends`, `fg`,
//! `ok`...). Everything else is checked as a runbook, so a runbook with a typo in `event` still
//! gets runbook errors. A directory argument stands for the *.yaml and *.yml files directly in it.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::diag::Diagnostic;
use crate::theme::{THEME_KEYS, Theme};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Runbook,
    Theme,
}

/// What a check run found.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Summary {
    pub files: usize,
    /// Files with at least one problem.
    pub bad_files: usize,
    pub problems: usize,
    /// Warnings: printed, but the files are valid.
    pub warnings: usize,
}

impl Summary {
    pub fn ok(&self) -> bool {
        self.problems == 0
    }

    /// The last line of the report: "3 files checked: all ok" or "3 files checked: 4 problems
    /// in 2 files".
    pub fn line(&self) -> String {
        let files = plural(self.files, "file");
        if self.ok() && self.warnings > 0 {
            format!(
                "{files} checked: all ok, {}",
                plural(self.warnings, "warning")
            )
        } else if self.ok() {
            format!("{files} checked: all ok")
        } else {
            format!(
                "{files} checked: {} in {}",
                plural(self.problems, "problem"),
                plural(self.bad_files, "file")
            )
        }
    }
}

fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("1 {word}")
    } else {
        format!("{n} {word}s")
    }
}

/// Runs the check, printing the report to stdout and the summary to stderr; the exit code.
/// A report that could not be written (a full disk) fails the run, said on stderr; a reader
/// that went away (`| head`) does not change the verdict.
pub fn run(paths: &[PathBuf]) -> i32 {
    let mut out = crate::out::Tracked::new(std::io::stdout().lock());
    let summary = check_files(paths, &mut out);
    let _ = out.flush();
    // Not eprintln!: a closed stderr must not turn a finished check into a panic.
    crate::out::say(summary.line());
    match out.error {
        Some(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            crate::out::say(format!("tminus: writing to standard output: {e}"));
            1
        }
        _ if summary.ok() => 0,
        _ => 1,
    }
}

/// Checks every path (directories expanded) and writes one block per file to `out`. Write
/// errors are ignored: the summary still says what was found.
pub fn check_files(paths: &[PathBuf], out: &mut dyn Write) -> Summary {
    let mut summary = Summary::default();
    for arg in paths {
        let (files, problem) = expand(arg);
        if let Some(d) = problem {
            summary.files += 1;
            summary.bad_files += 1;
            summary.problems += 1;
            let _ = writeln!(out, "{d}");
        }
        for file in files {
            summary.files += 1;
            let (kind, result) = check_file(&file);
            match result {
                Ok((warnings, notes)) => {
                    let what = match kind {
                        Kind::Runbook => "runbook",
                        Kind::Theme => "theme",
                    };
                    let name = file.display().to_string();
                    let _ = writeln!(out, "{}: ok ({what})", crate::text::clean(&name));
                    summary.warnings += warnings.len();
                    for d in warnings {
                        let _ = writeln!(out, "{d}");
                    }
                    for n in notes {
                        let _ = writeln!(out, "{n}");
                    }
                }
                Err(ds) => {
                    summary.bad_files += 1;
                    summary.problems += ds.len();
                    for d in ds {
                        let _ = writeln!(out, "{d}");
                    }
                }
            }
        }
    }
    summary
}

/// What a valid file gets said about it: warnings (valid, but misleading on real data or not
/// playable by the simulator) and the simulator's notes.
pub type Remarks = (Vec<Diagnostic>, Vec<String>);

/// One file: its kind and, when valid, its remarks; else every problem in it.
pub fn check_file(path: &Path) -> (Kind, Result<Remarks, Vec<Diagnostic>>) {
    let label = path.display().to_string();
    let text = match crate::limits::read_yaml(path, "cannot read") {
        Ok(t) => t,
        Err(d) => return (Kind::Runbook, Err(vec![d])),
    };
    // Before `kind_of` parses it: the YAML parser is quadratic in nesting.
    if let Err(d) = crate::limits::check_yaml(&label, &text) {
        return (kind_of(path, ""), Err(vec![d]));
    }
    let kind = kind_of(path, &text);
    let result = match kind {
        Kind::Runbook => crate::runbook::parse(&label, &text).map(|rb| {
            let mut warnings = crate::runbook::advice(&label, &text, &rb);
            // What the simulator cannot play is fine live: a warning here, an error for demo,
            // `run --simulate` and rehearse.
            warnings.extend(
                crate::runbook::simulation_problems(&label, &text, &rb)
                    .into_iter()
                    .map(|d| d.warning()),
            );
            warnings.sort_by_key(|d| (d.line, d.column));
            (warnings, simulator_notes(&label, &text, &rb))
        }),
        Kind::Theme => Theme::parse(&label, &text).map(|_| (Vec::new(), Vec::new())),
    };
    (kind, result)
}

/// What the simulator will guess for the metrics of a valid runbook without `sim:` hints, one
/// line each, and the thresholds it cannot keep healthy. Plain text: whatever the runbook holds
/// (ids are checked, but names and dimensions are not), no control character reaches the
/// terminal.
pub fn simulator_notes(label: &str, text: &str, rb: &crate::runbook::Runbook) -> Vec<String> {
    let guesses = crate::source::sim::guesses(rb);
    let unkept = crate::source::sim::cannot_keep(rb);
    if guesses.is_empty() && unkept.is_empty() {
        return Vec::new();
    }
    let positions = crate::positions::Positions::build(text);
    let at = |metric: usize| {
        let (line, col) = positions.value(&format!("metrics[{metric}]"));
        format!("{label}:{line}:{col}")
    };
    let mut lines = Vec::new();
    if !guesses.is_empty() {
        let ids: Vec<&str> = guesses
            .iter()
            .map(|g| rb.metrics[g.metric].id.as_str())
            .collect();
        lines.push(format!(
            "{label}: note: the simulator guesses {} (no sim: hints): {}",
            plural(guesses.len(), "metric"),
            ids.join(", ")
        ));
    }
    for g in &guesses {
        lines.push(format!(
            "{}: note: {}: {}",
            at(g.metric),
            rb.metrics[g.metric].id,
            g.reason
        ));
    }
    for u in &unkept {
        lines.push(format!("{}: note: {}", at(u.metric), u.reason));
    }
    lines
        .iter()
        .map(|l| crate::text::clean(l).into_owned())
        .collect()
}

/// Theme or runbook; see the module documentation.
pub fn kind_of(path: &Path, text: &str) -> Kind {
    let in_themes_dir = path
        .parent()
        .and_then(Path::file_name)
        .is_some_and(|n| n == "themes");
    if in_themes_dir {
        return Kind::Theme;
    }
    let Ok(serde_yaml::Value::Mapping(map)) = serde_yaml::from_str::<serde_yaml::Value>(text)
    else {
        return Kind::Runbook;
    };
    let has = |k: &str| map.contains_key(k);
    let theme_key = THEME_KEYS.iter().any(|k| *k != "name" && has(k));
    if !has("event") && theme_key {
        Kind::Theme
    } else {
        Kind::Runbook
    }
}

/// The files an argument stands for, sorted; a problem if it is a directory without any.
fn expand(arg: &Path) -> (Vec<PathBuf>, Option<Diagnostic>) {
    if !arg.is_dir() {
        return (vec![arg.to_path_buf()], None);
    }
    let label = arg.display().to_string();
    let entries = match std::fs::read_dir(arg) {
        Ok(e) => e,
        Err(e) => {
            let d = Diagnostic::new(&label, 1, 1, format!("cannot read the directory: {e}"));
            return (Vec::new(), Some(d));
        }
    };
    let mut files: Vec<PathBuf> = entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_file() && p.extension().is_some_and(|x| x == "yaml" || x == "yml"))
        .collect();
    files.sort();
    if files.is_empty() {
        // Checking nothing must not pass CI silently.
        let d = Diagnostic::new(&label, 1, 1, "no .yaml or .yml files in this directory")
            .with_hint("give runbook or theme files, or a directory that holds them");
        return (files, Some(d));
    }
    (files, None)
}

#[cfg(test)]
mod tests {
    use super::*;

    const RUNBOOK: &str = "event:\n  name: x\n  starts_at: 2026-12-01T17:00:00Z\n";

    fn report(paths: &[PathBuf]) -> (Summary, String) {
        let mut out = Vec::new();
        let s = check_files(paths, &mut out);
        (s, String::from_utf8(out).unwrap())
    }

    #[test]
    fn warns_about_math_over_sparse_counters_and_what_the_simulator_cannot_play() {
        let dir = tempfile::tempdir().unwrap();
        let rb = dir.path().join("ext.yaml");
        std::fs::write(
            &rb,
            format!(
                "{RUNBOOK}metrics:\n  - {{ id: e5, namespace: AWS/ApplicationELB, metric: HTTPCode_Target_5XX_Count, stat: Sum, hidden: true }}\n  - {{ id: req, namespace: AWS/ApplicationELB, metric: RequestCount, stat: Sum, hidden: true }}\n  - {{ id: pct, expression: \"100 * e5 / req\", warn: 1 }}\n  - {{ id: filled, expression: \"100 * FILL(e5, 0) / req\" }}\n  - {{ id: rate, expression: \"RATE(req)\" }}\n"
            ),
        )
        .unwrap();
        let (s, out) = report(std::slice::from_ref(&rb));
        assert!(s.ok(), "{out}");
        assert_eq!(s.warnings, 2, "{out}");
        let f = rb.display();
        assert!(
            out.contains(&format!("{f}:7:28: warning: `e5` (HTTPCode_Target_5XX_Count) is published only when non-zero: `pct` has no datapoint whenever it was zero\n  hint: write FILL(e5, 0)")),
            "{out}"
        );
        // Located at RATE itself, inside the quoted expression.
        assert!(
            out.contains(&format!(
                "{f}:9:30: warning: the simulator cannot evaluate RATE in `rate`"
            )),
            "{out}"
        );
        assert_eq!(s.line(), "1 file checked: all ok, 2 warnings");
    }

    #[test]
    fn tells_themes_from_runbooks() {
        let p = Path::new("x/themes/a.yaml");
        assert_eq!(kind_of(p, RUNBOOK), Kind::Theme);
        let p = Path::new("x/a.yaml");
        assert_eq!(kind_of(p, RUNBOOK), Kind::Runbook);
        assert_eq!(kind_of(p, "name: t\nok: red\n"), Kind::Theme);
        assert_eq!(kind_of(p, "name: t\n"), Kind::Runbook);
        assert_eq!(kind_of(p, "event: {}\nok: red\n"), Kind::Runbook);
        assert_eq!(kind_of(p, "[broken"), Kind::Runbook);
    }

    #[test]
    fn reports_every_file_and_a_summary() {
        let dir = tempfile::tempdir().unwrap();
        let good = dir.path().join("good.yaml");
        let bad = dir.path().join("bad.yaml");
        let theme = dir.path().join("mine.yml");
        std::fs::write(&good, RUNBOOK).unwrap();
        std::fs::write(&bad, format!("{RUNBOOK}  zones: [Nowhere, Else/Where]\n")).unwrap();
        std::fs::write(&theme, "name: mine\nwarn: orange\n").unwrap();
        let (s, out) = report(&[good.clone(), bad.clone(), theme.clone()]);
        assert_eq!(
            s,
            Summary {
                files: 3,
                bad_files: 2,
                problems: 3,
                warnings: 0
            }
        );
        assert!(
            out.contains(&format!("{}: ok (runbook)\n", good.display())),
            "{out}"
        );
        let b = bad.display();
        assert!(
            out.contains(&format!("{b}:4:11: error: unknown time zone `Nowhere`")),
            "{out}"
        );
        assert!(
            out.contains(&format!("{b}:4:20: error: unknown time zone `Else/Where`")),
            "{out}"
        );
        assert!(
            out.contains(&format!("{}:2:7: error: warn: bad colour", theme.display())),
            "{out}"
        );
        assert_eq!(s.line(), "3 files checked: 3 problems in 2 files");
    }

    #[test]
    fn directories_expand_to_their_yaml_files() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("b.yaml"), RUNBOOK).unwrap();
        std::fs::write(dir.path().join("a.yml"), RUNBOOK).unwrap();
        std::fs::write(dir.path().join("notes.txt"), "not yaml").unwrap();
        let (s, out) = report(&[dir.path().to_path_buf()]);
        assert_eq!(s.files, 2);
        assert!(s.ok(), "{out}");
        assert_eq!(s.line(), "2 files checked: all ok");
        let a = out.find("a.yml").unwrap();
        let b = out.find("b.yaml").unwrap();
        assert!(a < b, "sorted: {out}");
    }

    #[test]
    fn empty_directories_and_missing_files_fail() {
        let dir = tempfile::tempdir().unwrap();
        let (s, out) = report(&[dir.path().to_path_buf()]);
        assert!(!s.ok());
        assert!(out.contains(":1:1: error: no .yaml or .yml files"), "{out}");
        let missing = dir.path().join("nope.yaml");
        let (s, out) = report(&[missing]);
        assert_eq!(s.problems, 1);
        assert!(out.contains("nope.yaml:1:1: error: cannot read"), "{out}");
    }

    /// Whatever runbooks and themes the repository ships must pass `tminus check`.
    #[test]
    fn shipped_runbooks_and_themes_pass() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut paths = vec![root.join("themes")];
        let runbooks = root.join("runbooks");
        let has_runbooks = std::fs::read_dir(&runbooks).is_ok_and(|mut d| d.next().is_some());
        if has_runbooks {
            paths.push(runbooks);
        }
        let (s, out) = report(&paths);
        assert!(s.ok(), "{out}");
        assert!(s.files >= 4, "{out}");
        assert_eq!(out.matches("ok (theme)").count(), 4, "{out}");
    }
}
