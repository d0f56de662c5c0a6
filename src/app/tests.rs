//! App::update driven by a manual clock: the state rules, journalling and restart.

use std::cell::RefCell;
use std::rc::Rc;

use chrono::{DateTime, Duration, Utc};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::update::{AppOptions, Msg};
use super::*;
use crate::app::alerts::{AlertKey, Severity};
use crate::journal::{Event, JournalSink, MemoryJournal, Record};
use crate::runbook::Runbook;
use crate::source::{AlarmState, Sample, Update};

const RUNBOOK: &str = r##"
event:
  name: Test Launch
  starts_at: 2026-12-01T17:00:00Z
phases:
  - { name: Pre-flight, from: T-2h }
  - { name: Go/no-go, from: T-15m }
  - { name: Launch, from: T-0 }
metrics:
  - { id: p99, title: p99 latency, namespace: AWS/ApplicationELB, metric: TargetResponseTime, stat: p99, unit: ms, warn: 500, crit: 900 }
  - { id: hosts, namespace: AWS/ApplicationELB, metric: HealthyHostCount, stat: Minimum, warn: 10, crit: 5, direction: below }
quotas:
  - { service: lambda, code: L-B99A9384, title: Lambda concurrency }
checklists:
  - name: Pre-flight
    items:
      - { id: freeze, title: Freeze deploys, owner: release-mgr, due: T-2h }
      - { id: scale, title: Scale web ASG, owner: platform-oncall, due: T-30m, verify: "hosts >= 40" }
  - name: Go/no-go
    items:
      - { id: go, title: Go decision, owner: launch-lead, due: T-5m }
escalation:
  levels:
    - { after: 0m, who: Platform on-call, contact: "#launch-bridge" }
    - { after: 10m, who: Service owner, contact: "+1 555 0100" }
"##;

fn t0() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-12-01T17:00:00Z")
        .unwrap()
        .to_utc()
}

/// A journal shared with the test so it can look at, and replay, what the app wrote.
#[derive(Clone, Default)]
pub(super) struct SharedJournal(Rc<RefCell<MemoryJournal>>);

impl JournalSink for SharedJournal {
    fn append(&mut self, r: &Record) -> anyhow::Result<()> {
        self.0.borrow_mut().append(r)
    }
    fn location(&self) -> String {
        "(test)".into()
    }
}

impl SharedJournal {
    pub(super) fn records(&self) -> Vec<Record> {
        self.0.borrow().records.clone()
    }
    fn events(&self) -> Vec<Event> {
        self.records().into_iter().map(|r| r.event).collect()
    }
}

fn app_at(now: DateTime<Utc>, journal: SharedJournal, past: Vec<Record>) -> App {
    let runbook: Runbook = serde_yaml::from_str(RUNBOOK).unwrap();
    let opts = AppOptions::simulated("t.yaml", t0(), "jane");
    App::new(runbook, opts, now, Box::new(journal), past)
}

fn key(c: char) -> Msg {
    Msg::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE))
}
fn code(k: KeyCode) -> Msg {
    Msg::Key(KeyEvent::new(k, KeyModifiers::NONE))
}
fn samples(metric: usize, at: DateTime<Utc>, value: f64) -> Msg {
    Msg::Source(Update::Samples {
        metric,
        points: vec![Sample { at, value }],
        settled_to: None,
    })
}
/// Every item done, so overdue roll-ups stay out of a test about data.
fn tick_every_item(app: &mut App) {
    for id in ["freeze", "scale", "go"] {
        app.act(Event::ItemDone {
            item: id.into(),
            auto: false,
        });
    }
}

fn item_status(app: &App, id: &str) -> ItemStatus {
    app.visible_items()
        .iter()
        .find(|r| r.item.id == id)
        .unwrap()
        .state
        .status
}

#[test]
fn ticking_an_item_is_journalled_then_shown_and_survives_restart() {
    let j = SharedJournal::default();
    let now = t0() - Duration::hours(3);
    let mut app = app_at(now, j.clone(), vec![]);
    app.update(now, Msg::Tick);
    // Nothing is current 3 h before T-0, so lists are in runbook order: "freeze" is first.
    app.update(now, key(' '));
    assert_eq!(item_status(&app, "freeze"), ItemStatus::Done);
    assert_eq!(
        j.events(),
        vec![Event::ItemDone {
            item: "freeze".into(),
            auto: false
        }]
    );

    app.update(now, key('j'));
    app.update(now, key('p'));
    assert_eq!(item_status(&app, "scale"), ItemStatus::InProgress);

    // Restart from the journal: the same state.
    let again = app_at(now, SharedJournal::default(), j.records());
    assert_eq!(item_status(&again, "freeze"), ItemStatus::Done);
    assert_eq!(item_status(&again, "scale"), ItemStatus::InProgress);
    assert_eq!(again.readiness_pct(), Some(100.0 / 3.0));
}

