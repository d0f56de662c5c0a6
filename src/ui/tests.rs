//! Rendering into ratatui's TestBackend: every size from 1x1 to 250x70, real assertions on
//! the buffer, and snapshots of the common sizes.

use chrono::{DateTime, Duration, Utc};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers, MouseButton, MouseEvent, MouseEventKind};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::buffer::Buffer;
use ratatui::style::Color;

use crate::app::update::{AppOptions, Msg};
use crate::app::{App, Mode, Pane};
use crate::journal::MemoryJournal;
use crate::runbook::Runbook;
use crate::source::{AlarmState, Sample, Update};
use crate::theme::Theme;

mod sweep;

const RUNBOOK: &str = r##"
event:
  name: Spring Sale Launch
  starts_at: 2026-12-01T17:00:00Z
  ends_at: T+4h
  zones: [UTC, America/New_York, Asia/Tokyo]
phases:
  - { name: Pre-flight, from: T-2h }
  - { name: Go/no-go, from: T-15m }
  - { name: Launch, from: T-0 }
metrics:
  - { id: requests, title: Requests/s, namespace: AWS/ApplicationELB, metric: RequestCount, stat: Sum, unit: req/s }
  - { id: p99, title: p99 latency, namespace: AWS/ApplicationELB, metric: TargetResponseTime, stat: p99, unit: ms, warn: 500, crit: 900 }
  - { id: errors, title: Error rate, expression: "100 * requests / requests", unit: "%", warn: 1, crit: 5 }
  - { id: hosts, title: Healthy hosts, namespace: AWS/ApplicationELB, metric: HealthyHostCount, stat: Minimum, warn: 10, crit: 5, direction: below }
  - { id: helper, namespace: AWS/Lambda, metric: Errors, stat: Sum, hidden: true }
alarms: { prefix: web- }
quotas:
  - { service: lambda, code: L-B99A9384, title: Lambda concurrency }
  - { service: ec2, code: L-1216C47A, title: EC2 On-Demand vCPU }
checklists:
  - name: Pre-flight
    items:
      - { id: freeze, title: Freeze deploys, owner: release-mgr, due: T-2h }
      - { id: scale-web, title: Scale web ASG to 40 instances, owner: platform-oncall, due: T-60m }
  - name: Go/no-go
    items:
      - { id: gono, title: Go/no-go call with all leads, owner: launch-lead, due: T-5m }
      - { id: warm, title: Warm caches, owner: platform-oncall, due: T-2m }
escalation:
  levels:
    - { after: 0m, who: Platform on-call, contact: "#launch-bridge" }
    - { after: 10m, who: Service owner, contact: "+1 555 0100" }
    - { after: 20m, who: AWS Support case, contact: "Sev: business-critical" }
"##;

fn t0() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-12-01T17:00:00Z")
        .unwrap()
        .to_utc()
}

fn app_at(now: DateTime<Utc>) -> App {
    app_in(Mode::Simulated, now)
}

fn app_in(mode: Mode, now: DateTime<Utc>) -> App {
    let runbook: Runbook = serde_yaml::from_str(RUNBOOK).unwrap();
    let opts = AppOptions {
        runbook_path: "runbooks/test.yaml".into(),
        t0: t0(),
        operator: "jane".into(),
        mode,
        allow_writes: false,
        speed: 1.0,
        data_label: None,
        seat: Default::default(),
        room: None,
    };
    App::new(
        runbook,
        opts,
        now,
        Box::new(MemoryJournal::default()),
        vec![],
    )
}

/// Half an hour of 10 s points ending at `now`, shaped by `f(i)`.
fn feed(app: &mut App, metric: usize, now: DateTime<Utc>, f: impl Fn(i64) -> f64) {
    let points = (0..180)
        .map(|i| Sample {
            at: now - Duration::seconds(1790 - i * 10),
            value: f(i),
        })
        .collect();
    app.update(
        now,
        Msg::Source(Update::Samples {
            metric,
            points,
            settled_to: None,
        }),
    );
}

/// A war room twelve minutes before T-0 with data everywhere and a crit alert escalated twice.
fn busy_app() -> App {
    let opened = t0() - Duration::minutes(33);
    let mut app = app_at(opened);
    feed(&mut app, 1, opened, |i| {
        300.0 + (i % 7) as f64 * 10.0 + 700.0
    });
    let now = t0() - Duration::minutes(12);
    app.update(now, Msg::Tick);
    feed(&mut app, 0, now, |i| 1_000.0 + i as f64 * 20.0);
    feed(&mut app, 1, now, |i| 400.0 + i as f64 * 3.0);
    feed(&mut app, 2, now, |i| 0.2 + (i % 5) as f64 * 0.1);
    feed(&mut app, 3, now, |_| 24.0);
    let quota = |q, usage| Update::Quota {
        quota: q,
        value: Some(1000.0),
        usage: Some(usage),
        at: now,
    };
    app.update(now, Msg::Source(quota(0, 450.0)));
    app.update(now, Msg::Source(quota(1, 930.0)));
    for (name, state) in [
        ("web-p99-latency", AlarmState::Alarm),
        ("web-5xx", AlarmState::Ok),
    ] {
        app.update(
            now,
            Msg::Source(Update::Alarm {
                name: name.into(),
                state,
                reason: "Threshold Crossed".into(),
                changed_at: now - Duration::minutes(3),
            }),
        );
    }
    app.update(
        now,
        Msg::Source(Update::Health {
            source: "simulator".into(),
            error: None,
            at: now,
        }),
    );
    app
}

fn render(app: &mut App, theme: &Theme, w: u16, h: u16) -> Buffer {
    app.update(app.now, Msg::Resize(w, h));
    let mut terminal = Terminal::new(TestBackend::new(w, h)).unwrap();
    terminal.draw(|f| super::draw(f, app, theme)).unwrap();
    terminal.backend().buffer().clone()
}

fn text(buf: &Buffer) -> String {
    let mut out = String::new();
    for y in 0..buf.area.height {
        for x in 0..buf.area.width {
            out.push_str(buf[(x, y)].symbol());
        }
        out.push('\n');
    }
    out
}

fn screen(app: &mut App, w: u16, h: u16) -> String {
    text(&render(app, &Theme::dark(), w, h))
}

/// The first line holding `t`, leaving out the alert banner (which quotes metric names).
fn row<'a>(s: &'a str, t: &str) -> &'a str {
    s.lines()
        .find(|l| l.contains(t) && !l.starts_with(" ▲"))
        .unwrap_or_else(|| panic!("no row with {t:?} in:\n{s}"))
}

fn key(app: &mut App, code: KeyCode) {
    app.update(app.now, Msg::Key(KeyEvent::new(code, KeyModifiers::NONE)));
}

