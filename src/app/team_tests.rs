//! The war room in a team room, driven without a network: what the sync task would report is
//! fed in as `Msg::Room`, so the order rules, the queue, restarts, the watcher, roles, the
//! go/no-go poll, the update cadence and the ladder are tested as plain state.

use chrono::{DateTime, Duration, Utc};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::room::{Pos, RoomState, Seat};
use super::team::Verdict;
use super::update::{AppOptions, Msg};
use super::*;
use crate::app::alerts::AlertKey;
use crate::journal::{Event, Record, RoomStamp, Vote};
use crate::room::{Entry, RoomUpdate};

const RUNBOOK: &str = r##"
event: { name: Team Launch, starts_at: 2026-12-01T17:00:00Z }
phases:
  - { name: Pre-flight, from: T-2h, updates_every: 30m }
  - { name: Go/no-go, from: T-15m, updates_every: 5m }
  - { name: Launch, from: T-0 }
roles:
  - { id: ic, name: Incident commander, votes: true }
  - { id: web, name: Web owner, contact: "+1 555 0101", votes: true }
  - { id: scribe, name: Scribe, updates: true }
go_no_go: { phase: Go/no-go }
checklists:
  - name: Pre-flight
    items:
      - { id: freeze, title: Freeze deploys, blocking: true }
      - { id: warm, title: Warm caches }
escalation:
  ack_expires: 10m
  levels:
    - { after: 0m, who: Platform on-call, contact: "#launch-bridge" }
    - { after: 10m, who: Service owner, contact: "+1 555 0100" }
    - { after: 20m, who: AWS Support, contact: "case" }
"##;

fn t0() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-12-01T17:00:00Z")
        .unwrap()
        .to_utc()
}

use super::tests::SharedJournal as Shared;

fn seat(operator: &str, seat: Seat, now: DateTime<Utc>, journal: Shared, past: Vec<Record>) -> App {
    let runbook = crate::runbook::parse("team.yaml", RUNBOOK).unwrap_or_else(|d| panic!("{d:?}"));
    let room = (seat != Seat::Solo).then(|| RoomState::new("sale", format!("{operator}-s")));
    let opts = AppOptions {
        runbook_path: "team.yaml".into(),
        t0: t0(),
        operator: operator.into(),
        mode: Mode::Simulated,
        allow_writes: false,
        speed: 1.0,
        data_label: None,
        seat,
        room,
    };
    App::new(runbook, opts, now, Box::new(journal), past)
}

fn key(c: char) -> Msg {
    Msg::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE))
}

/// What another seat wrote, as the room gives it back: at `seq`, made having seen `base`.
fn remote(operator: &str, n: u64, seq: u64, base: u64, at: DateTime<Utc>, event: Event) -> Entry {
    let mut record = Record::new(at, operator, event);
    record.room = Some(RoomStamp {
        id: format!("{operator}-s:{n}"),
        seq: None,
        base,
    });
    Entry {
        seq,
        id: format!("{operator}-s:{n}"),
        record,
    }
}

fn status(app: &App, item: &str) -> ItemStatus {
    app.visible_items()
        .iter()
        .find(|r| r.item.id == item)
        .map(|r| r.state.status)
        .unwrap()
}

fn done(item: &str) -> Event {
    Event::ItemDone {
        item: item.into(),
        auto: false,
    }
}

fn reopen(item: &str) -> Event {
    Event::ItemReopened { item: item.into() }
}