#[test]
fn a_failed_journal_write_changes_nothing_and_says_so() {
    let j = SharedJournal::default();
    let now = t0() - Duration::hours(3);
    let mut app = app_at(now, j.clone(), vec![]);
    j.0.borrow_mut().fail = true;
    app.update(now, key(' '));
    assert_eq!(item_status(&app, "freeze"), ItemStatus::Todo);
    assert!(app.ui.flash.as_ref().unwrap().0.contains("NOT SAVED"));

    // A note typed while the disk is failing is kept in the dialog, not lost.
    app.update(now, key('n'));
    for c in "db failover ok".chars() {
        app.update(now, key(c));
    }
    app.update(now, code(KeyCode::Enter));
    assert!(matches!(&app.ui.overlay, Overlay::Input { text, .. } if text == "db failover ok"));
    j.0.borrow_mut().fail = false;
    app.update(now, code(KeyCode::Enter));
    assert_eq!(app.ui.overlay, Overlay::None);
    assert_eq!(
        j.events(),
        vec![Event::Note {
            text: "db failover ok".into()
        }]
    );
}

#[test]
fn skip_needs_a_reason_and_records_it() {
    let j = SharedJournal::default();
    let now = t0() - Duration::hours(3);
    let mut app = app_at(now, j.clone(), vec![]);
    app.update(now, key('s'));
    app.update(now, code(KeyCode::Enter));
    assert!(
        matches!(app.ui.overlay, Overlay::Input { .. }),
        "empty reason keeps the dialog open"
    );
    for c in "done in CAB".chars() {
        app.update(now, key(c));
    }
    app.update(now, code(KeyCode::Enter));
    assert_eq!(item_status(&app, "freeze"), ItemStatus::Skipped);
    assert_eq!(
        j.events(),
        vec![Event::ItemSkipped {
            item: "freeze".into(),
            reason: "done in CAB".into()
        }]
    );
}

#[test]
fn phases_change_with_the_clock_and_are_journalled_once() {
    let j = SharedJournal::default();
    let start = t0() - Duration::minutes(16);
    let mut app = app_at(start, j.clone(), vec![]);
    app.update(start, Msg::Tick);
    assert_eq!(app.phase_name(), "Pre-flight");
    let gng = t0() - Duration::minutes(15);
    app.update(gng, Msg::Tick);
    assert_eq!(app.phase_name(), "Go/no-go");
    // The current phase's checklist comes first.
    assert_eq!(app.visible_items()[0].item.id, "go");
    app.update(gng + Duration::seconds(1), Msg::Tick);
    let phases: Vec<_> = j
        .events()
        .into_iter()
        .filter(|e| matches!(e, Event::PhaseEntered { .. }))
        .collect();
    assert_eq!(phases.len(), 2);

    // A restart in the same phase does not record it again.
    let j2 = SharedJournal::default();
    let mut again = app_at(gng + Duration::seconds(5), j2.clone(), j.records());
    again.update(gng + Duration::seconds(5), Msg::Tick);
    assert!(
        !j2.events()
            .iter()
            .any(|e| matches!(e, Event::PhaseEntered { .. }))
    );
}

#[test]
fn thresholds_open_escalate_ack_and_close_alerts() {
    let j = SharedJournal::default();
    let at = t0() + Duration::minutes(1);
    let mut app = app_at(at, j.clone(), vec![]);
    // Tick every item off so overdue alerts stay out of the way.
    tick_every_item(&mut app);
    // One datapoint beyond crit is noise: the row shows it, nobody is called.
    app.update(at, samples(0, at, 950.0));
    assert_eq!(app.metric_status(0), Status::Crit);
    assert!(app.top_alert().is_none());
    // Two of the last three: the breach holds.
    let at = at + Duration::minutes(1);
    app.update(at, samples(0, at, 950.0));
    let a = app.top_alert().unwrap();
    assert_eq!(
        (a.key.clone(), a.severity, a.level),
        (AlertKey::Metric("p99".into()), Severity::Crit, Some(0))
    );
    assert!(a.message.contains("p99 latency 950"), "{}", a.message);
    assert_eq!(app.metric_status(0), Status::Crit);

    let later = at + Duration::minutes(10);
    app.update(later, Msg::Tick);
    assert_eq!(app.top_alert().unwrap().level, Some(1));

    app.update(later, key('a'));
    assert_eq!(app.top_alert().unwrap().acked.as_ref().unwrap().0, "jane");
    // Acknowledged alerts stop escalating (there is no level 2 here, so check nothing new is written).
    let n = j.records().len();
    app.update(later + Duration::minutes(30), Msg::Tick);
    assert_eq!(j.records().len(), n);

    // Back under warn: the alert closes once the signal has read clear for five minutes
    // (the second clear point is the first on which "2 of 3" no longer holds).
    for i in 0..7 {
        assert!(
            app.top_alert().is_some(),
            "closed too early, at clear point {i}"
        );
        let t = later + Duration::minutes(i);
        app.update(t, samples(0, t, 400.0));
    }
    assert!(app.top_alert().is_none());
    let kinds: Vec<&str> = j
        .events()
        .iter()
        .filter_map(|e| match e {
            Event::AlertOpened { .. } => Some("open"),
            Event::AlertEscalated { .. } => Some("escalate"),
            Event::AlertAcknowledged { .. } => Some("ack"),
            Event::AlertClosed { .. } => Some("close"),
            _ => None,
        })
        .collect();
    assert_eq!(kinds, ["open", "escalate", "escalate", "ack", "close"]);
}