#[test]
fn every_size_renders_without_panicking() {
    for (w, h) in [
        (1, 1),
        (20, 5),
        (39, 30),
        (40, 12),
        (60, 30),
        (80, 24),
        (99, 30),
        (120, 40),
        (160, 45),
        (250, 70),
        (400, 10),
        (10, 200),
    ] {
        let mut app = busy_app();
        let s = screen(&mut app, w, h);
        assert_eq!(s.lines().count(), h as usize);
        for zoom in [false, true] {
            app.ui.zoomed = zoom;
            for pane in Pane::ALL {
                app.ui.focus = Some(pane);
                screen(&mut app, w, h);
            }
        }
    }
}

#[test]
fn tiny_terminals_say_so() {
    let mut app = busy_app();
    let s = screen(&mut app, 20, 5);
    assert!(s.contains("too small"), "{s}");
    assert!(s.contains("40x12"), "{s}");
    let s = screen(&mut app, 1, 1);
    assert_eq!(s, "T\n");
}

#[test]
fn the_80x24_screen_shows_every_pane() {
    let mut app = busy_app();
    let s = screen(&mut app, 80, 24);
    for want in [
        "Spring Sale Launch",
        "GO/NO-GO",
        "T-00:12:00",
        "1 Checklist",
        "2 Metrics",
        "3 Quota headroom",
        "4 Alarms",
        "5 Timeline",
        "readiness 0%",
        "? help",
    ] {
        assert!(s.contains(want), "missing {want:?} in:\n{s}");
    }
    insta::assert_snapshot!("war_room_80x24", s);
}

#[test]
fn the_120x40_screen_has_big_digits_zone_clocks_and_side_by_side_panes() {
    let mut app = busy_app();
    let s = screen(&mut app, 120, 40);
    let lines: Vec<&str> = s.lines().collect();
    // Big digits: block glyphs in the header rows.
    assert!(
        lines[1..5]
            .iter()
            .any(|l| l.contains('█') || l.contains('▀')),
        "{s}"
    );
    // The countdown as text beside them, and each zone's time.
    assert!(lines[1].contains("T-00:12:00"), "{s}");
    assert!(s.contains("New York Tue 11:48"), "{s}");
    assert!(s.contains("Tokyo    Wed 01:48"), "{s}");
    // Checklist and metrics share a row.
    let row = lines.iter().find(|l| l.contains("1 Checklist")).unwrap();
    assert!(row.contains("2 Metrics"), "{row}");
    insta::assert_snapshot!("war_room_120x40", s);
}

#[test]
fn the_250x70_screen_uses_full_size_digits_and_arranges_panes_by_what_they_hold() {
    let mut app = busy_app();
    let s = screen(&mut app, 250, 70);
    let lines: Vec<&str> = s.lines().collect();
    let full_rows = lines[1..9].iter().filter(|l| l.contains('█')).count();
    assert!(full_rows >= 6, "full-size digits span the header:\n{s}");
    let row = lines.iter().find(|l| l.contains("1 Checklist")).unwrap();
    assert!(row.contains("2 Metrics"), "{row}");
    assert!(s.contains("Scale web ASG to 40 instances"), "{s}");
    // A short checklist, two quotas and two alarms: one column under each other, metrics
    // beside them with the rest of the width.
    let area = ratatui::layout::Rect::new(0, 0, 250, 70);
    let areas = super::layout::areas(&app, area).unwrap();
    let at = |p| areas.pane(p).unwrap();
    assert_eq!(at(Pane::Quotas).x, at(Pane::Checklist).x, "{s}");
    assert!(at(Pane::Metrics).width > 150, "{s}");
    // Too many alarms to stack under the checklist in 50 rows: quotas and alarms get a
    // column of their own.
    for k in 0..30 {
        app.update(
            app.now,
            Msg::Source(Update::Alarm {
                name: format!("web-canary-{k}"),
                state: AlarmState::Ok,
                reason: "Threshold Crossed".into(),
                changed_at: app.now,
            }),
        );
    }
    let s = screen(&mut app, 250, 50);
    let area = ratatui::layout::Rect::new(0, 0, 250, 50);
    let areas = super::layout::areas(&app, area).unwrap();
    let at = |p| areas.pane(p).unwrap();
    assert!(at(Pane::Quotas).x > at(Pane::Metrics).x, "{s}");
    assert_eq!(at(Pane::Alarms).x, at(Pane::Quotas).x, "{s}");
}

#[test]
fn narrow_terminals_stack_the_panes() {
    let mut app = busy_app();
    let s = screen(&mut app, 80, 40);
    let at = |t: &str| s.lines().position(|l| l.contains(t)).unwrap();
    assert!(at("1 Checklist") < at("2 Metrics"));
    assert!(at("2 Metrics") < at("3 Quota headroom"));
    assert!(at("3 Quota headroom") < at("4 Alarms"));
    assert!(at("4 Alarms") < at("5 Timeline"));
}

#[test]
fn metric_rows_show_value_unit_thresholds_status_and_age() {
    let mut app = busy_app();
    let s = screen(&mut app, 160, 45);
    let p99 = row(&s, "p99 latency");
    // Last point 400 + 179*3 = 937: past crit.
    assert!(p99.contains("937"), "{p99}");
    assert!(p99.contains("ms"), "{p99}");
    assert!(p99.contains("≥500/900"), "{p99}");
    assert!(p99.contains("CRIT"), "{p99}");
    assert!(p99.contains("now"), "{p99}");
    assert!(
        p99.chars().any(|c| "▁▂▃▄▅▆▇█".contains(c)),
        "sparkline in {p99}"
    );
    let hosts = row(&s, "Healthy hosts");
    assert!(hosts.contains("≤10/5") && hosts.contains("ok"), "{hosts}");
    // The hidden helper query is not shown.
    assert!(!s.contains("helper"), "{s}");
}

#[test]
fn stale_missing_and_absurd_values_are_shown_as_such() {
    let mut app = busy_app();
    // Requests stop arriving: ten minutes later they are stale, not fresh.
    let later = app.now + Duration::minutes(10);
    app.update(later, Msg::Tick);
    feed(
        &mut app,
        1,
        later,
        |i| if i == 179 { f64::NAN } else { 1e300 },
    );
    feed(&mut app, 3, later, |_| f64::INFINITY);
    let s = screen(&mut app, 160, 45);
    assert!(row(&s, "Requests/s").contains("stale"), "{s}");
    assert!(row(&s, "Requests/s").contains("10m"), "{s}");
    assert!(row(&s, "p99 latency").contains("NaN"), "{s}");
    assert!(row(&s, "Healthy hosts").contains("inf"), "{s}");
    // A metric that never reported says so.
    let mut empty = app_at(t0());
    let s = screen(&mut empty, 160, 45);
    let r = row(&s, "Requests/s");
    assert!(r.contains("no data"), "{r}");
    assert!(s.contains("waiting for data"), "{s}");
}