#[test]
fn decisions_are_queued_for_the_room_with_keys_and_observations_stay_local() {
    let now = t0() - Duration::hours(1);
    let j = Shared::default();
    let mut app = seat("ann", Seat::Member, now, j.clone(), vec![]);
    assert!(app.act(done("freeze")));
    app.act(Event::Note {
        text: "bridge open".into(),
    });
    app.observe(Event::PhaseEntered { phase: "x".into() });
    let out = app.take_room_outgoing();
    let ids: Vec<&str> = out.iter().map(|o| o.id.as_str()).collect();
    assert_eq!(ids, ["ann-s:1", "ann-s:2"], "only decisions go to the room");
    // On disk first, stamped, no seq yet: queued.
    let recs = j.records();
    assert_eq!(recs[0].room.as_ref().unwrap().id, "ann-s:1");
    assert_eq!(recs[0].room.as_ref().unwrap().seq, None);
    assert!(recs[2].room.is_none(), "an observation is not the room's");
    assert!(app.is_queued(&recs[0]));
    assert_eq!(app.room.as_ref().unwrap().queued.len(), 2);
    // The room takes them: no longer queued, and the journal says where they landed.
    app.update(
        now,
        Msg::Room(RoomUpdate::Synced {
            id: "ann-s:1".into(),
            seq: 7,
        }),
    );
    app.update(
        now,
        Msg::Room(RoomUpdate::Synced {
            id: "ann-s:2".into(),
            seq: 8,
        }),
    );
    assert!(app.room.as_ref().unwrap().queued.is_empty());
    let synced: Vec<(String, u64)> = j
        .records()
        .iter()
        .filter_map(|r| match &r.event {
            Event::RoomSynced { id, seq } => Some((id.clone(), *seq)),
            _ => None,
        })
        .collect();
    assert_eq!(synced, [("ann-s:1".into(), 7), ("ann-s:2".into(), 8)]);
    // Bookkeeping never reaches the timeline.
    assert!(
        app.timeline
            .iter()
            .all(|r| !matches!(r.event, Event::RoomSynced { .. }))
    );
}

#[test]
fn others_records_are_cached_and_folded_once_with_their_operator() {
    let now = t0() - Duration::hours(1);
    let j = Shared::default();
    let mut app = seat("ann", Seat::Member, now, j.clone(), vec![]);
    let e = remote("raj", 1, 1, 0, now, done("freeze"));
    app.update(now, Msg::Room(RoomUpdate::Entries(vec![e.clone()])));
    app.update(now, Msg::Room(RoomUpdate::Entries(vec![e])));
    assert_eq!(status(&app, "freeze"), ItemStatus::Done);
    let st = app
        .visible_items()
        .into_iter()
        .find(|r| r.item.id == "freeze")
        .unwrap();
    assert_eq!(
        st.state.changed.as_ref().unwrap().0,
        "raj",
        "the checklist says who"
    );
    let cached: Vec<Record> = j
        .records()
        .into_iter()
        .filter(|r| matches!(r.event, Event::ItemDone { .. }))
        .collect();
    assert_eq!(cached.len(), 1, "folded and cached once");
    assert_eq!(cached[0].operator, "raj");
    assert_eq!(cached[0].room.as_ref().unwrap().seq, Some(1));
    // Not handed to the notify command: another seat's record is not this seat's to post.
    assert!(app.take_outbox().iter().all(|r| r.operator != "raj"));
    // A hand-edited table's non-decision is not folded (one alert per seat, never from the log).
    let fake = remote(
        "mallory",
        1,
        2,
        1,
        now,
        Event::AlertOpened {
            key: AlertKey::Metric("x".into()),
            severity: crate::app::alerts::Severity::Crit,
            message: "fake".into(),
        },
    );
    app.update(now, Msg::Room(RoomUpdate::Entries(vec![fake])));
    assert!(app.alerts.is_empty());
}

