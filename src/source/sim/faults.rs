//! Game-day faults in the simulator: which fault is active at a given second, what it does to a
//! value, and when to tell the app that one began or ended.
//!
//! Like the rest of the simulator everything here is a pure function of the runbook, the seed
//! and the time asked about, so a rehearsal replays identically and tests can ask for any point.
//! The scripted faults come from `rehearsal.inject`; `--surprise` adds faults drawn from the seed.

use std::collections::HashMap;

use chrono::{DateTime, Utc};

use super::curve::{hash_str, mix};
use crate::app::alerts::AlertKey;
use crate::runbook::fault::{Effect, Fault, Target, UsageLevel};
use crate::runbook::model::{Direction, Runbook};
use crate::source::{AlarmState, FaultNotice, Update};
use crate::time::{Span, TOffset};

/// A fault with the name it is reported under.
#[derive(Debug, Clone, PartialEq)]
pub struct ScheduledFault {
    /// "inject[0]" for the runbook's first injection, "surprise[1]" for the second surprise.
    pub id: String,
    pub fault: Fault,
    /// Drawn by `--surprise`: not in the runbook, so only the score reveals it.
    pub surprise: bool,
}

/// The runbook's own injections.
pub fn scripted(runbook: &Runbook) -> Vec<ScheduledFault> {
    runbook
        .rehearsal
        .as_ref()
        .map(|r| r.faults())
        .unwrap_or_default()
        .into_iter()
        .map(|(i, fault)| ScheduledFault {
            id: format!("inject[{i}]"),
            fault,
            surprise: false,
        })
        .collect()
}

/// SplitMix64: small, fast, and the same sequence for the same seed on every machine.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        mix(self.0)
    }
    /// Uniform in 0..n (n > 0); the modulo bias is irrelevant at these sizes.
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> Option<&'a T> {
        if items.is_empty() {
            return None;
        }
        items.get(self.below(items.len() as u64) as usize)
    }
}

/// Extra faults drawn from the seed: two or three, of different kinds the runbook can show (a metric past
/// its threshold, a metric gone quiet, a quota filling up, an alarm, the source going down), at
/// times within the event after `from` (the rehearsal's start). Same runbook, seed and start:
/// same surprises.
pub fn surprises(runbook: &Runbook, seed: u64, from: TOffset) -> Vec<ScheduledFault> {
    let mut rng = Rng(seed ^ hash_str("tminus/surprise"));
    let thresholded: Vec<(&str, Effect)> = runbook
        .metrics
        .iter()
        .filter(|m| !m.hidden)
        .filter_map(|m| {
            let level = m.crit.or(m.warn).filter(|v| v.is_finite())?;
            let bad = match m.direction {
                Direction::Above if level > 0.0 => level * 1.5,
                Direction::Above => level + 1.0,
                Direction::Below => (level * 0.5).max(0.0),
            };
            Some((m.id.as_str(), bad, m.direction))
        })
        .flat_map(|(id, bad, dir)| {
            let jump = match dir {
                Direction::Above => Effect::Spike(bad),
                Direction::Below => Effect::Drop(bad),
            };
            [(id, jump), (id, Effect::Ramp(bad))]
        })
        .collect();
    let quiet: Vec<&str> = runbook
        .metrics
        .iter()
        .filter(|m| !m.hidden && m.expression.is_none())
        .map(|m| m.id.as_str())
        .collect();
    let alarms = super::alarm_names(runbook);

    // Kinds that this runbook can show at all, each as likely as the others.
    let mut kinds: Vec<u8> = Vec::new();
    if !thresholded.is_empty() {
        kinds.push(0);
    }
    if !quiet.is_empty() {
        kinds.push(1);
    }
    if !runbook.quotas.is_empty() {
        kinds.push(2);
    }
    if !alarms.is_empty() {
        kinds.push(3);
    }
    kinds.push(4);

    let lo = (from.secs() + 120).max(0);
    let mut hi = runbook.event.ends_at.map(|e| e.secs()).unwrap_or(3600);
    if hi < lo + 600 {
        hi = lo + 1800;
    }
    let count = 2 + rng.below(2);
    (0..count)
        .filter_map(|n| {
            if kinds.is_empty() {
                return None;
            }
            // Without replacement: a game day of three outages teaches less than three kinds.
            let kind = kinds.remove(rng.below(kinds.len() as u64) as usize);
            let duration = 120 + 30 * rng.below(9) as i64;
            let target = match kind {
                0 => {
                    let (id, effect) = rng.pick(&thresholded)?;
                    Target::Metric {
                        id: id.to_string(),
                        effect: *effect,
                    }
                }
                1 => Target::Metric {
                    id: rng.pick(&quiet)?.to_string(),
                    effect: if rng.below(2) == 0 {
                        Effect::Flatline
                    } else {
                        Effect::Gap
                    },
                },
                2 => {
                    let q = rng.pick(&runbook.quotas)?;
                    let pct = (100.0 - q.crit_below.0 / 2.0).clamp(0.0, 100.0);
                    Target::Quota {
                        code: q.code.clone(),
                        usage: UsageLevel::Percent(pct),
                    }
                }
                3 => Target::Alarm {
                    name: rng.pick(&alarms)?.clone(),
                    state: AlarmState::Alarm,
                },
                _ => Target::SourceDown {
                    name: super::SOURCE_NAME.to_string(),
                },
            };
            // A source outage is short: long enough to go stale, not to end the game.
            let duration = if kind == 4 {
                duration.min(180)
            } else {
                duration
            };
            let span = (hi - lo - duration).max(1) as u64;
            let at = lo + rng.below(span) as i64;
            Some(ScheduledFault {
                id: format!("surprise[{n}]"),
                fault: Fault {
                    at: TOffset(at),
                    duration: Span(duration),
                    target,
                },
                surprise: true,
            })
        })
        .collect()
}

