//! Detection latency, measured (a benchmark, not a test: `scripts/bench-detection` runs it).
//!
//! The real CloudWatch source polls the CBOR gateway in front of moto on loopback; the gateway
//! answers from raw datapoints published in real time, like CloudWatch: each datapoint visible
//! only 0.6 of a period after it was measured (late data), buckets still filling answered with
//! what has arrived. The updates are folded into the real `App` on the wall clock.
//!
//! Two metrics per run: `lat` (Maximum, warn 100, crit 200) steps from 50 to 500 at a bucket
//! boundary B; `orders` (Sum, `direction: below`, warn P/2) gets one point of 1 a second all
//! along, so every bucket still filling reads low: an alert on it is a false alert from a
//! partial bucket. Latency is measured from the close of the bucket that completes the breach
//! ("2 of 3": [B+P, B+2P) closes at B+2P) to the alert opening in the app's state.

mod support;

use std::sync::mpsc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use serde_json::json;
use support::Emulator;
use tminus::app::alerts::AlertKey;
use tminus::app::update::{AppOptions, Msg};
use tminus::app::{App, Mode};
use tminus::clock::WallClock;
use tminus::journal::MemoryJournal;
use tminus::source::aws::metrics::CloudWatchSource;
use tminus::source::{Source, Update};

/// `orders` warns at half a full bucket (one point of 1 a second): a bucket judged while less
/// than half filled would alert.
fn runbook(period: u32, settle: Option<&str>) -> tminus::runbook::Runbook {
    let warn = period / 2;
    let settle = settle.map(|s| format!(", settle: {s}")).unwrap_or_default();
    let y = format!(
        "event: {{ name: bench, starts_at: 2026-12-01T17:00:00Z }}\nmetrics:\n  - {{ id: lat, namespace: Tminus/Bench, metric: Latency, stat: Maximum, period: {period}, warn: 100, crit: 200{settle} }}\n  - {{ id: orders, namespace: Tminus/Bench, metric: Orders, stat: Sum, period: {period}, direction: below, warn: {warn}{settle} }}\n"
    );
    tminus::runbook::parse("bench.yaml", &y).unwrap()
}

fn publish(e: &Emulator, metric: &str, points: &[(f64, f64, f64)]) {
    let points: Vec<_> = points
        .iter()
        .map(|(t, v, visible)| json!({ "t": t, "v": v, "visible_at": visible }))
        .collect();
    e.datapoints(json!({ "namespace": "Tminus/Bench", "metric": metric, "points": points }));
}

struct Trial {
    /// Seconds from the deciding bucket's close to the alert, or None if it never opened.
    latency: Option<f64>,
    false_alerts: usize,
}

/// One step in `lat` at the next bucket boundary at least `lead` seconds away; data lands
/// `late` seconds after it is measured.
fn trial(e: &Emulator, period: i64, settle: Option<&str>, late: f64, lead: i64) -> Trial {
    let rb = runbook(period as u32, settle);
    let now = Utc::now().timestamp();
    let step_at = (now + lead).div_euclid(period) * period + period;
    let deciding_close = step_at + 2 * period;
    // History: half an hour, visible at once.
    let history: Vec<f64> = (0..1800).map(|s| (now - 1800 + s) as f64).collect();
    publish(
        e,
        "Latency",
        &history.iter().map(|t| (*t, 50.0, *t)).collect::<Vec<_>>(),
    );
    publish(
        e,
        "Orders",
        &history.iter().map(|t| (*t, 1.0, *t)).collect::<Vec<_>>(),
    );

    let (stop_tx, stop_rx) = mpsc::channel::<()>();
    let result = std::thread::scope(|scope| {
        // Real time publishing: one point a second per metric, each visible `late` s after.
        scope.spawn(move || {
            let mut t = Utc::now().timestamp() as f64;
            while stop_rx.try_recv().is_err() {
                let v = if (t as i64) >= step_at { 500.0 } else { 50.0 };
                publish(e, "Latency", &[(t, v, t + late)]);
                publish(e, "Orders", &[(t, 1.0, t + late)]);
                t += 1.0;
                let wait = t - Utc::now().timestamp_millis() as f64 / 1000.0;
                if wait > 0.0 {
                    std::thread::sleep(Duration::from_secs_f64(wait));
                }
            }
        });
        let result = observe(e, &rb, now, period, deciding_close);
        let _ = stop_tx.send(());
        result
    });
    // The next trial starts from a clean store, once the publisher has stopped.
    e.reset();
    result
}

