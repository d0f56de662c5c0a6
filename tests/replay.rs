//! A recorded session replays to the same state: the simulator drives one war room while the
//! recorder writes every update; a second war room fed only from the recording file ends up
//! with the same metrics, quotas, alarms, alerts and checklist.

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use tminus::app::App;
use tminus::app::update::{AppOptions, Msg};
use tminus::clock::ManualClock;
use tminus::journal::MemoryJournal;
use tminus::record::{self, FORMAT_VERSION, Header, Recorder};
use tminus::source::sim::Simulator;

const DEMO: &str = include_str!("../runbooks/demo.yaml");

fn app(t0: DateTime<Utc>, now: DateTime<Utc>) -> App {
    let runbook = tminus::runbook::parse("demo.yaml", DEMO).unwrap();
    let opts = AppOptions::simulated("demo.yaml", t0, "replay-test");
    App::new(
        runbook,
        opts,
        now,
        Box::new(MemoryJournal::default()),
        vec![],
    )
}

/// What a war room shows, as comparable values.
fn state(a: &App) -> String {
    let metrics: Vec<Vec<(i64, String)>> = a
        .metrics
        .iter()
        .map(|m| {
            m.series
                .iter()
                .map(|s| (s.at.timestamp(), format!("{:.6}", s.value)))
                .collect()
        })
        .collect();
    let quotas: Vec<String> = a
        .quotas
        .iter()
        .map(|q| format!("{:?} {:?} {:?}", q.value, q.usage, q.severity))
        .collect();
    let alarms: Vec<String> = a
        .alarms
        .values()
        .map(|v| format!("{} {:?} {}", v.name, v.state, v.reason))
        .collect();
    let alerts: Vec<String> = a
        .open_alerts()
        .map(|x| format!("{:?} {:?} {:?}", x.key, x.severity, x.level))
        .collect();
    let items: Vec<String> = a
        .items
        .iter()
        .flatten()
        .map(|i| format!("{:?}", i.status))
        .collect();
    format!("{metrics:?}\n{quotas:?}\n{alarms:?}\n{alerts:?}\n{items:?}")
}

#[test]
fn a_recorded_session_replays_to_the_same_state() {
    let t0 = DateTime::parse_from_rfc3339("2026-12-01T17:00:00Z")
        .unwrap()
        .to_utc();
    let start = t0 - Duration::minutes(3);
    let end = t0 + Duration::minutes(6);
    let clock = Arc::new(ManualClock::new(start));
    let runbook = tminus::runbook::parse("demo.yaml", DEMO).unwrap();
    let mut sim = Simulator::new(&runbook, t0, 42, clock.clone());

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("demo.rec");
    let header = Header {
        tminus_recording: FORMAT_VERSION,
        event_name: runbook.event.name.clone(),
        runbook_path: "runbooks/demo.yaml".into(),
        runbook_yaml: DEMO.into(),
        t0,
        started: start,
    };
    let mut recorder = Recorder::open(&path, &header).unwrap();
    let mut live = app(t0, start);
    let mut now = start;
    let mut first = true;
    while now <= end {
        clock.set(now);
        let updates = if first {
            sim.backfill(now)
        } else {
            sim.step(now)
        };
        first = false;
        for u in updates {
            recorder.record(now, &u).unwrap();
            live.update(now, Msg::Source(u));
        }
        now += Duration::seconds(10);
    }
    drop(recorder);
    assert!(
        live.open_alerts()
            .any(|a| a.severity == tminus::app::alerts::Severity::Crit),
        "the recorded stretch holds the demo's critical p99"
    );

    let (h, entries) = record::read(&path).unwrap();
    assert_eq!(h, header);
    let mut replayed = app(h.t0, h.started);
    for e in entries {
        replayed.update(e.at, Msg::Source(e.update));
    }
    let (a, b) = (state(&replayed), state(&live));
    for (i, (x, y)) in a.lines().zip(b.lines()).enumerate() {
        if x != y {
            let at = x
                .chars()
                .zip(y.chars())
                .position(|(p, q)| p != q)
                .unwrap_or(0);
            let from = at.saturating_sub(80);
            panic!(
                "section {i} differs at {at}:\nreplayed: {}\nlive:     {}",
                x.chars().skip(from).take(200).collect::<String>(),
                y.chars().skip(from).take(200).collect::<String>()
            );
        }
    }
    assert_eq!(a, b);
}