#[test]
fn overdue_items_roll_up_into_one_alert_per_checklist() {
    let j = SharedJournal::default();
    let at = t0() - Duration::minutes(20);
    let mut app = app_at(at, j.clone(), vec![]);
    app.update(at, Msg::Tick);
    // "freeze" (T-2h) is overdue; "scale" (T-30m) too; "go" (T-5m) not yet.
    assert_eq!(app.overdue_count(), 2);
    let open: Vec<(AlertKey, String)> = app
        .open_alerts()
        .map(|a| (a.key.clone(), a.message.clone()))
        .collect();
    assert_eq!(
        open,
        vec![(
            AlertKey::Checklist("Pre-flight".into()),
            "2 overdue in Pre-flight · oldest 1h40m: Freeze deploys, Scale web ASG".into()
        )]
    );
    // Doing one item keeps the one alert; it escalates once, not per item.
    app.act(Event::ItemDone {
        item: "freeze".into(),
        auto: false,
    });
    app.update(at + Duration::minutes(12), Msg::Tick);
    assert_eq!(app.open_alerts().count(), 1);
    let escalations = j
        .events()
        .iter()
        .filter(|e| matches!(e, Event::AlertEscalated { .. }))
        .count();
    assert_eq!(escalations, 2, "L1 then L2 for the one roll-up");
    // Go/no-go's item falls due: a second list, a second alert.
    app.update(t0() - Duration::minutes(4), Msg::Tick);
    assert_eq!(app.open_alerts().count(), 2);
    // The last overdue item of Pre-flight done: its alert closes.
    app.act(Event::ItemDone {
        item: "scale".into(),
        auto: false,
    });
    app.update(t0() - Duration::minutes(4), Msg::Tick);
    let keys: Vec<AlertKey> = app.open_alerts().map(|a| a.key.clone()).collect();
    assert_eq!(keys, vec![AlertKey::Checklist("Go/no-go".into())]);
}

#[test]
fn per_item_overdue_alerts_from_older_journals_are_closed() {
    let j = SharedJournal::default();
    let at = t0() - Duration::minutes(20);
    let old = Record {
        ts: at - Duration::minutes(5),
        operator: "jane".into(),
        room: None,
        event: Event::AlertOpened {
            key: AlertKey::Overdue("freeze".into()),
            severity: Severity::Warn,
            message: "\"Freeze deploys\" overdue".into(),
        },
    };
    let mut app = app_at(at, j.clone(), vec![old]);
    app.update(at, Msg::Tick);
    assert!(j.events().contains(&Event::AlertClosed {
        key: AlertKey::Overdue("freeze".into())
    }));
    assert!(
        app.open_alerts()
            .all(|a| a.key != AlertKey::Overdue("freeze".into()))
    );
}

#[test]
fn provisional_points_are_drawn_but_never_judged() {
    let j = SharedJournal::default();
    let at = t0() + Duration::minutes(10);
    let mut app = app_at(at, j.clone(), vec![]);
    tick_every_item(&mut app);
    let p = |m: i64, v: f64| Sample {
        at: at + Duration::minutes(m),
        value: v,
    };
    // Three minutes at 950 ms, but the last two buckets are not settled: one settled breach
    // is not two of three.
    app.update(
        at + Duration::minutes(3),
        Msg::Source(Update::Samples {
            metric: 0,
            points: vec![p(0, 300.0), p(1, 950.0), p(2, 950.0), p(3, 950.0)],
            settled_to: Some(at + Duration::minutes(2)),
        }),
    );
    assert!(app.top_alert().is_none());
    assert_eq!(app.metrics[0].latest_settled().unwrap().value, 950.0);
    assert_eq!(app.metrics[0].provisional().count(), 2);
    // The next refresh settles [2, 3): two of three now hold.
    app.update(
        at + Duration::minutes(4),
        Msg::Source(Update::Samples {
            metric: 0,
            points: vec![p(2, 960.0), p(3, 940.0)],
            settled_to: Some(at + Duration::minutes(3)),
        }),
    );
    assert_eq!(app.top_alert().unwrap().severity, Severity::Crit);
    // A provisional point the source no longer reports is dropped, not kept as data.
    app.update(
        at + Duration::minutes(5),
        Msg::Source(Update::Samples {
            metric: 0,
            points: vec![p(3, 940.0)],
            settled_to: Some(at + Duration::minutes(4)),
        }),
    );
    let s: Vec<f64> = app.metrics[0].series.iter().map(|s| s.value).collect();
    assert_eq!(s, [300.0, 950.0, 960.0, 940.0]);
}

#[test]
fn a_falling_partial_bucket_never_raises_a_below_alert() {
    // `hosts` is direction: below. A bucket still filling can read low; it is not judged.
    let j = SharedJournal::default();
    let at = t0() + Duration::minutes(10);
    let mut app = app_at(at, j.clone(), vec![]);
    for m in 0..10 {
        let now = at + Duration::minutes(m + 2);
        let mut points: Vec<Sample> = (0..=m)
            .map(|k| Sample {
                at: at + Duration::minutes(k),
                value: 40.0,
            })
            .collect();
        points.push(Sample {
            at: at + Duration::minutes(m + 1),
            value: 2.0,
        });
        app.update(
            now,
            Msg::Source(Update::Samples {
                metric: 1,
                points,
                settled_to: Some(at + Duration::minutes(m + 1)),
            }),
        );
    }
    assert!(
        !j.events().iter().any(|e| matches!(
            e,
            Event::AlertOpened {
                key: AlertKey::Metric(_),
                ..
            }
        )),
        "{:?}",
        j.events()
    );
}