#[test]
fn quotas_show_gauge_percentage_and_status() {
    let mut app = busy_app();
    let s = screen(&mut app, 120, 40);
    let ec2 = row(&s, "EC2 On-Demand vCPU");
    assert!(ec2.contains("93% used"), "{ec2}");
    assert!(ec2.contains("930/1000"), "{ec2}");
    assert!(ec2.contains("CRIT"), "{ec2}");
    assert!(
        ec2.contains('█') && ec2.contains('│'),
        "gauge with threshold marks: {ec2}"
    );
    let lambda = row(&s, "Lambda concurrency");
    assert!(
        lambda.contains("45% used") && lambda.contains("ok"),
        "{lambda}"
    );
    // A quota of 0 (a Bedrock model on a new account) is full and critical, not "unknown";
    // a rate quota says its period; one AWS will not raise says so.
    let now = app.now;
    for u in [
        Update::Quota {
            quota: 1,
            value: Some(0.0),
            usage: None,
            at: now,
        },
        Update::QuotaMeta {
            quota: 1,
            adjustable: false,
            period_secs: None,
            default: false,
        },
        Update::QuotaMeta {
            quota: 0,
            adjustable: true,
            period_secs: Some(1),
            default: false,
        },
    ] {
        app.update(now, Msg::Source(u));
    }
    let s = screen(&mut app, 120, 40);
    let ec2 = row(&s, "EC2 On-Demand vCPU");
    assert!(ec2.contains("quota is 0") && ec2.contains("CRIT"), "{ec2}");
    assert!(ec2.contains("not adjustable"), "{ec2}");
    assert!(!ec2.contains("unknown"), "{ec2}");
    assert!(row(&s, "Lambda concurrency").contains("450/1000/s"), "{s}");
}

#[test]
fn overdue_items_are_counted_and_marked() {
    let mut app = busy_app();
    let s = screen(&mut app, 120, 40);
    // freeze (T-2h) and scale-web (T-60m) are overdue at T-12m.
    assert!(s.contains("2 OVERDUE"), "{s}");
    assert!(s.contains("2 overdue"), "{s}");
    let row_f = row(&s, "Freeze deploys");
    assert!(
        row_f.contains("[ ]!") && row_f.contains("late 1h"),
        "{row_f}"
    );
    let row_g = row(&s, "Go/no-go call");
    assert!(row_g.contains("T-5m") && !row_g.contains('!'), "{row_g}");
    // The current phase's list comes first.
    let at = |t: &str| s.lines().position(|l| l.contains(t)).unwrap();
    assert!(at("Go/no-go call") < at("Freeze deploys"), "{s}");
    assert!(s.contains("current phase"), "{s}");
}

#[test]
fn item_states_show_their_marks() {
    let mut app = busy_app();
    app.ui.focus = Some(Pane::Checklist);
    key(&mut app, KeyCode::Char(' ')); // gono done
    key(&mut app, KeyCode::Char('j'));
    key(&mut app, KeyCode::Char('p')); // warm in progress
    key(&mut app, KeyCode::Char('j'));
    key(&mut app, KeyCode::Char('s')); // freeze skipped
    for c in "done last week".chars() {
        key(&mut app, KeyCode::Char(c));
    }
    key(&mut app, KeyCode::Enter);
    let s = screen(&mut app, 250, 70);
    assert!(row(&s, "Go/no-go call").contains("[x]"), "{s}");
    assert!(row(&s, "Warm caches").contains("[~]"), "{s}");
    assert!(row(&s, "Freeze deploys").contains("[-]"), "{s}");
    assert!(
        row(&s, "Freeze deploys").contains("skipped: done last week"),
        "{s}"
    );
    assert!(s.contains("readiness 50%"), "{s}");
    let s = screen(&mut app, 250, 70);
    assert!(
        s.contains("skipped \"Freeze deploys\": done last week"),
        "timeline: {s}"
    );
}

#[test]
fn the_banner_shows_escalation_and_how_to_acknowledge() {
    let mut app = busy_app();
    let s = screen(&mut app, 160, 45);
    let banner = s.lines().find(|l| l.contains('▲')).unwrap().to_string();
    assert!(banner.contains("CRIT"), "{banner}");
    // Opened at 1040 ms; the value now is 937.
    assert!(banner.contains("(now 937)"), "{banner}");
    assert!(
        banner.contains("L3/3: call AWS Support case (Sev: business-critical)"),
        "{banner}"
    );
    assert!(banner.contains("a: ack"), "{banner}");
    // Acknowledging moves the banner on to the next unacknowledged alert...
    key(&mut app, KeyCode::Char('a'));
    let s = screen(&mut app, 160, 45);
    let banner = s.lines().find(|l| l.contains('▲')).unwrap().to_string();
    assert!(!banner.contains("p99 latency"), "{banner}");
    assert!(s.contains("acknowledged p99 latency"), "{s}");
    // ...and once all are acknowledged it shows who took the top one.
    for _ in 0..10 {
        key(&mut app, KeyCode::Char('a'));
    }
    let s = screen(&mut app, 160, 45);
    let banner = s.lines().find(|l| l.contains('▲')).unwrap().to_string();
    assert!(banner.contains("acked by jane"), "{banner}");
    assert!(!banner.contains("a: ack"), "{banner}");
}

#[test]
fn the_banner_says_what_is_overdue_now_and_when_a_signal_flaps() {
    // Only the overdue roll-up open: the banner lists the items of that checklist, live.
    let now = t0() - Duration::minutes(20);
    let mut app = app_at(now);
    app.update(now, Msg::Tick);
    let s = screen(&mut app, 200, 45);
    let banner = s.lines().find(|l| l.contains('▲')).unwrap().to_string();
    assert!(banner.contains(" overdue in "), "{banner}");
    assert!(!banner.contains("flapping"), "{banner}");

    // A metric three minutes over warn, three under, for an hour: one alert, flapping.
    let mut app = app_at(t0() - Duration::hours(3));
    let start = t0() - Duration::hours(3);
    for m in 0..60 {
        let t = start + Duration::minutes(m);
        let v = if (m / 3) % 2 == 0 { 990.0 } else { 300.0 };
        app.update(
            t,
            Msg::Source(Update::Samples {
                metric: 1,
                points: vec![Sample { at: t, value: v }],
                settled_to: None,
            }),
        );
    }
    let s = screen(&mut app, 200, 45);
    let banner = s.lines().find(|l| l.contains('▲')).unwrap().to_string();
    assert!(banner.contains("flapping ("), "{banner}");
    assert!(s.contains("is flapping: breached again 2 times"), "{s}");
}