#[test]
fn two_people_ticking_and_unticking_one_item_end_as_the_log_orders_them_and_the_loser_is_shown() {
    let now = t0() - Duration::hours(1);
    // Ann ticks while raj, not having seen it, unticks: raj's record lands first (seq 1), ann's
    // after it (seq 2). Every seat ends with the item done, as the log says.
    let ja = Shared::default();
    let mut ann = seat("ann", Seat::Member, now, ja.clone(), vec![]);
    ann.act(done("freeze"));
    let mine = ann.take_room_outgoing().remove(0);
    // Raj's untick arrives while ann's tick is still queued: ann's will land later, so it stands.
    let raj = remote("raj", 1, 1, 0, now, reopen("freeze"));
    ann.update(now, Msg::Room(RoomUpdate::Entries(vec![raj.clone()])));
    assert_eq!(status(&ann, "freeze"), ItemStatus::Done);
    ann.update(
        now,
        Msg::Room(RoomUpdate::Synced {
            id: mine.id.clone(),
            seq: 2,
        }),
    );
    assert_eq!(status(&ann, "freeze"), ItemStatus::Done);

    // A third seat reads the log in order.
    let jc = Shared::default();
    let mut cat = seat("cat", Seat::Member, now, jc.clone(), vec![]);
    let mut ann_entry = Entry {
        seq: 2,
        id: mine.id.clone(),
        record: mine.record.clone(),
    };
    ann_entry.record.room.as_mut().unwrap().base = 0;
    cat.update(
        now,
        Msg::Room(RoomUpdate::Entries(vec![raj.clone(), ann_entry])),
    );
    assert_eq!(status(&cat, "freeze"), ItemStatus::Done);
    // Both show raj's untick as lost and ann's tick as the winner.
    for app in [&ann, &cat] {
        let lost = app
            .timeline
            .iter()
            .find(|r| r.operator == "raj")
            .and_then(|r| app.conflict_note(r))
            .unwrap_or_default()
            .to_string();
        assert!(lost.starts_with("lost to ann"), "{lost}");
        let won = app
            .timeline
            .iter()
            .find(|r| r.operator == "ann" && matches!(r.event, Event::ItemDone { .. }))
            .and_then(|r| app.conflict_note(r))
            .unwrap_or_default()
            .to_string();
        assert!(won.starts_with("won over raj"), "{won}");
    }
    // A restart of ann's seat settles it the same way from the journal alone.
    let again = seat("ann", Seat::Member, now, Shared::default(), ja.records());
    assert_eq!(status(&again, "freeze"), ItemStatus::Done);
    // And one that had seen the tick before unticking is no conflict: it simply wins.
    let later = remote("raj", 2, 3, 2, now, reopen("freeze"));
    cat.update(now, Msg::Room(RoomUpdate::Entries(vec![later])));
    assert_eq!(status(&cat, "freeze"), ItemStatus::Todo);
    let r = cat.timeline.back().unwrap();
    assert_eq!(cat.conflict_note(r), None);
}

#[test]
fn a_conflict_with_an_own_record_the_room_already_took_is_shown_on_this_seat_too() {
    // Ann's tick lands at seq 1 before raj's untick, made without seeing it, arrives at seq 2:
    // raj's wins (later in the log), and ann's seat shows the conflict as every other does.
    let now = t0() - Duration::hours(1);
    let mut ann = seat("ann", Seat::Member, now, Shared::default(), vec![]);
    ann.act(done("freeze"));
    let mine = ann.take_room_outgoing().remove(0);
    ann.update(
        now,
        Msg::Room(RoomUpdate::Synced {
            id: mine.id.clone(),
            seq: 1,
        }),
    );
    let raj = remote("raj", 1, 2, 0, now, reopen("freeze"));
    ann.update(now, Msg::Room(RoomUpdate::Entries(vec![raj])));
    assert_eq!(status(&ann, "freeze"), ItemStatus::Todo);
    let tick = ann
        .timeline
        .iter()
        .find(|r| r.operator == "ann" && matches!(r.event, Event::ItemDone { .. }))
        .unwrap();
    let note = ann.conflict_note(tick).unwrap_or_default().to_string();
    assert!(note.starts_with("lost to raj"), "{note:?}");
}

#[test]
fn observed_notes_stay_on_this_seat() {
    // What the war room itself notes (a repaired journal, the room unreachable on start) is
    // not a decision anyone made: it does not go to the room.
    let now = t0() - Duration::hours(1);
    let mut app = seat("ann", Seat::Member, now, Shared::default(), vec![]);
    app.observe(Event::Note {
        text: "the journal's last line was cut short".into(),
    });
    assert!(app.take_room_outgoing().is_empty());
}