#[test]
fn a_flapping_metric_is_one_alert_marked_flapping() {
    let j = SharedJournal::default();
    let at = t0() + Duration::minutes(10);
    let mut app = app_at(at, j.clone(), vec![]);
    tick_every_item(&mut app);
    // Three minutes over warn, three under, for an hour.
    for m in 0..60 {
        let v = if (m / 3) % 2 == 0 { 600.0 } else { 300.0 };
        let t = at + Duration::minutes(m);
        app.update(t, samples(0, t, v));
    }
    let opened = j
        .events()
        .iter()
        .filter(|e| matches!(e, Event::AlertOpened { .. }))
        .count();
    assert_eq!(opened, 1);
    let flapping: Vec<u32> = j
        .events()
        .iter()
        .filter_map(|e| match e {
            Event::AlertFlapping { flaps, .. } => Some(*flaps),
            _ => None,
        })
        .collect();
    assert_eq!(flapping, [2], "journalled once, when it starts flapping");
    assert!(app.top_alert().unwrap().flaps >= 2);
}

#[test]
fn a_restart_resumes_an_open_alert_instead_of_opening_it_again() {
    let j = SharedJournal::default();
    let at = t0() + Duration::minutes(10);
    let mut app = app_at(at, j.clone(), vec![]);
    for m in 0..3 {
        let t = at + Duration::minutes(m);
        app.update(t, samples(0, t, 950.0));
    }
    assert!(app.top_alert().is_some());
    let j2 = SharedJournal::default();
    let restart = at + Duration::minutes(4);
    let mut again = app_at(restart, j2.clone(), j.records());
    // The restarted source sends its history: still breaching, nothing new to say.
    let pts: Vec<Sample> = (0..4)
        .map(|m| Sample {
            at: at + Duration::minutes(m),
            value: 950.0,
        })
        .collect();
    again.update(
        restart,
        Msg::Source(Update::Samples {
            metric: 0,
            points: pts,
            settled_to: None,
        }),
    );
    assert!(
        !j2.events()
            .iter()
            .any(|e| matches!(e, Event::AlertOpened { .. } | Event::AlertClosed { .. })),
        "{:?}",
        j2.events()
    );
}

#[test]
fn a_sparse_counter_with_no_datapoints_reads_zero_and_its_alert_closes() {
    let rb = format!(
        "{RUNBOOK}\n"
    )
    .replace(
        "metrics:\n",
        "metrics:\n  - { id: e5xx, namespace: AWS/ApplicationELB, metric: HTTPCode_ELB_5XX_Count, stat: Sum, warn: 100, crit: 500 }\n",
    );
    let runbook: Runbook = serde_yaml::from_str(&rb).unwrap();
    let j = SharedJournal::default();
    let at = t0() + Duration::minutes(10);
    let opts = AppOptions::simulated("t.yaml", t0(), "jane");
    let mut app = App::new(runbook, opts, at, Box::new(j.clone()), vec![]);
    let p = |m: i64, v: f64| Sample {
        at: at + Duration::minutes(m),
        value: v,
    };
    app.update(
        at + Duration::minutes(4),
        Msg::Source(Update::Samples {
            metric: 0,
            points: vec![p(0, 800.0), p(1, 900.0)],
            settled_to: Some(at + Duration::minutes(2)),
        }),
    );
    assert_eq!(
        app.top_alert().unwrap().key,
        AlertKey::Metric("e5xx".into())
    );
    // The errors stop: CloudWatch sends no datapoints at all. Each settled minute reads 0.
    for m in 3..12 {
        app.update(
            at + Duration::minutes(m + 2),
            Msg::Source(Update::Samples {
                metric: 0,
                points: vec![],
                settled_to: Some(at + Duration::minutes(m)),
            }),
        );
    }
    assert_eq!(app.metrics[0].latest_settled().unwrap().value, 0.0);
    assert_eq!(app.metric_status(0), Status::Ok);
    assert!(
        !app.open_alerts()
            .any(|a| matches!(a.key, AlertKey::Metric(_))),
        "{:?}",
        app.top_alert()
    );
}

#[test]
fn verify_rules_tick_items_from_data() {
    let j = SharedJournal::default();
    let at = t0() - Duration::hours(3);
    let mut app = app_at(at, j.clone(), vec![]);
    app.update(at, samples(1, at, 39.0));
    assert_eq!(item_status(&app, "scale"), ItemStatus::Todo);
    app.update(at, samples(1, at + Duration::seconds(10), 40.0));
    assert_eq!(item_status(&app, "scale"), ItemStatus::Done);
    assert!(j.events().contains(&Event::ItemDone {
        item: "scale".into(),
        auto: true
    }));
}

