//! Wiring for the interactive war room: load the runbook and the journal, start the sources on
//! their own tasks, and run the event loop that feeds `App::update` and redraws on change.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use chrono::{DateTime, Utc};
use crossterm::event::{Event as TermEvent, EventStream};
use futures_util::StreamExt;
use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::mpsc;

use crate::app::update::{AppOptions, Msg};
use crate::app::{App, Mode};
use crate::clock::{Clock, ScaledClock, WallClock};
use crate::journal::{self, Event};
use crate::runbook::Runbook;
use crate::source::Source;
use crate::theme::Theme;
use crate::tui::TerminalGuard;

/// Everything needed to open the war room, decided by the subcommand.
pub struct Session {
    pub runbook: Runbook,
    pub runbook_path: PathBuf,
    pub t0: DateTime<Utc>,
    pub operator: String,
    pub mode: Mode,
    pub seed: u64,
    pub theme: Theme,
    /// Where live data comes from (flags resolved over the runbook's `aws:` block).
    pub aws: crate::source::aws::AwsSettings,
    pub allow_writes: bool,
    /// Set for `tminus rehearse` (with `mode: Mode::Rehearsal`).
    pub rehearsal: Option<Rehearsal>,
    /// Set for `tminus replay` (with `mode: Mode::Replay`).
    pub replay: Option<ReplayPlan>,
    /// Where every update received is recorded: beside the journal unless `--record FILE` or
    /// `--no-record`.
    pub record: crate::record::RecordTo,
    /// `--notify`: run the notify command with data that is not live (see `Mode::runs_notify`).
    pub notify: bool,
    /// A rehearsal on the team's own traffic (`rehearse --calibrate` / `--calibration FILE`).
    pub calibration: Option<crate::capacity::calibration::Calibration>,
    /// The team's room, when joined with `--room` (or watched).
    pub room: Option<RoomJoin>,
    /// `--role`: the runbook role to take on start.
    pub role: Option<String>,
    /// `--wall`: open in the wall view.
    pub wall: bool,
}

/// A room joined (or watched): the table, the room's name and this seat.
pub struct RoomJoin {
    pub table: crate::room::table::Table,
    pub name: String,
    /// Unique to this process: the first half of every idempotency key it writes.
    pub session: String,
    pub seat: crate::app::room::Seat,
    /// Why the room could not be reached on start, when the war room opened from the cached
    /// copy of its header instead.
    pub offline: Option<String>,
    /// What joining decided that the operator should read (the room's runbook differs...).
    pub notices: Vec<String>,
    /// The room's runbook text: what this seat runs, and what its recording keeps.
    pub runbook_yaml: String,
}

/// A session id unique to this process: time, process id and the operator.
pub fn session_id(operator: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    let who: String = operator
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .take(16)
        .collect();
    format!("{who}-{:x}{:x}", nanos as u64, std::process::id())
}

/// How a game day runs.
/// What `tminus replay` plays: the recording's entries from `start`, at `speed`.
pub struct ReplayPlan {
    pub entries: Vec<crate::record::Entry>,
    pub start: DateTime<Utc>,
    pub speed: f64,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rehearsal {
    /// How many times real time the clock runs.
    pub speed: f64,
    /// Where the simulated clock starts, relative to T-0.
    pub start_at: crate::time::TOffset,
    /// Add unannounced faults drawn from the seed.
    pub surprise: bool,
}

/// How a session ended, for the caller (a rehearsal prints its score).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Outcome {
    /// The session clock's time when the war room closed.
    pub ended_at: DateTime<Utc>,
}

/// The name the bundled demo runbook goes by in journals and recordings.
pub const DEMO_RUNBOOK_PATH: &str = "runbooks/demo.yaml";
/// The demo runbook, built in: `tminus demo` and `report` of a demo work from any directory.
pub const DEMO_RUNBOOK_TEXT: &str = include_str!("../runbooks/demo.yaml");

/// The default journal for a runbook: `.tminus/<runbook file stem>.journal` in the working
/// directory, so each event keeps its own history next to where the team runs it.
pub fn default_journal(runbook: &Path) -> PathBuf {
    let stem = runbook
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or("runbook");
    PathBuf::from(".tminus").join(format!("{stem}.journal"))
}

