use std::path::Path;
use std::process::ExitCode;

use anyhow::Result;
use clap::Parser;

use tminus::app::Mode;
use tminus::cli::{Cli, Command, CommonArgs};
use tminus::journal;
use tminus::run::{self, Session};
use tminus::runbook::{self, Runbook};
use tminus::text::{clean, clean_lines};
use tminus::theme::Theme;

/// The demo runbook ships inside the binary so `tminus demo` works from any directory.
const DEMO_RUNBOOK: &str = run::DEMO_RUNBOOK_TEXT;
const DEMO_LABEL: &str = run::DEMO_RUNBOOK_PATH;

/// `eprintln!` that never panics (a closed or full stderr is ignored).
macro_rules! say {
    ($($arg:tt)*) => {
        tminus::out::say(format_args!($($arg)*))
    };
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match dispatch(cli) {
        Ok(code) => code,
        // The reader of our output went away (`| head`): done, like any filter.
        Err(e) if e.downcast_ref::<tminus::out::Closed>().is_some() => ExitCode::SUCCESS,
        Err(e) => {
            tminus::tui::restore();
            // Errors quote what they could not read (a journal line, an AWS message).
            say!("tminus: {}", clean_lines(&format!("{e:#}")));
            ExitCode::FAILURE
        }
    }
}

