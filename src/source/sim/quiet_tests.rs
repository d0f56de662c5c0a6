//! Quiet when all is well: the simulator's updates folded into the real `App`, unattended, and
//! what the journal says about it. These are the targets for a war room people trust:
//! the demo left alone for 30 minutes opens at most 10 alerts and no key more than twice.

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};

use super::runbook_files::bundled;
use super::*;
use crate::app::App;
use crate::app::alerts::AlertKey;
use crate::app::update::{AppOptions, Msg};
use crate::clock::ManualClock;
use crate::journal::{Event, MemoryJournal, Record};

/// What an unattended session journalled: alerts opened per key and escalations.
pub(super) struct Unattended {
    pub records: Vec<Record>,
}

impl Unattended {
    pub fn opened(&self) -> BTreeMap<AlertKey, usize> {
        let mut out = BTreeMap::new();
        for r in &self.records {
            if let Event::AlertOpened { key, .. } = &r.event {
                *out.entry(key.clone()).or_insert(0) += 1;
            }
        }
        out
    }

    pub fn escalations(&self) -> usize {
        self.records
            .iter()
            .filter(|r| matches!(r.event, Event::AlertEscalated { .. }))
            .count()
    }
}

/// Opens the war room at `start` and leaves it alone for `minutes`: a tick a second and the
/// simulator every ten, as the event loop does, nobody touching a key.
pub(super) fn unattended(
    rb: &Runbook,
    t0: DateTime<Utc>,
    start: DateTime<Utc>,
    minutes: i64,
    seed: u64,
) -> Unattended {
    let clock = ManualClock::new(start);
    let journal = std::rc::Rc::new(std::cell::RefCell::new(MemoryJournal::default()));
    struct Shared(std::rc::Rc<std::cell::RefCell<MemoryJournal>>);
    impl crate::journal::JournalSink for Shared {
        fn append(&mut self, r: &Record) -> anyhow::Result<()> {
            self.0.borrow_mut().append(r)
        }
        fn location(&self) -> String {
            "(test)".into()
        }
    }
    let mut app = App::new(
        rb.clone(),
        AppOptions::simulated("t.yaml", t0, "nobody"),
        start,
        Box::new(Shared(journal.clone())),
        Vec::new(),
    );
    let mut sim = Simulator::new(rb, t0, seed, Arc::new(clock.clone()));
    for u in sim.backfill(start) {
        app.update(start, Msg::Source(u));
    }
    let end = start + Duration::minutes(minutes);
    let mut now = start;
    while now < end {
        now += Duration::seconds(1);
        if (now - start).num_seconds() % 10 == 0 {
            for u in sim.step(now) {
                app.update(now, Msg::Source(u));
            }
        }
        app.update(now, Msg::Tick);
    }
    let records = journal.borrow().records.clone();
    Unattended { records }
}

fn demo() -> Runbook {
    bundled()
        .into_iter()
        .find(|(p, _)| p.ends_with("demo.yaml"))
        .map(|(_, rb)| rb)
        .unwrap()
}

#[test]
fn the_demo_left_alone_for_30_minutes_opens_few_alerts_each_once() {
    let rb = demo();
    // `tminus demo` puts T-0 three minutes after it opens.
    let start = DateTime::parse_from_rfc3339("2026-12-01T16:57:00Z")
        .unwrap()
        .to_utc();
    let t0 = start + Duration::minutes(3);
    for seed in [42, 1, 7, 2026] {
        let run = unattended(&rb, t0, start, 30, seed);
        let opened = run.opened();
        let total: usize = opened.values().sum();
        eprintln!(
            "demo seed {seed}: {total} alerts opened ({} keys), {} escalations: {opened:?}",
            opened.len(),
            run.escalations()
        );
        assert!(total <= 10, "seed {seed}: {total} alerts: {opened:?}");
        assert!(
            opened.values().all(|&n| n <= 2),
            "seed {seed}: a key opened more than twice: {opened:?}"
        );
        // The story still plays: p99 goes critical and pages someone.
        assert!(opened.contains_key(&AlertKey::Metric("p99_latency".into())));
    }
}

/// Every bundled runbook with its `sim:` hints and rehearsal faults taken out: what a runbook
/// written elsewhere looks like to the simulator.
fn written_elsewhere() -> Vec<(std::path::PathBuf, Runbook)> {
    bundled()
        .into_iter()
        .map(|(p, mut rb)| {
            for m in &mut rb.metrics {
                m.sim = None;
            }
            for q in &mut rb.quotas {
                q.sim = None;
            }
            rb.rehearsal = None;
            (p, rb)
        })
        .collect()
}

#[test]
fn a_runbook_without_sim_hints_opens_no_metric_alert_in_an_hour() {
    // Before: 51 alerts in an hour of a hint-free rehearsal, 47 on metrics, one metric 21 times.
    let t0 = DateTime::parse_from_rfc3339("2026-12-01T17:00:00Z")
        .unwrap()
        .to_utc();
    for (path, rb) in written_elsewhere() {
        for seed in [42, 9] {
            let run = unattended(&rb, t0, t0 - Duration::minutes(30), 60, seed);
            let data: Vec<(AlertKey, usize)> = run
                .opened()
                .into_iter()
                .filter(|(k, _)| {
                    matches!(
                        k,
                        AlertKey::Metric(_) | AlertKey::Quota(_) | AlertKey::Alarm(_)
                    )
                })
                .collect();
            assert!(
                data.is_empty(),
                "{} seed {seed}: alerts on data with nothing wrong: {data:?}",
                path.display()
            );
        }
    }
}