pub fn default_operator() -> String {
    std::env::var("USER")
        .ok()
        .filter(|u| !u.trim().is_empty())
        .unwrap_or_else(|| "operator".to_string())
}

/// `--t0`: an RFC 3339 time, or a delay from now ("+10m").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum T0 {
    At(DateTime<Utc>),
    FromNow(crate::time::Span),
}

impl T0 {
    /// Parses `--t0` for clap: a bad or too distant value is a usage error (exit 2), never a
    /// date overflow later.
    pub fn parse(s: &str) -> Result<T0, String> {
        if let Some(rest) = s.strip_prefix('+') {
            return crate::time::parse_lead(rest)
                .map(T0::FromNow)
                .map_err(|e| e.to_string());
        }
        DateTime::parse_from_rfc3339(s)
            .map(|d| T0::At(d.to_utc()))
            .map_err(|_| {
                format!("{s:?}: expected an RFC 3339 time like 2026-12-01T17:00:00Z, or +10m")
            })
    }

    pub fn resolve(self, now: DateTime<Utc>) -> DateTime<Utc> {
        match self {
            T0::At(t) => t,
            T0::FromNow(span) => crate::time::after(now, span),
        }
    }
}

/// Interactive sessions need a terminal on stdin and stdout; checked before anything is
/// written, so a session started without one leaves the journal as it was.
pub fn require_terminal() -> Result<()> {
    use std::io::IsTerminal;
    if std::io::stdin().is_terminal() && std::io::stdout().is_terminal() {
        Ok(())
    } else {
        bail!(
            "the war room needs a terminal (stdin and stdout are not one); for a pipeline use `tminus quotas`, `tminus report` or `tminus check`"
        )
    }
}

/// Opens the war room and runs it until the operator quits or a signal arrives. The journal is
/// opened (locked, rotated, repaired) by the caller: see `journal::FileJournal`.
pub fn run_war_room(session: Session, journal: journal::Opened) -> Result<Outcome> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(event_loop(session, journal))
}

