use chrono::{DateTime, Duration, Utc};

use super::*;
use crate::journal::{Event, Record};
use crate::record::Entry;
use crate::source::{Sample, Update};

const RUNBOOK: &str = r##"
event: { name: "Spring <Sale>", starts_at: 2026-12-01T17:00:00Z }
phases:
  - { name: Go/no-go, from: T-15m }
  - { name: Launch, from: T-0 }
metrics:
  - { id: p99, title: p99 latency, namespace: AWS/ApplicationELB, metric: TargetResponseTime, stat: p99, unit: ms, warn: 500, crit: 900 }
  - { id: hosts, title: Healthy hosts, namespace: AWS/ApplicationELB, metric: HealthyHostCount, stat: Minimum, warn: 10, crit: 5, direction: below }
quotas:
  - { service: lambda, code: L-B99A9384, title: Lambda concurrency }
checklists:
  - name: Go/no-go
    items:
      - { id: go, title: Go decision, owner: lead, due: T-5m }
      - { id: freeze, title: Freeze deploys, due: T-10m }
      - { id: flag, title: Flip the flag, due: T+1m }
escalation:
  levels:
    - { after: 0m, who: Platform on-call, contact: "#bridge" }
    - { after: 2m, who: Service owner, contact: "+1 555 0100" }
"##;

fn t(offset_secs: i64) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-12-01T17:00:00Z")
        .unwrap()
        .to_utc()
        + Duration::seconds(offset_secs)
}

fn rec(at: i64, who: &str, event: Event) -> Record {
    Record {
        ts: t(at),
        operator: who.into(),
        room: None,
        event,
    }
}

fn fixture() -> (Runbook, Vec<Record>, Vec<Entry>) {
    let rb = crate::runbook::parse("r.yaml", RUNBOOK).unwrap();
    let key = AlertKey::Metric("p99".into());
    let records = vec![
        rec(
            -600,
            "jane",
            Event::SessionStarted {
                runbook: "r.yaml".into(),
                event_name: "Spring <Sale>".into(),
                t0: t(0),
                mode: "live".into(),
                seed: None,
                rehearsal: false,
                speed: None,
                surprise: false,
            },
        ),
        rec(
            -600,
            "jane",
            Event::PhaseEntered {
                phase: "Go/no-go".into(),
            },
        ),
        rec(
            -540,
            "jane",
            Event::ItemSkipped {
                item: "freeze".into(),
                reason: "done last week".into(),
            },
        ),
        rec(
            -360,
            "jane",
            Event::ItemDone {
                item: "go".into(),
                auto: false,
            },
        ),
        rec(
            0,
            "jane",
            Event::PhaseEntered {
                phase: "Launch".into(),
            },
        ),
        rec(
            60,
            "jane",
            Event::AlertOpened {
                key: key.clone(),
                severity: Severity::Warn,
                message: "p99 latency 610 ms >= 500".into(),
            },
        ),
        rec(
            60,
            "jane",
            Event::AlertEscalated {
                key: key.clone(),
                level: 0,
                who: "Platform on-call".into(),
                contact: "#bridge".into(),
            },
        ),
        rec(
            90,
            "jane",
            Event::AlertSeverity {
                key: key.clone(),
                severity: Severity::Crit,
                message: "p99 latency 950 ms >= 900".into(),
            },
        ),
        rec(
            120,
            "omar",
            Event::Note {
                text: "rolling back the cache change".into(),
            },
        ),
        rec(
            180,
            "jane",
            Event::AlertEscalated {
                key: key.clone(),
                level: 1,
                who: "Service owner".into(),
                contact: "+1 555 0100".into(),
            },
        ),
        rec(210, "omar", Event::AlertAcknowledged { key: key.clone() }),
        rec(360, "jane", Event::AlertClosed { key }),
        rec(600, "jane", Event::SessionEnded {}),
    ];
    let sample = |s: i64, v: f64| Sample { at: t(s), value: v };
    let entries = vec![
        Entry {
            at: t(-60),
            update: Update::Samples {
                metric: 0,
                points: vec![sample(-120, 180.0), sample(-60, 200.0)],
                settled_to: None,
            },
        },
        Entry {
            at: t(180),
            update: Update::Samples {
                metric: 0,
                points: vec![sample(60, 610.0), sample(120, 1234.0), sample(180, 700.0)],
                settled_to: None,
            },
        },
        Entry {
            at: t(180),
            update: Update::Samples {
                metric: 1,
                points: vec![sample(60, 12.0), sample(120, 9.0), sample(180, 11.0)],
                settled_to: None,
            },
        },
        Entry {
            at: t(100),
            update: Update::Quota {
                quota: 0,
                value: Some(1000.0),
                usage: Some(600.0),
                at: t(100),
            },
        },
        Entry {
            at: t(200),
            update: Update::Quota {
                quota: 0,
                value: None,
                usage: Some(900.0),
                at: t(200),
            },
        },
    ];
    (rb, records, entries)
}