#[test]
fn two_acknowledgements_the_first_in_the_log_stands() {
    let now = t0() - Duration::hours(1);
    let mut ann = seat("ann", Seat::Member, now, Shared::default(), vec![]);
    let key = AlertKey::Metric("p99".into());
    ann.observe(Event::AlertOpened {
        key: key.clone(),
        severity: crate::app::alerts::Severity::Crit,
        message: "p99 high".into(),
    });
    ann.act(Event::AlertAcknowledged { key: key.clone() });
    assert_eq!(ann.top_alert().unwrap().acked.as_ref().unwrap().0, "ann");
    // Raj's acknowledgement reached the room first: it stands; ann's is shown as lost.
    let raj = remote(
        "raj",
        1,
        1,
        0,
        now,
        Event::AlertAcknowledged { key: key.clone() },
    );
    ann.update(now, Msg::Room(RoomUpdate::Entries(vec![raj])));
    assert_eq!(ann.top_alert().unwrap().acked.as_ref().unwrap().0, "raj");
    let mine = ann
        .timeline
        .iter()
        .find(|r| r.operator == "ann" && matches!(r.event, Event::AlertAcknowledged { .. }))
        .unwrap();
    assert!(ann.conflict_note(mine).unwrap().starts_with("lost to raj"));
}

#[test]
fn an_acknowledgement_from_the_room_before_the_alert_opened_here_still_stands() {
    // Raj's seat saw p99 breach first and he acknowledged; this seat's data came 20 s later.
    let now = t0() - Duration::hours(1);
    let mut ann = seat("ann", Seat::Member, now, Shared::default(), vec![]);
    let key = AlertKey::Metric("p99".into());
    let ack = remote(
        "raj",
        1,
        1,
        0,
        now,
        Event::AlertAcknowledged { key: key.clone() },
    );
    ann.update(now, Msg::Room(RoomUpdate::Entries(vec![ack])));
    assert!(ann.alerts.is_empty());
    let open = |app: &mut App, at| {
        app.update(at, Msg::Tick);
        app.observe(Event::AlertOpened {
            key: AlertKey::Metric("p99".into()),
            severity: crate::app::alerts::Severity::Crit,
            message: "p99 high".into(),
        });
    };
    open(&mut ann, now + Duration::seconds(20));
    assert_eq!(ann.top_alert().unwrap().acked.as_ref().unwrap().0, "raj");
    // It pages nobody here: acknowledged before its first level.
    ann.update(now + Duration::minutes(9), Msg::Tick);
    assert_eq!(ann.top_alert().unwrap().level, None);
    // An acknowledgement long before is another episode's: a new alert is not acknowledged.
    let mut bob = seat("bob", Seat::Member, now, Shared::default(), vec![]);
    let ack = remote("raj", 1, 1, 0, now, Event::AlertAcknowledged { key });
    bob.update(now, Msg::Room(RoomUpdate::Entries(vec![ack])));
    open(&mut bob, now + Duration::minutes(10));
    assert!(bob.top_alert().unwrap().acked.is_none());
}

#[test]
fn a_restart_sends_again_what_the_room_never_confirmed_and_nothing_it_did() {
    let now = t0() - Duration::hours(1);
    let j = Shared::default();
    let mut app = seat("ann", Seat::Member, now, j.clone(), vec![]);
    app.act(done("freeze"));
    app.act(done("warm"));
    let out = app.take_room_outgoing();
    app.update(
        now,
        Msg::Room(RoomUpdate::Synced {
            id: out[0].id.clone(),
            seq: 1,
        }),
    );
    app.update(
        now,
        Msg::Room(RoomUpdate::Entries(vec![remote(
            "raj",
            1,
            2,
            1,
            now,
            Event::Note { text: "hi".into() },
        )])),
    );
    drop(app);
    // Killed before the second tick was confirmed: the next run queues it again, same key.
    let mut again = seat("ann", Seat::Member, now, j.clone(), j.records());
    let resend = again.take_room_outgoing();
    assert_eq!(resend.len(), 1);
    assert_eq!(
        resend[0].id, out[1].id,
        "the same idempotency key: never duplicated"
    );
    let room = again.room.as_ref().unwrap();
    assert_eq!(room.contiguous_seen(), 2, "read the room again from seq 3");
    assert_eq!(status(&again, "freeze"), ItemStatus::Done);
    assert_eq!(status(&again, "warm"), ItemStatus::Done);
    // New keys never collide with the journal's.
    again.act(Event::Note {
        text: "after restart".into(),
    });
    let n = again.take_room_outgoing().remove(0);
    assert!(!j.records().iter().any(|r| {
        r.room
            .as_ref()
            .is_some_and(|s| s.id == n.id && r.event != n.record.event)
    }));
    // If that landed earlier after all, the log says so and it is marked synced, not folded again.
    let landed = Entry {
        seq: 3,
        id: out[1].id.clone(),
        record: out[1].record.clone(),
    };
    again.update(now, Msg::Room(RoomUpdate::Entries(vec![landed])));
    let room = again.room.as_ref().unwrap();
    assert!(room.queued.iter().all(|(id, _)| id != &out[1].id));
    let ticks = j
        .records()
        .iter()
        .filter(|r| r.event == done("warm"))
        .count();
    assert_eq!(ticks, 1);
}

