//! Rehearsal faults in the simulator: values during and after each shape, what is reported and
//! when, determinism, and the surprise draws.

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};

use super::*;
use crate::app::alerts::AlertKey;
use crate::clock::ManualClock;
use crate::runbook::fault::{Effect, Target};
use crate::source::{AlarmState, FaultNotice};
use crate::time::TOffset;

const RUNBOOK: &str = r#"
event: { name: t, starts_at: 2026-12-01T17:00:00Z, ends_at: T+1h }
metrics:
  # High resolution (10 s buckets) so fault shapes show within a minute.
  - { id: reqs, namespace: X, metric: R, stat: Sum, period: 10, sim: { base: 100, peak: 1000 } }
  - { id: errs, namespace: X, metric: E, stat: Sum, period: 10, warn: 50, crit: 100, sim: { base: 1, peak: 10 } }
  - { id: err_pct, expression: "100 * errs / reqs", period: 10, warn: 1, crit: 5 }
  - { id: conc, namespace: X, metric: C, stat: Maximum, period: 10, warn: 800, crit: 900, sim: { base: 10, peak: 500 } }
alarms: { names: [web-errs-high] }
quotas:
  - { service: ec2, code: L-1216C47A, sim: { value: 512, base: 96, peak: 192 } }
  - { service: lambda, code: L-B99A9384, usage_metric: conc, sim: { value: 1000, base: 10, peak: 500 } }
"#;

fn t0() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-12-01T17:00:00Z")
        .unwrap()
        .to_utc()
}

fn at(s: i64) -> DateTime<Utc> {
    t0() + Duration::seconds(s)
}

/// The test runbook with these injections (YAML flow mappings).
fn runbook(inject: &[&str]) -> Runbook {
    let mut text = RUNBOOK.to_string();
    if !inject.is_empty() {
        text.push_str("rehearsal:\n  inject:\n");
        for i in inject {
            text.push_str(&format!("    - {i}\n"));
        }
    }
    crate::runbook::parse("t.yaml", &text).unwrap_or_else(|d| panic!("{}", crate::diag::render(&d)))
}

fn plain(rb: &Runbook, seed: u64) -> Simulator {
    Simulator::new(rb, t0(), seed, Arc::new(ManualClock::new(t0())))
}

fn faulty(rb: &Runbook, seed: u64) -> Simulator {
    plain(rb, seed).with_faults(scripted(rb))
}

fn idx(rb: &Runbook, id: &str) -> usize {
    rb.metrics.iter().position(|m| m.id == id).unwrap()
}

/// Backfill at `from`, then a step every 10 s to `to` (offsets from T-0 in seconds).
fn play(s: &mut Simulator, from: i64, to: i64) -> Vec<Update> {
    let mut out = s.backfill(at(from));
    let mut t = from + 10;
    while t <= to {
        out.extend(s.step(at(t)));
        t += 10;
    }
    out
}

fn notices(updates: &[Update]) -> Vec<FaultNotice> {
    updates
        .iter()
        .filter_map(|u| match u {
            Update::Fault(n) => Some(n.clone()),
            _ => None,
        })
        .collect()
}

#[test]
fn spike_and_drop_hold_their_value_then_recover() {
    let rb = runbook(&[
        "{ at: T+5m, metric: errs, shape: spike, to: 400, for: 3m }",
        "{ at: T+5m, metric: reqs, shape: drop, to: 7, for: 1m }",
    ]);
    let (f, p) = (faulty(&rb, 42), plain(&rb, 42));
    let errs = idx(&rb, "errs");
    let reqs = idx(&rb, "reqs");
    assert_eq!(f.value_at(errs, at(299)), p.value_at(errs, at(299)));
    for s in (300..480).step_by(10) {
        assert_eq!(f.value_at(errs, at(s)), Some(400.0), "T+{s}s");
    }
    assert_eq!(f.value_at(errs, at(480)), p.value_at(errs, at(480)));
    assert_eq!(f.value_at(reqs, at(330)), Some(7.0));
    assert_eq!(f.value_at(reqs, at(360)), p.value_at(reqs, at(360)));
    // Expressions read the faulty values: 100 * 400 / 7.
    let pct = f.value_at(idx(&rb, "err_pct"), at(330)).unwrap();
    assert!((pct - 100.0 * 400.0 / 7.0).abs() < 1e-9, "{pct}");
}