#[test]
fn series_are_ordered_deduplicated_bounded_and_nan_safe() {
    let j = SharedJournal::default();
    let at = t0() - Duration::hours(3);
    let mut app = app_at(at, j.clone(), vec![]);
    let pts: Vec<Sample> = (0..SERIES_CAPACITY as i64 + 50)
        .map(|i| Sample {
            at: at + Duration::seconds(i * 10),
            value: i as f64,
        })
        .collect();
    app.update(
        at,
        Msg::Source(Update::Samples {
            metric: 0,
            points: pts,
            settled_to: None,
        }),
    );
    let s = &app.metrics[0].series;
    assert_eq!(s.len(), SERIES_CAPACITY);
    assert!(s.iter().zip(s.iter().skip(1)).all(|(a, b)| a.at < b.at));
    // A repeated point replaces; an old one is not appended out of order.
    let last = s.back().unwrap().at;
    app.update(at, samples(0, last, 1.0));
    app.update(at, samples(0, last - Duration::hours(5), 2.0));
    assert_eq!(app.metrics[0].series.len(), SERIES_CAPACITY);
    assert_eq!(app.metrics[0].latest().unwrap().value, 1.0);
    // NaN and infinities are shown as sent but never judged; unknown indices are ignored.
    let journalled = j.records().len();
    app.update(at, samples(0, last + Duration::seconds(10), f64::NAN));
    app.update(at, samples(0, last + Duration::seconds(20), f64::INFINITY));
    app.update(at, samples(99, at, 1.0));
    assert!(app.metrics[0].latest().unwrap().value.is_infinite());
    assert_eq!(j.records().len(), journalled);
}

#[test]
fn stale_and_missing_data_are_labelled() {
    let j = SharedJournal::default();
    let at = t0() - Duration::hours(3);
    let mut app = app_at(at, j, vec![]);
    assert_eq!(app.metric_status(0), Status::NoData);
    app.update(at, samples(0, at, 100.0));
    assert_eq!(app.metric_status(0), Status::Ok);
    app.update(at + Duration::minutes(10), Msg::Tick);
    assert_eq!(app.metric_status(0), Status::Stale);
}

#[test]
fn quotas_alert_on_low_headroom_and_alarms_on_alarm() {
    let j = SharedJournal::default();
    let at = t0();
    let mut app = app_at(at, j, vec![]);
    tick_every_item(&mut app);
    let quota = |at, usage| {
        Msg::Source(Update::Quota {
            quota: 0,
            value: Some(1000.0),
            usage,
            at,
        })
    };
    // One low reading is not a trend; two of three are.
    app.update(at, quota(at, Some(950.0)));
    assert!(app.top_alert().is_none());
    // A value-only update (Service Quotas) is not a second reading of the usage.
    app.update(at, quota(at + Duration::seconds(5), None));
    assert!(app.top_alert().is_none());
    app.update(at, quota(at + Duration::seconds(10), Some(960.0)));
    assert_eq!(
        app.top_alert().unwrap().key,
        AlertKey::Quota("L-B99A9384".into())
    );
    assert_eq!(app.top_alert().unwrap().severity, Severity::Crit);
    let alarm = |state| {
        Msg::Source(Update::Alarm {
            name: "web-p99".into(),
            state,
            reason: "Threshold Crossed".into(),
            changed_at: at,
        })
    };
    app.update(at, alarm(AlarmState::Alarm));
    assert_eq!(app.open_alerts().count(), 2);
    assert_eq!(app.alarms["web-p99"].state, AlarmState::Alarm);
    // An alarm that flips back and forth (polled every 30 s) stays one alert, and closes
    // five minutes after its last ALARM.
    for (s, state) in [
        (30, AlarmState::Ok),
        (60, AlarmState::Alarm),
        (90, AlarmState::Ok),
    ] {
        app.update(at + Duration::seconds(s), alarm(state));
    }
    let key = AlertKey::Alarm("web-p99".into());
    assert!(app.open_alerts().any(|a| a.key == key));
    for s in (120..=390).step_by(30) {
        app.update(at + Duration::seconds(s), alarm(AlarmState::Ok));
    }
    assert!(!app.open_alerts().any(|a| a.key == key));
    let opened = app.alerts.iter().filter(|a| a.key == key).count();
    assert_eq!(opened, 1);
}

#[test]
fn a_quota_of_zero_is_critical_at_once_even_with_usage_unknown() {
    let j = SharedJournal::default();
    let at = t0();
    let mut app = app_at(at, j, vec![]);
    app.update(
        at,
        Msg::Source(Update::Quota {
            quota: 0,
            value: Some(0.0),
            usage: None,
            at,
        }),
    );
    assert_eq!(app.quotas[0].headroom_pct(), Some(0.0));
    let a = app
        .open_alerts()
        .find(|a| a.key == AlertKey::Quota("L-B99A9384".into()))
        .expect("a quota of 0 alerts");
    assert_eq!(a.severity, Severity::Crit);
}