/// Runs the CloudWatch source into an app until `lat` alerts (or long after it should have).
fn observe(
    e: &Emulator,
    rb: &tminus::runbook::Runbook,
    now: i64,
    period: i64,
    deciding_close: i64,
) -> Trial {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let (tx, mut rx) = tokio::sync::mpsc::channel(1024);
        let clock = std::sync::Arc::new(WallClock);
        // At T-0: every metric at its own period.
        let source = Box::new(CloudWatchSource::new(
            e.aws(),
            rb.clone(),
            chrono::Utc::now(),
            clock,
            None,
        ));
        let task = tokio::spawn(source.run(tx));
        let mut app = App::new(
            rb.clone(),
            AppOptions {
                runbook_path: "bench.yaml".into(),
                t0: DateTime::parse_from_rfc3339("2026-12-01T17:00:00Z")
                    .unwrap()
                    .to_utc(),
                operator: "bench".into(),
                mode: Mode::Live,
                allow_writes: false,
                speed: 1.0,
                data_label: None,
                seat: Default::default(),
                room: None,
            },
            Utc::now(),
            Box::new(MemoryJournal::default()),
            Vec::new(),
        );
        let mut give_up = Instant::now()
            + Duration::from_secs((deciding_close - now + 4 * period + 60).max(0) as u64);
        let lat = AlertKey::Metric("lat".into());
        let orders = AlertKey::Metric("orders".into());
        let mut latency = None;
        while Instant::now() < give_up {
            let Ok(Some(u)) = tokio::time::timeout(Duration::from_secs(1), rx.recv()).await else {
                app.update(Utc::now(), Msg::Tick);
                continue;
            };
            if let Update::Health {
                error: Some(err), ..
            } = &u
            {
                eprintln!("source error: {err}");
            }
            let at = Utc::now();
            app.update(at, Msg::Source(u));
            if latency.is_none() && app.open_alerts().any(|a| a.key == lat) {
                latency = Some(at.timestamp_millis() as f64 / 1000.0 - deciding_close as f64);
                // The rest of the same refresh (the `orders` points of that call) still counts.
                give_up = Instant::now() + Duration::from_secs(2);
            }
        }
        let false_alerts = app.alerts.iter().filter(|a| a.key == orders).count();
        task.abort();
        Trial {
            latency,
            false_alerts,
        }
    })
}

fn run(period: i64, trials: usize) {
    let e = Emulator::start();
    let settle = tminus::signal::default_settle_secs(period as u32) as f64;
    // Data lands 60 % of a period late: at a bucket's end less than half of it is visible, so
    // judging it then would read `orders` under its warn line.
    let late = 0.6 * period as f64;
    // The control: no settle delay, so a bucket whose late data has not landed is judged.
    let control = trial(&e, period, Some("0s"), late, 5);
    println!(
        "CONTROL period={period}s settle=0s late={late}s: latency {:?} false_alerts={}",
        control.latency, control.false_alerts
    );
    let mut latencies = Vec::new();
    let mut false_alerts = 0;
    for i in 0..trials {
        // The step falls at different moments of the refresh cycle from one trial to the next.
        let t = trial(&e, period, None, late, 5 + (i as i64 * 7) % period.max(1));
        false_alerts += t.false_alerts;
        match t.latency {
            Some(l) => latencies.push(l),
            None => eprintln!("period {period}: trial {i}: no alert"),
        }
        eprintln!("period {period}: trial {i}: {:?}", t.latency);
    }
    latencies.sort_by(f64::total_cmp);
    let median = latencies
        .get(latencies.len() / 2)
        .copied()
        .unwrap_or(f64::NAN);
    let max = latencies.last().copied().unwrap_or(f64::NAN);
    println!(
        "DETECTION period={period}s settle={settle}s late={late}s trials={trials} detected={} median={median:.1}s max={max:.1}s bound={}s false_alerts={false_alerts}",
        latencies.len(),
        period as f64 + settle
    );
}

#[test]
#[ignore = "a benchmark: scripts/bench-detection"]
fn detection_latency_10s() {
    run(10, 6);
}

#[test]
#[ignore = "a benchmark: scripts/bench-detection"]
fn detection_latency_60s() {
    run(60, 3);
}