#[test]
fn a_watcher_sees_everything_and_can_do_nothing() {
    let now = t0() - Duration::minutes(10);
    let j = Shared::default();
    let mut w = seat("exec", Seat::Watcher, now, j.clone(), vec![]);
    for k in [' ', 'p', 'n', 'a', 'v', 'u', 'r', 'e'] {
        w.update(now, key(k));
        if let Overlay::Input { .. } = w.ui.overlay {
            for c in "ship it".chars() {
                w.update(now, key(c));
            }
            w.update(
                now,
                Msg::Key(KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE)),
            );
        }
        w.ui.overlay = Overlay::None;
    }
    assert!(w.take_room_outgoing().is_empty(), "nothing for the room");
    assert!(
        j.records().iter().all(|r| !r.event.is_decision()),
        "no decision in its journal: {:?}",
        j.records()
    );
    assert!(!w.act(Event::VoteCast {
        role: "ic".into(),
        vote: Vote::Go,
        reason: String::new(),
    }));
    assert!(w.ui.flash.as_ref().unwrap().0.contains("read-only"));
    // What others do shows up.
    w.update(
        now,
        Msg::Room(RoomUpdate::Entries(vec![remote(
            "ann",
            1,
            1,
            0,
            now,
            done("freeze"),
        )])),
    );
    assert_eq!(status(&w, "freeze"), ItemStatus::Done);
}

#[test]
fn the_poll_reads_go_only_when_every_voting_role_said_go_and_blocking_items_are_done() {
    let before = t0() - Duration::minutes(20);
    let mut app = seat("ann", Seat::Member, before, Shared::default(), vec![]);
    app.update(before, Msg::Tick);
    assert_eq!(app.poll().unwrap().verdict, Verdict::NotOpen);
    assert!(app.take_role_by_id("ic"));
    app.update(before, key('v'));
    assert_eq!(app.ui.overlay, Overlay::None, "the poll is not open yet");
    let now = t0() - Duration::minutes(10);
    app.update(now, Msg::Tick);
    assert_eq!(app.poll().unwrap().verdict, Verdict::Waiting);
    // Ann votes GO from the dialog.
    app.update(now, key('v'));
    app.update(
        now,
        Msg::Key(KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE)),
    );
    assert_eq!(app.votes["ic"].vote, Vote::Go);
    // Raj takes the web role and votes NO-GO, then changes his mind.
    let mut entries = vec![
        remote("raj", 1, 3, 2, now, Event::RoleTaken { role: "web".into() }),
        remote(
            "raj",
            2,
            4,
            3,
            now,
            Event::VoteCast {
                role: "web".into(),
                vote: Vote::NoGo,
                reason: "db migration running".into(),
            },
        ),
    ];
    app.update(
        now,
        Msg::Room(RoomUpdate::Entries(std::mem::take(&mut entries))),
    );
    assert_eq!(app.poll().unwrap().verdict, Verdict::NoGo);
    assert_eq!(app.holders("web"), ["raj"]);
    app.update(
        now,
        Msg::Room(RoomUpdate::Entries(vec![remote(
            "raj",
            3,
            5,
            4,
            now,
            Event::VoteCast {
                role: "web".into(),
                vote: Vote::Go,
                reason: String::new(),
            },
        )])),
    );
    let poll = app.poll().unwrap();
    assert_eq!(
        poll.verdict,
        Verdict::Blocked,
        "every role says GO, a blocking item is not done"
    );
    assert_eq!(poll.blocking_left, ["Freeze deploys"]);
    app.act(done("freeze"));
    assert_eq!(app.poll().unwrap().verdict, Verdict::Go);
    // A NO-GO without a reason is refused, with the dialog kept.
    app.update(now, key('v'));
    app.update(
        now,
        Msg::Key(KeyEvent::new(KeyCode::Tab, KeyModifiers::NONE)),
    );
    app.update(
        now,
        Msg::Key(KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE)),
    );
    assert!(matches!(app.ui.overlay, Overlay::Vote { go: false, .. }));
    assert_eq!(app.votes["ic"].vote, Vote::Go);
}