#[test]
fn a_quota_aws_will_not_raise_gets_no_increase_dialog() {
    let j = SharedJournal::default();
    let at = t0();
    let mut app = app_at(at, j.clone(), vec![]);
    app.mode = Mode::Live;
    app.allow_writes = true;
    for u in [
        Update::Quota {
            quota: 0,
            value: Some(1000.0),
            usage: Some(100.0),
            at,
        },
        Update::QuotaMeta {
            quota: 0,
            adjustable: false,
            period_secs: None,
            default: false,
        },
    ] {
        app.update(at, Msg::Source(u));
    }
    app.update(at, key('3'));
    app.update(at, key('i'));
    assert_eq!(app.ui.overlay, Overlay::None);
    let flash = app.ui.flash.as_ref().unwrap().0.clone();
    assert!(flash.contains("not adjustable"), "{flash}");
    // Adjustable: the dialog opens, and a value at or below the current one is refused.
    app.update(
        at,
        Msg::Source(Update::QuotaMeta {
            quota: 0,
            adjustable: true,
            period_secs: None,
            default: false,
        }),
    );
    app.update(at, key('i'));
    assert!(matches!(app.ui.overlay, Overlay::IncreaseQuota { .. }));
}

#[test]
fn an_alert_the_journal_cannot_take_is_still_shown_paged_and_saved_later() {
    // Before: a CRIT value with a full disk gave no alert, no escalation, no notification.
    let j = SharedJournal::default();
    let at = t0() + Duration::minutes(10);
    let mut app = app_at(at, j.clone(), vec![]);
    tick_every_item(&mut app);
    app.take_outbox();
    j.0.borrow_mut().fail = true;
    for m in 0..2 {
        let t = at + Duration::minutes(m);
        app.update(t, samples(0, t, 950.0));
    }
    let open: Vec<AlertKey> = app.open_alerts().map(|a| a.key.clone()).collect();
    assert!(open.contains(&AlertKey::Metric("p99".into())), "{open:?}");
    assert!(app.top_alert().unwrap().level.is_some(), "it escalates too");
    let outbox = app.take_outbox();
    assert!(
        outbox
            .iter()
            .any(|r| matches!(r.event, Event::AlertOpened { .. })),
        "the notify command still gets it"
    );
    assert!(!app.unsaved.is_empty());
    assert!(
        !j.events()
            .iter()
            .any(|e| matches!(e, Event::AlertOpened { .. }))
    );
    // An operator action meanwhile is refused: the journal must keep the order of events.
    assert!(!app.act(Event::Note {
        text: "disk full?".into()
    }));
    // The disk has room again: the next update writes everything waiting, in order.
    j.0.borrow_mut().fail = false;
    app.update(at + Duration::minutes(3), Msg::Tick);
    assert!(app.unsaved.is_empty());
    let kinds: Vec<&str> = j
        .events()
        .iter()
        .filter_map(|e| match e {
            Event::AlertOpened { .. } => Some("open"),
            Event::AlertEscalated { .. } => Some("escalate"),
            _ => None,
        })
        .collect();
    assert_eq!(kinds, ["open", "escalate"]);
}

#[test]
fn quitting_with_open_alerts_asks_first() {
    let j = SharedJournal::default();
    let at = t0() - Duration::minutes(20);
    let mut app = app_at(at, j, vec![]);
    app.update(at, Msg::Tick);
    assert!(app.open_alerts().next().is_some());
    app.update(at, key('q'));
    assert!(!app.should_quit);
    assert_eq!(app.ui.overlay, Overlay::ConfirmQuit);
    app.update(at, key('n'));
    assert!(!app.should_quit);
    app.update(at, key('q'));
    app.update(at, key('y'));
    assert!(app.should_quit);
}

#[test]
fn clock_jumps_backwards_and_far_forwards_do_not_panic() {
    let j = SharedJournal::default();
    let at = t0();
    let mut app = app_at(at, j, vec![]);
    app.update(at, samples(0, at - Duration::minutes(1), 950.0));
    app.update(at, samples(0, at, 950.0));
    app.update(at - Duration::days(400), Msg::Tick);
    app.update(at + Duration::days(4000), Msg::Tick);
    app.update(DateTime::<Utc>::MIN_UTC, Msg::Tick);
    app.update(DateTime::<Utc>::MAX_UTC, Msg::Tick);
    assert!(app.top_alert().is_some());
}

#[test]
fn navigation_clamps_and_cycles() {
    let j = SharedJournal::default();
    let at = t0() - Duration::hours(3);
    let mut app = app_at(at, j, vec![]);
    app.update(at, key('G'));
    assert_eq!(app.ui.selected(Pane::Checklist), 2);
    app.update(at, key('j'));
    assert_eq!(app.ui.selected(Pane::Checklist), 2);
    app.update(at, code(KeyCode::Tab));
    assert_eq!(app.ui.focused(), Pane::Metrics);
    app.update(
        at,
        Msg::Key(KeyEvent::new(KeyCode::BackTab, KeyModifiers::SHIFT)),
    );
    app.update(
        at,
        Msg::Key(KeyEvent::new(KeyCode::BackTab, KeyModifiers::SHIFT)),
    );
    assert_eq!(app.ui.focused(), Pane::Timeline);
    app.update(at, key('k'));
    app.update(at, key('?'));
    assert_eq!(app.ui.overlay, Overlay::Help);
    app.update(at, code(KeyCode::Esc));
    assert_eq!(app.ui.overlay, Overlay::None);
}

