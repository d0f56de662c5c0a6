//! Fuzz targets: one function per reader of input tminus does not control, each checking what
//! that input must never do (panic, lose its location, brick the next start) and then driving
//! what it fed (the war room, the report) as far as a user would.
//!
//! Two drivers call these same functions, so a finding is one rule in one place:
//! - `fuzz/` (cargo-fuzz, libFuzzer, coverage-guided), run by `scripts/fuzz [SECONDS]` with a
//!   fixed time budget per target, seeded from `runbooks/`, `themes/` and real journals;
//! - `tests/fuzz_corpus.rs`, on every `cargo test`: each seed, every saved finding under
//!   `tests/fuzz-regressions/`, and a bounded set of deterministic mutations.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use chrono::{DateTime, Duration, Utc};
use ratatui::Terminal;
use ratatui::backend::TestBackend;

use crate::app::update::{AppOptions, Msg};
use crate::app::{App, Mode};
use crate::diag::Diagnostic;
use crate::journal::{FileJournal, JournalSink, MemoryJournal, Record};
use crate::runbook::Runbook;
use crate::theme::Theme;

/// What a target did with its input, for the counts the test driver prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Refused with a located (or named) error.
    Refused,
    /// Taken, and driven through what it feeds.
    Accepted,
    /// Not the target's kind of input (not UTF-8 where text is required).
    Skipped,
}

/// A fuzz target: takes any bytes, panics only when a promise is broken.
pub type Target = fn(&[u8]) -> Outcome;

/// The targets by name, for the drivers.
pub const TARGETS: &[(&str, Target)] = &[
    ("runbook", runbook),
    ("theme", theme),
    ("expr", expr),
    ("journal", journal),
    ("recording", recording),
];

/// A fixed instant so every run of a case does the same thing.
fn t0() -> DateTime<Utc> {
    DateTime::from_timestamp(1_800_000_000, 0).expect("a valid instant")
}

/// Every diagnostic points into the text it is about, and says something.
fn assert_located(diags: &[Diagnostic], text: &str) {
    assert!(!diags.is_empty(), "refused without saying why");
    // Line breaks counted as YAML counts them (CR too: a file from an old Mac editor).
    let lines = crate::positions::end_of(text).0;
    for d in diags {
        assert!(
            d.line >= 1 && d.line <= lines && d.column >= 1,
            "diagnostic outside the text ({lines} lines): {}",
            d.location()
        );
        assert!(
            !d.message.trim().is_empty(),
            "an empty message at {}",
            d.location()
        );
    }
}

/// A runbook someone else wrote: `check` either refuses it with located errors or accepts it,
/// and an accepted one opens as a simulated war room that takes data and draws.
pub fn runbook(data: &[u8]) -> Outcome {
    // The loader refuses text that is not UTF-8 before parsing (tested in `limits`).
    let Ok(text) = std::str::from_utf8(data) else {
        return Outcome::Skipped;
    };
    let rb = match crate::runbook::parse("fuzz.yaml", text) {
        Ok(rb) => rb,
        Err(diags) => {
            assert_located(&diags, text);
            return Outcome::Refused;
        }
    };
    let advice = crate::runbook::advice("fuzz.yaml", text, &rb);
    let refused = crate::runbook::simulation_problems("fuzz.yaml", text, &rb);
    for d in advice.iter().chain(&refused) {
        assert_located(std::slice::from_ref(d), text);
    }
    let _ = crate::check::simulator_notes("fuzz.yaml", text, &rb);
    if refused.is_empty() {
        simulated_war_room(rb);
    }
    Outcome::Accepted
}