#[test]
fn the_review_has_the_figures() {
    let (rb, records, entries) = fixture();
    let r = build(&rb, &records, Some(&entries));
    assert_eq!(r.operators, ["jane", "omar"]);
    assert_eq!(r.alerts.len(), 1);
    let a = &r.alerts[0];
    assert_eq!(a.worst, Severity::Crit);
    assert_eq!(a.acked_after, Some(150));
    assert_eq!(a.acked_by.as_deref(), Some("omar"));
    assert_eq!(a.closed_after, Some(300));
    assert_eq!(a.level, Some(2));
    assert_eq!(r.metrics[0].peak, Some((t(120), 1234.0)));
    assert_eq!(r.metrics[0].breaches, 1);
    // Lower is worse for healthy hosts.
    assert_eq!(r.metrics[1].peak, Some((t(120), 9.0)));
    assert_eq!(r.quotas[0].min_headroom, Some((t(200), 10.0)));

    let md = markdown::render(&r);
    // Escaped: a bare <Sale> is an HTML tag to a Markdown renderer, and would vanish.
    assert!(md.starts_with("# Event review: Spring \\<Sale\\>"), "{md}");
    assert!(
        md.contains("| p99 latency | CRIT | T+1m | 2m30s by omar | 5m | L2 |"),
        "{md}"
    );
    assert!(md.contains("| p99 latency | 1234 ms | T+2m | 1 |"), "{md}");
    assert!(md.contains("| Healthy hosts | 9 | T+2m | 0 |"), "{md}");
    assert!(
        md.contains("| Lambda concurrency (L-B99A9384) | 10.0% | T+3m20s | 0 |"),
        "{md}"
    );
    assert!(
        md.contains("3 items: 1 on time, 0 late, 1 skipped, 1 never done, 0 not due yet."),
        "{md}"
    );
    assert!(
        md.contains("- Freeze deploys (due T-10m): skipped: done last week"),
        "{md}"
    );
    assert!(
        md.contains("- T+2m omar: rolling back the cache change"),
        "{md}"
    );
    assert!(
        md.contains("**note: rolling back the cache change** — omar"),
        "{md}"
    );
    assert!(
        md.contains("- Phases: Go/no-go at T-10m, Launch at T+0"),
        "{md}"
    );
}

#[test]
fn the_html_is_self_contained_escaped_and_has_charts() {
    let (rb, records, entries) = fixture();
    let html = html::render(&build(&rb, &records, Some(&entries)));
    assert!(html.starts_with("<!doctype html>"));
    assert!(
        html.contains("<title>Event review: Spring &lt;Sale&gt;</title>"),
        "{html}"
    );
    assert!(!html.contains("<Sale>"));
    assert!(
        !html.contains("<script") && !html.contains("http://")
            || html.contains("http://www.w3.org/2000/svg")
    );
    let r = build(&rb, &records, Some(&entries));
    let with_data = r.metrics.iter().filter(|m| !m.points.is_empty()).count()
        + r.quotas.iter().filter(|q| !q.headroom.is_empty()).count();
    assert!(with_data >= 3, "metrics and quota headroom have data");
    assert_eq!(
        html.matches("<svg").count(),
        with_data,
        "a chart per metric and quota with data"
    );
    assert!(html.contains("class=\"series\""));
    assert!(html.contains(">T-0</text>"), "the T-0 marker");
    // Alerts, acknowledgements and notes are marked on the charts, with what they were.
    assert!(html.contains("class=\"mark opened\""), "{html}");
    assert!(html.contains("<title>"), "markers say what happened");
    assert!(html.contains("crit 900") && html.contains("warn 500"));
    // Real HTML: every section a table or a list, nothing preformatted.
    assert!(!html.contains("<pre>"), "{html}");
    for h in ["Timeline", "Checklist", "Notes", "Quota headroom", "Alerts"] {
        assert!(html.contains(&format!("<h2>{h}</h2>")), "{h}");
    }
    assert_eq!(
        html.matches("<table>").count(),
        html.matches("<thead>").count()
    );
}