#[test]
fn quota_increase_is_guarded_confirmed_journalled_and_tracked() {
    let j = SharedJournal::default();
    let now = t0() - Duration::minutes(20);
    let mut app = app_at(now, j.clone(), vec![]);
    let k =
        |app: &mut App, c: KeyCode| app.update(now, Msg::Key(KeyEvent::new(c, KeyModifiers::NONE)));
    let quota = Update::Quota {
        quota: 0,
        value: Some(1000.0),
        usage: Some(700.0),
        at: now,
    };
    app.update(now, Msg::Source(quota));
    k(&mut app, KeyCode::Char('3'));

    // Simulated data, then live but read-only: refused with the reason.
    k(&mut app, KeyCode::Char('i'));
    assert!(app.ui.flash.as_ref().unwrap().0.contains("live AWS"));
    app.mode = Mode::Live;
    k(&mut app, KeyCode::Char('i'));
    assert!(app.ui.flash.as_ref().unwrap().0.contains("--allow-writes"));
    assert_eq!(app.ui.overlay, Overlay::None);

    app.allow_writes = true;
    k(&mut app, KeyCode::Char('i'));
    // Suggested: the larger of 1.5x the quota and 2x the usage.
    assert_eq!(
        app.ui.overlay,
        Overlay::IncreaseQuota {
            quota: 0,
            text: "1500".into()
        }
    );
    // Not above the current value: refused, dialog kept.
    for _ in 0..4 {
        k(&mut app, KeyCode::Backspace);
    }
    for c in "900".chars() {
        k(&mut app, KeyCode::Char(c));
    }
    k(&mut app, KeyCode::Enter);
    assert!(matches!(app.ui.overlay, Overlay::IncreaseQuota { .. }));
    assert!(app.take_commands().is_empty());
    // Esc cancels without a trace.
    k(&mut app, KeyCode::Esc);
    assert!(
        !j.events()
            .iter()
            .any(|e| matches!(e, Event::QuotaIncreaseRequested { .. }))
    );

    k(&mut app, KeyCode::Char('i'));
    k(&mut app, KeyCode::Enter);
    assert!(j.events().contains(&Event::QuotaIncreaseRequested {
        service: "lambda".into(),
        code: "L-B99A9384".into(),
        current: Some(1000.0),
        desired: 1500.0,
    }));
    assert_eq!(
        app.take_commands(),
        vec![Command::RequestQuotaIncrease {
            quota: 0,
            service: "lambda".into(),
            code: "L-B99A9384".into(),
            region: None,
            desired: 1500.0,
        }]
    );
    assert_eq!(app.quotas[0].request, Some((1500.0, "REQUESTING".into())));

    let status = |s: &str| Update::QuotaRequest {
        quota: 0,
        status: s.into(),
        request_id: Some("req-1".into()),
        error: None,
    };
    app.update(now, Msg::Source(status("PENDING")));
    app.update(now, Msg::Source(status("PENDING")));
    app.update(now, Msg::Source(status("APPROVED")));
    let statuses: Vec<String> = j
        .events()
        .into_iter()
        .filter_map(|e| match e {
            Event::QuotaRequestStatus { status, .. } => Some(status),
            _ => None,
        })
        .collect();
    assert_eq!(statuses, ["PENDING", "APPROVED"]);
    assert_eq!(app.quotas[0].request, Some((1500.0, "APPROVED".into())));

    // A restart rebuilds the request's state from the journal.
    let again = app_at(now, SharedJournal::default(), j.records());
    assert_eq!(again.quotas[0].request, Some((1500.0, "APPROVED".into())));
}

#[test]
fn a_source_failing_for_a_minute_opens_an_alert_that_closes_on_recovery() {
    let j = SharedJournal::default();
    let t = t0() - Duration::minutes(20);
    let mut app = app_at(t, j.clone(), vec![]);
    let health = |error: Option<&str>, at| {
        Msg::Source(Update::Health {
            source: "cloudwatch".into(),
            error: error.map(str::to_string),
            at,
        })
    };
    let key = AlertKey::Source("cloudwatch".into());
    let open = |app: &App| app.open_alerts().any(|a| a.key == key);
    app.update(t, health(Some("throttled by AWS"), t));
    app.update(
        t + Duration::seconds(30),
        health(Some("throttled by AWS"), t + Duration::seconds(30)),
    );
    assert!(!open(&app), "one failed minute is not yet an alert");
    app.update(t + Duration::seconds(61), Msg::Tick);
    assert!(open(&app));
    let a = app.open_alerts().find(|a| a.key == key).unwrap();
    assert_eq!(a.severity, Severity::Warn);
    assert_eq!(
        a.message,
        "cloudwatch failing for over a minute: throttled by AWS"
    );
    app.update(
        t + Duration::seconds(70),
        health(None, t + Duration::seconds(70)),
    );
    assert!(!open(&app), "recovery closes it");
    assert!(j.events().contains(&Event::AlertClosed { key }));
}

