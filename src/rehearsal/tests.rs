//! A whole game day without a terminal: the simulator's pure `step` and `App::update` driven
//! second by second on a manual clock at "any speed", then the score computed from the journal
//! the app wrote.

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::score::{Outcome, score};
use crate::app::update::{AppOptions, Msg};
use crate::app::{App, Mode};
use crate::clock::{Clock, ManualClock};
use crate::journal::{Event, JournalSink, MemoryJournal, Record};
use crate::runbook::Runbook;
use crate::source::sim::{Simulator, scripted};

const RUNBOOK: &str = r##"
event: { name: Game day, starts_at: 2026-12-01T17:00:00Z, ends_at: T+30m }
metrics:
  # High resolution (10 s buckets, settled 15 s after they end), so detection takes seconds.
  - { id: reqs, title: Requests, namespace: X, metric: R, stat: Sum, period: 10, sim: { base: 100, peak: 1000 } }
  - { id: errs, title: Errors, namespace: X, metric: E, stat: Sum, period: 10, warn: 50, crit: 100, sim: { base: 1, peak: 10 } }
  - { id: err_pct, expression: "100 * errs / reqs", period: 10, warn: 10, crit: 50 }
alarms: { names: [web-errs-high] }
checklists:
  - name: Launch
    items:
      - { id: freeze, title: Freeze deploys, due: T-1m }
      - { id: scale, title: Scale web, due: T-0 }
      - { id: go, title: Go decision, due: T-30s }
      - { id: comms, title: Announce, due: T+2m }
      - { id: later, title: Hand over, due: T+28m }
      - { id: nodue, title: Coffee }
escalation:
  levels:
    - { after: 0m, who: On-call, contact: "#bridge" }
    - { after: 2m, who: Incident commander, contact: "+1 555 0100" }
    - { after: 4m, who: AWS Support, contact: "Sev 2" }
rehearsal:
  inject:
    - { at: T+3m, metric: reqs, shape: gap, for: 2m }
    - { at: T+5m, metric: errs, shape: spike, to: 400, for: 3m }
    - { at: T+14m, alarm: web-errs-high, for: 3m }
    - { at: T+25m, metric: errs, shape: spike, to: 400, for: 1m }
"##;

#[derive(Clone, Default)]
struct SharedJournal(Rc<RefCell<MemoryJournal>>);

impl JournalSink for SharedJournal {
    fn append(&mut self, r: &Record) -> anyhow::Result<()> {
        self.0.borrow_mut().append(r)
    }
    fn location(&self) -> String {
        "(test)".into()
    }
}

fn t0() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-12-01T17:00:00Z")
        .unwrap()
        .to_utc()
}

fn key(app: &mut App, now: DateTime<Utc>, code: KeyCode) {
    app.update(now, Msg::Key(KeyEvent::new(code, KeyModifiers::NONE)));
}