#[test]
fn without_a_recording_the_review_says_so() {
    let (rb, records, _) = fixture();
    let r = build(&rb, &records, None);
    let md = markdown::render(&r);
    assert!(
        md.contains("| p99 latency | no data recorded | — | 1 |"),
        "{md}"
    );
    assert_eq!(html::render(&r).matches("<svg").count(), 0);
}

#[test]
fn the_war_room_the_report_and_the_score_agree_on_an_alert_reopened_after_a_crash() {
    // A journal cut short by a crash: the alert opened, the war room died before closing it,
    // and the restarted one opened it again. Before, the war room replaced the first, the
    // score closed it where the second opened, and the report left it "still open".
    let (rb, mut records, _) = fixture();
    let key = AlertKey::Metric("hosts".into());
    let opened = |at| {
        rec(
            at,
            "jane",
            Event::AlertOpened {
                key: key.clone(),
                severity: Severity::Warn,
                message: "hosts 8".into(),
            },
        )
    };
    records.push(opened(400));
    records.push(opened(460));
    records.push(rec(520, "jane", Event::AlertClosed { key: key.clone() }));
    // (opened, closed after), in seconds, for the alerts on `key`.
    let spans = |alerts: &[crate::vocab::Alert]| -> Vec<(i64, Option<i64>)> {
        alerts
            .iter()
            .filter(|a| a.key == key)
            .map(|a| {
                (
                    (a.opened_at - t(0)).num_seconds(),
                    a.closed_at.map(|c| (c - a.opened_at).num_seconds()),
                )
            })
            .collect()
    };
    let shared = spans(&crate::journal::alert_episodes(&records));
    assert_eq!(shared, [(400, Some(60)), (460, Some(60))]);
    let report = build(&rb, &records, None);
    let rows: Vec<(i64, Option<i64>)> = report
        .alerts
        .iter()
        .filter(|a| a.what == "Healthy hosts")
        .map(|a| ((a.opened - t(0)).num_seconds(), a.closed_after))
        .collect();
    assert_eq!(rows, shared, "the report reads the same episodes");
    // The war room, restarted on this journal, shows nothing open for it either.
    let app = crate::app::App::new(
        rb.clone(),
        crate::app::update::AppOptions {
            mode: crate::app::Mode::Live,
            ..crate::app::update::AppOptions::simulated("r.yaml", t(0), "jane")
        },
        t(600),
        Box::new(crate::journal::MemoryJournal::default()),
        records.clone(),
    );
    assert_eq!(spans(&app.alerts), shared);
}

#[test]
fn the_plan_the_war_room_made_is_set_against_what_happened() {
    let (rb, records, mut entries) = fixture();
    // The war room's plan projected 600 at the peak (30 x 20); the session reached 900.
    let readings = crate::capacity::Readings {
        quotas: vec![crate::capacity::QuotaReading {
            value: Some(1000.0),
            peak: Some(crate::capacity::Peak {
                value: 30.0,
                at: t(0),
            }),
            ..Default::default()
        }],
        metrics: vec![Default::default(); rb.metrics.len()],
        ..Default::default()
    };
    let settings = crate::capacity::Settings::new(&rb, Some(20.0), None);
    let plan = crate::capacity::plan(&rb, t(0), t(0), &settings, &readings);
    entries.insert(
        0,
        Entry {
            at: t(0),
            update: Update::Plan(Box::new(plan)),
        },
    );
    let r = build(&rb, &records, Some(&entries));
    let row = r
        .plan
        .iter()
        .find(|p| p.what.contains("L-B99A9384"))
        .expect("the quota's row");
    assert_eq!(
        (row.forecast, row.projected, row.observed),
        (20.0, 600.0, Some(900.0))
    );
    let html = html::render(&r);
    assert!(html.contains("<h2>Plan against reality</h2>"), "{html}");
    assert!(
        html.contains("<td class=\"num\">1.50</td>"),
        "observed / projected: {html}"
    );
    // Without a plan there is no section.
    let (rb, records, entries) = fixture();
    assert!(!html::render(&build(&rb, &records, Some(&entries))).contains("Plan against reality"));
}