async fn event_loop(session: Session, opened: journal::Opened) -> Result<Outcome> {
    // The terminal first: if it cannot be set up, nothing has been written.
    let mut guard = TerminalGuard::enter()?;
    let journal::Opened {
        journal,
        past,
        set_aside,
        repaired,
    } = opened;
    let journal_path = journal.path().to_path_buf();
    // The recording kept beside a journal goes with it when it is set aside: the pair keeps
    // one stamp (`demo.<time>.journal`, `demo.<time>.recording`) and `report` finds it.
    let mut moved_recording = None;
    if let Some(a) = &set_aside {
        let old = crate::record::beside(&journal_path);
        if old.is_file() {
            let to = crate::record::beside(a);
            moved_recording = Some(std::fs::rename(&old, &to).map(|()| to));
        }
    }
    // A journal starting empty (new, or the last one just set aside) is a new session: a
    // recording beside it is another session's.
    let new_session = set_aside.is_some() || past.is_empty();
    // The session's only clock: the countdown, due times, escalation timers, the simulator and
    // the tick below all read it, so a rehearsal at --speed N is N times faster everywhere.
    let seek = session.replay.as_ref().map(|r| {
        Arc::new(crate::clock::SeekClock::new(Arc::new(ScaledClock::new(
            Arc::new(WallClock),
            r.start,
            r.speed,
        ))))
    });
    let clock: Arc<dyn Clock> = match (&session.rehearsal, &seek) {
        (_, Some(s)) => s.clone(),
        (Some(r), None) => Arc::new(ScaledClock::new(
            Arc::new(WallClock),
            r.start_at.at(session.t0),
            r.speed,
        )),
        (None, None) => Arc::new(WallClock),
    };
    let speed = match (&session.rehearsal, &session.replay) {
        (_, Some(r)) => r.speed,
        (Some(r), None) => r.speed,
        (None, None) => 1.0,
    };
    let notify = session.mode.runs_notify(session.notify);
    let Session {
        runbook,
        runbook_path,
        t0,
        operator,
        mode,
        seed,
        theme,
        aws,
        allow_writes,
        rehearsal,
        replay,
        record,
        calibration,
        room,
        role,
        wall,
        ..
    } = session;
    let runbook_text = room.as_ref().map(|j| j.runbook_yaml.clone());
    let (room_state, seat, room_link) = match room {
        Some(j) => (
            Some(crate::app::room::RoomState::new(
                j.name.clone(),
                j.session.clone(),
            )),
            j.seat,
            Some(j),
        ),
        None => (None, crate::app::room::Seat::Solo, None),
    };
    let data_label = (mode == Mode::Live).then(|| {
        let mut label = aws
            .region
            .clone()
            .unwrap_or_else(|| "default region".into());
        if let Some(p) = &aws.profile {
            label.push_str(&format!(" · profile {p}"));
        }
        if let Some(u) = &aws.endpoint_url {
            label.push_str(&format!(" · endpoint {u}"));
        }
        label
    });
    let mut app = App::new(
        runbook,
        AppOptions {
            runbook_path: runbook_path.display().to_string(),
            t0,
            operator,
            mode,
            allow_writes,
            speed,
            data_label,
            seat,
            room: room_state,
        },
        clock.now(),
        Box::new(journal),
        past,
    );
    // What opening the journal did is said on screen and kept in the journal itself.
    let mut notices: Vec<String> = Vec::new();
    if let Some(r) = &repaired {
        notices.push(r.to_string());
    }
    if let Some(a) = &set_aside {
        notices.push(format!(
            "the earlier session's journal is now {}",
            a.display()
        ));
    }
    if let Some(c) = &calibration {
        notices.push(format!(
            "playing your own traffic: {} metrics calibrated from {} to {}, at {}x at the peak",
            c.metrics.len(),
            c.history_from.format("%Y-%m-%d"),
            c.history_to.format("%Y-%m-%d"),
            crate::format::value(c.forecast)
        ));
    }
    match moved_recording {
        Some(Ok(to)) => notices.push(format!("and its recording {}", to.display())),
        Some(Err(e)) => notices.push(format!("its recording could not be moved: {e}")),
        None => {}
    }
    let started = app.act(Event::SessionStarted {
        // Where the runbook is, wherever `report` runs later: absolute, except the demo's,
        // which is built in (and `report` knows it by this name).
        runbook: if runbook_path == Path::new(DEMO_RUNBOOK_PATH) {
            app.runbook_path.clone()
        } else {
            std::fs::canonicalize(&runbook_path)
                .map(|p| p.display().to_string())
                .unwrap_or_else(|_| app.runbook_path.clone())
        },
        event_name: app.runbook.event.name.clone(),
        t0,
        mode: mode.label().to_lowercase(),
        seed: (mode != Mode::Live).then_some(seed),
        rehearsal: mode == Mode::Rehearsal,
        speed: rehearsal.map(|r| r.speed),
        surprise: rehearsal.is_some_and(|r| r.surprise),
    });
    if !started {
        let why = app
            .ui
            .flash
            .as_ref()
            .map(|f| f.0.clone())
            .unwrap_or_default();
        bail!("cannot write the journal: {why}");
    }
    if let Some(why) = room_link.as_ref().and_then(|j| j.offline.clone()) {
        notices.push(format!(
            "the room {} could not be reached ({why}): opened from the journal's copy; actions are queued until it is back",
            room_link.as_ref().map(|j| j.name.as_str()).unwrap_or_default()
        ));
    }
    if let Some(j) = &room_link {
        notices.extend(j.notices.iter().cloned());
    }
    for text in notices {
        app.observe(Event::Note { text: text.clone() });
        app.update(clock.now(), Msg::Notice(text));
    }
    if let Some(r) = &role {
        app.take_role_by_id(r);
    }
    // The room's sync task: it sends this seat's decisions, reads everyone's, keeps presence.
    let (room_tx, mut room_rx) = mpsc::channel::<crate::room::RoomUpdate>(256);
    let mut to_sync: Option<mpsc::UnboundedSender<crate::room::sync::ToSync>> = None;
    if let (Some(j), Some(state)) = (room_link, app.room.as_ref()) {
        let (stx, srx) = mpsc::unbounded_channel();
        let sync = crate::room::sync::SyncTask {
            table: j.table,
            room: j.name,
            seat: crate::room::Presence {
                session: j.session,
                operator: app.operator.clone(),
                role: app.my_role().map(str::to_string),
                watcher: seat == crate::app::room::Seat::Watcher,
                joined_at: Utc::now(),
                last_seen: Utc::now(),
                left: false,
            },
            seen: state.contiguous_seen(),
            known: state.known_seqs(),
            now: Utc::now,
        };
        tokio::spawn(sync.run(srx, room_tx.clone()));
        to_sync = Some(stx);
    }
    drop(room_tx);
    let mut role_sent = app.my_role().map(str::to_string);

    let (tx, mut rx) = mpsc::channel(1024);
    let notify_tx = tx.clone();
    let live_aws = (mode == Mode::Live).then(|| crate::source::aws::Aws::new(aws.clone()));
    let mut sources: Vec<Box<dyn Source>> = match mode {
        Mode::Simulated => vec![Box::new(crate::source::sim::Simulator::new(
            &app.runbook,
            t0,
            seed,
            clock.clone(),
        ))],
        Mode::Live => live_sources(&app.runbook, &aws, t0, clock.clone()),
        Mode::Replay => vec![Box::new(crate::source::replay::ReplaySource::new(
            replay.map(|r| r.entries).unwrap_or_default(),
            clock.clone(),
        ))],
        Mode::Rehearsal => {
            let mut faults = crate::source::sim::scripted(&app.runbook);
            if let Some(r) = rehearsal.filter(|r| r.surprise) {
                faults.extend(crate::source::sim::surprises(
                    &app.runbook,
                    seed,
                    r.start_at,
                ));
            }
            let mut sim = crate::source::sim::Simulator::new(&app.runbook, t0, seed, clock.clone());
            if let Some(cal) = &calibration {
                sim = sim.with_calibration(cal);
            }
            vec![Box::new(sim.with_faults(faults))]
        }
    };
    // The capacity plan reads the same data as the session shows; a replay has the plan that
    // was recorded, if any.
    let plan_reader = match mode {
        Mode::Live => Some(crate::source::history::Reader::Live(aws.clone())),
        Mode::Simulated | Mode::Rehearsal => Some(crate::source::history::Reader::Simulated),
        Mode::Replay => None,
    };
    if let Some(reader) = plan_reader {
        sources.push(Box::new(crate::source::history::PlanSource::new(
            &app.runbook,
            t0,
            reader,
            clock.clone(),
        )));
    }
    for s in sources {
        tokio::spawn(s.run(tx.clone()));
    }
    drop(tx);
    dispatch_notifications(&mut app, &notify_tx, notify);

    let mut quit_signals = QUIT_SIGNALS
        .iter()
        .map(|&k| signal(k))
        .collect::<std::io::Result<Vec<_>>>()?;

    let header = |runbook_yaml: String| crate::record::Header {
        tminus_recording: crate::record::FORMAT_VERSION,
        event_name: app.runbook.event.name.clone(),
        runbook_path: app.runbook_path.clone(),
        runbook_yaml,
        t0,
        started: clock.now(),
    };
    let recording_path = match &record {
        crate::record::RecordTo::BesideJournal => Some(crate::record::beside(&journal_path)),
        crate::record::RecordTo::File(p) => Some(p.clone()),
        crate::record::RecordTo::Off => None,
    };
    let mut recorder = match &recording_path {
        Some(path) => {
            // The file as written (the model's own serialisation need not read back); the
            // demo's is built in.
            let yaml = if let Some(text) = &runbook_text {
                text.clone()
            } else if runbook_path == Path::new(DEMO_RUNBOOK_PATH) {
                DEMO_RUNBOOK_TEXT.to_string()
            } else {
                crate::limits::read_text(&runbook_path, crate::limits::MAX_YAML_BYTES)
                    .with_context(|| {
                        format!("reading {} for the recording", runbook_path.display())
                    })?
            };
            if record == crate::record::RecordTo::BesideJournal {
                let (r, aside) = crate::record::Recorder::open_beside(
                    path,
                    &header(yaml),
                    new_session,
                    clock.now(),
                )?;
                if let Some(a) = aside {
                    let text = format!("the earlier session's recording is now {}", a.display());
                    app.observe(Event::Note { text: text.clone() });
                    app.update(clock.now(), Msg::Notice(text));
                }
                Some(r)
            } else {
                Some(crate::record::Recorder::open(path, &header(yaml))?)
            }
        }
        None => None,
    };

    app.ui.wall = wall;
    let size = guard.terminal.size()?;
    app.update(clock.now(), Msg::Resize(size.width, size.height));
    let mut events = EventStream::new();
    // For the end-to-end test that proves a panic restores the terminal.
    let crash_after_first_frame = std::env::var_os("TMINUS_PANIC_AFTER_FIRST_FRAME").is_some();

    loop {
        if app.dirty {
            guard.terminal.draw(|f| crate::ui::draw(f, &app, &theme))?;
            app.mark_drawn();
            if crash_after_first_frame {
                panic!("TMINUS_PANIC_AFTER_FIRST_FRAME is set: crashing on purpose");
            }
        }
        if app.should_quit {
            break;
        }
        let msg = tokio::select! {
            ev = events.next() => match ev {
                Some(Ok(ev)) => match term_msg(ev, &app) { Some(m) => m, None => continue },
                Some(Err(e)) => return Err(e).context("reading terminal input"),
                None => break,
            },
            Some(update) = rx.recv() => {
                record_update(&mut recorder, &mut app, clock.now(), &update);
                Msg::Source(update)
            }
            Some(update) = room_rx.recv() => Msg::Room(update),
            () = tokio::time::sleep(until_next_second(clock.now(), speed)) => Msg::Tick,
            () = any_signal(&mut quit_signals) => break,
        };
        app.update(clock.now(), msg);
        // Fold whatever else is queued before drawing, so a burst of updates costs one frame.
        while let Ok(update) = rx.try_recv() {
            record_update(&mut recorder, &mut app, clock.now(), &update);
            app.update(clock.now(), Msg::Source(update));
        }
        while let Ok(update) = room_rx.try_recv() {
            app.update(clock.now(), Msg::Room(update));
        }
        dispatch_notifications(&mut app, &notify_tx, notify);
        run_commands(&mut app, live_aws.as_ref(), seek.as_deref(), &notify_tx);
        send_to_room(&mut app, to_sync.as_ref(), &mut role_sent);
    }
    drop(guard);
    let ended_at = clock.now();
    // Events the journal could not take: one last try, and say so if they are still unsaved.
    app.update(ended_at, Msg::Tick);
    if !app.unsaved.is_empty() || app.unsaved_dropped > 0 {
        eprintln!(
            "tminus: {} event(s) could not be written to the journal {} ({} dropped earlier): the screen showed them, the journal does not have them",
            app.unsaved.len(),
            app.journal_location(),
            app.unsaved_dropped
        );
    }
    if mode == Mode::Rehearsal {
        // The score needs to know where the game stopped; a failed write only costs that.
        app.update(ended_at, Msg::Tick);
        app.act(Event::SessionEnded {});
    }
    // The room gets what is still queued: the sync task sends it once its channel closes,
    // within a few seconds; what it cannot send stays queued in the journal for next time.
    send_to_room(&mut app, to_sync.as_ref(), &mut role_sent);
    drop(to_sync);
    // Its last round's confirmations, until it ends (its sender closes: at once when there
    // is no room) or time is up.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(6);
    while let Ok(Some(u)) = tokio::time::timeout_at(deadline, room_rx.recv()).await {
        app.update(clock.now(), Msg::Room(u));
    }
    let queued = app.room.as_ref().map(|r| r.queued.len()).unwrap_or(0);
    if queued > 0 {
        crate::out::say(format_args!(
            "tminus: {queued} action(s) not yet confirmed by the room: kept in the journal {}, sent when you next join",
            app.journal_location()
        ));
    }
    Ok(Outcome { ended_at })
}