#[test]
fn ramp_goes_in_a_straight_line_from_the_last_value() {
    let rb = runbook(&["{ at: T+5m, metric: errs, shape: ramp, to: 1000, for: 200s }"]);
    let (f, p) = (faulty(&rb, 7), plain(&rb, 7));
    let errs = idx(&rb, "errs");
    let before = p.value_at(errs, at(290)).unwrap();
    assert_eq!(f.value_at(errs, at(300)), Some(before));
    let mid = f.value_at(errs, at(400)).unwrap();
    assert!(
        (mid - (before + (1000.0 - before) / 2.0)).abs() < 1e-9,
        "{mid}"
    );
    let late = f.value_at(errs, at(490)).unwrap();
    assert!(late > 900.0 && late < 1000.0, "{late}");
    assert_eq!(f.value_at(errs, at(500)), p.value_at(errs, at(500)));
}

#[test]
fn flatline_repeats_the_last_value_and_gap_sends_none() {
    let rb = runbook(&[
        "{ at: T+5m, metric: reqs, shape: flatline, for: 2m }",
        "{ at: T+5m, metric: errs, shape: gap, for: 2m }",
    ]);
    let (mut f, p) = (faulty(&rb, 3), plain(&rb, 3));
    let (reqs, errs) = (idx(&rb, "reqs"), idx(&rb, "errs"));
    let last = p.value_at(reqs, at(290));
    for s in (300..420).step_by(10) {
        assert_eq!(f.value_at(reqs, at(s)), last);
        assert_eq!(f.value_at(errs, at(s)), None);
    }
    assert_ne!(f.value_at(reqs, at(420)), last);
    assert_eq!(f.value_at(errs, at(420)), p.value_at(errs, at(420)));
    // The gap shows in what is sent: no errs points inside the window, points either side.
    let sent: Vec<i64> = play(&mut f, 200, 500)
        .iter()
        .filter_map(|u| match u {
            Update::Samples { metric, points, .. } if *metric == errs => Some(points.clone()),
            _ => None,
        })
        .flatten()
        .map(|p| (p.at - t0()).num_seconds())
        .filter(|s| *s > 200)
        .collect();
    assert!(sent.contains(&290) && sent.contains(&420), "{sent:?}");
    assert!(!sent.iter().any(|s| (300..420).contains(s)), "{sent:?}");
}

#[test]
fn quota_usage_jumps_by_share_or_value_and_recovers() {
    let rb = runbook(&[
        "{ at: T+5m, quota: L-1216C47A, usage: 95%, for: 2m }",
        "{ at: T+10m, quota: L-B99A9384, usage: 990, for: 2m }",
    ]);
    let (f, p) = (faulty(&rb, 1), plain(&rb, 1));
    assert_eq!(f.usage_at(0, at(330).timestamp()), Some(512.0 * 0.95));
    assert_eq!(
        f.usage_at(0, at(420).timestamp()),
        p.usage_at(0, at(420).timestamp())
    );
    // A quota whose usage is a metric: the metric itself jumps, and the quota with it.
    let conc = idx(&rb, "conc");
    assert_eq!(f.value_at(conc, at(630)), Some(990.0));
    assert_eq!(f.usage_at(1, at(630).timestamp()), Some(990.0));
    assert_eq!(f.value_at(conc, at(720)), p.value_at(conc, at(720)));
}

