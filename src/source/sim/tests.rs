use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};

use super::runbook_files::bundled;
use super::*;
use crate::clock::ManualClock;
use crate::runbook::model::{Direction, Metric, MetricSim, Quota, QuotaSim, Runbook};
use crate::source::AlarmState;

fn t0() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-12-01T17:00:00Z")
        .unwrap()
        .to_utc()
}

fn at(offset_secs: i64) -> DateTime<Utc> {
    t0() + Duration::seconds(offset_secs)
}

fn runbook(name: &str) -> Runbook {
    bundled()
        .into_iter()
        .find(|(p, _)| p.ends_with(name))
        .map(|(_, rb)| rb)
        .unwrap_or_else(|| panic!("runbooks/{name}"))
}

fn sim(rb: &Runbook, seed: u64) -> Simulator {
    Simulator::new(rb, t0(), seed, Arc::new(ManualClock::new(t0())))
}

fn metric(rb: &Runbook, id: &str) -> usize {
    rb.metrics.iter().position(|m| m.id == id).unwrap()
}

/// A backfill at T-3m (when the demo opens) then a step every 10 s up to `until`.
fn play(rb: &Runbook, seed: u64, until: i64) -> Vec<Update> {
    let mut s = sim(rb, seed);
    let mut out = s.backfill(at(-180));
    let mut t = -170;
    while t <= until {
        out.extend(s.step(at(t)));
        t += 10;
    }
    out
}

fn raw(id: &str, base: f64, peak: f64) -> Metric {
    let mut m: Metric =
        serde_yaml::from_str(&format!("{{id: {id}, namespace: X, metric: Y}}")).unwrap();
    m.sim = Some(MetricSim {
        base,
        peak,
        noise: 0.05,
    });
    m
}

fn expression(id: &str, e: &str) -> Metric {
    serde_yaml::from_str(&format!("{{id: {id}, expression: {e:?}}}")).unwrap()
}

fn bare_runbook(metrics: Vec<Metric>) -> Runbook {
    let mut rb: Runbook =
        serde_yaml::from_str("event: {name: t, starts_at: 2026-12-01T17:00:00Z}").unwrap();
    rb.metrics = metrics;
    rb
}

#[test]
fn same_seed_same_event_different_seed_different_event() {
    let rb = runbook("demo.yaml");
    let a = play(&rb, 42, 600);
    let b = play(&rb, 42, 600);
    assert!(a.len() > 100);
    assert_eq!(a, b);
    let c = play(&rb, 43, 600);
    assert_ne!(a, c);
}

#[test]
fn values_do_not_depend_on_call_order() {
    let rb = runbook("demo.yaml");
    let fresh = sim(&rb, 7);
    let mut used = sim(&rb, 7);
    used.backfill(at(-180));
    used.step(at(300));
    for i in 0..rb.metrics.len() {
        for off in [-3600, -60, 0, 45, 120, 900] {
            assert_eq!(
                fresh.value_at(i, at(off)),
                used.value_at(i, at(off)),
                "{i} {off}"
            );
        }
    }
    // Any instant inside a bucket gives the bucket's value.
    let p = metric(&rb, "requests");
    assert_eq!(fresh.value_at(p, at(121)), fresh.value_at(p, at(129)));
}

#[test]
fn launch_shape_low_before_high_after() {
    for name in ["demo.yaml", "launch.yaml", "genai.yaml"] {
        let rb = runbook(name);
        let s = sim(&rb, 42);
        for (i, m) in rb.metrics.iter().enumerate() {
            let Some(sm) = &m.sim else { continue };
            if sm.peak < sm.base * 2.0 || sm.peak < 1.0 {
                continue;
            }
            let before = s.value_at(i, at(-20 * 60)).unwrap();
            let after = s.value_at(i, at(5 * 60)).unwrap();
            assert!(after > before * 1.8, "{name} {}: {before} -> {after}", m.id);
        }
        // Plateau later: below the peak, well above the baseline.
        let traffic_after = traffic(3.0 * 3600.0);
        assert!((0.6..=0.7).contains(&traffic_after));
    }
}