/// Plays the game day from T-2m to T+23m like the event loop does (a tick a second, the
/// simulator every ten), with an operator who acks the first alert after 30 s, takes a note
/// about the quiet requests metric, and works the checklist; then quits.
fn play() -> (Runbook, Vec<Record>) {
    let rb = crate::runbook::parse("gameday.yaml", RUNBOOK)
        .unwrap_or_else(|d| panic!("{}", crate::diag::render(&d)));
    let start = t0() - Duration::minutes(2);
    let clock = ManualClock::new(start);
    let journal = SharedJournal::default();
    let mut app = App::new(
        rb.clone(),
        AppOptions {
            mode: Mode::Rehearsal,
            ..AppOptions::simulated("gameday.yaml", t0(), "jane")
        },
        clock.now(),
        Box::new(journal.clone()),
        Vec::new(),
    );
    app.speed = 100.0;
    assert!(app.act(Event::SessionStarted {
        runbook: "gameday.yaml".into(),
        event_name: rb.event.name.clone(),
        t0: t0(),
        mode: "rehearsal".into(),
        seed: Some(42),
        rehearsal: true,
        speed: Some(100.0),
        surprise: false,
    }));
    let mut sim = Simulator::new(&rb, t0(), 42, Arc::new(clock.clone())).with_faults(scripted(&rb));
    for u in sim.backfill(clock.now()) {
        app.update(clock.now(), Msg::Source(u));
    }
    let mut acked = false;
    let end = t0() + Duration::minutes(23);
    while clock.now() < end {
        clock.advance(Duration::seconds(1));
        let now = clock.now();
        let offset = (now - t0()).num_seconds();
        app.update(now, Msg::Tick);
        if offset % 10 == 0 {
            for u in sim.step(now) {
                app.update(now, Msg::Source(u));
            }
        }
        let item = |id: &str| Event::ItemDone {
            item: id.into(),
            auto: false,
        };
        match offset {
            -90 => assert!(app.act(item("freeze"))),
            -60 => assert!(app.act(Event::ItemSkipped {
                item: "go".into(),
                reason: "decided on the bridge".into()
            })),
            60 => assert!(app.act(item("scale"))),
            120 => assert!(app.act(item("nodue"))),
            240 => {
                key(&mut app, now, KeyCode::Char('n'));
                for c in "Requests went quiet".chars() {
                    key(&mut app, now, KeyCode::Char(c));
                }
                key(&mut app, now, KeyCode::Enter);
            }
            _ => {}
        }
        // 30 s after the errors alert opens the operator presses `a` until every alert about
        // data is acknowledged (`a` takes the most severe unacknowledged one first): the
        // spike's metric alerts (errs crit, err_pct warn) and the alarm that follows errs.
        let errs = crate::app::alerts::AlertKey::Metric("errs".into());
        if !acked
            && app
                .open_alerts()
                .any(|a| a.key == errs && now - a.opened_at >= Duration::seconds(30))
        {
            let data_unacked = |app: &App| {
                app.open_alerts().any(|a| {
                    a.acked.is_none() && !matches!(a.key, crate::app::alerts::AlertKey::Overdue(_))
                })
            };
            for _ in 0..10 {
                if !data_unacked(&app) {
                    break;
                }
                key(&mut app, now, KeyCode::Char('a'));
            }
            assert!(!data_unacked(&app));
            acked = true;
        }
    }
    assert!(app.act(Event::SessionEnded {}));
    let records = journal.0.borrow().records.clone();
    (rb, records)
}