#[test]
fn a_bucket_still_filling_is_a_dot_and_the_value_is_the_settled_one() {
    let now = t0() - Duration::minutes(31) + Duration::seconds(30);
    let mut app = app_at(now);
    // One point a minute; the newest minute is half over, its sum half of the others.
    let points: Vec<Sample> = (0..20)
        .map(|i| Sample {
            at: t0() - Duration::minutes(50 - i),
            value: if i == 19 { 3_000.0 } else { 6_000.0 + i as f64 },
        })
        .collect();
    app.update(
        now,
        Msg::Source(Update::Samples {
            metric: 0,
            points,
            settled_to: Some(t0() - Duration::minutes(32)),
        }),
    );
    let s = screen(&mut app, 120, 40);
    let r = row(&s, "Requests/s");
    // No fall drawn for a partial sum; the value shown is the newest settled bucket's.
    assert!(r.contains("█·"), "{r}");
    assert!(r.contains("6017"), "{r}");
    assert!(!r.contains("3000"), "{r}");
}

#[test]
fn all_clear_when_nothing_is_open() {
    let mut app = app_at(t0() - Duration::hours(3));
    let s = screen(&mut app, 100, 30);
    assert!(s.contains("ALL CLEAR"), "{s}");
}

#[test]
fn help_lists_every_key_and_the_journal() {
    let mut app = busy_app();
    key(&mut app, KeyCode::Char('?'));
    let s = screen(&mut app, 120, 40);
    for (k, what) in super::overlay::KEYS {
        assert!(s.contains(k), "key {k} missing:\n{s}");
        assert!(
            s.contains(&what[..20.min(what.len())]),
            "{what} missing:\n{s}"
        );
    }
    assert!(s.contains("journal  (memory)"), "{s}");
}

#[test]
fn dialogs_show_what_is_typed_and_the_quit_question() {
    let mut app = busy_app();
    key(&mut app, KeyCode::Char('n'));
    for c in "bridge ok".chars() {
        key(&mut app, KeyCode::Char(c));
    }
    let s = screen(&mut app, 100, 30);
    assert!(
        s.contains("Note for the timeline") && s.contains("bridge ok█"),
        "{s}"
    );
    key(&mut app, KeyCode::Esc);
    key(&mut app, KeyCode::Char('q'));
    let s = screen(&mut app, 100, 30);
    assert!(s.contains("still open. Quit anyway?"), "{s}");
}

#[test]
fn zoom_draws_a_chart_with_thresholds_and_t0() {
    let mut app = busy_app();
    // Move past T-0 so the marker is inside the time range.
    let later = t0() + Duration::minutes(5);
    app.update(later, Msg::Tick);
    feed(&mut app, 1, later, |i| 300.0 + i as f64 * 4.0);
    app.ui.focus = Some(Pane::Metrics);
    key(&mut app, KeyCode::Char('j'));
    key(&mut app, KeyCode::Char('z'));
    let data = super::chart::chart_data(&app, 1).unwrap();
    assert!(data.t0_visible);
    assert_eq!(data.x[1], 300.0);
    assert!(data.y[0] <= 0.0 && data.y[1] >= 1016.0);
    let s = screen(&mut app, 120, 40);
    let first = crate::time::TOffset(data.x[0] as i64).to_string();
    for want in [
        "p99 latency",
        "warn 500",
        "crit 900",
        "T-0",
        "time from T-0",
        "now T+5m",
        &first,
    ] {
        assert!(s.contains(want), "missing {want:?}:\n{s}");
    }
    assert!(
        s.chars().any(|c| ('\u{2800}'..='\u{28ff}').contains(&c)),
        "braille plot:\n{s}"
    );
    assert!(!s.contains("4 Alarms"), "zoom hides the other panes:\n{s}");
}

#[test]
fn zoom_marks_phases_alerts_acknowledgements_and_notes_but_not_a_game_days_faults() {
    use crate::journal::describe::MarkerKind;
    let mut app = busy_app();
    let later = t0() + Duration::minutes(5);
    app.update(later, Msg::Tick);
    feed(&mut app, 1, later, |i| 300.0 + i as f64 * 4.0);
    assert!(app.act(crate::journal::Event::Note {
        text: "scaling web".into()
    }));
    let data = super::chart::chart_data(&app, 1).unwrap();
    let kinds: Vec<MarkerKind> = data.markers.iter().map(|(_, k)| *k).collect();
    // The runbook's Launch phase starts at T-0; the note was just written (T+5m).
    assert!(
        data.markers.contains(&(0.0, MarkerKind::Phase)),
        "{kinds:?}"
    );
    assert!(
        data.markers.contains(&(300.0, MarkerKind::Note)),
        "{kinds:?}"
    );
    assert!(
        kinds.contains(&MarkerKind::AlertOpened),
        "busy_app has open alerts: {kinds:?}"
    );
    app.ui.focus = Some(Pane::Metrics);
    key(&mut app, KeyCode::Char('j'));
    key(&mut app, KeyCode::Char('z'));
    let s = screen(&mut app, 140, 40);
    for want in ["phase", "alert", "note"] {
        assert!(s.contains(want), "legend {want:?}:\n{s}");
    }

    // A game day's injected fault is journalled but not marked: finding it is the exercise.
    app.mode = crate::app::Mode::Rehearsal;
    app.observe(crate::journal::Event::FaultInjected {
        fault: "inject[0]".into(),
        description: "spike p99".into(),
        target: "p99".into(),
        at: later,
        until: later + Duration::minutes(3),
        surprise: false,
        affects: vec![],
    });
    let data = super::chart::chart_data(&app, 1).unwrap();
    assert!(!data.markers.iter().any(|(_, k)| *k == MarkerKind::Fault));
}