/// First offset (10 s steps from T-10m) at which the metric is at or beyond `threshold`.
fn first_crossing(s: &Simulator, i: usize, threshold: f64) -> Option<i64> {
    (-60..=180)
        .map(|k| k * 10)
        .find(|&off| s.value_at(i, at(off)).is_some_and(|v| v >= threshold))
}

#[test]
fn demo_p99_goes_warn_then_crit_soon_after_t0() {
    let rb = runbook("demo.yaml");
    let i = metric(&rb, "p99_latency");
    let (warn, crit) = (rb.metrics[i].warn.unwrap(), rb.metrics[i].crit.unwrap());
    for seed in [42, 1, 2, 3, 1234] {
        let s = sim(&rb, seed);
        let w = first_crossing(&s, i, warn).expect("crosses warn");
        let c = first_crossing(&s, i, crit).expect("crosses crit");
        if seed == 42 {
            eprintln!("demo p99 seed 42: warn at T+{w}s, crit at T+{c}s");
        }
        // One-minute buckets, as CloudWatch gives them: warn and crit may come in one step.
        assert!((20..=120).contains(&w), "seed {seed}: warn at T+{w}s");
        assert!(
            c >= w && c <= 180,
            "seed {seed}: crit at T+{c}s (warn T+{w}s)"
        );
        // And it comes back under warn on the plateau.
        let late = s.value_at(i, at(25 * 60)).unwrap();
        assert!(late < warn, "seed {seed}: {late} at T+25m");
    }
}

#[test]
fn expressions_are_evaluated_over_the_same_timestamp() {
    let rb = runbook("demo.yaml");
    let s = sim(&rb, 42);
    let (err, e5, req, rps) = (
        metric(&rb, "error_pct"),
        metric(&rb, "alb_5xx"),
        metric(&rb, "requests"),
        metric(&rb, "rps"),
    );
    for off in [-600, 0, 130, 1200] {
        let want = 100.0 * s.value_at(e5, at(off)).unwrap() / s.value_at(req, at(off)).unwrap();
        assert_eq!(s.value_at(err, at(off)), Some(want));
        let want = s.value_at(req, at(off)).unwrap() / 60.0;
        assert_eq!(s.value_at(rps, at(off)), Some(want));
    }
}

#[test]
fn bad_expressions_give_no_points_and_never_hang() {
    let rb = bare_runbook(vec![
        raw("a", 10.0, 20.0),
        raw("zero", 0.0, 0.0),
        expression("div0", "a / zero"),
        expression("ghost", "a + nope"),
        expression("broken", "a +"),
        expression("loop1", "loop2 + 1"),
        expression("loop2", "loop1 + 1"),
        expression("fine", "FILL(nope, 0) + a * 2"),
    ]);
    let mut s = sim(&rb, 1);
    let updates = s.backfill(at(0));
    let with_points: Vec<usize> = updates
        .iter()
        .filter_map(|u| match u {
            Update::Samples { metric, points, .. } if !points.is_empty() => Some(*metric),
            _ => None,
        })
        .collect();
    assert_eq!(with_points, vec![0, 1, 7]);
    assert_eq!(s.value_at(7, at(0)), s.value_at(0, at(0)).map(|v| v * 2.0));
}

