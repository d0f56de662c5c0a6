//! Issue 11's sweep: the war room drawn at every shape a terminal takes (80x24 to 300x90,
//! and tmux splits such as 100x30 and 60x50), with the bundled demo, this file's busy test
//! runbook and a runbook written elsewhere (long titles, many items, many quotas and alarms,
//! a long timeline). Each screen is read back from the buffer: which panes cut text with "…",
//! which hide list lines, which keep rows empty; and the rules the issue asks for are checked
//! against what was drawn.

use super::*;
use crate::journal::Event;
use crate::ui::layout::{self, Arrangement};
use ratatui::layout::Rect;

const SIZES: [(u16, u16); 14] = [
    (80, 24),
    (60, 50),
    (80, 40),
    (100, 30),
    (100, 60),
    (120, 40),
    (140, 35),
    (150, 40),
    (160, 45),
    (180, 30),
    (200, 50),
    (220, 60),
    (250, 70),
    (300, 90),
];

/// A runbook as another team writes one: wordy titles, long owner handles, a dozen metrics,
/// nine quotas.
fn foreign_runbook() -> String {
    let mut y = String::from(
        "event:\n  name: Checkout re-platform cut-over (EU and US)\n  starts_at: 2026-12-01T17:00:00Z\n  ends_at: T+6h\n  zones: [UTC, Europe/Dublin, America/Chicago]\n",
    );
    y.push_str("phases:\n  - { name: Readiness, from: T-3h }\n  - { name: Cut-over, from: T-0 }\n");
    y.push_str("metrics:\n");
    let metric_titles = [
        "Checkout API p99 latency (all regions)",
        "Checkout API 5xx",
        "Orders written per minute",
        "Payment authorisations declined",
        "Inventory reservation queue depth",
        "Search p95",
        "Cart service CPU",
        "Bedrock InvokeModel throttles",
        "Session store evictions per minute",
        "CDN origin errors",
        "Webhook delivery lag (seconds)",
        "Fraud scoring timeouts",
    ];
    for (i, t) in metric_titles.iter().enumerate() {
        y.push_str(&format!(
            "  - {{ id: m{i}, title: \"{t}\", namespace: Checkout, metric: M{i}, stat: Average, period: 60, unit: ms, warn: {}, crit: {} }}\n",
            500 + i * 10,
            900 + i * 10
        ));
    }
    y.push_str("alarms:\n  prefix: checkout-\n");
    y.push_str("quotas:\n");
    let quota_titles = [
        "Lambda concurrent executions (eu-west-1)",
        "EC2 On-Demand Standard (A, C, D, H, I, M, R, T, Z) instances vCPUs",
        "DynamoDB table-level write throughput for orders-v2",
        "Amazon Bedrock InvokeModel requests per minute for Claude",
        "API Gateway throttle rate per account",
        "ALB targets per load balancer",
        "SQS in-flight messages",
        "ElastiCache nodes per cluster",
        "Step Functions StartExecution rate",
    ];
    for (i, t) in quota_titles.iter().enumerate() {
        y.push_str(&format!(
            "  - {{ service: svc{i}, code: L-{i:08}, title: \"{t}\", warn_below: 30%, crit_below: 10% }}\n"
        ));
    }
    y.push_str("checklists:\n");
    let lists = [
        ("Readiness", "Readiness", 8),
        ("Cut-over", "Cut-over", 7),
        ("Rollback drill", "", 5),
    ];
    let titles = [
        "Confirm the change advisory board approval is recorded against CHG-20931",
        "Pre-warm the EU load balancers with AWS (support case 1234567890 acknowledged)",
        "Scale checkout-api to 60 tasks",
        "Freeze deploys on every pipeline that touches checkout, payments or inventory",
        "Raise the orders-v2 table's write capacity to 40k WCU and confirm no throttles",
        "DNS TTL lowered to 60s",
        "Announce the cut-over window in #status and on the status page",
        "Run the synthetic checkout canary from three regions and compare p99",
    ];
    let mut n = 0;
    for (name, phase, count) in lists {
        y.push_str(&format!("  - name: {name}\n"));
        if !phase.is_empty() {
            y.push_str(&format!("    phase: {phase}\n"));
        }
        y.push_str("    items:\n");
        for _ in 0..count {
            let title = titles[n % titles.len()];
            y.push_str(&format!(
                "      - {{ id: i{n}, title: \"{title}\", owner: payments-platform-oncall-secondary, due: T-{}m }}\n",
                200 - n * 7
            ));
            n += 1;
        }
    }
    y
}