#[test]
fn mouse_clicks_select_the_pane_and_row_under_the_pointer() {
    let mut app = busy_app();
    let s = screen(&mut app, 120, 40);
    let (y, line) = s
        .lines()
        .enumerate()
        .find(|(_, l)| l.contains("Warm caches"))
        .unwrap();
    let x = line.chars().position(|c| c == 'W').unwrap() as u16;
    // As the event loop does: the UI places the click, the app takes the placed message.
    let click = |app: &App, x, y| {
        super::mouse_msg(
            app,
            MouseEvent {
                kind: MouseEventKind::Down(MouseButton::Left),
                column: x,
                row: y,
                modifiers: KeyModifiers::NONE,
            },
        )
        .unwrap()
    };
    app.ui.focus = Some(Pane::Timeline);
    let msg = click(&app, x, y as u16);
    app.update(app.now, msg);
    assert_eq!(app.ui.focused(), Pane::Checklist);
    let items = app.visible_items();
    assert_eq!(items[app.ui.selected(Pane::Checklist)].item.id, "warm");
    // A list heading selects the pane but no item.
    let (hy, _) = s
        .lines()
        .enumerate()
        .find(|(_, l)| l.contains("─ Pre-flight"))
        .unwrap();
    let msg = click(&app, x, hy as u16);
    app.update(app.now, msg);
    assert_eq!(
        app.visible_items()[app.ui.selected(Pane::Checklist)]
            .item
            .id,
        "warm"
    );
    // The metrics pane by its p99 row.
    let (my, mline) = s
        .lines()
        .enumerate()
        .find(|(_, l)| l.contains("p99 latency") && !l.starts_with(" ▲"))
        .unwrap();
    let mx = mline
        .find("p99 latency")
        .map(|b| mline[..b].chars().count())
        .unwrap() as u16;
    let msg = click(&app, mx, my as u16);
    app.update(app.now, msg);
    assert_eq!(app.ui.focused(), Pane::Metrics);
    assert_eq!(app.ui.selected(Pane::Metrics), 1);
}

#[test]
fn no_color_is_monochrome_and_still_readable() {
    let mut app = busy_app();
    let buf = render(&mut app, &Theme::monochrome(), 120, 40);
    for cell in buf.content() {
        assert!(matches!(cell.fg, Color::Reset), "coloured cell {cell:?}");
        assert!(matches!(cell.bg, Color::Reset), "coloured cell {cell:?}");
    }
    let s = text(&buf);
    assert!(s.contains("CRIT") && s.contains("OVERDUE"), "{s}");
}

#[test]
fn a_failing_source_says_so_where_its_data_is_shown() {
    let mut app = busy_app();
    let now = app.now + Duration::seconds(30);
    app.update(
        now,
        Msg::Source(Update::Health {
            source: "simulator".into(),
            error: Some("connection refused".into()),
            at: now,
        }),
    );
    let s = screen(&mut app, 160, 45);
    let metrics_title = s.lines().find(|l| l.contains("2 Metrics")).unwrap();
    assert!(
        metrics_title.contains("simulator FAILING"),
        "{metrics_title}"
    );
    assert!(s.contains("simulator ✗"), "{s}");
    // However narrow the layout makes the pane, the failure comes first in its title (it
    // once followed "updated …" and a 50-column pane cut it off).
    for w in [36u16, 50, 70] {
        let mut terminal = Terminal::new(TestBackend::new(w, 12)).unwrap();
        terminal
            .draw(|f| {
                super::metrics::render(f, f.area(), &app, &Theme::dark(), false);
            })
            .unwrap();
        let title = text(terminal.backend().buffer());
        let title = title.lines().next().unwrap();
        assert!(title.contains("simulator FAILING"), "{w}: {title}");
    }
}

#[test]
fn live_cost_and_partial_data_are_shown() {
    let mut app = busy_app();
    let now = app.now;
    let usage = Update::Usage {
        source: "cloudwatch".into(),
        calls: 1,
        metrics: 50,
        at: now - Duration::minutes(1),
    };
    app.update(now, Msg::Source(usage));
    let note = Update::MetricNote {
        metric: 1,
        note: Some("PartialData: more data is available".into()),
    };
    app.update(now, Msg::Source(note));
    let s = screen(&mut app, 250, 70);
    // One call of 50 metrics in the last minute: 60 calls and 3,000 metrics an hour.
    assert!(s.contains("60 calls/h · 3000 metrics/h ≈ $0.030/h"), "{s}");
    // How polling follows the event, and this phase's cost, in the help of a live session.
    let live = app_in(Mode::Live, app.now);
    let at = live.offset().secs();
    let phase = live
        .phase_costs
        .iter()
        .find(|p| p.from.secs() <= at && at < p.until.secs())
        .unwrap();
    let label = super::metrics::polling_label(&live);
    assert!(
        label.ends_with(&format!("{} ≈ ${:.3}", phase.phase, phase.usd)),
        "{label}"
    );
    assert!(
        label.starts_with("each metric's period until T+4h"),
        "{label}"
    );
    assert!(s.contains("1 PARTIAL (~)"), "{s}");
    assert!(row(&s, "p99 latency").contains("~937"), "{s}");
    app.ui.focus = Some(Pane::Metrics);
    key(&mut app, KeyCode::Char('j'));
    key(&mut app, KeyCode::Char('z'));
    let s = screen(&mut app, 250, 70);
    assert!(s.contains("PartialData: more data is available"), "{s}");
}

#[test]
fn a_rehearsal_says_so_first_on_the_header_at_every_usable_size() {
    for (w, h) in [(250, 70), (120, 40), (80, 24), (40, 12)] {
        let mut app = busy_app();
        app.mode = Mode::Rehearsal;
        app.speed = 20.0;
        let s = screen(&mut app, w, h);
        let first = s.lines().next().unwrap();
        assert!(first.starts_with(" REHEARSAL ×20 "), "{w}x{h}:\n{s}");
    }
    let mut app = busy_app();
    app.mode = Mode::Rehearsal;
    let s = screen(&mut app, 120, 40);
    assert!(s.lines().next().unwrap().starts_with(" REHEARSAL  "), "{s}");
    assert_eq!(super::header::rehearsal_marker(2.5), "REHEARSAL ×2.5");
    // Not in the real thing.
    let mut real = busy_app();
    assert!(!screen(&mut real, 120, 40).contains("REHEARSAL"));
}

/// A runbook and journal full of what a terminal would act on (OSC 0 title, OSC 52 clipboard,
/// CSI, C1 CSI, bidi overrides) or measure differently from the layout (a zero-width joiner
/// before a wide character, long CJK, tabs), in every field the panes show.
const HOSTILE_RUNBOOK: &str = r##"
event:
  name: "Launch \e]0;pwned\a \u202Eevil"
  starts_at: 2026-12-01T17:00:00Z
  zones: [UTC]
phases:
  - { name: "Go \e[2J", from: T-1h }
metrics:
  - { id: m1, title: "p99 \e]0;owned\a", namespace: N, metric: M, stat: Sum, unit: "m\e[1ms" }
  - { id: m2, title: "x\u200D日本語", namespace: N, metric: M, stat: Sum }
  - { id: m3, title: "\x9b6n\u202Eright\u2066", namespace: N, metric: M, stat: Sum }
  - { id: m4, title: plain, namespace: N, metric: M, stat: Sum }