#[test]
fn buckets_are_aligned_settled_values_are_final_and_none_is_skipped() {
    let mut rb = runbook("demo.yaml");
    rb.metrics[0].period = 5;
    let mut s = sim(&rb, 42);
    let mut batches = vec![s.backfill(at(-1830))];
    for off in (-1820..=-1000).step_by(10).chain([-1000, -1200]) {
        batches.push(s.step(at(off)));
    }
    let mut settled: Vec<std::collections::BTreeMap<i64, f64>> =
        vec![Default::default(); rb.metrics.len()];
    let mut boundary: Vec<Option<DateTime<Utc>>> = vec![None; rb.metrics.len()];
    for u in batches.into_iter().flatten() {
        let Update::Samples {
            metric,
            points,
            settled_to,
        } = u
        else {
            continue;
        };
        let period = i64::from(rb.metrics[metric].period);
        let settled_to = settled_to.expect("the simulator says what is settled");
        // Each update starts at or before the boundary of the one before: nothing is skipped
        // (a sparse counter leaves its zero buckets out).
        let sparse = crate::signal::is_sparse_counter(&rb.metrics[metric]);
        if let (Some(prev), Some(first), false) = (boundary[metric], points.first(), sparse) {
            assert!(first.at <= prev, "{metric}: {} after {prev}", first.at);
        }
        for w in points.windows(2) {
            assert!(w[0].at < w[1].at, "{metric}: not in order");
        }
        for p in &points {
            assert_eq!(
                p.at.timestamp() % period,
                0,
                "{metric} not aligned: {}",
                p.at
            );
            if p.at < settled_to {
                let was = settled[metric].insert(p.at.timestamp(), p.value);
                assert!(
                    was.is_none_or(|v| v == p.value),
                    "{metric}: settled {} changed from {was:?} to {}",
                    p.at,
                    p.value
                );
            }
        }
        boundary[metric] = Some(boundary[metric].map_or(settled_to, |b| b.max(settled_to)));
    }
    // Requests (60 s) have a settled point every minute from the backfill on, none missing.
    let req = &settled[0];
    let keys: Vec<i64> = req.keys().copied().collect();
    assert!(
        keys.windows(2).all(|w| w[1] - w[0] == 5),
        "5 s buckets: {keys:?}"
    );
    let rps = &settled[1];
    let keys: Vec<i64> = rps.keys().copied().collect();
    assert!(keys.len() >= 40, "{}", keys.len());
    assert!(keys.windows(2).all(|w| w[1] - w[0] == 60));
}

#[test]
fn an_open_bucket_holds_the_part_of_a_count_seen_so_far() {
    let rb = runbook("demo.yaml");
    let req = metric(&rb, "requests");
    let mut s = sim(&rb, 42);
    let out = s.backfill(at(630));
    let (points, settled_to) = out
        .iter()
        .find_map(|u| match u {
            Update::Samples {
                metric,
                points,
                settled_to,
            } if *metric == req => Some((points.clone(), *settled_to)),
            _ => None,
        })
        .unwrap();
    // At T+10m30s: [T+8m, T+9m) is the newest settled bucket (a minute plus a minute's delay).
    assert_eq!(settled_to, Some(at(540)));
    let open = points.last().unwrap();
    assert_eq!(open.at, at(600));
    let full = s.value_at(req, at(600)).unwrap();
    assert!(
        (open.value - full / 2.0).abs() <= 1.0,
        "half the minute seen: {} of {full}",
        open.value
    );
    // The closed but unsettled bucket is whole.
    let late = points.iter().find(|p| p.at == at(540)).unwrap();
    assert_eq!(Some(late.value), s.value_at(req, at(540)));
}

#[test]
fn a_long_gap_sends_at_most_the_backfill_window() {
    let rb = runbook("demo.yaml");
    let mut s = sim(&rb, 42);
    s.backfill(at(-3600));
    let out = s.step(at(6 * 3600));
    let n = out
        .iter()
        .find_map(|u| match u {
            Update::Samples {
                metric: 1, points, ..
            } => Some(points.len()),
            _ => None,
        })
        .unwrap() as i64;
    assert!(
        (BACKFILL_SECS / 60..=BACKFILL_SECS / 60 + 1).contains(&n),
        "{n}"
    );
}

fn alarm_changes<'a>(
    updates: &'a [Update],
    name: &str,
) -> Vec<(AlarmState, &'a str, DateTime<Utc>)> {
    updates
        .iter()
        .filter_map(|u| match u {
            Update::Alarm {
                name: n,
                state,
                reason,
                changed_at,
            } if n == name => Some((*state, reason.as_str(), *changed_at)),
            _ => None,
        })
        .fold(
            Vec::new(),
            |mut v: Vec<(AlarmState, &str, DateTime<Utc>)>, c| {
                // Every step repeats each alarm's state (as a poll would): keep the transitions.
                if v.last().is_none_or(|l| (l.0, l.2) != (c.0, c.2)) {
                    v.push(c);
                }
                v
            },
        )
}