/// Twenty simulated minutes around T-0, folded into the real app and drawn at two sizes.
fn simulated_war_room(rb: Runbook) {
    use crate::source::sim::Simulator;
    let start = t0() - Duration::minutes(10);
    let clock = crate::clock::ManualClock::new(start);
    let mut sim = Simulator::new(&rb, t0(), 7, std::sync::Arc::new(clock));
    let mut app = app(rb, Mode::Simulated, start, Vec::new());
    for u in sim.backfill(start) {
        app.update(start, Msg::Source(u));
    }
    let mut now = start;
    for _ in 0..20 {
        now += Duration::minutes(1);
        for u in sim.step(now) {
            app.update(now, Msg::Source(u));
        }
        app.update(now, Msg::Tick);
    }
    draw(&mut app);
}

fn app(rb: Runbook, mode: Mode, now: DateTime<Utc>, past: Vec<Record>) -> App {
    App::new(
        rb,
        AppOptions {
            runbook_path: "fuzz.yaml".into(),
            t0: t0(),
            operator: "fuzz".into(),
            mode,
            allow_writes: false,
            speed: 1.0,
            data_label: None,
            seat: Default::default(),
            room: None,
        },
        now,
        Box::new(MemoryJournal::default()),
        past,
    )
}

/// Draws the app at a small and a wide size, with the zoom view and the help over it once.
fn draw(app: &mut App) {
    let theme = Theme::dark();
    for (w, h) in [(80, 24), (200, 50)] {
        app.update(app.now, Msg::Resize(w, h));
        let mut terminal = Terminal::new(TestBackend::new(w, h)).expect("a test terminal");
        terminal
            .draw(|f| crate::ui::draw(f, app, &theme))
            .expect("drawing to memory");
    }
}

/// A theme file: refused with located errors, or a theme whose colours resolve.
pub fn theme(data: &[u8]) -> Outcome {
    let Ok(text) = std::str::from_utf8(data) else {
        return Outcome::Skipped;
    };
    match Theme::parse("fuzz.yaml", text) {
        Ok(t) => {
            let _ = (t.base(), t.warn(), t.crit(), t.stale(), t.border(true));
            Outcome::Accepted
        }
        Err(diags) => {
            assert_located(&diags, text);
            Outcome::Refused
        }
    }
}

/// A metric-math expression: refused at a column inside it, or parsed and evaluated.
pub fn expr(data: &[u8]) -> Outcome {
    use crate::runbook::expr::{EvalContext, Expr};
    let Ok(src) = std::str::from_utf8(data) else {
        return Outcome::Skipped;
    };
    let _ = crate::runbook::expr::references(src);
    let _ = crate::runbook::expr::is_insights_query(src);
    match Expr::parse(src) {
        Err(e) => {
            assert!(
                e.at <= src.len(),
                "error at {} past the end ({})",
                e.at,
                src.len()
            );
            assert!(!e.message.trim().is_empty(), "an empty message");
            Outcome::Refused
        }
        Ok(e) => {
            let _ = (e.refs(), e.unfilled_refs(), e.unsimulated(), e.calls());
            // Every id has a value, then none has: both paths of every function.
            for known in [true, false] {
                let mut lookup = |id: &str| known.then_some(id.len() as f64 - 3.5);
                let mut cx = EvalContext {
                    t: 1_800_000_000,
                    period: 60.0,
                    lookup: &mut lookup,
                };
                let _ = e.eval(&mut cx);
            }
            Outcome::Accepted
        }
    }
}

/// A scratch directory per process and thread (the test driver runs targets side by side).
fn scratch() -> PathBuf {
    /// Removed when its thread ends.
    struct Scratch(PathBuf);
    impl Drop for Scratch {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
    thread_local! {
        static DIR: Scratch = {
            static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
            let base = std::env::var_os("TMINUS_FUZZ_DIR")
                .map(PathBuf::from)
                .unwrap_or_else(std::env::temp_dir);
            let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            Scratch(base.join(format!("tminus-fuzz-{}-{n}", std::process::id())))
        };
    }
    DIR.with(|d| d.0.clone())
}

fn fresh_scratch() -> PathBuf {
    let dir = scratch();
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("a scratch directory");
    dir
}

fn demo_runbook() -> &'static Runbook {
    static RB: OnceLock<Runbook> = OnceLock::new();
    RB.get_or_init(|| {
        crate::runbook::parse("demo.yaml", crate::run::DEMO_RUNBOOK_TEXT)
            .expect("the bundled demo runbook parses")
    })
}