#[test]
fn the_review_lists_what_to_scale_down() {
    let (rb, mut records, entries) = fixture();
    records.push(rec(
        700,
        "jane",
        Event::QuotaIncreaseRequested {
            service: "lambda".into(),
            code: "L-B99A9384".into(),
            current: Some(1000.0),
            desired: 5000.0,
        },
    ));
    let r = build(&rb, &records, Some(&entries));
    let md = markdown::render(&r);
    assert!(md.contains("## Scale-down"), "{md}");
    assert!(md.contains("| L-B99A9384 (lambda) | 1000 | 5000 |"), "{md}");
    assert!(html::render(&r).contains("<h2>Scale-down</h2>"));
    let (rb, records, entries) = fixture();
    assert!(!markdown::render(&build(&rb, &records, Some(&entries))).contains("Scale-down"));
}

#[test]
fn the_review_has_the_go_no_go_poll_as_it_ended_and_every_status_update() {
    let yaml = format!(
        "{RUNBOOK}roles:\n  - {{ id: ic, name: Incident commander, votes: true }}\n  - {{ id: web, name: Web owner, votes: true }}\ngo_no_go: {{ phase: Go/no-go }}\n"
    );
    let rb = crate::runbook::parse("r.yaml", &yaml).unwrap();
    let (_, mut records, _) = fixture();
    records.retain(|r| matches!(r.event, Event::SessionStarted { .. }));
    use crate::journal::Vote;
    let vote = |at, who: &str, role: &str, vote, reason: &str| {
        rec(
            at,
            who,
            Event::VoteCast {
                role: role.into(),
                vote,
                reason: reason.into(),
            },
        )
    };
    records.extend([
        rec(-590, "jane", Event::RoleTaken { role: "ic".into() }),
        rec(-580, "raj", Event::RoleTaken { role: "web".into() }),
        vote(-500, "jane", "ic", Vote::Go, ""),
        vote(-450, "raj", "web", Vote::NoGo, "db migration | running"),
        vote(-400, "raj", "web", Vote::Go, "migration done"),
        rec(
            -300,
            "raj",
            Event::StatusUpdate {
                conditions: "all green".into(),
                actions: "none".into(),
                needs: "nothing".into(),
            },
        ),
        rec(60, "jane", Event::SessionEnded {}),
    ]);
    let report = build(&rb, &records, None);
    assert_eq!(report.team.verdict.as_deref(), Some("GO"));
    assert_eq!(report.team.votes_cast, 3);
    let web = report
        .team
        .votes
        .iter()
        .find(|v| v.role == "Web owner")
        .unwrap();
    assert_eq!(web.vote, Some(Vote::Go), "the changed vote stands");
    assert_eq!(web.by, "raj");
    let md = markdown::render(&report);
    assert!(md.contains("## Go/no-go"), "{md}");
    assert!(
        md.contains("Verdict at the end: **GO** (3 vote(s) cast"),
        "{md}"
    );
    assert!(
        md.contains("| Web owner | GO | migration done | raj |"),
        "{md}"
    );
    assert!(md.contains("| all green | none | nothing |"), "{md}");
    // The NO-GO stays on the timeline, its pipe escaped for the table-free line.
    assert!(
        md.contains("voted NO-GO as Web owner: db migration"),
        "{md}"
    );
    let html = html::render(&report);
    assert!(html.contains("<h2>Go/no-go</h2>") && html.contains("<h2>Status updates</h2>"));
    // A runbook without a poll, and nobody posting updates: no team section at all.
    let (rb, records, _) = fixture();
    let plain = build(&rb, &records, None);
    assert_eq!(plain.team, team::Team::default());
    assert!(!markdown::render(&plain).contains("## Go/no-go"));
}