checklists:
  - name: "List \e[31m"
    items:
      - { id: a, title: "Freeze \e]52;c;cm0gLXJmIH4=\a deploys", owner: "ops\e[0m", due: T-2h }
      - { id: b, title: "x\u200D日本語のとても長いタイトルです", owner: "日本\u200D語", due: T-60m }
      - { id: c, title: "tab\there | pipe \x7f", owner: "\u2067rtl\u2069", due: T-5m }
      - { id: d, title: plain item, owner: ops, due: T-2m }
escalation:
  levels:
    - { after: 0m, who: "on-call \e]0;x\a", contact: "\u202E#bridge" }
"##;

/// Characters no cell may hold: controls, bidi overrides and isolates, and the invisible
/// joiners and selectors whose width terminals disagree on.
fn forbidden(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200B}'..='\u{200F}' | '\u{FE0F}'
        )
}

/// The x of the first cell of `needle` (ASCII) on row `y`, if it is there.
fn find_x(buf: &Buffer, y: u16, needle: &str) -> Option<u16> {
    let n: Vec<String> = needle.chars().map(String::from).collect();
    (0..buf.area.width.saturating_sub(n.len() as u16 - 1)).find(|&x| {
        n.iter()
            .enumerate()
            .all(|(i, s)| buf[(x + i as u16, y)].symbol() == s)
    })
}

/// The x of the last non-blank cell of row `y` between `from` and the next pane border.
fn last_x_before_border(buf: &Buffer, y: u16, from: u16) -> u16 {
    let border = (from..buf.area.width)
        .find(|&x| ["┃", "│"].contains(&buf[(x, y)].symbol()))
        .unwrap_or(buf.area.width);
    (from..border)
        .rev()
        .find(|&x| !buf[(x, y)].symbol().trim().is_empty())
        .unwrap_or(from)
}

#[test]
fn hostile_text_never_reaches_a_cell_and_columns_stay_aligned() {
    let runbook: Runbook = serde_yaml::from_str(HOSTILE_RUNBOOK).unwrap();
    let now = t0() - Duration::hours(3);
    let note = |s: i64, who: &str, text: &str| crate::journal::Record {
        ts: now - Duration::seconds(s),
        operator: who.into(),
        room: None,
        event: crate::journal::Event::Note { text: text.into() },
    };
    let past = vec![
        note(50, "jane", "plain note"),
        note(40, "\u{1b}]0;op\u{7}", "title \u{1b}]0;pwned\u{7} set"),
        note(
            30,
            "x\u{200D}日本",
            "clipboard \u{1b}]52;c;aGk=\u{7} \u{9b}6n",
        ),
        note(20, "\u{202E}evil", "line\nbreak\r\ttab | pipe"),
    ];
    let opts = AppOptions::simulated("runbooks/\u{1b}[2Jhostile.yaml", t0(), "jane");
    let mut app = App::new(runbook, opts, now, Box::new(MemoryJournal::default()), past);
    for (w, h) in [(80, 30), (120, 40), (160, 48), (250, 70)] {
        let buf = render(&mut app, &Theme::dark(), w, h);
        let shown = text(&buf);
        for y in 0..h {
            for x in 0..w {
                let sym = buf[(x, y)].symbol();
                assert!(
                    !sym.chars().any(forbidden),
                    "{w}x{h}: cell ({x}, {y}) holds {sym:?}:\n{shown}"
                );
            }
        }
        // The header's right side ends where the line does: its gap was measured on what is
        // drawn.
        let r = find_x(&buf, 0, "readiness").expect("readiness");
        assert_eq!(
            last_x_before_border(&buf, 0, r),
            w - 2,
            "{w}x{h} header:\n{shown}"
        );
        // Checklist: the right-aligned due column ends at the same x on every item row.
        let items: Vec<(u16, u16)> = (0..h)
            .filter_map(|y| find_x(&buf, y, "[ ]").map(|x| (y, x)))
            .collect();
        assert_eq!(items.len(), 4, "{w}x{h}:\n{shown}");
        let ends: Vec<u16> = items
            .iter()
            .map(|&(y, x)| last_x_before_border(&buf, y, x))
            .collect();
        assert!(
            ends.iter().all(|e| *e == ends[0]),
            "{w}x{h} due column ends at {ends:?}:\n{shown}"
        );
        // Metrics: the status column starts at the same x on every row.
        let status: Vec<u16> = (0..h).filter_map(|y| find_x(&buf, y, "no data")).collect();
        assert_eq!(status.len(), 4, "{w}x{h}:\n{shown}");
        assert!(
            status.iter().all(|x| *x == status[0]),
            "{w}x{h} status column at {status:?}:\n{shown}"
        );
        // Timeline: what happened starts at the same x whoever wrote it.
        let notes: Vec<u16> = (0..h).filter_map(|y| find_x(&buf, y, "note: ")).collect();
        assert!(notes.len() >= 3, "{w}x{h}:\n{shown}");
        assert!(
            notes.iter().all(|x| *x == notes[0]),
            "{w}x{h} timeline text at {notes:?}:\n{shown}"
        );
        // What was there is still readable.
        for want in ["Freeze ?]52;c;", "p99 ?]0;owned?", "x日", "?6n?right?"] {
            assert!(shown.contains(want), "{w}x{h}: no {want:?} in:\n{shown}");
        }
    }
}

#[test]
fn after_t0_the_header_counts_down_to_the_end_of_hypercare() {
    // busy_app's runbook: phases up to Launch at T-0, the event ends at T+4h.
    let mut app = busy_app();
    app.update(t0() - Duration::minutes(10), Msg::Tick);
    let before = super::header::next_phase(&app);
    assert!(
        before.starts_with("next: Launch in 10m") && !before.contains("ends"),
        "{before}"
    );
    app.update(t0() + Duration::minutes(5), Msg::Tick);
    assert_eq!(super::header::next_phase(&app), "ends in 3h55m");
    let s = screen(&mut app, 120, 40);
    assert!(s.contains("ends in 3h55m"), "{s}");
    app.update(t0() + Duration::hours(5), Msg::Tick);
    assert_eq!(super::header::next_phase(&app), "event over");
}