/// A journal file as it may be found after a crash, a full disk or a hand edit: it opens, or is
/// refused naming the file and line; one that opens takes the next record on a line of its own
/// and opens again with everything it had plus that record. Its records rebuild the war room
/// and the report.
pub fn journal(data: &[u8]) -> Outcome {
    let dir = fresh_scratch();
    let path = dir.join("war.journal");
    std::fs::write(&path, data).expect("writing the case");
    let opened = match FileJournal::open(&path) {
        Ok(o) => o,
        Err(e) => {
            let msg = format!("{e:#}");
            assert!(
                msg.contains("war.journal"),
                "a refusal that does not name the journal: {msg}"
            );
            return Outcome::Refused;
        }
    };
    if let Some(r) = &opened.repaired {
        assert!(r.moved_to.exists(), "the torn tail was not kept: {r}");
    }
    let mut past = opened.past;
    let mut journal = opened.journal;
    let note = Record {
        ts: t0(),
        operator: "fuzz".into(),
        room: None,
        event: crate::journal::Event::Note {
            text: "after the case".into(),
        },
    };
    journal
        .append(&note)
        .expect("appending to a repaired journal");
    drop(journal);
    let again = FileJournal::open(&path).expect("a journal that opened once opens again");
    past.push(note);
    assert!(again.repaired.is_none(), "a tail torn again by one append");
    assert_eq!(again.past, past, "records lost or changed by reopening");
    drop(again);

    let rb = demo_runbook().clone();
    let report = crate::report::build(&rb, &past, None);
    let _ = crate::report::markdown::render(&report);
    let _ = crate::report::html::render(&report);
    let mut app = app(rb, Mode::Simulated, t0(), past);
    app.update(t0(), Msg::Tick);
    draw(&mut app);
    Outcome::Accepted
}

/// A recording someone sent: read, or refused naming the file; one that reads replays through
/// the war room (its runbook is data too: one that does not parse is refused, as `replay` does).
pub fn recording(data: &[u8]) -> Outcome {
    let dir = fresh_scratch();
    let path = dir.join("launch.rec");
    std::fs::write(&path, data).expect("writing the case");
    let (header, entries) = match crate::record::read(&path) {
        Ok(r) => r,
        Err(e) => {
            let msg = format!("{e:#}");
            assert!(
                msg.contains("launch.rec"),
                "a refusal that does not name the recording: {msg}"
            );
            return Outcome::Refused;
        }
    };
    let Ok(rb) = crate::runbook::parse("recording", &header.runbook_yaml) else {
        return Outcome::Refused;
    };
    let mut app = app(rb, Mode::Replay, header.t0, Vec::new());
    for e in entries.into_iter().take(2_000) {
        app.update(e.at, Msg::Source(e.update));
        app.update(e.at, Msg::Tick);
    }
    draw(&mut app);
    Outcome::Accepted
}