#[test]
fn a_headless_game_day_scores_from_its_journal() {
    let (rb, records) = play();
    let s = score(&rb, &records);
    assert_eq!(s.speed, Some(100.0));
    assert_eq!(s.ended, t0() + Duration::minutes(23));
    let ids: Vec<&str> = s.faults.iter().map(|f| f.id.as_str()).collect();
    assert_eq!(ids, ["inject[0]", "inject[1]", "inject[2]"]);

    // The gap opens no alert; the note naming the metric's title detects it.
    let gap = &s.faults[0];
    assert_eq!(gap.detected, Some((60, "note by jane".to_string())));
    assert_eq!((gap.acked, gap.resolved), (None, None));

    // The spike: detected once two of its buckets are settled (10 s buckets [+0, +10) and
    // [+10, +20), the second settled 15 s after it ends, heard at the next 10 s step: +40 s),
    // acked 30 s later by the test, escalated no further than level 1 (acked).
    let spike = &s.faults[1];
    let (detected, how) = spike.detected.clone().unwrap();
    assert_eq!(detected, 40);
    assert!(how.starts_with("alert on "), "{how}");
    assert_eq!(spike.acked, Some(detected + 30));
    // Resolved when its last alert closed: the alarm following errs saw three settled
    // datapoints back under its threshold at +230 s (T+8m plus 20 s, settled 15 s later, heard
    // at the next step), and its alert closes after five minutes of OK: +530 s.
    assert_eq!(spike.resolved, Some(530));
    assert_eq!(spike.level, Some(0));
    assert!(spike.recovered);

    // The alarm flip nobody acknowledged: it climbed to level 3, and closed five minutes after
    // the alarm went back to OK (3 min): +480 s.
    let alarm = &s.faults[2];
    let (detected, how) = alarm.detected.clone().unwrap();
    assert!((0..=10).contains(&detected), "{detected}");
    assert_eq!(how, "alert on alarm web-errs-high");
    assert_eq!(alarm.acked, None);
    assert_eq!(alarm.level, Some(2));
    let resolved = alarm.resolved.unwrap();
    assert!((480..=490).contains(&resolved), "{resolved}");

    // The fault at T+25m never came: the session ended at T+23m.
    assert_eq!(s.not_reached.len(), 1);
    assert_eq!(s.not_reached[0].1, "after the session ended");

    let outcome = |id: &str| s.items.iter().find(|i| i.id == id).unwrap().outcome.clone();
    assert_eq!(outcome("freeze"), Outcome::OnTime);
    assert_eq!(outcome("scale"), Outcome::Late(60));
    assert_eq!(
        outcome("go"),
        Outcome::Skipped("decided on the bridge".into())
    );
    assert_eq!(outcome("comms"), Outcome::NeverDone);
    assert_eq!(outcome("later"), Outcome::NotDue);
    assert_eq!(outcome("nodue"), Outcome::Done);
    assert_eq!(s.notes.len(), 1);
    assert_eq!(s.notes[0].2, "Requests went quiet");
    assert!(
        s.other_alerts.is_empty(),
        "every alert came from a fault: {:?}",
        s.other_alerts
    );

    let text = s.render(&rb);
    for needle in [
        "Rehearsal score: Game day at ×100, seed 42, T-2m to T+23m",
        "Faults: 3 injected (0 surprise), 3 detected",
        "inject[1]: spike errs to 400 for 3m at T+5m",
        "acknowledged +",
        "escalated to L3 (AWS Support)",
        "not played (after the session ended): spike errs to 400 for 1m at T+25m",
        "Checklist: 1 on time, 1 late, 1 skipped, 1 never done, 1 done (no due time), 1 not due yet",
        "\"Scale web\": late +1m (due T+0)",
        "\"Announce\": never done (due T+2m)",
        "Notes: 1",
        "T+4m jane: Requests went quiet",
    ] {
        assert!(text.contains(needle), "missing {needle:?} in:\n{text}");
    }
}