/// A seat in a game-day room whose session clock is far from the wall clock, as a rehearsal's
/// is: the team line says who is here (by wall-clock presence), the poll, the cadence, the
/// queue; the checklist says who ticked; the card shows the whole ladder.
#[test]
fn a_room_seat_shows_the_team_who_did_what_and_the_whole_ladder() {
    use crate::app::room::{RoomState, Seat};
    use crate::journal::{Event, Record, RoomStamp};
    use crate::room::{Entry, Presence, RoomUpdate};
    let yaml = r##"
event: { name: Team Launch, starts_at: 2026-12-01T17:00:00Z }
phases:
  - { name: Go/no-go, from: T-15m, updates_every: 5m }
roles:
  - { id: ic, name: Incident commander, votes: true }
  - { id: web, name: Web owner, votes: true }
go_no_go: { phase: Go/no-go }
checklists:
  - name: Go/no-go
    items:
      - { id: freeze, title: Freeze deploys, blocking: true }
escalation:
  levels:
    - { after: 0m, who: Platform on-call, contact: "#bridge" }
    - { after: 10m, who: Service owner, contact: "+1 555 0100" }
"##;
    let rb = crate::runbook::parse("team.yaml", yaml).unwrap();
    let now = t0() - Duration::minutes(10);
    let opts = AppOptions {
        runbook_path: "team.yaml".into(),
        t0: t0(),
        operator: "jane".into(),
        mode: Mode::Rehearsal,
        allow_writes: false,
        speed: 10.0,
        data_label: None,
        seat: Seat::Member,
        room: Some(RoomState::new("sale", "jane-1")),
    };
    let mut app = App::new(rb, opts, now, Box::new(MemoryJournal::default()), vec![]);
    app.update(now, Msg::Tick);
    // Presence is wall-clock time, years away from this session's clock.
    let wall = DateTime::parse_from_rfc3339("2031-06-01T09:00:00Z")
        .unwrap()
        .to_utc();
    let seat = |session: &str, who: &str, ago: i64, watcher| Presence {
        session: session.into(),
        operator: who.into(),
        role: None,
        watcher,
        joined_at: wall - Duration::hours(1),
        last_seen: wall - Duration::seconds(ago),
        left: false,
    };
    app.update(
        now,
        Msg::Room(RoomUpdate::Seats {
            seats: vec![
                seat("jane-1", "jane", 2, false),
                seat("raj-1", "raj", 4, false),
                seat("exec-1", "exec", 1, true),
                seat("bob-1", "bob", 300, false),
                // Closed its war room 20 s ago: gone at once, not "here" for half a minute.
                Presence {
                    left: true,
                    ..seat("cat-1", "cat", 20, false)
                },
            ],
            read_at: wall,
        }),
    );
    let mut raj = Record::new(now, "raj", Event::RoleTaken { role: "web".into() });
    raj.room = Some(RoomStamp {
        id: "raj-1:1".into(),
        seq: None,
        base: 0,
    });
    let mut tick = Record::new(
        now,
        "raj",
        Event::ItemDone {
            item: "freeze".into(),
            auto: false,
        },
    );
    tick.room = Some(RoomStamp {
        id: "raj-1:2".into(),
        seq: None,
        base: 1,
    });
    app.update(
        now,
        Msg::Room(RoomUpdate::Entries(vec![
            Entry {
                seq: 1,
                id: "raj-1:1".into(),
                record: raj,
            },
            Entry {
                seq: 2,
                id: "raj-1:2".into(),
                record: tick,
            },
        ])),
    );
    app.act(Event::Note {
        text: "bridge open".into(),
    });
    app.update(
        now,
        Msg::Room(RoomUpdate::Link {
            error: Some("connect refused".into()),
        }),
    );
    // Still failing a minute later (of this session's clock): counted from the first failure.
    let later = now + Duration::minutes(1);
    app.update(
        later,
        Msg::Room(RoomUpdate::Link {
            error: Some("connect refused".into()),
        }),
    );
    let s = screen(&mut app, 200, 40);
    let team = row(&s, "room sale");
    assert!(
        team.contains("3 here: exec (watching), jane, raj (web)"),
        "{team}"
    );
    assert!(team.contains("last seen: cat 20s ago, b"), "{team}");
    assert!(
        team.contains("ROOM UNREACHABLE for 1m · 1 queued"),
        "{team}"
    );
    assert!(
        row(&s, "go/no-go").contains("go/no-go 0/2 GO · waiting"),
        "{s}"
    );
    assert!(row(&s, "Freeze deploys").contains("by raj"), "{s}");
    assert!(
        row(&s, "bridge open").contains("queued for the room"),
        "{s}"
    );
    // The longest-present member pages for the room: jane and raj joined together, and
    // jane-1 sorts first.
    assert!(app.room.as_ref().unwrap().is_pager());
    // At 80x24 the same in a few words, before what comes next: nothing to act on is cut.
    let s = screen(&mut app, 80, 24);
    let line = s.lines().nth(1).unwrap();
    assert!(
        line.contains("go/no-go 0/2 GO · room 3 here · ROOM UNREACHABLE for 1m · 1 queued"),
        "{s}"
    );
    // The alert card: every rung, who, contact, when.
    app.observe(Event::AlertOpened {
        key: crate::app::alerts::AlertKey::Metric("p99".into()),
        severity: crate::app::alerts::Severity::Crit,
        message: "p99 high".into(),
    });
    app.update(later, Msg::Tick);
    app.update(
        later,
        Msg::Key(KeyEvent::new(KeyCode::Char('c'), KeyModifiers::NONE)),
    );
    let s = screen(&mut app, 120, 40);
    assert!(row(&s, "L1 Platform on-call").contains("#bridge"), "{s}");
    let l2 = row(&s, "L2 Service owner");
    assert!(l2.contains("+1 555 0100") && l2.contains("in 10m"), "{s}");
}

/// The wall view: the countdown in big digits at 100x30 and above (the largest that fit), the
/// phase, readiness, the open alert and who is called, the worst signals and what is due; `w`
/// switches back, and clicks select nothing there.
#[test]
fn the_wall_view_is_read_from_across_the_room_and_switches_back() {
    let mut app = busy_app();
    key(&mut app, KeyCode::Char('w'));
    assert!(app.ui.wall);
    // Rows of block elements (U+2580..U+259F) under the title line: the digits.
    let digit_rows = |s: &str| {
        let blocks = |l: &str| l.chars().any(|c| ('\u{2580}'..='\u{259f}').contains(&c));
        s.lines()
            .skip(1)
            .skip_while(|l| !blocks(l))
            .take_while(|l| blocks(l))
            .count()
    };
    // Full-size digits (8 rows of pixels, 7 drawn for these glyphs) wherever 80 columns are
    // free, twice and three times that size on a TV-sized terminal; quadrant ones (4 rows) in
    // a narrow split.
    for (w, h, rows) in [
        (100, 30, 7),
        (200, 60, 14),
        (300, 90, 21),
        (80, 24, 7),
        (60, 50, 4),
    ] {
        let s = screen(&mut app, w, h);
        assert_eq!(digit_rows(&s), rows, "{w}x{h}: digits\n{s}");
        for want in [
            "GO/NO-GO",
            "READINESS",
            "▲ CRIT",
            "WORST SIGNALS",
            "NEXT DUE",
        ] {
            assert!(s.contains(want), "{w}x{h}: {want:?} missing\n{s}");
        }
        // The worst signal leads its list.
        let worst = s
            .lines()
            .skip_while(|l| !l.contains("WORST SIGNALS"))
            .nth(1)
            .unwrap();
        assert!(worst.contains("CRIT"), "{w}x{h}: {worst}\n{s}");
    }
    let s = screen(&mut app, 100, 30);
    assert!(s.contains("calling"), "{s}");
    insta::assert_snapshot!("wall_100x30", s);
    // A click selects nothing on the wall; w goes back to the panes.
    assert_eq!(super::hit_test(&app, 10, 20), None);
    key(&mut app, KeyCode::Char('w'));
    assert!(screen(&mut app, 100, 30).contains("1 Checklist"));
}

