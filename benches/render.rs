//! Full-frame render time of the war room at 80x24 and 250x70, with a busy launch-day state:
//! 50 metrics with two hours of points, quotas, alarms, checklists and an escalated alert.
//! Run: `cargo bench --bench render`. Figures are recorded in BENCHMARKS.md.

use std::fmt::Write;

use chrono::{DateTime, Duration, Utc};
use criterion::{Criterion, criterion_group, criterion_main};
use ratatui::{Terminal, backend::TestBackend};
use tminus::app::App;
use tminus::app::update::{AppOptions, Msg};
use tminus::journal::MemoryJournal;
use tminus::runbook::Runbook;
use tminus::source::{AlarmState, Sample, Update};
use tminus::theme::Theme;

fn busy_runbook() -> Runbook {
    let mut y = String::from(
        "event: { name: Spring Sale Launch, starts_at: 2026-12-01T17:00:00Z, zones: [UTC, America/New_York, Europe/Berlin] }\n\
         phases:\n  - { name: Pre-flight, from: T-2h }\n  - { name: Go/no-go, from: T-15m }\n  - { name: Launch, from: T-0 }\n\
         alarms: { prefix: web- }\nmetrics:\n",
    );
    for i in 0..50 {
        writeln!(
            y,
            "  - {{ id: m{i}, title: Metric number {i}, namespace: AWS/ApplicationELB, metric: RequestCount, stat: Sum, unit: ms, warn: 500, crit: 900 }}"
        )
        .unwrap();
    }
    y.push_str("quotas:\n");
    for i in 0..6 {
        writeln!(
            y,
            "  - {{ service: lambda, code: L-0000000{i}, title: Quota {i} }}"
        )
        .unwrap();
    }
    y.push_str("checklists:\n");
    for c in 0..3 {
        writeln!(y, "  - name: List {c}\n    items:").unwrap();
        for i in 0..8 {
            writeln!(y, "      - {{ id: i{c}-{i}, title: Item {i} of list {c}, owner: platform-oncall, due: T-{}m }}", 60 - i * 5).unwrap();
        }
    }
    y.push_str("escalation:\n  levels:\n    - { after: 0m, who: Platform on-call, contact: \"#launch-bridge\" }\n    - { after: 10m, who: Service owner, contact: \"+1 555 0100\" }\n");
    serde_yaml::from_str(&y).unwrap()
}

fn busy_app() -> App {
    let t0: DateTime<Utc> = DateTime::parse_from_rfc3339("2026-12-01T17:00:00Z")
        .unwrap()
        .to_utc();
    let now = t0 + Duration::minutes(12);
    let opts = AppOptions::simulated("bench.yaml", t0, "bench");
    let mut app = App::new(
        busy_runbook(),
        opts,
        now,
        Box::new(MemoryJournal::default()),
        vec![],
    );
    for m in 0..50 {
        let points = (0..720)
            .map(|i| Sample {
                at: now - Duration::seconds(7200 - i * 10),
                value: 300.0
                    + ((i as f64 + m as f64) * 0.1).sin() * 200.0
                    + if m == 3 { 500.0 } else { 0.0 },
            })
            .collect();
        app.update(
            now,
            Msg::Source(Update::Samples {
                metric: m,
                points,
                settled_to: None,
            }),
        );
    }
    for q in 0..6 {
        let usage = Some(100.0 + 150.0 * q as f64);
        app.update(
            now,
            Msg::Source(Update::Quota {
                quota: q,
                value: Some(1000.0),
                usage,
                at: now,
            }),
        );
    }
    for a in 0..5 {
        let state = if a == 0 {
            AlarmState::Alarm
        } else {
            AlarmState::Ok
        };
        let name = format!("web-alarm-{a}");
        app.update(
            now,
            Msg::Source(Update::Alarm {
                name,
                state,
                reason: "Threshold Crossed".into(),
                changed_at: now,
            }),
        );
    }
    app.update(now + Duration::minutes(11), Msg::Tick);
    app
}

fn render(c: &mut Criterion) {
    let app = busy_app();
    let theme = Theme::dark();
    for (w, h) in [(80u16, 24u16), (250, 70)] {
        let mut terminal = Terminal::new(TestBackend::new(w, h)).unwrap();
        c.bench_function(&format!("full frame {w}x{h}"), |b| {
            b.iter(|| {
                terminal
                    .draw(|f| tminus::ui::draw(f, &app, &theme))
                    .unwrap();
            })
        });
    }
}

criterion_group!(benches, render);
criterion_main!(benches);