/// Hands the sync task what the war room queued for the room, and the seat's role when it
/// changed.
fn send_to_room(
    app: &mut App,
    to_sync: Option<&mpsc::UnboundedSender<crate::room::sync::ToSync>>,
    role_sent: &mut Option<String>,
) {
    let outgoing = app.take_room_outgoing();
    let Some(tx) = to_sync else { return };
    for o in outgoing {
        let _ = tx.send(crate::room::sync::ToSync::Send(Box::new(o)));
    }
    let role = app.my_role().map(str::to_string);
    if role != *role_sent {
        let _ = tx.send(crate::room::sync::ToSync::Role(role.clone()));
        *role_sent = role;
    }
}

/// Signals whose default action ends the process: each closes the war room the normal way, so
/// the terminal is restored (leaving the alternate screen, showing the cursor) before exit.
/// SIGKILL and SIGSTOP cannot be caught; SIGPIPE is ignored by Rust programs.
const QUIT_SIGNALS: [SignalKind; 7] = [
    SignalKind::terminate(),
    SignalKind::hangup(),
    SignalKind::interrupt(),
    SignalKind::quit(),
    SignalKind::user_defined1(),
    SignalKind::user_defined2(),
    SignalKind::alarm(),
];

/// Resolves when any of `signals` arrives.
async fn any_signal(signals: &mut [tokio::signal::unix::Signal]) {
    std::future::poll_fn(|cx| {
        for s in signals.iter_mut() {
            if s.poll_recv(cx).is_ready() {
                return std::task::Poll::Ready(());
            }
        }
        std::task::Poll::Pending
    })
    .await
}