/// What the simulator needs to know about its runbook to place faults.
pub struct Wiring<'a> {
    pub runbook: &'a Runbook,
    pub t0: DateTime<Utc>,
    pub ids: &'a HashMap<String, usize>,
    /// Per quota: the metric its usage follows, if any.
    pub quota_metric: Vec<Option<usize>>,
    /// Per metric: the metrics its expression reads (empty for raw metrics).
    pub expr_refs: Vec<Vec<usize>>,
    /// Per simulated alarm: its name and the metric it follows.
    pub alarms: Vec<(String, Option<usize>)>,
    /// Per quota: its simulated value.
    pub quota_value: Vec<f64>,
}

/// A fault placed on the clock, with its target resolved to indices.
#[derive(Debug, Clone)]
struct Placed {
    scheduled: ScheduledFault,
    /// Unix seconds: active on [start, end).
    start: i64,
    end: i64,
    /// The metric whose values it changes, and how.
    metric: Option<(usize, Effect)>,
    /// A curve-driven quota whose usage it sets.
    quota: Option<(usize, f64)>,
    affects: Vec<AlertKey>,
    reported_start: bool,
    reported_end: bool,
}

/// Every fault of a session, in the order given.
#[derive(Debug, Clone, Default)]
pub struct Plan {
    faults: Vec<Placed>,
    /// Unix second the session began (first backfill or step): faults over by then are not
    /// part of this rehearsal and are never reported.
    began: Option<i64>,
}