/// The seeds each target starts from: the bundled runbooks and themes, every metric-math
/// expression in them, and a journal and a recording of a simulated demo with operators acting.
pub fn seeds(target: &str) -> Vec<(String, Vec<u8>)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let files = |dir: &str| -> Vec<(String, Vec<u8>)> {
        let mut out: Vec<(String, Vec<u8>)> = std::fs::read_dir(root.join(dir))
            .map(|d| d.flatten().map(|e| e.path()).collect::<Vec<_>>())
            .unwrap_or_default()
            .into_iter()
            .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
            .filter_map(|p| {
                let name = p.file_name()?.to_string_lossy().into_owned();
                Some((name, std::fs::read(&p).ok()?))
            })
            .collect();
        out.sort();
        out
    };
    match target {
        "runbook" => files("runbooks"),
        "theme" => files("themes"),
        "expr" => {
            let mut out = Vec::new();
            for (name, bytes) in files("runbooks") {
                let Ok(rb) = crate::runbook::parse(&name, &String::from_utf8_lossy(&bytes)) else {
                    continue;
                };
                for (i, e) in rb
                    .metrics
                    .iter()
                    .filter_map(|m| m.expression.clone())
                    .enumerate()
                {
                    out.push((format!("{name}-{i}"), e.into_bytes()));
                }
            }
            out
        }
        "journal" => vec![("demo.journal".into(), demo_session().0)],
        "recording" => vec![("demo.rec".into(), demo_session().1)],
        _ => Vec::new(),
    }
}

/// A demo session played for 25 simulated minutes with an operator ticking, acknowledging and
/// writing notes: its journal and its recording, as files tminus writes them.
fn demo_session() -> (Vec<u8>, Vec<u8>) {
    use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
    use std::cell::RefCell;
    use std::rc::Rc;

    struct Shared(Rc<RefCell<MemoryJournal>>);
    impl JournalSink for Shared {
        fn append(&mut self, r: &Record) -> anyhow::Result<()> {
            self.0.borrow_mut().append(r)
        }
        fn location(&self) -> String {
            "(seed)".into()
        }
    }
    let rb = demo_runbook().clone();
    let start = t0() - Duration::minutes(5);
    let records = Rc::new(RefCell::new(MemoryJournal::default()));
    let mut app = App::new(
        rb.clone(),
        AppOptions::simulated("runbooks/demo.yaml", t0(), "seed"),
        start,
        Box::new(Shared(records.clone())),
        Vec::new(),
    );
    let dir = fresh_scratch();
    let rec_path = dir.join("seed.rec");
    let mut recorder = crate::record::Recorder::open(
        &rec_path,
        &crate::record::Header {
            tminus_recording: crate::record::FORMAT_VERSION,
            event_name: rb.event.name.clone(),
            runbook_path: "runbooks/demo.yaml".into(),
            runbook_yaml: crate::run::DEMO_RUNBOOK_TEXT.into(),
            t0: t0(),
            started: start,
        },
    )
    .expect("a recording in the scratch directory");
    let clock = crate::clock::ManualClock::new(start);
    let mut sim = crate::source::sim::Simulator::new(&rb, t0(), 42, std::sync::Arc::new(clock));
    let key = |c: KeyCode| Msg::Key(KeyEvent::new(c, KeyModifiers::NONE));
    let mut now = start;
    for u in sim.backfill(start) {
        recorder.record(now, &u).expect("recording");
        app.update(now, Msg::Source(u));
    }
    for minute in 0..25 {
        now += Duration::minutes(1);
        for u in sim.step(now) {
            recorder.record(now, &u).expect("recording");
            app.update(now, Msg::Source(u));
        }
        app.update(now, Msg::Tick);
        let keys: &[KeyCode] = match minute % 5 {
            0 => &[KeyCode::Char('j'), KeyCode::Char(' ')],
            1 => &[KeyCode::Char('a')],
            2 => &[KeyCode::Char('p')],
            _ => &[],
        };
        for &k in keys {
            app.update(now, key(k));
        }
        if minute % 7 == 3 {
            app.update(now, key(KeyCode::Char('n')));
            for c in format!("bridge check {minute}: p99 ok").chars() {
                app.update(now, key(KeyCode::Char(c)));
            }
            app.update(now, key(KeyCode::Enter));
        }
    }
    drop(recorder);
    let mut journal = Vec::new();
    for r in &records.borrow().records {
        journal.extend(serde_json::to_vec(r).expect("a record serialises"));
        journal.push(b'\n');
    }
    let recording = std::fs::read(&rec_path).expect("reading the recording back");
    (journal, recording)
}