/// The header at every length: days in the countdown, as many zone clocks as fit (every one
/// whole, the rest counted), the next phase, nothing overlapping the digits.
#[test]
fn the_header_holds_days_many_zones_and_the_next_phase_at_every_width() {
    let zones = [
        "UTC",
        "America/New_York",
        "America/Los_Angeles",
        "Europe/London",
        "Europe/Berlin",
        "Asia/Tokyo",
        "Asia/Kolkata",
        "Australia/Sydney",
        "America/Sao_Paulo",
    ];
    let now = t0() - Duration::days(3) - Duration::hours(4);
    let mut app = app_at(now);
    app.runbook.event.zones = zones.iter().map(|z| z.to_string()).collect();
    app.update(now, Msg::Tick);
    let short = |z: &str| z.rsplit('/').next().unwrap().replace('_', " ");
    for (w, h) in [
        (80, 24),
        (100, 30),
        (120, 40),
        (160, 45),
        (200, 50),
        (300, 90),
    ] {
        let s = screen(&mut app, w, h);
        let header: Vec<&str> = s
            .lines()
            .take_while(|l| !l.contains("▲") && !l.contains("ALL CLEAR"))
            .collect();
        let text = header.join("\n");
        assert!(text.contains("T-3d 04:00:00"), "{w}x{h}: the days\n{text}");
        assert!(
            text.contains("next: Pre-flight in 3d2h"),
            "{w}x{h}: next phase\n{text}"
        );
        let shown = zones.iter().filter(|z| text.contains(&short(z))).count();
        let more = text
            .split("+")
            .nth(1)
            .and_then(|t| t.split(' ').next())
            .and_then(|n| n.parse::<usize>().ok())
            .unwrap_or(0);
        if w >= 120 {
            assert_eq!(
                shown + more,
                zones.len(),
                "{w}x{h}: every zone, shown or counted\n{text}"
            );
        } else {
            assert!(shown >= 2, "{w}x{h}: {shown} zones\n{text}");
        }
        // Every zone shown carries its whole time (a weekday and HH:MM).
        for z in zones.iter().filter(|z| text.contains(&short(z))) {
            let after = text.split(&short(z)).nth(1).unwrap();
            let t: String = after.trim_start().chars().take(9).collect();
            assert!(
                t.len() == 9 && t.as_bytes()[3] == b' ' && t.as_bytes()[6] == b':',
                "{w}x{h}: {z} cut: {t:?}\n{text}"
            );
        }
    }
    // Wide enough, every zone is on screen.
    // The last digit is drawn whole: its right column (a quadrant block) is there.
    let s = screen(&mut app, 120, 40);
    assert!(s.lines().nth(1).unwrap().contains("▟▀▜▖▟▀▜▖ T-3d"), "{s}");
    let s = screen(&mut app, 200, 50);
    assert!(zones.iter().all(|z| s.contains(&short(z))), "{s}");
}

/// With rows to spare the metrics pane draws each metric's line and under it a chart (braille,
/// with its thresholds); small screens keep the one-line sparkline form. A click on a chart
/// selects its metric.
#[test]
fn metrics_grow_into_charts_when_there_is_room() {
    let mut app = busy_app();
    let braille = |l: &str| l.chars().any(|c| ('\u{2801}'..='\u{28ff}').contains(&c));
    let s = screen(&mut app, 120, 40);
    let lines: Vec<&str> = s.lines().collect();
    let p99 = lines
        .iter()
        .position(|l| l.contains("│p99 latency"))
        .unwrap();
    let rate = lines
        .iter()
        .position(|l| l.contains("│Error rate"))
        .unwrap();
    assert!(rate - p99 >= 3, "a chart's rows between metrics:\n{s}");
    assert!(lines[p99 + 1..rate].iter().any(|l| braille(l)), "{s}");
    // The click lands on the metric whose chart is under the pointer.
    app.update(app.now, Msg::Resize(120, 40));
    let x = lines[p99 + 2].chars().position(|c| c == '│').unwrap() as u16 + 5;
    let (pane, row) = super::hit_test(&app, x, (p99 + 2) as u16).unwrap();
    assert_eq!((pane, row), (Pane::Metrics, Some(1)));
    // 80x24: one line a metric, a sparkline, no chart.
    let s = screen(&mut app, 80, 24);
    assert!(!s.lines().any(braille), "{s}");
    assert!(s.contains("Requests/s") && s.contains("p99 latency"), "{s}");
}

/// The demo at 200x50, as issue 11 found it (titles cut at 26 columns beside a metrics pane
/// two thirds empty): the checklist is as wide as its titles, every title whole, and the
/// metrics pane uses its rows for charts.
#[test]
fn the_wide_demo_cuts_no_checklist_title_and_charts_its_metrics() {
    let mut app = sweep::demo_app();
    let cut = |s: &str| {
        s.lines()
            .filter(|l| l.starts_with("┃["))
            .filter(|l| l.split('┃').nth(1).unwrap().contains('…'))
            .count()
    };
    // Room for everything: no title is cut.
    let s = screen(&mut app, 250, 70);
    assert_eq!(cut(&s), 0, "{s}");
    // 200 columns: a title is cut only where the checklist already has all the width the
    // metrics pane can give (metrics keep their minimum, every column and a sparkline).
    let s = screen(&mut app, 200, 50);
    let areas = super::layout::areas(&app, ratatui::layout::Rect::new(0, 0, 200, 50)).unwrap();
    let metrics = areas.pane(Pane::Metrics).unwrap();
    assert!(cut(&s) <= 2, "{s}");
    if cut(&s) > 0 {
        assert_eq!(metrics.width, super::layout::METRICS_MIN_COLS, "{s}");
    }
    let braille = s
        .chars()
        .filter(|c| ('\u{2801}'..='\u{28ff}').contains(c))
        .count();
    assert!(braille > 100, "metric charts:\n{s}");
    insta::assert_snapshot!("demo_200x50", s);
}