impl Plan {
    pub fn new(faults: Vec<ScheduledFault>, w: &Wiring<'_>) -> Plan {
        let placed = faults
            .into_iter()
            .map(|s| {
                let start = s.fault.at.at(w.t0).timestamp();
                let end = start.saturating_add(s.fault.duration.secs());
                let (metric, quota, affects) = resolve(&s.fault.target, w);
                Placed {
                    scheduled: s,
                    start,
                    end,
                    metric,
                    quota,
                    affects,
                    reported_start: false,
                    reported_end: false,
                }
            })
            .collect();
        Plan {
            faults: placed,
            began: None,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.faults.is_empty()
    }

    /// The last-listed fault changing `metric` at second `t`: (effect, start, end).
    pub fn metric_effect(&self, metric: usize, t: i64) -> Option<(Effect, i64, i64)> {
        self.faults
            .iter()
            .rev()
            .filter(|f| f.start <= t && t < f.end)
            .find_map(|f| match f.metric {
                Some((m, e)) if m == metric => Some((e, f.start, f.end)),
                _ => None,
            })
    }

    /// Usage of a curve-driven quota at second `t`, while a fault sets it.
    pub fn quota_usage(&self, quota: usize, t: i64) -> Option<f64> {
        self.faults
            .iter()
            .rev()
            .filter(|f| f.start <= t && t < f.end)
            .find_map(|f| match f.quota {
                Some((q, usage)) if q == quota => Some(usage),
                _ => None,
            })
    }

    /// The state an alarm is forced to at `t`, and since when.
    pub fn alarm_state(&self, name: &str, t: i64) -> Option<(AlarmState, i64)> {
        self.faults
            .iter()
            .rev()
            .filter(|f| f.start <= t && t < f.end)
            .find_map(|f| match &f.scheduled.fault.target {
                Target::Alarm { name: n, state } if n == name => Some((*state, f.start)),
                _ => None,
            })
    }

    /// When the latest fault on an alarm that is over by `t` ended.
    pub fn alarm_released(&self, name: &str, t: i64) -> Option<i64> {
        self.faults
            .iter()
            .filter(|f| f.end <= t)
            .filter(
                |f| matches!(&f.scheduled.fault.target, Target::Alarm { name: n, .. } if n == name),
            )
            .map(|f| f.end)
            .max()
    }

    /// The start of the source outage under way at `t`, if any.
    pub fn down_since(&self, t: i64) -> Option<i64> {
        self.faults
            .iter()
            .filter(|f| f.start <= t && t < f.end)
            .filter(|f| matches!(f.scheduled.fault.target, Target::SourceDown { .. }))
            .map(|f| f.start)
            .min()
    }

    /// Notices for faults that began or ended by `now` and were not reported yet, in time order.
    pub fn notices(&mut self, now: i64) -> Vec<Update> {
        let began = *self.began.get_or_insert(now);
        let mut out: Vec<(i64, Update)> = Vec::new();
        for f in &mut self.faults {
            if !f.reported_start && f.start <= now {
                f.reported_start = true;
                if f.end <= began {
                    // Over before the rehearsal began: nobody could have seen it.
                    f.reported_end = true;
                    continue;
                }
                out.push((f.start, Update::Fault(notice(f, true))));
            }
            if f.reported_start && !f.reported_end && f.end <= now {
                f.reported_end = true;
                out.push((f.end, Update::Fault(notice(f, false))));
            }
        }
        out.sort_by_key(|(t, _)| *t);
        out.into_iter().map(|(_, u)| u).collect()
    }
}

fn notice(f: &Placed, started: bool) -> FaultNotice {
    let time = |s: i64| DateTime::from_timestamp(s, 0).unwrap_or(DateTime::<Utc>::MIN_UTC);
    FaultNotice {
        id: f.scheduled.id.clone(),
        started,
        at: time(if started { f.start } else { f.end }),
        until: time(f.end),
        description: f.scheduled.fault.describe(),
        target: f.scheduled.fault.target_name().to_string(),
        surprise: f.scheduled.surprise,
        affects: f.affects.clone(),
    }
}

type Resolved = (Option<(usize, Effect)>, Option<(usize, f64)>, Vec<AlertKey>);

/// The metric or quota a fault changes, and every alert it could open.
fn resolve(target: &Target, w: &Wiring<'_>) -> Resolved {
    match target {
        Target::Metric { id, effect } => match w.ids.get(id) {
            Some(&m) => (Some((m, *effect)), None, metric_affects(m, w)),
            None => (None, None, Vec::new()),
        },
        Target::Quota { code, usage } => {
            let Some(q) = w.runbook.quotas.iter().position(|q| &q.code == code) else {
                return (None, None, Vec::new());
            };
            let value = usage.of(w.quota_value.get(q).copied().unwrap_or(0.0));
            match w.quota_metric.get(q).copied().flatten() {
                // Usage that follows a metric jumps with it: the metric is the usage.
                Some(m) => {
                    let mut affects = metric_affects(m, w);
                    push_unique(&mut affects, AlertKey::Quota(code.clone()));
                    (Some((m, Effect::Spike(value))), None, affects)
                }
                None => (None, Some((q, value)), vec![AlertKey::Quota(code.clone())]),
            }
        }
        Target::Alarm { name, .. } => (None, None, vec![AlertKey::Alarm(name.clone())]),
        // An outage opens no alert of its own: it shows as stale data (and notes count).
        // The app alerts on a source failing for a minute: that is how an outage is detected.
        Target::SourceDown { .. } => (
            None,
            None,
            vec![AlertKey::Source(
                crate::source::sim::SOURCE_NAME.to_string(),
            )],
        ),
    }
}

/// Alerts a change to metric `m` can open: its own, those of expressions reading it (however
/// deep), alarms following any of those, and quotas whose usage is one of them.
fn metric_affects(m: usize, w: &Wiring<'_>) -> Vec<AlertKey> {
    let mut touched = vec![m];
    loop {
        let before = touched.len();
        for (i, refs) in w.expr_refs.iter().enumerate() {
            if !touched.contains(&i) && refs.iter().any(|r| touched.contains(r)) {
                touched.push(i);
            }
        }
        if touched.len() == before {
            break;
        }
    }
    let mut out = Vec::new();
    for &i in &touched {
        if let Some(def) = w.runbook.metrics.get(i) {
            push_unique(&mut out, AlertKey::Metric(def.id.clone()));
        }
    }
    for (name, follows) in &w.alarms {
        if follows.is_some_and(|f| touched.contains(&f)) {
            push_unique(&mut out, AlertKey::Alarm(name.clone()));
        }
    }
    for (q, metric) in w.quota_metric.iter().enumerate() {
        if metric.is_some_and(|f| touched.contains(&f))
            && let Some(def) = w.runbook.quotas.get(q)
        {
            push_unique(&mut out, AlertKey::Quota(def.code.clone()));
        }
    }
    out
}

fn push_unique(v: &mut Vec<AlertKey>, k: AlertKey) {
    if !v.contains(&k) {
        v.push(k);
    }
}

/// A metric's value under a fault, given its value without it (`base`) and, for ramp and
/// flatline, its value just before the fault began (`before`).
pub fn apply(
    effect: Effect,
    t: i64,
    start: i64,
    end: i64,
    base: Option<f64>,
    before: Option<f64>,
) -> Option<f64> {
    match effect {
        Effect::Spike(v) | Effect::Drop(v) => Some(v),
        Effect::Ramp(to) => {
            let from = before.or(base).unwrap_or(to);
            let frac = ((t - start) as f64 / (end - start).max(1) as f64).clamp(0.0, 1.0);
            Some(from + (to - from) * frac)
        }
        Effect::Flatline => before.or(base),
        Effect::Gap => None,
    }
}