/// Appends an update to the recording, if there is one. A failed write is shown once and the
/// recording stops; the war room goes on.
fn record_update(
    recorder: &mut Option<crate::record::Recorder>,
    app: &mut App,
    now: DateTime<Utc>,
    update: &crate::source::Update,
) {
    if let Some(r) = recorder
        && let Err(e) = r.record(now, update)
    {
        app.update(now, Msg::Notice(format!("recording stopped: {e:#}")));
        *recorder = None;
    }
}

/// CloudWatch metrics, alarms and Service Quotas, each on its own task; the quotas source
/// hands the usage metrics it discovers to the metrics source so they share its batches.
fn live_sources(
    runbook: &Runbook,
    settings: &crate::source::aws::AwsSettings,
    t0: DateTime<Utc>,
    clock: Arc<dyn Clock>,
) -> Vec<Box<dyn Source>> {
    use crate::source::aws::{
        Aws, alarms::AlarmsSource, metrics::CloudWatchSource, quotas::QuotasSource,
    };
    let aws = Aws::new(settings.clone());
    let (usage_tx, usage_rx) = mpsc::channel(4);
    vec![
        Box::new(CloudWatchSource::new(
            aws.clone(),
            runbook.clone(),
            t0,
            clock.clone(),
            Some(usage_rx),
        )),
        Box::new(AlarmsSource::new(
            aws.clone(),
            runbook.alarms.clone(),
            clock.clone(),
        )),
        Box::new(QuotasSource::new(
            aws,
            runbook.clone(),
            clock,
            Some(usage_tx),
        )),
    ]
}