pub(super) fn foreign_app(alarms: usize, notes: usize) -> App {
    let runbook: Runbook = serde_yaml::from_str(&foreign_runbook()).unwrap();
    let now = t0() - Duration::minutes(20);
    let opts = AppOptions::simulated("elsewhere.yaml", t0(), "sam");
    let mut app = App::new(
        runbook,
        opts,
        now,
        Box::new(MemoryJournal::default()),
        vec![],
    );
    app.update(now, Msg::Tick);
    for i in 0..app.runbook.metrics.len() {
        feed(&mut app, i, now, move |k| {
            200.0 + ((k + i as i64) % 11) as f64 * 9.0
        });
    }
    for q in 0..app.runbook.quotas.len() {
        app.update(
            now,
            Msg::Source(Update::Quota {
                quota: q,
                value: Some(1000.0),
                usage: Some(100.0 + q as f64 * 90.0),
                at: now,
            }),
        );
    }
    for a in 0..alarms {
        app.update(
            now,
            Msg::Source(Update::Alarm {
                name: format!("checkout-prod-eu-west-1-api-gateway-5xx-rate-high-{a}"),
                state: if a % 5 == 0 {
                    AlarmState::Alarm
                } else {
                    AlarmState::Ok
                },
                reason: "Threshold Crossed: 1 datapoint [12.0] was greater than 10.0".into(),
                changed_at: now - Duration::minutes(4),
            }),
        );
    }
    for k in 0..notes {
        app.act(Event::Note {
            text: format!("bridge note {k}: payments confirmed the EU acquirer is warm"),
        });
    }
    app
}

pub(super) fn demo_app() -> App {
    let rb = crate::runbook::parse("demo.yaml", crate::run::DEMO_RUNBOOK_TEXT).unwrap();
    let now = rb.event.starts_at - Duration::minutes(3);
    let opts = AppOptions::simulated("demo.yaml", rb.event.starts_at, "jane");
    let mut app = App::new(rb, opts, now, Box::new(MemoryJournal::default()), vec![]);
    app.update(now, Msg::Tick);
    for i in 0..app.runbook.metrics.len() {
        feed(&mut app, i, now, |k| 100.0 + (k % 9) as f64);
    }
    app
}

/// One pane as drawn.
#[derive(Debug)]
struct Seen {
    pane: Pane,
    rect: Rect,
    /// Rows of the pane showing "…": text cut short.
    cut: usize,
    /// List lines that did not fit.
    hidden: usize,
    /// Rows with nothing on them.
    empty: usize,
}

fn row_text(buf: &Buffer, y: u16, x0: u16, x1: u16) -> String {
    (x0..x1).map(|x| buf[(x, y)].symbol()).collect()
}

fn seen(app: &App, buf: &Buffer, areas: &layout::Areas) -> Vec<Seen> {
    areas
        .body
        .iter()
        .map(|(pane, rect)| {
            let inner = Rect {
                x: rect.x + 1,
                y: rect.y + 1,
                width: rect.width.saturating_sub(2),
                height: rect.height.saturating_sub(2),
            };
            let rows: Vec<String> = (inner.y..inner.bottom())
                .map(|y| row_text(buf, y, inner.x, inner.right()))
                .collect();
            let h = usize::from(inner.height);
            let cut = rows.iter().filter(|r| r.contains('…')).count();
            let (hidden, empty) = match pane {
                Pane::Metrics => {
                    let n = app.visible_metrics().len();
                    match crate::ui::metrics::chart_rows(n, inner.height) {
                        // A chart's rows are its own even where its line is flat.
                        Some(c) => (0, h.saturating_sub(n * usize::from(c))),
                        None => (n.saturating_sub(h), h.saturating_sub(n)),
                    }
                }
                _ => (
                    crate::ui::row_lines(app, *pane).len().saturating_sub(h),
                    rows.iter().filter(|r| r.trim().is_empty()).count(),
                ),
            };
            Seen {
                pane: *pane,
                rect: *rect,
                cut,
                hidden,
                empty,
            }
        })
        .collect()
}

fn overlaps(a0: u16, a1: u16, b0: u16, b1: u16) -> bool {
    a0 < b1 && b0 < a1
}

#[derive(Debug, Clone, Copy)]
enum Side {
    Above,
    Below,
    Left,
    Right,
}

/// The panes sharing `p`'s left or right edge.
fn touching<'a>(panes: &'a [Seen], p: &Seen, side: Side) -> Vec<&'a Seen> {
    panes
        .iter()
        .filter(|n| match side {
            Side::Left => n.rect.right() == p.rect.x,
            Side::Right => n.rect.x == p.rect.right(),
            Side::Above | Side::Below => false,
        })
        .filter(|n| overlaps(n.rect.y, n.rect.bottom(), p.rect.y, p.rect.bottom()))
        .collect()
}

/// The panes across `p`'s top or bottom edge: every pane with an edge on that line.
fn across<'a>(panes: &'a [Seen], p: &Seen, side: Side) -> Vec<&'a Seen> {
    panes
        .iter()
        .filter(|n| match side {
            Side::Above => n.rect.bottom() == p.rect.y,
            Side::Below => n.rect.y == p.rect.bottom(),
            Side::Left | Side::Right => false,
        })
        .collect()
}

/// "A few" empty rows: what is left when rows cannot be split any finer.
const FEW: usize = 3;