#[test]
fn alarms_follow_their_metric() {
    let rb = runbook("demo.yaml");
    let updates = play(&rb, 42, 30 * 60);
    let p99 = alarm_changes(&updates, "shop-web-p99-latency-high");
    let states: Vec<AlarmState> = p99.iter().map(|c| c.0).collect();
    // Initial state at backfill, ALARM after the crit crossing, OK once it has recovered.
    assert_eq!(
        states,
        vec![AlarmState::Ok, AlarmState::Alarm, AlarmState::Ok],
        "{p99:?}"
    );
    let (_, reason, when) = p99[1];
    assert!(
        reason.starts_with("Threshold Crossed: 3 datapoints ["),
        "{reason}"
    );
    assert!(
        reason.ends_with("were greater than or equal to the threshold (1080.0)."),
        "{reason}"
    );
    let fired = (when - t0()).num_seconds();
    eprintln!(
        "demo p99 alarm seed 42: ALARM at T+{fired}s, OK at T+{}s",
        (p99[2].2 - t0()).num_seconds()
    );
    assert!((60..=240).contains(&fired), "ALARM at T+{fired}s");
    // The throttles alarm follows ddb_throttles (crit 50, peak 14): it never fires.
    let ddb = alarm_changes(&updates, "shop-orders-ddb-throttles");
    assert_eq!(
        ddb.iter().map(|c| c.0).collect::<Vec<_>>(),
        vec![AlarmState::Ok]
    );
}