/// A replayed recording is data: settled times at the ends of chrono's range fill sparse
/// buckets up to the end of time without overflowing a date.
#[test]
fn settled_times_at_the_end_of_time_do_not_overflow() {
    let rb = RUNBOOK.replace(
        "metrics:\n",
        "metrics:\n  - { id: e5xx, namespace: AWS/ApplicationELB, metric: HTTPCode_ELB_5XX_Count, stat: Sum, warn: 100, crit: 500 }\n",
    );
    let runbook: Runbook = serde_yaml::from_str(&rb).unwrap();
    let opts = AppOptions {
        mode: Mode::Replay,
        ..AppOptions::simulated("t.yaml", t0(), "jane")
    };
    let mut app = App::new(
        runbook,
        opts,
        t0(),
        Box::new(SharedJournal::default()),
        vec![],
    );
    for (at, to) in [
        (
            DateTime::<Utc>::MAX_UTC - Duration::seconds(30),
            DateTime::<Utc>::MAX_UTC,
        ),
        (
            DateTime::<Utc>::MIN_UTC,
            DateTime::<Utc>::MIN_UTC + Duration::seconds(1),
        ),
    ] {
        app.update(
            t0(),
            Msg::Source(Update::Samples {
                metric: 0,
                points: vec![Sample { at, value: 1.0 }],
                settled_to: Some(to),
            }),
        );
    }
}

/// A plan in which the Lambda quota breaks at the forecast peak.
fn critical_plan(now: DateTime<Utc>) -> crate::capacity::Plan {
    let rb: Runbook = serde_yaml::from_str(RUNBOOK).unwrap();
    let readings = crate::capacity::Readings {
        quotas: vec![crate::capacity::QuotaReading {
            value: Some(1_000.0),
            is_default: false,
            adjustable: Some(true),
            peak: Some(crate::capacity::Peak {
                value: 180.0,
                at: now - Duration::days(3),
            }),
            error: None,
        }],
        metrics: vec![Default::default(); rb.metrics.len()],
        metric_series: Default::default(),
        from: None,
        to: None,
        period_secs: 600,
    };
    let mut settings = crate::capacity::Settings::new(&rb, Some(22.0), None);
    settings.lead_time_secs = 14 * 86_400;
    crate::capacity::plan(&rb, t0(), now, &settings, &readings)
}

#[test]
fn a_quota_the_plan_projects_critical_adds_a_journalled_readiness_item() {
    let now = t0() - Duration::days(30);
    let journal = SharedJournal::default();
    let mut app = app_at(now, journal.clone(), Vec::new());
    assert!(app.act(Event::ItemDone {
        item: "freeze".into(),
        auto: false
    }));
    let before = app.readiness_pct().unwrap();
    let items_before = app.items.iter().flatten().count();
    app.update(now, Msg::Source(Update::Plan(Box::new(critical_plan(now)))));
    // 180 x 22 = 3,960 of 1,000: ask for 3,960 / 0.7 x 1.1 -> 8,000, 14 days before T-0.
    let added = journal
        .events()
        .into_iter()
        .find_map(|e| match e {
            Event::ItemAdded { checklist, item } => Some((checklist, item)),
            _ => None,
        })
        .expect("the item is journalled");
    assert_eq!(added.0, "Capacity plan");
    assert_eq!(
        added.1.title,
        "Request L-B99A9384 (Lambda concurrency) to 8000 by 2026-11-17"
    );
    assert_eq!(added.1.due, Some(crate::time::TOffset(-14 * 86_400)));
    assert_eq!(app.items.iter().flatten().count(), items_before + 1);
    assert_eq!(
        (before.round(), app.readiness_pct().unwrap().round()),
        (33.0, 25.0),
        "counted in readiness"
    );
    // The gauge's mark: 396 % of the quota at 22x.
    let (pct, forecast) = app
        .quota_projection(&app.runbook.quotas[0].clone())
        .unwrap();
    assert_eq!((pct.round(), forecast), (396.0, 22.0));

    // The same plan again (a restart reads history again): no second item.
    app.update(now, Msg::Source(Update::Plan(Box::new(critical_plan(now)))));
    let adds = |j: &SharedJournal| {
        j.events()
            .iter()
            .filter(|e| matches!(e, Event::ItemAdded { .. }))
            .count()
    };
    assert_eq!(adds(&journal), 1);

    // Ticked, then a restart from the journal: the item and its tick are back, and the next
    // plan adds nothing.
    let (c, i) = app
        .runbook
        .checklists
        .iter()
        .enumerate()
        .find_map(|(c, l)| {
            l.items
                .iter()
                .position(|i| i.id == "request-l-b99a9384")
                .map(|i| (c, i))
        })
        .unwrap();
    assert!(app.act(Event::ItemDone {
        item: "request-l-b99a9384".into(),
        auto: false
    }));
    let again = SharedJournal::default();
    let mut restarted = app_at(now, again.clone(), journal.records());
    assert_eq!(restarted.items[c][i].status, ItemStatus::Done);
    restarted.update(now, Msg::Source(Update::Plan(Box::new(critical_plan(now)))));
    assert_eq!(adds(&again), 0);
    // The report sees the item too.
    let report = crate::report::build(&app.runbook.clone(), &journal.records(), None);
    let md = crate::report::markdown::render(&report);
    assert!(md.contains("Request L-B99A9384"), "{md}");
}