/// The rules on one screen; an empty list when they hold.
fn broken_rules(app: &mut App, w: u16, h: u16) -> Vec<String> {
    let area = Rect::new(0, 0, w, h);
    let buf = render(app, &Theme::default(), w, h);
    let app = &*app;
    let areas = layout::areas(app, area).unwrap();
    let panes = seen(app, &buf, &areas);
    let mut broken = Vec::new();
    for p in &panes {
        // Rows: a pane that hides lines has, across the edge above it and the one below it,
        // a pane without spare rows: rows move by moving an edge, and every pane on the far
        // side of it gives them up (quotas beside alarms give up rows together).
        if p.hidden > 0 {
            for side in [Side::Above, Side::Below] {
                let touching = across(&panes, p, side);
                if !touching.is_empty() && touching.iter().all(|n| n.empty > FEW) {
                    broken.push(format!(
                        "{:?} hides {} lines while every pane {side:?} keeps rows empty: {:?}",
                        p.pane,
                        p.hidden,
                        touching
                            .iter()
                            .map(|n| (n.pane, n.empty))
                            .collect::<Vec<_>>()
                    ));
                }
            }
        }
        // Columns: a pane that cuts text has, on each side, a neighbour no wider than it
        // needs (a column of stacked panes is as wide as the widest of them needs).
        if p.cut > 0 {
            for side in [Side::Left, Side::Right] {
                let spare: Vec<(Pane, u16, u16)> = touching(&panes, p, side)
                    .iter()
                    .map(|n| {
                        (
                            n.pane,
                            n.rect.width,
                            layout::want_cols(app, n.pane, areas.arrangement),
                        )
                    })
                    .collect();
                if !spare.is_empty() && spare.iter().all(|(_, w, want)| w > want) {
                    broken.push(format!(
                        "{:?} cuts {} rows while every pane {side:?} is wider than it needs \
                         (pane, width, needs): {spare:?}",
                        p.pane, p.cut
                    ));
                }
            }
        }
    }
    if !broken.is_empty() {
        broken.push(text(&buf));
    }
    broken
}

#[test]
fn no_pane_keeps_space_another_needs_at_any_size() {
    let mut apps: Vec<(&str, App)> = vec![
        ("demo", demo_app()),
        ("busy", busy_app()),
        ("elsewhere", foreign_app(14, 40)),
        ("elsewhere, quiet", foreign_app(0, 0)),
    ];
    let mut failures = Vec::new();
    for (name, app) in &mut apps {
        for (w, h) in SIZES {
            for b in broken_rules(app, w, h) {
                failures.push(format!("{name} at {w}x{h}: {b}"));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Where everything fits, nothing is cut: the demo and the busy runbook on big screens, and
/// the runbook from elsewhere once it has the width (the timeline's long lines aside: they
/// are as wide as the terminal).
#[test]
fn text_is_cut_only_when_it_does_not_fit() {
    let cases: Vec<(&str, App, (u16, u16))> = vec![
        ("demo", demo_app(), (250, 70)),
        ("demo", demo_app(), (300, 90)),
        ("busy", busy_app(), (160, 45)),
        ("busy", busy_app(), (300, 90)),
        ("elsewhere", foreign_app(0, 0), (300, 90)),
    ];
    for (name, mut app, (w, h)) in cases {
        let buf = render(&mut app, &Theme::default(), w, h);
        let areas = layout::areas(&app, Rect::new(0, 0, w, h)).unwrap();
        for s in seen(&app, &buf, &areas) {
            if s.pane != Pane::Timeline {
                assert_eq!(s.cut, 0, "{name} at {w}x{h}: {s:?}\n{}", text(&buf));
            }
        }
        assert_ne!(areas.arrangement, Arrangement::Stacked);
    }
}

/// A title the pane had to cut is whole in the zoom view's detail, with what its row has no
/// room for (owner, due, id).
#[test]
fn the_full_text_of_a_cut_row_is_one_key_away() {
    let mut app = foreign_app(14, 40);
    let s = screen(&mut app, 80, 24);
    let long = "Pre-warm the EU load balancers with AWS (support case 1234567890 acknowledged)";
    assert!(!s.contains(long), "{s}");
    // The second item of the first list is the long one.
    app.ui.focus = Some(Pane::Checklist);
    key(&mut app, KeyCode::Char('j'));
    key(&mut app, KeyCode::Char('z'));
    let s = screen(&mut app, 80, 24);
    let whole = flat(&s);
    assert!(whole.contains("selected, in full"), "{s}");
    assert!(
        whole.contains("Pre-warm the EU load balancers with AWS (support case 1234567890"),
        "{s}"
    );
    assert!(
        whole.contains("owner payments-platform-oncall-secondary"),
        "{s}"
    );
    // A timeline line cut at the terminal's width, whole below the zoomed timeline.
    key(&mut app, KeyCode::Esc);
    app.ui.focus = Some(Pane::Timeline);
    key(&mut app, KeyCode::Char('z'));
    let s = screen(&mut app, 60, 50);
    assert!(
        flat(&s).contains("bridge note 39: payments confirmed the EU acquirer is warm"),
        "{s}"
    );
    assert!(s.contains("by sam"), "{s}");
}

/// A screen's lines without their borders, joined: wrapped text reads as one.
fn flat(s: &str) -> String {
    s.lines()
        .map(|l| l.trim_matches(|c| c == '│' || c == ' '))
        .collect::<Vec<_>>()
        .join(" ")
}