fn alarm_state(updates: &[Update], name: &str) -> Option<(AlarmState, DateTime<Utc>, String)> {
    updates.iter().rev().find_map(|u| match u {
        Update::Alarm {
            name: n,
            state,
            changed_at,
            reason,
        } if n == name => Some((*state, *changed_at, reason.clone())),
        _ => None,
    })
}

#[test]
fn alarm_flips_for_its_duration_without_giving_the_fault_away() {
    let rb = runbook(&["{ at: T+5m, alarm: web-errs-high, for: 2m }"]);
    let mut f = faulty(&rb, 9);
    let during = play(&mut f, 200, 330);
    let (state, since, reason) = alarm_state(&during, "web-errs-high").unwrap();
    assert_eq!((state, since), (AlarmState::Alarm, at(300)));
    assert!(reason.starts_with("Threshold Crossed"), "{reason}");
    assert!(!reason.to_lowercase().contains("fault"));
    let after = f.step(at(430));
    let (state, since, _) = alarm_state(&after, "web-errs-high").unwrap();
    assert_eq!(state, AlarmState::Ok, "errs stays far below 100 here");
    assert_eq!(since, at(420), "back to OK when the fault ended");
}

#[test]
fn a_source_outage_sends_errors_then_the_late_points() {
    let rb = runbook(&["{ at: T+5m, source: simulator, for: 2m }"]);
    let mut f = faulty(&rb, 5);
    f.backfill(at(200));
    for s in (210..300).step_by(10) {
        f.step(at(s));
    }
    let down = f.step(at(330));
    assert!(matches!(&down[0], Update::Fault(n) if n.started && n.at == at(300)));
    assert!(
        matches!(down.last(), Some(Update::Health { error: Some(e), .. }) if e.contains("timed out"))
    );
    assert!(!down.iter().any(|u| matches!(
        u,
        Update::Samples { .. } | Update::Quota { .. } | Update::Alarm { .. }
    )));
    let back = f.step(at(440));
    assert!(matches!(&back[0], Update::Fault(n) if !n.started && n.at == at(420)));
    assert!(matches!(
        back.last(),
        Some(Update::Health { error: None, .. })
    ));
    let reqs = idx(&rb, "reqs");
    let late: Vec<i64> = back
        .iter()
        .filter_map(|u| match u {
            Update::Samples { metric, points, .. } if *metric == reqs => Some(points.clone()),
            _ => None,
        })
        .flatten()
        .map(|p| (p.at - t0()).num_seconds())
        .collect();
    // From the last settled boundary before the outage (T+4m30s: 10 s buckets, 15 s delay)
    // through the outage to now, none missing.
    assert_eq!(late.first(), Some(&270), "the missed points arrive late");
    assert_eq!(late.last(), Some(&440));
    assert!(late.windows(2).all(|w| w[1] - w[0] == 10), "{late:?}");
    // Opened in the middle of an outage: history up to its start, then the error.
    let mut mid = faulty(&rb, 5);
    let first = mid.backfill(at(360));
    assert!(matches!(&first[0], Update::Fault(n) if n.started));
    assert!(matches!(
        first.last(),
        Some(Update::Health { error: Some(_), .. })
    ));
}

#[test]
fn each_fault_is_reported_once_with_exact_times_and_what_it_affects() {
    let rb = runbook(&[
        "{ at: T-20m, metric: errs, shape: spike, to: 400, for: 1m }",
        "{ at: T+5m, metric: errs, shape: spike, to: 400, for: 3m }",
        "{ at: T+6m, metric: conc, shape: spike, to: 990, for: 25s }",
    ]);
    let mut f = faulty(&rb, 42);
    let all = notices(&play(&mut f, -600, 900));
    let summary: Vec<(String, bool, i64)> = all
        .iter()
        .map(|n| (n.id.clone(), n.started, (n.at - t0()).num_seconds()))
        .collect();
    // inject[0] was over before the session began: never reported.
    assert_eq!(
        summary,
        [
            ("inject[1]".to_string(), true, 300),
            ("inject[2]".to_string(), true, 360),
            ("inject[2]".to_string(), false, 385),
            ("inject[1]".to_string(), false, 480),
        ]
    );
    assert_eq!(all[0].description, "spike errs to 400 for 3m at T+5m");
    assert_eq!(all[0].target, "errs");
    assert_eq!(
        all[0].affects,
        [
            AlertKey::Metric("errs".into()),
            AlertKey::Metric("err_pct".into()),
            AlertKey::Alarm("web-errs-high".into()),
        ]
    );
    assert!(
        all[1]
            .affects
            .contains(&AlertKey::Quota("L-B99A9384".into()))
    );
}