/// Carries out what the operator confirmed (quota increase requests) on tasks of their own;
/// results come back as updates.
fn run_commands(
    app: &mut App,
    aws: Option<&crate::source::aws::Aws>,
    seek: Option<&crate::clock::SeekClock>,
    tx: &mpsc::Sender<crate::source::Update>,
) {
    for c in app.take_commands() {
        if let crate::app::Command::Seek { secs } = c {
            if let Some(s) = seek {
                s.seek(secs);
                // Show the new time in this frame, not at the next tick.
                app.update(s.now(), Msg::Tick);
            }
            continue;
        }
        let Some(aws) = aws else { continue };
        match c {
            crate::app::Command::Seek { .. } => {}
            crate::app::Command::RequestQuotaIncrease {
                quota,
                service,
                code,
                region,
                desired,
            } => {
                tokio::spawn(crate::source::aws::quotas::run_increase(
                    aws.clone(),
                    quota,
                    service,
                    code,
                    region,
                    desired,
                    tx.clone(),
                ));
            }
        }
    }
}

/// Hands alert records journalled since the last call to the runbook's notify command (unless
/// `enabled` is false, as in a rehearsal without --notify).
fn dispatch_notifications(app: &mut App, tx: &mpsc::Sender<crate::source::Update>, enabled: bool) {
    let records = app.take_outbox();
    let Some(notify) = app
        .runbook
        .escalation
        .notify
        .as_ref()
        .filter(|_| enabled && app.seat.may_page())
    else {
        return;
    };
    // In a room every seat sees the same alerts; one seat pages for them all. A status update
    // is posted by the seat that wrote it.
    let pager = app.room.as_ref().is_none_or(|r| r.is_pager());
    for r in &records {
        if !pager && !matches!(r.event, Event::StatusUpdate { .. }) {
            continue;
        }
        if let Some(n) = crate::notify::notification(&app.runbook.event.name, app.mode, r)
            && let Ok(payload) = serde_json::to_vec(&n)
        {
            crate::notify::spawn(&notify.command, payload, tx.clone());
        }
    }
}