#[test]
fn a_prefix_alone_makes_one_alarm_per_metric_with_a_crit() {
    let mut a = raw("latency", 100.0, 500.0);
    a.crit = Some(400.0);
    let mut b = raw("hosts", 20.0, 4.0);
    b.direction = Direction::Below;
    b.crit = Some(5.0);
    let c = raw("plain", 1.0, 2.0);
    let mut rb = bare_runbook(vec![a, b, c]);
    rb.alarms.prefix = Some("web-".into());
    let mut s = sim(&rb, 3);
    let start = s.backfill(at(-600));
    let names: Vec<&str> = start
        .iter()
        .filter_map(|u| match u {
            Update::Alarm { name, .. } => Some(name.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(names, vec!["web-latency", "web-hosts"]);
    let mut all = start.clone();
    for k in 0..180 {
        all.extend(s.step(at(-600 + 10 * (k + 1))));
    }
    let hosts = alarm_changes(&all, "web-hosts");
    let fired = hosts.iter().find(|c| c.0 == AlarmState::Alarm);
    assert!(
        fired.is_some_and(|c| c
            .1
            .contains("were less than or equal to the threshold (5.0)")),
        "{hosts:?}"
    );
}

#[test]
fn an_alarm_with_no_data_is_insufficient() {
    let mut rb = bare_runbook(vec![]);
    rb.alarms.names = vec!["orphan".into()];
    let mut s = sim(&rb, 1);
    let out = s.backfill(at(0));
    let a = alarm_changes(&out, "orphan");
    assert_eq!(a.len(), 1);
    assert_eq!(a[0].0, AlarmState::InsufficientData);
}

fn quota_usage(updates: &[Update], index: usize) -> Vec<(Option<f64>, Option<f64>)> {
    updates
        .iter()
        .filter_map(|u| match u {
            Update::Quota {
                quota,
                value,
                usage,
                ..
            } if *quota == index => Some((*value, *usage)),
            _ => None,
        })
        .collect()
}

#[test]
fn quota_usage_moves_with_traffic() {
    let rb = runbook("demo.yaml");
    let lambda = rb
        .quotas
        .iter()
        .position(|q| q.code == "L-B99A9384")
        .unwrap();
    let ec2 = rb
        .quotas
        .iter()
        .position(|q| q.code == "L-1216C47A")
        .unwrap();
    let mut s = sim(&rb, 42);
    let before = s.backfill(at(-20 * 60));
    let peak = s.step(at(150));
    let (v, u) = *quota_usage(&before, lambda).last().unwrap();
    assert_eq!(v, Some(1000.0));
    // Its usage is the lambda_concurrency metric, which the app folds in from the settled
    // points, as it does live: the simulator does not send a second, unsettled reading.
    assert_eq!(u, None);
    let m = metric(&rb, "lambda_concurrency");
    let (u_before, u_peak) = (
        s.value_at(m, at(-20 * 60)).unwrap(),
        s.value_at(m, at(150)).unwrap(),
    );
    assert!(u_peak > 3.0 * u_before, "{u_before} -> {u_peak}");
    let headroom = 100.0 - u_peak / 10.0;
    eprintln!("demo Lambda quota seed 42: headroom {headroom:.1}% at T+150s");
    assert!(headroom < 30.0, "lambda headroom at peak {headroom}");
    // A curve-driven quota moves too, and backfill gives the forecast ten minutes of history.
    let hist = quota_usage(&before, ec2);
    assert_eq!(hist.len(), 60);
    let (_, e_peak) = *quota_usage(&peak, ec2).last().unwrap();
    assert!(e_peak.unwrap() > 1.5 * hist[0].1.unwrap());
}

#[test]
fn quotas_without_sim_get_defaults() {
    let mut rb = bare_runbook(vec![]);
    rb.quotas.push(Quota {
        service: "lambda".into(),
        code: "L-B99A9384".into(),
        title: None,
        warn_below: crate::runbook::model::Percent(30.0),
        crit_below: crate::runbook::model::Percent(10.0),
        usage_metric: None,
        region: None,
        sim: None,
        forecast: None,
        lead_time: None,
    });
    let mut s = sim(&rb, 5);
    let early = quota_usage(&s.backfill(at(-7200)), 0);
    let late = quota_usage(&s.step(at(150)), 0);
    let (v, u0) = early.last().unwrap();
    let (_, u1) = late.last().unwrap();
    assert_eq!(*v, Some(1000.0));
    assert!((150.0..=260.0).contains(&u0.unwrap()), "{u0:?}");
    assert!((520.0..=680.0).contains(&u1.unwrap()), "{u1:?}");
    // With a sim block the applied value is the one given.
    rb.quotas[0].sim = Some(QuotaSim {
        value: 50.0,
        base: 1.0,
        peak: 2.0,
    });
    let s = &mut sim(&rb, 5);
    assert_eq!(quota_usage(&s.step(at(0)), 0)[0].0, Some(50.0));
}

#[test]
fn every_bundled_runbook_gives_finite_values_all_event_long() {
    for (path, rb) in bundled() {
        let mut s = sim(&rb, 9);
        let mut updates = s.backfill(at(-3 * 3600));
        let mut off = -3 * 3600;
        while off <= 5 * 3600 {
            off += 600;
            updates.extend(s.step(at(off)));
        }
        let mut points = 0;
        for u in &updates {
            match u {
                Update::Samples { points: p, .. } => {
                    for s in p {
                        points += 1;
                        assert!(
                            s.value.is_finite() && s.value >= 0.0,
                            "{}: {s:?}",
                            path.display()
                        );
                    }
                }
                Update::Quota {
                    quota,
                    value,
                    usage,
                    ..
                } => {
                    assert!(value.is_some_and(f64::is_finite), "{}", path.display());
                    // A quota whose usage is a metric gets it from that metric's points.
                    let from_metric = rb.quotas[*quota].usage_metric.is_some();
                    assert!(
                        from_metric && usage.is_none()
                            || usage.is_some_and(|u| u.is_finite() && u >= 0.0),
                        "{}",
                        path.display()
                    );
                }
                _ => {}
            }
        }
        assert!(points > 1000, "{}: {points} points", path.display());
        // Every metric has points: no expression in a bundled runbook is dead. (A counter
        // CloudWatch publishes only when non-zero may have none: the app reads those as 0.)
        for i in
            (0..rb.metrics.len()).filter(|&i| !crate::signal::is_sparse_counter(&rb.metrics[i]))
        {
            assert!(
                updates
                    .iter()
                    .any(|u| matches!(u, Update::Samples { metric, points, .. } if *metric == i && !points.is_empty())),
                "{}: {} has no points",
                path.display(),
                rb.metrics[i].id
            );
        }
    }
}

#[test]
fn step_always_reports_health() {
    let rb = runbook("demo.yaml");
    let mut s = sim(&rb, 1);
    let out = s.step(at(0));
    assert_eq!(
        out.last(),
        Some(&Update::Health {
            source: "simulator".into(),
            error: None,
            at: at(0)
        })
    );
    // A clock that goes backwards: no points, still healthy.
    let back = s.step(at(-100));
    assert!(!back.iter().any(|u| matches!(u, Update::Samples { .. })));
    assert!(matches!(back.last(), Some(Update::Health { .. })));
}

#[test]
fn ticks_land_on_ten_second_boundaries() {
    let base = DateTime::from_timestamp(1_800_000_000, 0).unwrap();
    assert_eq!(until_next_tick_ms(base), 10_000);
    assert_eq!(until_next_tick_ms(base + Duration::milliseconds(9_950)), 50);
    assert_eq!(
        until_next_tick_ms(base + Duration::milliseconds(3_001)),
        6_999
    );
}

#[tokio::test]
async fn run_delivers_updates_and_stops_when_the_receiver_goes() {
    let rb = runbook("demo.yaml");
    // 50 ms before a tick boundary, so the first wake-up comes quickly in real time.
    let start = DateTime::from_timestamp(1_800_000_000 - 1, 950_000_000).unwrap();
    let clock = ManualClock::new(start);
    let sim = Simulator::new(
        &rb,
        start + Duration::minutes(3),
        42,
        Arc::new(clock.clone()),
    );
    assert_eq!(sim.name(), "simulator");
    let (tx, mut rx) = tokio::sync::mpsc::channel(8);
    let task = tokio::spawn(Box::new(sim).run(tx));
    let bounded = std::time::Duration::from_secs(10);

    // Backfill: samples for every metric, ending with a health report.
    let mut backfill = Vec::new();
    loop {
        let u = tokio::time::timeout(bounded, rx.recv())
            .await
            .unwrap()
            .unwrap();
        let done = matches!(u, Update::Health { .. });
        backfill.push(u);
        if done {
            break;
        }
    }
    let sampled = backfill
        .iter()
        .filter(|u| matches!(u, Update::Samples { .. }))
        .count();
    assert_eq!(sampled, rb.metrics.len());

    // The clock moves past the boundary: the next step brings new points.
    clock.advance(Duration::seconds(10));
    let mut got_points = false;
    loop {
        let u = tokio::time::timeout(bounded, rx.recv())
            .await
            .unwrap()
            .unwrap();
        got_points |= matches!(u, Update::Samples { .. });
        if matches!(u, Update::Health { .. }) && got_points {
            break;
        }
    }

    drop(rx);
    tokio::time::timeout(bounded, task)
        .await
        .expect("the simulator stops once nobody listens")
        .unwrap();
}

/// The demo as the operator sees it: the simulator's updates folded into the real `App`.
#[test]
fn the_demo_tells_its_story_in_the_app() {
    use crate::app::alerts::{AlertKey, Severity};
    use crate::app::state::{ItemStatus, Status};
    use crate::app::update::{AppOptions, Msg};
    use crate::journal::MemoryJournal;

    let rb = runbook("demo.yaml");
    let opts = AppOptions::simulated("runbooks/demo.yaml", t0(), "test");
    let mut app = crate::app::App::new(
        rb.clone(),
        opts,
        at(-180),
        Box::new(MemoryJournal::default()),
        Vec::new(),
    );
    let mut s = sim(&rb, 42);
    for u in s.backfill(at(-180)) {
        app.update(at(-180), Msg::Source(u));
    }
    let open = |app: &crate::app::App, key: &AlertKey| {
        app.open_alerts()
            .find(|a| &a.key == key)
            .map(|a| a.severity)
    };
    let p99 = AlertKey::Metric("p99_latency".into());
    let lambda = AlertKey::Quota("L-B99A9384".into());
    assert!(app.overdue_count() >= 4, "pre-flight items overdue at T-3m");
    assert_eq!(open(&app, &p99), None);
    assert_eq!(open(&app, &lambda), None);
    let p = metric(&rb, "p99_latency");
    assert_eq!(app.metric_status(p), Status::Ok);
    assert_eq!(
        app.alarms["shop-web-p99-latency-high"].state,
        AlarmState::Ok
    );

    // Settled data and "2 of 3": p99 crosses crit in [T+2m, T+3m) and holds in the next
    // bucket, which settles at T+5m; the quota's headroom is under 30 % from T+2m.
    let mut t = -170;
    while t <= 360 {
        for u in s.step(at(t)) {
            app.update(at(t), Msg::Source(u));
        }
        app.update(at(t), Msg::Tick);
        t += 10;
    }
    assert_eq!(open(&app, &p99), Some(Severity::Crit));
    assert_eq!(open(&app, &lambda), Some(Severity::Warn));
    assert_eq!(
        app.alarms["shop-web-p99-latency-high"].state,
        AlarmState::Alarm
    );
    assert!(
        app.open_alerts()
            .any(|a| a.key == AlertKey::Alarm("shop-web-p99-latency-high".into()))
    );
    let status = |id: &str| {
        rb.checklists
            .iter()
            .enumerate()
            .find_map(|(c, l)| {
                l.items
                    .iter()
                    .position(|i| i.id == id)
                    .map(|i| app.items[c][i].status)
            })
            .unwrap()
    };
    assert_eq!(
        status("traffic-flowing"),
        ItemStatus::Done,
        "verify rps >= 1500"
    );
    assert_eq!(
        status("first-orders"),
        ItemStatus::Done,
        "verify orders >= 1000"
    );
    assert_eq!(status("handover"), ItemStatus::Todo);
    for (i, _, _) in app.visible_metrics() {
        assert_ne!(app.metric_status(i), Status::Stale);
        assert_ne!(app.metric_status(i), Status::NoData);
    }
}

#[test]
fn a_calibrated_metric_follows_its_own_day_and_reaches_its_forecast_peak() {
    use crate::capacity::calibration::{Calibration, MetricShape};
    let rb = crate::runbook::parse(
        "t.yaml",
        "event: { name: t, starts_at: 2026-12-01T17:00:00Z }
metrics:
  - { id: req, namespace: AWS/ApplicationELB, metric: RequestCount, stat: Sum }
  - { id: other, namespace: AWS/ApplicationELB, metric: ActiveConnectionCount, stat: Sum }
",
    )
    .unwrap();
    // Quiet nights (0.5 of the mean before 08:00 UTC), busy days (1.5 from 08:00 to 20:00).
    let daily: Vec<f64> = (0..24)
        .map(|h| if (8..20).contains(&h) { 1.5 } else { 0.5 })
        .collect();
    let cal = Calibration {
        tminus_calibration: 1,
        event_name: "t".into(),
        made_at: t0(),
        forecast: 22.0,
        history_from: t0(),
        history_to: t0(),
        metrics: [(
            "req".to_string(),
            MetricShape {
                base: 100.0,
                peak: 2_200.0,
                noise: 0.0,
                daily,
            },
        )]
        .into(),
    };
    let plain = sim(&rb, 3);
    let s = sim(&rb, 3).with_calibration(&cal);
    let value_at = |s: &Simulator, x: i64| {
        let h = s.history(at(x), at(x + 60));
        h.metrics[0].first().map(|p| p.1).unwrap()
    };
    // T-0 is 17:00 UTC: 14 hours before is 03:00 (night), 5 hours before is 12:00 (day).
    let night = value_at(&s, -14 * 3_600);
    let day = value_at(&s, -5 * 3_600);
    assert!((night - 50.0).abs() <= 5.0, "night {night}");
    assert!((day - 150.0).abs() <= 10.0, "day {day}");
    // Just after the ramp: the day's level plus the climb to the forecast peak.
    let peak = value_at(&s, 150);
    assert!((peak - 2_250.0).abs() <= 2_250.0 * 0.1, "peak {peak}");
    // A metric the calibration does not cover keeps its inferred shape.
    assert_eq!(
        s.history(at(-3_600), at(0)).metrics[1],
        plain.history(at(-3_600), at(0)).metrics[1]
    );
}