#[test]
fn faults_replay_identically() {
    let rb = runbook(&[
        "{ at: T+1m, metric: errs, shape: ramp, to: 400, for: 3m }",
        "{ at: T+2m, quota: L-1216C47A, usage: 95%, for: 2m }",
        "{ at: T+3m, alarm: web-errs-high, for: 2m }",
        "{ at: T+4m, source: simulator, for: 1m }",
    ]);
    let a = play(&mut faulty(&rb, 11), -120, 600);
    let b = play(&mut faulty(&rb, 11), -120, 600);
    assert_eq!(a, b);
    assert_eq!(notices(&a).len(), 8);
}

#[test]
fn surprises_are_drawn_from_the_seed_within_the_event() {
    let rb = runbook(&[]);
    let from = TOffset(-1800);
    let a = surprises(&rb, 42, from);
    assert_eq!(a, surprises(&rb, 42, from), "same seed, same surprises");
    assert!((2..=3).contains(&a.len()), "{a:?}");
    let seeds: Vec<Vec<ScheduledFault>> = (0..20).map(|s| surprises(&rb, s, from)).collect();
    assert!(seeds.windows(2).any(|w| w[0] != w[1]), "seeds differ");
    for draw in &seeds {
        let kinds: std::collections::HashSet<_> = draw
            .iter()
            .map(|s| match &s.fault.target {
                Target::Metric {
                    effect: Effect::Flatline | Effect::Gap,
                    ..
                } => 1,
                Target::Metric { .. } => 0,
                Target::Quota { .. } => 2,
                Target::Alarm { .. } => 3,
                Target::SourceDown { .. } => 4,
            })
            .collect();
        assert_eq!(
            kinds.len(),
            draw.len(),
            "one of each kind at most: {draw:?}"
        );
    }
    let mut kinds = std::collections::HashSet::new();
    for (n, s) in seeds.iter().flatten().enumerate() {
        assert!(s.surprise && s.id.starts_with("surprise["), "{n}: {s:?}");
        let (start, end) = (
            s.fault.at.secs(),
            s.fault.at.secs() + s.fault.duration.secs(),
        );
        assert!(start >= 0 && end <= 3600, "{s:?} within T-0..T+1h");
        assert!(s.fault.duration.secs() >= 60);
        kinds.insert(std::mem::discriminant(&s.fault.target));
        match &s.fault.target {
            Target::Metric { id, effect } => {
                assert!(rb.metrics.iter().any(|m| &m.id == id));
                if let Effect::Spike(v) | Effect::Ramp(v) = effect {
                    let m = rb.metrics.iter().find(|m| &m.id == id).unwrap();
                    assert!(*v >= m.crit.unwrap(), "{s:?} goes past crit");
                }
            }
            Target::Quota { code, .. } => assert!(rb.quotas.iter().any(|q| &q.code == code)),
            Target::Alarm { name, .. } => assert_eq!(name, "web-errs-high"),
            Target::SourceDown { name } => assert_eq!(name, "simulator"),
        }
    }
    assert_eq!(kinds.len(), 4, "every kind turns up over 20 seeds");
    // Started later, the surprises come later.
    for s in surprises(&rb, 42, TOffset(1200)) {
        assert!(s.fault.at.secs() >= 1320, "{s:?}");
    }
}