#[test]
fn the_scribe_is_reminded_and_an_overdue_update_is_said() {
    let start = t0() - Duration::minutes(15);
    let mut app = seat("raj", Seat::Member, start, Shared::default(), vec![]);
    app.take_role_by_id("scribe");
    app.update(start, Msg::Tick);
    let due = app.update_due().unwrap();
    assert_eq!(due.due_at, start + Duration::minutes(5));
    assert!(!due.overdue);
    let late = start + Duration::minutes(6);
    app.update(late, Msg::Tick);
    assert!(app.update_due().unwrap().overdue);
    assert!(
        app.ui
            .flash
            .as_ref()
            .unwrap()
            .0
            .contains("status update due")
    );
    app.update(late, key('u'));
    for c in "all green".chars() {
        app.update(late, key(c));
    }
    for _ in 0..3 {
        app.update(
            late,
            Msg::Key(KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE)),
        );
    }
    assert_eq!(app.ui.overlay, Overlay::None);
    let due = app.update_due().unwrap();
    assert!(!due.overdue);
    assert_eq!(due.due_at, late + Duration::minutes(5));
    assert!(app.take_room_outgoing().iter().any(|o| matches!(
        &o.record.event,
        Event::StatusUpdate { conditions, needs, .. } if conditions == "all green" && needs == "nothing"
    )));
}

#[test]
fn the_whole_ladder_by_hand_and_an_acknowledgement_that_lapses() {
    let now = t0() - Duration::hours(1);
    let mut app = seat("ann", Seat::Solo, now, Shared::default(), vec![]);
    let key_ = AlertKey::Metric("p99".into());
    app.observe(Event::AlertOpened {
        key: key_.clone(),
        severity: crate::app::alerts::Severity::Crit,
        message: "p99 high".into(),
    });
    app.update(now, Msg::Tick);
    let rungs = app.ladder(app.top_alert().unwrap());
    assert_eq!(rungs.len(), 3);
    assert!(rungs[0].current);
    assert_eq!(rungs[1].at, Some(now + Duration::minutes(10)));
    assert_eq!(rungs[2].contact, "case");
    // Escalate by hand: L2 now, L3 ten minutes after that (not 20 after the open).
    let t = now + Duration::minutes(2);
    app.update(t, key('e'));
    assert_eq!(app.top_alert().unwrap().level, Some(1));
    let rungs = app.ladder(app.top_alert().unwrap());
    assert_eq!(rungs[2].at, Some(t + Duration::minutes(10)));
    // And back: the clock restarts at L1, so L2 is not called again at once.
    app.update(t, key('E'));
    app.update(t + Duration::minutes(5), Msg::Tick);
    assert_eq!(app.top_alert().unwrap().level, Some(0));
    app.update(t + Duration::minutes(10), Msg::Tick);
    assert_eq!(app.top_alert().unwrap().level, Some(1));
    // Acknowledged, then not resolved within ack_expires: it lapses and climbs.
    let acked = t + Duration::minutes(11);
    app.update(acked, key('a'));
    assert!(app.top_alert().unwrap().acked.is_some());
    app.update(acked + Duration::minutes(9), Msg::Tick);
    assert!(app.top_alert().unwrap().acked.is_some());
    app.update(acked + Duration::minutes(10), Msg::Tick);
    let a = app.top_alert().unwrap();
    assert!(a.acked.is_none(), "the acknowledgement lapsed");
    assert_eq!(a.level, Some(2));
    assert!(
        app.timeline
            .iter()
            .any(|r| matches!(r.event, Event::AlertAckExpired { .. }))
    );
}

#[test]
fn positions_order_as_the_log_does() {
    assert!(Pos::Pending(0) > Pos::Log(u64::MAX));
    assert!(Pos::Log(2) > Pos::Log(1));
}