fn term_msg(ev: TermEvent, app: &App) -> Option<Msg> {
    match ev {
        TermEvent::Key(k) => Some(Msg::Key(k)),
        TermEvent::Mouse(m) => crate::ui::mouse_msg(app, m),
        TermEvent::Resize(w, h) => Some(Msg::Resize(w, h)),
        _ => None,
    }
}

/// Shortest wait between ticks: at high speeds the screen redraws at most 20 times a second
/// (the countdown then moves several seconds a frame) instead of spinning.
const MIN_TICK_MS: f64 = 50.0;

/// Real time until the session clock's next whole second (plus a little, so the tick lands
/// after the boundary), for a clock running `speed` times real time.
fn until_next_second(now: DateTime<Utc>, speed: f64) -> Duration {
    let ms = 1000 - u64::from(now.timestamp_subsec_millis().min(999)) + 2;
    let speed = if speed.is_finite() && speed > 0.0 {
        speed
    } else {
        1.0
    };
    Duration::from_millis((ms as f64 / speed).max(MIN_TICK_MS) as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn t0_forms() {
        let now = DateTime::parse_from_rfc3339("2026-12-01T16:00:00Z")
            .unwrap()
            .to_utc();
        let parse_t0 = |s: &str| T0::parse(s).map(|t| t.resolve(now));
        assert_eq!(parse_t0("+10m"), Ok(now + chrono::Duration::minutes(10)));
        assert_eq!(
            parse_t0("2026-12-01T17:00:00Z"),
            Ok(now + chrono::Duration::hours(1))
        );
        assert!(parse_t0("tomorrow").unwrap_err().contains("RFC 3339"));
        // Absurd delays are refused, not overflowed (these panicked).
        for far in ["+9223372036854775807s", "+1000000000d", "+367d"] {
            let err = T0::parse(far).unwrap_err();
            assert!(err.contains("within 366 days of now"), "{far}: {err}");
        }
    }

    #[test]
    fn ticks_land_just_after_the_second() {
        let now = DateTime::parse_from_rfc3339("2026-12-01T16:00:00.250Z")
            .unwrap()
            .to_utc();
        assert_eq!(until_next_second(now, 1.0), Duration::from_millis(752));
        // At ×10 the next simulated second is a tenth as far away in real time...
        assert_eq!(until_next_second(now, 10.0), Duration::from_millis(75));
        // ...and at ×100 the frame rate cap holds.
        assert_eq!(until_next_second(now, 100.0), Duration::from_millis(50));
        assert_eq!(until_next_second(now, f64::NAN), Duration::from_millis(752));
    }

    #[test]
    fn journal_defaults_next_to_the_team() {
        assert_eq!(
            default_journal(Path::new("runbooks/launch.yaml")),
            PathBuf::from(".tminus/launch.journal")
        );
    }
}