fn dispatch(cli: Cli) -> Result<ExitCode> {
    match cli.command {
        Command::Quotas(args) => {
            let Some(runbook) = load_or_report(&args.runbook) else {
                return Ok(ExitCode::FAILURE);
            };
            let settings =
                tminus::source::aws::AwsSettings::resolve(&runbook, &args.aws.settings());
            let code = tminus::quotas_cmd::run(&runbook, settings, args.json)?;
            Ok(ExitCode::from(code))
        }
        Command::Plan(args) => {
            if let Some(journal_path) = &args.scale_down {
                let records = read_journal(journal_path)?;
                let Some(runbook) = runbook_for(&records, args.runbook.as_deref(), None) else {
                    return Ok(ExitCode::FAILURE);
                };
                let list = tminus::capacity::scale_down::scale_down(&runbook, &records);
                tminus::out::print(&tminus::capacity::scale_down::table(&runbook, &list))?;
                return Ok(ExitCode::SUCCESS);
            }
            let Some(path) = args.runbook.as_deref() else {
                anyhow::bail!("plan needs a RUNBOOK (or --scale-down JOURNAL)");
            };
            let Some(runbook) = load_or_report(path) else {
                return Ok(ExitCode::FAILURE);
            };
            if args.simulate && !simulatable_or_report(path, &runbook) {
                return Ok(ExitCode::FAILURE);
            }
            let settings =
                tminus::source::aws::AwsSettings::resolve(&runbook, &args.aws.settings());
            let req = tminus::plan_cmd::Request {
                t0: match args.t0 {
                    Some(t) => t.resolve(chrono::Utc::now()),
                    None => runbook.event.starts_at,
                },
                peak: args.peak,
                history_secs: args.history,
                simulate: args.simulate,
                json: args.json,
            };
            let code = tminus::plan_cmd::run(&runbook, settings, &req)?;
            Ok(ExitCode::from(code))
        }
        Command::Room(tminus::cli::RoomCommand::Create { table, aws }) => {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            let settings = aws.settings();
            let created = rt.block_on(async {
                let mut aws = tminus::source::aws::Aws::new(settings);
                let client = aws.dynamodb(None).await;
                tminus::room::table::Table::new(client, table.clone())
                    .create()
                    .await
            });
            match created {
                Ok(c) => {
                    let what = match c {
                        tminus::room::table::Created::New => "created",
                        tminus::room::table::Created::Existed => "already there",
                    };
                    tminus::out::print(&format!(
                        "room table {}: {what} (on-demand, TTL on ttl)\n",
                        tminus::text::clean(&table)
                    ))?;
                    Ok(ExitCode::SUCCESS)
                }
                Err(e) => {
                    say!("tminus: {}", tminus::text::clean(&e));
                    Ok(ExitCode::FAILURE)
                }
            }
        }
        Command::Cost { runbooks } => {
            let mut ok = true;
            for path in &runbooks {
                match runbook::load(path) {
                    Ok(rb) => {
                        let e = tminus::source::aws::plan::estimate(&rb);
                        tminus::out::print(&format!(
                            "{}: {} queries ({} metrics) · {} GetMetricData call(s) per refresh · {:.0} calls/h · {:.0} metrics/h ≈ ${:.4}/h (${:.2}/day), plus one metric a minute per quota usage metric\n",
                            shown(path),
                            e.queries,
                            e.metric_queries,
                            e.calls_per_refresh,
                            e.calls_per_hour,
                            e.metrics_per_hour,
                            e.usd_per_hour,
                            e.usd_per_hour * 24.0
                        ))?;
                        tminus::out::print(&phase_costs(&rb))?;
                    }
                    Err(diags) => {
                        ok = false;
                        say!("{}", tminus::diag::render(&diags));
                    }
                }
            }
            Ok(if ok {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            })
        }
        Command::Check { files } => Ok(ExitCode::from(tminus::check::run(&files) as u8)),
        Command::Run(args) => {
            let Some(runbook) = load_or_report(&args.runbook) else {
                return Ok(ExitCode::FAILURE);
            };
            let Some(theme) = theme_or_report(&args.common) else {
                return Ok(ExitCode::FAILURE);
            };
            let now = chrono::Utc::now();
            let t0 = match args.t0 {
                Some(t) => t.resolve(now),
                None => runbook.event.starts_at,
            };
            let mode = if args.simulate {
                Mode::Simulated
            } else {
                Mode::Live
            };
            if args.simulate && !simulatable_or_report(&args.runbook, &runbook) {
                return Ok(ExitCode::FAILURE);
            }
            let aws = tminus::source::aws::AwsSettings::resolve(&runbook, &args.aws.settings());
            let journal_path = args
                .common
                .journal
                .clone()
                .unwrap_or_else(|| run::default_journal(&args.runbook));
            run::require_terminal()?;
            let mut runbook = runbook;
            let (mut t0, mut seed, mut mode) = (t0, args.common.seed, mode);
            let room = match &args.room.room {
                Some(name) => {
                    let yaml =
                        tminus::limits::read_text(&args.runbook, tminus::limits::MAX_YAML_BYTES)?;
                    let offer = tminus::join::Offer {
                        yaml: &yaml,
                        t0,
                        mode: mode.data_kind(),
                        seed,
                        rehearsal: None,
                    };
                    let (mut j, rb) = join_room(
                        &args.room,
                        name,
                        &aws,
                        offer,
                        runbook,
                        &journal_path,
                        &args.common,
                    )?;
                    runbook = rb;
                    (t0, seed) = (j.meta.t0, j.meta.seed);
                    let room_mode = mode_of(&j.meta);
                    if room_mode != mode {
                        j.join.notices.push(format!(
                            "the room's data is {}: this seat follows it",
                            room_mode.data_kind()
                        ));
                        mode = room_mode;
                    }
                    Some(j.join)
                }
                None => None,
            };
            let journal = journal::FileJournal::open(&journal_path)?;
            run::run_war_room(
                Session {
                    room,
                    role: args.room.role.clone(),
                    wall: args.common.wall,
                    runbook,
                    runbook_path: args.runbook.clone(),
                    t0,
                    operator: operator(&args.common),
                    mode,
                    seed,
                    theme,
                    aws,
                    allow_writes: args.allow_writes,
                    record: args.common.record_to(args.record.as_ref()),
                    calibration: None,
                    replay: None,
                    rehearsal: None,
                    notify: args.notify,
                },
                journal,
            )?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Rehearse(args) => rehearse(args),
        Command::Watch(args) => watch(args),
        Command::Replay(args) => replay(args),
        Command::Report(args) => report(args),
        Command::Demo(args) => {
            let runbook = match runbook::parse(DEMO_LABEL, DEMO_RUNBOOK) {
                Ok(r) => r,
                Err(diags) => {
                    // Only possible if the bundled file is broken: a bug, but say so plainly.
                    for d in diags {
                        say!("{d}");
                    }
                    return Ok(ExitCode::FAILURE);
                }
            };
            let Some(theme) = theme_or_report(&args.common) else {
                return Ok(ExitCode::FAILURE);
            };
            let journal_path = args
                .common
                .journal
                .clone()
                .unwrap_or_else(|| run::default_journal(Path::new(DEMO_LABEL)));
            let now = chrono::Utc::now();
            run::require_terminal()?;
            let ends = runbook.event.ends_at.map(|e| e.secs()).unwrap_or(3_600);
            // A demo resumes where it was (same T-0, same ticks) until its event is over; then,
            // or with `--fresh`, the old journal is moved aside and a new countdown starts.
            let mut runbook = runbook;
            let mut seed = args.common.seed;
            let room = match &args.room.room {
                Some(name) => {
                    let offer = tminus::join::Offer {
                        yaml: DEMO_RUNBOOK,
                        t0: tminus::time::after(now, args.t0_in),
                        mode: "simulated",
                        seed,
                        rehearsal: None,
                    };
                    let (j, rb) = join_room(
                        &args.room,
                        name,
                        &args.aws.settings(),
                        offer,
                        runbook,
                        &journal_path,
                        &args.common,
                    )?;
                    runbook = rb;
                    seed = j.meta.seed;
                    Some((j.join, j.meta.t0))
                }
                None => None,
            };
            let room_t0 = room.as_ref().map(|(_, t)| *t);
            let journal = journal::FileJournal::open_rotating(&journal_path, now, |past| {
                // A room's demo keeps its journal while it is the same room's (same T-0).
                if let Some(t) = room_t0 {
                    return Ok(demo_t0(past) != Some(t));
                }
                Ok(args.fresh
                    || demo_t0(past).is_none_or(|t0| now >= tminus::time::TOffset(ends).at(t0)))
            })?;
            let t0 = room_t0.unwrap_or_else(|| {
                demo_t0(&journal.past).unwrap_or_else(|| tminus::time::after(now, args.t0_in))
            });
            run::run_war_room(
                Session {
                    room: room.map(|(j, _)| j),
                    role: args.room.role.clone(),
                    wall: args.common.wall,
                    runbook,
                    runbook_path: DEMO_LABEL.into(),
                    t0,
                    operator: operator(&args.common),
                    mode: Mode::Simulated,
                    seed,
                    theme,
                    aws: Default::default(),
                    allow_writes: false,
                    record: args.common.record_to(None),
                    replay: None,
                    rehearsal: None,
                    notify: args.notify,
                    calibration: None,
                },
                journal,
            )?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// The T-0 of the demo a journal holds, if any.
fn demo_t0(past: &[journal::Record]) -> Option<chrono::DateTime<chrono::Utc>> {
    past.iter().rev().find_map(|r| match &r.event {
        journal::Event::SessionStarted { t0, .. } => Some(*t0),
        _ => None,
    })
}

/// `tminus rehearse`: a fresh rehearsal journal, the war room on the faulty simulator, and the
/// score printed once the terminal is back.
/// With `--calibrate`, the calibration read live from CloudWatch and saved beside the runbook
/// (or at `--calibration FILE`); none otherwise.
fn calibration_for(
    args: &tminus::cli::RehearseArgs,
    runbook: &runbook::Runbook,
) -> Result<std::result::Result<Option<tminus::capacity::calibration::Calibration>, ExitCode>> {
    use tminus::capacity::calibration;
    if !args.calibrate {
        return Ok(Ok(None));
    }
    let settings = tminus::capacity::Settings::new(runbook, args.peak, args.history);
    let aws = tminus::source::aws::AwsSettings::resolve(runbook, &args.aws.settings());
    say!(
        "tminus: reading {} of history from CloudWatch ({}) to calibrate the rehearsal...",
        tminus::time::Span(settings.history_secs),
        tminus::quotas_cmd::endpoint_label(&aws)
    );
    let now = chrono::Utc::now();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let readings = rt.block_on(tminus::source::aws::budget::with_budget(
        tminus::source::history::AWS_BUDGET,
        tminus::source::history::live_series(runbook, aws, now, &settings),
    ));
    let cal = calibration::calibrate(runbook, &readings, &settings, now);
    if cal.metrics.is_empty() {
        let why = readings
            .metrics
            .iter()
            .find_map(|m| m.error.clone())
            .unwrap_or_else(|| "no metric had enough history".into());
        say!(
            "tminus: nothing to calibrate from: {}",
            tminus::text::clean(&why)
        );
        return Ok(Err(ExitCode::FAILURE));
    }
    let path = args
        .calibration
        .clone()
        .unwrap_or_else(|| calibration::beside(&args.runbook));
    cal.save(&path)?;
    say!(
        "tminus: calibrated {} of {} metrics at {}x; saved to {} (play it offline with --calibration)",
        cal.metrics.len(),
        runbook
            .metrics
            .iter()
            .filter(|m| m.expression.is_none())
            .count(),
        tminus::format::value(cal.forecast),
        shown(&path)
    );
    Ok(Ok(Some(cal)))
}

fn rehearse(args: tminus::cli::RehearseArgs) -> Result<ExitCode> {
    let Some(runbook) = load_or_report(&args.runbook) else {
        return Ok(ExitCode::FAILURE);
    };
    if !simulatable_or_report(&args.runbook, &runbook) {
        return Ok(ExitCode::FAILURE);
    }
    let Some(theme) = theme_or_report(&args.common) else {
        return Ok(ExitCode::FAILURE);
    };
    let journal_path = args
        .common
        .journal
        .clone()
        .unwrap_or_else(|| tminus::rehearsal::default_journal(&args.runbook));
    // A saved calibration is checked before anything else; reading AWS waits for a terminal.
    let saved = match (&args.calibration, args.calibrate) {
        (Some(path), false) => Some(tminus::capacity::calibration::Calibration::load(
            path, &runbook,
        )?),
        _ => None,
    };
    run::require_terminal()?;
    let calibration = match saved {
        Some(c) => Some(c),
        None => match calibration_for(&args, &runbook)? {
            Ok(c) => c,
            Err(code) => return Ok(code),
        },
    };
    let journal = journal::FileJournal::open_rotating(
        &journal_path,
        chrono::Utc::now(),
        tminus::rehearsal::rotate_journal,
    )?;
    if let Some(aside) = &journal.set_aside {
        say!(
            "tminus: the previous rehearsal's journal is now {}",
            shown(aside)
        );
    }
    let mut runbook = runbook;
    let mut t0 = runbook.event.starts_at;
    let mut seed = args.common.seed;
    let mut rehearsal = run::Rehearsal {
        speed: args.speed,
        start_at: args.start_at,
        surprise: args.surprise,
    };
    let room = match &args.room.room {
        Some(name) => {
            let aws = tminus::source::aws::AwsSettings::resolve(&runbook, &args.aws.settings());
            let yaml = tminus::limits::read_text(&args.runbook, tminus::limits::MAX_YAML_BYTES)?;
            // A game day's clock is the room's: every seat sees the same session time.
            let clock = tminus::room::RoomClock {
                speed: args.speed,
                started_at: args.start_at.at(t0),
                surprise: args.surprise,
            };
            let offer = tminus::join::Offer {
                yaml: &yaml,
                t0,
                mode: "rehearsal",
                seed,
                rehearsal: Some(clock),
            };
            let (j, rb) = join_room(
                &args.room,
                name,
                &aws,
                offer,
                runbook,
                &journal_path,
                &args.common,
            )?;
            runbook = rb;
            (t0, seed) = (j.meta.t0, j.meta.seed);
            if let Some(r) = room_rehearsal(&j.meta) {
                rehearsal = r;
            }
            Some(j.join)
        }
        None => None,
    };
    run::run_war_room(
        Session {
            runbook: runbook.clone(),
            runbook_path: args.runbook.clone(),
            t0,
            operator: operator(&args.common),
            mode: Mode::Rehearsal,
            seed,
            theme,
            aws: Default::default(),
            allow_writes: false,
            record: args.common.record_to(None),
            replay: None,
            rehearsal: Some(rehearsal),
            notify: args.notify,
            calibration,
            room,
            role: args.room.role.clone(),
            wall: args.common.wall,
        },
        journal,
    )?;
    let records = journal::read(&journal_path)?;
    let score = tminus::rehearsal::score::score(&runbook, &records);
    tminus::out::print(&format!(
        "{}Journal: {}\n",
        score.render(&runbook),
        shown(&journal_path)
    ))?;
    Ok(ExitCode::SUCCESS)
}

/// Joins the room named by `--room` (the table from `--room-table`) as a member, offering
/// `offer` as its header; the runbook returned is `runbook` (whose text `offer` carries), or
/// the room's when the room runs another.
fn join_room(
    args: &tminus::cli::RoomArgs,
    name: &str,
    aws: &tminus::source::aws::AwsSettings,
    offer: tminus::join::Offer<'_>,
    runbook: Runbook,
    journal_path: &Path,
    common: &CommonArgs,
) -> Result<(tminus::join::Joined, Runbook)> {
    let Some(table) = args.room_table.as_deref() else {
        anyhow::bail!("--room needs --room-table TABLE (or TMINUS_ROOM_TABLE)");
    };
    let ours = offer.header(&runbook.event.name, &operator(common));
    let mut j = tminus::join::join(
        aws,
        table,
        name,
        Some(ours),
        journal_path,
        tminus::app::room::Seat::Member,
        &operator(common),
    )?;
    let runbook = tminus::join::room_runbook(&mut j, Some((offer.yaml, runbook)))?;
    Ok((j, runbook))
}

/// A game-day room's clock for a seat joining now: the room's speed, at the session time the
/// room's clock shows.
fn room_rehearsal(meta: &tminus::room::RoomMeta) -> Option<run::Rehearsal> {
    let c = meta.rehearsal?;
    let now = c.session_time(meta.created_at, chrono::Utc::now());
    Some(run::Rehearsal {
        speed: c.speed,
        start_at: tminus::time::TOffset::between(meta.t0, now),
        surprise: c.surprise,
    })
}

/// The kind of data a room's seats play.
fn mode_of(meta: &tminus::room::RoomMeta) -> Mode {
    match meta.mode.as_str() {
        "simulated" => Mode::Simulated,
        "rehearsal" => Mode::Rehearsal,
        _ => Mode::Live,
    }
}

/// `tminus watch`: a read-only seat in a room: its runbook, T-0 and data, no actions, no
/// pages, not counted in votes.
fn watch(args: tminus::cli::WatchArgs) -> Result<ExitCode> {
    let Some(theme) = theme_or_report(&args.common) else {
        return Ok(ExitCode::FAILURE);
    };
    let journal_path = args
        .common
        .journal
        .clone()
        .unwrap_or_else(|| Path::new(".tminus").join(format!("{}.watch.journal", args.room)));
    run::require_terminal()?;
    let mut j = tminus::join::join(
        &args.aws.settings(),
        &args.room_table,
        &args.room,
        None,
        &journal_path,
        tminus::app::room::Seat::Watcher,
        &operator(&args.common),
    )?;
    let label = format!("room {}", args.room);
    let runbook = tminus::join::room_runbook(&mut j, None)?;
    let mode = mode_of(&j.meta);
    let rehearsal = room_rehearsal(&j.meta);
    let aws = tminus::source::aws::AwsSettings::resolve(&runbook, &args.aws.settings());
    let journal = journal::FileJournal::open_rotating(&journal_path, chrono::Utc::now(), |past| {
        Ok(demo_t0(past) != Some(j.meta.t0))
    })?;
    run::run_war_room(
        Session {
            runbook,
            runbook_path: label.into(),
            t0: j.meta.t0,
            operator: operator(&args.common),
            mode,
            seed: j.meta.seed,
            theme,
            aws,
            allow_writes: false,
            record: args.common.record_to(None),
            replay: None,
            rehearsal,
            // A watcher never pages.
            notify: false,
            calibration: None,
            room: Some(j.join),
            role: None,
            wall: args.common.wall,
        },
        journal,
    )?;
    Ok(ExitCode::SUCCESS)
}

/// A path as printed: a journal can name any runbook path, a directory any file name.
fn shown(path: &Path) -> String {
    clean(&path.display().to_string()).into_owned()
}

fn operator(common: &CommonArgs) -> String {
    common
        .operator
        .clone()
        .unwrap_or_else(run::default_operator)
}

fn load_or_report(path: &Path) -> Option<Runbook> {
    match runbook::load(path) {
        Ok(r) => Some(r),
        Err(diags) => {
            for d in &diags {
                say!("{d}");
            }
            say!(
                "tminus: {} has {} problem(s); `tminus check` lists them all",
                shown(path),
                diags.len()
            );
            None
        }
    }
}

/// A simulated session refuses a runbook the simulator cannot play (RATE, SEARCH, Metrics
/// Insights...), located, instead of showing those metrics with no data.
fn simulatable_or_report(path: &Path, runbook: &Runbook) -> bool {
    let label = path.display().to_string();
    // Read again for positions; the same caps as the load (the file may have changed since).
    let text = tminus::limits::read_text(path, tminus::limits::MAX_YAML_BYTES)
        .ok()
        .filter(|t| tminus::limits::check_yaml(&label, t).is_ok())
        .unwrap_or_default();
    let problems = runbook::simulation_problems(&label, &text, runbook);
    for d in &problems {
        say!("{d}");
    }
    if !problems.is_empty() {
        say!(
            "tminus: the simulator cannot play {}: use it live with `tminus run`",
            shown(path)
        );
    }
    problems.is_empty()
}

fn theme_or_report(common: &CommonArgs) -> Option<Theme> {
    let no_color = tminus::theme::no_color_env();
    match Theme::resolve(
        common.theme.as_deref(),
        no_color,
        &tminus::theme::themes_dir(),
    ) {
        Ok(t) => Some(t),
        Err(diags) => {
            say!("{}", tminus::diag::render(&diags));
            None
        }
    }
}

/// `tminus replay FILE`: the recording's runbook and updates, on a replay clock starting where
/// the recording starts. Its own journal, so a review never mixes with the event's.
fn replay(args: tminus::cli::ReplayArgs) -> Result<ExitCode> {
    let (header, entries) = tminus::record::read(&args.recording)?;
    let label = format!("{} (in {})", header.runbook_path, args.recording.display());
    let runbook = match runbook::parse(&label, &header.runbook_yaml) {
        Ok(r) => r,
        Err(diags) => {
            say!("{}", tminus::diag::render(&diags));
            return Ok(ExitCode::FAILURE);
        }
    };
    let Some(theme) = theme_or_report(&args.common) else {
        return Ok(ExitCode::FAILURE);
    };
    let journal_path = args.common.journal.clone().unwrap_or_else(|| {
        let stem = args
            .recording
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or("recording");
        Path::new(".tminus").join(format!("{stem}.replay.journal"))
    });
    // Each replay starts from the beginning: an earlier review's journal is kept beside it.
    run::require_terminal()?;
    let journal =
        journal::FileJournal::open_rotating(&journal_path, chrono::Utc::now(), |_| Ok(true))?;
    let start = entries.first().map(|e| e.at).unwrap_or(header.started);
    run::run_war_room(
        Session {
            runbook,
            runbook_path: label.into(),
            t0: header.t0,
            operator: operator(&args.common),
            mode: Mode::Replay,
            seed: args.common.seed,
            theme,
            aws: Default::default(),
            allow_writes: false,
            rehearsal: None,
            // A recording is data: its runbook's notify command never runs.
            notify: false,
            replay: Some(run::ReplayPlan {
                entries,
                start,
                speed: args.speed,
            }),
            // A replay is a recording already.
            record: tminus::record::RecordTo::Off,
            calibration: None,
            room: None,
            role: None,
            wall: args.common.wall,
        },
        journal,
    )?;
    Ok(ExitCode::SUCCESS)
}

/// The recording every war room keeps beside its journal, when it is this journal's last
/// session's (same event and T-0); one that cannot be read is said, and the review goes on
/// without charts.
fn beside_recording(
    journal_path: &Path,
    records: &[journal::Record],
) -> Option<(tminus::record::Header, Vec<tminus::record::Entry>)> {
    let path = tminus::record::beside(journal_path);
    if !path.exists() {
        return None;
    }
    let session = records.iter().rev().find_map(|r| match &r.event {
        journal::Event::SessionStarted { event_name, t0, .. } => Some((event_name.clone(), *t0)),
        _ => None,
    });
    match tminus::record::read(&path) {
        Ok((h, e)) if session.as_ref() == Some(&(h.event_name.clone(), h.t0)) => Some((h, e)),
        Ok(_) => None,
        Err(e) => {
            say!("tminus: {e:#}: the review has no charts");
            None
        }
    }
}

/// `tminus report JOURNAL`: the review, from the journal and (optionally) the recording;
/// with several journals, the game days side by side.
fn report(args: tminus::cli::ReportArgs) -> Result<ExitCode> {
    let text = if let [journal_path] = args.journals.as_slice() {
        let records = read_journal(journal_path)?;
        let recording = match &args.recording {
            Some(path) => Some(tminus::record::read(path)?),
            None => beside_recording(journal_path, &records),
        };
        let Some(runbook) = runbook_for(
            &records,
            args.runbook.as_deref(),
            recording.as_ref().map(|r| &r.0),
        ) else {
            return Ok(ExitCode::FAILURE);
        };
        let entries = recording.as_ref().map(|(_, e)| e.as_slice());
        let review = tminus::report::build(&runbook, &records, entries);
        match args.format {
            tminus::cli::ReportFormat::Markdown => tminus::report::markdown::render(&review),
            tminus::cli::ReportFormat::Html => tminus::report::html::render(&review),
        }
    } else {
        if args.recording.is_some() {
            anyhow::bail!(
                "--recording goes with one journal; several journals are compared from their scores"
            );
        }
        let mut runs = Vec::new();
        for path in &args.journals {
            let records = read_journal(path)?;
            let Some(runbook) = runbook_for(&records, args.runbook.as_deref(), None) else {
                return Ok(ExitCode::FAILURE);
            };
            let runbook = journal::with_added_items(&runbook, &records);
            let score = tminus::rehearsal::score::score(&runbook, &records);
            runs.push(tminus::report::compare::Run {
                label: path
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_else(|| path.display().to_string()),
                started: score.started,
                score,
            });
        }
        let c = tminus::report::compare::compare(runs);
        match args.format {
            tminus::cli::ReportFormat::Markdown => tminus::report::markdown::render_comparison(&c),
            tminus::cli::ReportFormat::Html => tminus::report::html::render_comparison(&c),
        }
    };
    match &args.output {
        Some(path) => std::fs::write(path, text)
            .map_err(|e| anyhow::anyhow!("writing {}: {e}", path.display()))?,
        None => tminus::out::print(&text)?,
    }
    Ok(ExitCode::SUCCESS)
}

/// Each phase's cost under the runbook's polling against full rate, and the saving.
fn phase_costs(rb: &runbook::Runbook) -> String {
    let phases = tminus::source::aws::plan::cost_by_phase(rb);
    if phases.is_empty() {
        return String::new();
    }
    let (near_from, near_until) = tminus::signal::near_window(rb);
    let mut rows = vec![
        ["PHASE", "FROM", "UNTIL", "COST", "AT FULL RATE"]
            .map(String::from)
            .to_vec(),
    ];
    for p in &phases {
        rows.push(vec![
            p.phase.clone(),
            p.from.to_string(),
            p.until.to_string(),
            format!("${:.4}", p.usd),
            format!("${:.4}", p.usd_full_rate),
        ]);
    }
    let (usd, full): (f64, f64) = phases
        .iter()
        .fold((0.0, 0.0), |(a, b), p| (a + p.usd, b + p.usd_full_rate));
    rows.push(vec![
        "total".into(),
        String::new(),
        String::new(),
        format!("${usd:.4}"),
        format!("${full:.4}"),
    ]);
    let saving = if full > 0.0 {
        (full - usd) / full * 100.0
    } else {
        0.0
    };
    // Days of readiness before the event: the war room left open on a wall screen.
    let far = tminus::source::aws::plan::estimate_polling(rb, |period| {
        tminus::signal::poll_every(rb, near_from - 86_400, period)
    })
    .usd_per_hour;
    let all = tminus::source::aws::plan::estimate(rb).usd_per_hour;
    format!(
        "  polling: each metric at its own period from {} to {}, slower outside ({}); over the phases it saves ${:.4} ({saving:.0}%) against full rate; far from T-0 ${:.2}/day against ${:.2}/day\n{}",
        tminus::time::TOffset(near_from),
        tminus::time::TOffset(near_until),
        rb.polling
            .as_ref()
            .and_then(|p| p.far_every)
            .map(|s| format!("every {s}"))
            .unwrap_or_else(|| "every 5m".into()),
        full - usd,
        far * 24.0,
        all * 24.0,
        tminus::text::columns(&rows)
            .lines()
            .map(|l| format!("  {l}\n"))
            .collect::<String>()
    )
}

fn read_journal(path: &Path) -> Result<Vec<journal::Record>> {
    let records = journal::read(path)?;
    if records.is_empty() {
        anyhow::bail!("{} holds no journal records", path.display());
    }
    Ok(records)
}

/// The runbook a journal is reviewed against: `--runbook`, else the recording's copy, else the
/// path its last session names (the demo's is built in, so a demo reviews from anywhere).
fn runbook_for(
    records: &[journal::Record],
    given: Option<&Path>,
    recording: Option<&tminus::record::Header>,
) -> Option<runbook::Runbook> {
    if let Some(path) = given {
        return load_or_report(path);
    }
    if let Some(header) = recording {
        return match runbook::parse(&header.runbook_path, &header.runbook_yaml) {
            Ok(r) => Some(r),
            Err(diags) => {
                say!("{}", tminus::diag::render(&diags));
                None
            }
        };
    }
    let path = records.iter().rev().find_map(|r| match &r.event {
        journal::Event::SessionStarted { runbook, .. } => Some(runbook.clone()),
        _ => None,
    });
    match path {
        Some(p) if p == DEMO_LABEL => runbook::parse(DEMO_LABEL, DEMO_RUNBOOK).ok(),
        Some(p) => load_or_report(Path::new(&p)),
        None => {
            say!("tminus: no runbook: give --runbook FILE");
            None
        }
    }
}