#[test]
fn fault_records_stay_off_the_timeline_and_are_written_once() {
    let (_, records) = play();
    let injected: Vec<&str> = records
        .iter()
        .filter_map(|r| match &r.event {
            Event::FaultInjected { fault, .. } => Some(fault.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(injected, ["inject[0]", "inject[1]", "inject[2]"]);
    // A restart replays them and does not write them again.
    let rb = crate::runbook::parse("gameday.yaml", RUNBOOK).unwrap();
    let journal = SharedJournal::default();
    let mut app = App::new(
        rb.clone(),
        AppOptions {
            mode: Mode::Rehearsal,
            ..AppOptions::simulated("gameday.yaml", t0(), "jane")
        },
        t0() + Duration::minutes(6),
        Box::new(journal.clone()),
        records.clone(),
    );
    assert!(!app.timeline.iter().any(|r| matches!(
        r.event,
        Event::FaultInjected { .. } | Event::FaultRecovered { .. }
    )));
    let clock = ManualClock::new(t0() + Duration::minutes(6));
    let mut sim = Simulator::new(&rb, t0(), 42, Arc::new(clock.clone())).with_faults(scripted(&rb));
    for u in sim.backfill(clock.now()) {
        app.update(clock.now(), Msg::Source(u));
    }
    assert!(
        !journal
            .0
            .borrow()
            .records
            .iter()
            .any(|r| matches!(r.event, Event::FaultInjected { .. }))
    );
}

#[test]
fn alerts_no_fault_explains_are_listed_once_with_a_count() {
    let (rb, mut records) = play();
    let ts = records.last().unwrap().ts;
    let ended = records.pop().unwrap();
    for _ in 0..3 {
        for event in [
            Event::AlertOpened {
                key: crate::app::alerts::AlertKey::Metric("reqs".into()),
                severity: crate::app::alerts::Severity::Warn,
                message: "x".into(),
            },
            Event::AlertClosed {
                key: crate::app::alerts::AlertKey::Metric("reqs".into()),
            },
        ] {
            records.push(Record {
                ts,
                operator: "jane".into(),
                room: None,
                event,
            });
        }
    }
    records.push(ended);
    let s = score(&rb, &records);
    assert_eq!(s.other_alerts.len(), 3);
    let text = s.render(&rb);
    assert!(
        text.contains("Other alerts (not caused by an injected fault): metric reqs ×3\n"),
        "{text}"
    );
}

/// The score printed on quit quotes the runbook and the journal: terminal escapes, bidi
/// overrides and joiners print inert, and a line break in a reason or note cannot forge a line.
#[test]
fn the_score_prints_hostile_text_inert() {
    let rb: Runbook = serde_yaml::from_str(
        r#"
event: { name: "Game \e]0;pwned\a day", starts_at: 2026-12-01T17:00:00Z, ends_at: T+30m }
checklists:
  - name: L
    items:
      - { id: a, title: "Freeze \e]52;c;cm0gLXJmIH4=\a x\u200D日本", due: T-1m }
      - { id: b, title: "Skip \u202Eme", due: T-1m }
"#,
    )
    .unwrap();
    let rec = |s: i64, event| Record {
        ts: t0() + Duration::seconds(s),
        operator: "jane\u{1b}]0;op\u{7}\u{2066}".into(),
        room: None,
        event,
    };
    let records = vec![
        rec(
            -120,
            Event::SessionStarted {
                runbook: "r.yaml".into(),
                event_name: "Game \u{1b}]0;pwned\u{7} day".into(),
                t0: t0(),
                mode: "rehearsal".into(),
                seed: Some(1),
                rehearsal: true,
                speed: None,
                surprise: false,
            },
        ),
        rec(
            -90,
            Event::ItemSkipped {
                item: "b".into(),
                reason: "no\nFaults: 0 injected \u{9b}6n".into(),
            },
        ),
        rec(
            60,
            Event::Note {
                text: "line\r\nNotes: 0 \u{1b}]52;c;aGk=\u{7}".into(),
            },
        ),
        rec(120, Event::SessionEnded {}),
    ];
    let text = score(&rb, &records).render(&rb);
    let bad: Vec<char> = text
        .chars()
        .filter(|&c| {
            (c.is_control() && c != '\n')
                || matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200D}')
        })
        .collect();
    assert!(bad.is_empty(), "{bad:?} in:\n{text}");
    for needle in [
        "Rehearsal score: Game ?]0;pwned? day",
        "\"Freeze ?]52;c;cm0gLXJmIH4=? x日本\": never done",
        "\"Skip ?me\": skipped: no Faults: 0 injected ?6n",
        "T+1m jane?]0;op??: line Notes: 0 ?]52;c;aGk=?",
    ] {
        assert!(text.contains(needle), "missing {needle:?} in:\n{text}");
    }
    // Only the real section lines start with these words.
    assert_eq!(text.lines().filter(|l| l.starts_with("Faults:")).count(), 1);
    assert_eq!(text.lines().filter(|l| l.starts_with("Notes:")).count(), 1);
}

/// A journal is data: a fault that "ends" at the end of time is scored, not an overflow.
#[test]
fn a_fault_at_the_end_of_time_does_not_overflow() {
    let (rb, mut records) = play();
    let ts = records.last().unwrap().ts;
    let key = crate::app::alerts::AlertKey::Metric("errs".into());
    records.push(Record {
        ts,
        operator: "jane".into(),
        room: None,
        event: Event::FaultInjected {
            fault: "forever".into(),
            description: "x".into(),
            target: "errs".into(),
            at: ts,
            until: DateTime::<Utc>::MAX_UTC,
            surprise: false,
            affects: vec![key.clone()],
        },
    });
    records.push(Record {
        ts,
        operator: "jane".into(),
        room: None,
        event: Event::AlertOpened {
            key,
            severity: crate::app::alerts::Severity::Warn,
            message: "x".into(),
        },
    });
    let s = score(&rb, &records);
    let _ = s.render(&rb);
}
