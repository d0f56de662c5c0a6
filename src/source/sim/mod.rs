//! The built-in simulator: a deterministic launch day for `tminus demo` and `--simulate`.
//!
//! Every value is a pure function of (seed, metric id, time bucket) and T-0, so the same seed
//! replays the same event, a restart shows the same history, and tests can ask for any point.
//! The logic (`backfill`, `step`) is synchronous and clock-free; `run` only adds the timing.

mod alarms;
mod curve;
#[cfg(test)]
mod fault_tests;
pub mod faults;
mod infer;
#[cfg(test)]
mod infer_tests;
#[cfg(test)]
mod quiet_tests;
#[cfg(test)]
mod runbook_files;
#[cfg(test)]
mod tests;

use std::collections::HashMap;
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::sync::mpsc::Sender;

use self::alarms::AlarmTracker;
use self::curve::{Profile, hash_str};
use crate::clock::Clock;
use crate::runbook::expr::{EvalContext, Expr};
use crate::runbook::model::Runbook;
use crate::source::{BoxFuture, Sample, Source, Update};

pub use self::curve::traffic;
pub use self::faults::{ScheduledFault, scripted, surprises};
pub use self::infer::{Guess, cannot_keep, guesses};

pub const SOURCE_NAME: &str = "simulator";
/// How much history `backfill` sends: enough to fill a sparkline at start.
pub const BACKFILL_SECS: i64 = 30 * 60;
/// Quota history sent by `backfill`, for the time-to-exhaustion forecast.
const QUOTA_BACKFILL_SECS: i64 = 10 * 60;
/// The run loop wakes on these boundaries of the clock.
pub const TICK_SECS: i64 = 10;
/// The most points `history` gives a series: two weeks of minutes.
pub const MAX_HISTORY_POINTS: i64 = 20_160;
/// Expressions may refer to expressions; deeper chains (or cycles) give no point.
const MAX_EXPR_DEPTH: usize = 8;
/// Relative noise on simulated quota usage.
const QUOTA_NOISE: f64 = 0.02;

#[derive(Debug)]
enum Kind {
    Raw(Profile),
    /// `None` when the expression does not parse: the metric then has no points (the runbook
    /// checker reports the error; the simulator must not fall over on it).
    Expr(Option<Expr>),
}

#[derive(Debug)]
struct MetricModel {
    /// The metric's period: one bucket, one point, as CloudWatch gives it.
    step: i64,
    /// Seconds after a bucket ends before it is settled (`crate::signal`).
    settle: i64,
    /// A count summed over the bucket: an open bucket holds only the part of it seen so far.
    summed: bool,
    /// Published only when non-zero (`signal::is_sparse_counter`): a zero is no point.
    sparse: bool,
    key: u64,
    kind: Kind,
}

#[derive(Debug)]
enum Usage {
    Metric(usize),
    Curve(Profile),
}

#[derive(Debug)]
struct QuotaModel {
    value: f64,
    usage: Usage,
    /// Seeds the usage noise of a curve-driven quota.
    key: u64,
}

pub struct Simulator {
    runbook: Runbook,
    t0: DateTime<Utc>,
    seed: u64,
    clock: std::sync::Arc<dyn Clock>,
    metrics: Vec<MetricModel>,
    ids: HashMap<String, usize>,
    quotas: Vec<QuotaModel>,
    alarms: Vec<AlarmTracker>,
    /// Unix second of the last emission; None before the first call.
    emitted_to: Option<i64>,
    /// Per metric, the settled boundary sent last: the next update starts there.
    settled_sent: Vec<Option<i64>>,
    /// Rehearsal faults (empty outside `tminus rehearse`).
    plan: faults::Plan,
}

impl Simulator {
    pub fn new(
        runbook: &Runbook,
        t0: DateTime<Utc>,
        seed: u64,
        clock: std::sync::Arc<dyn Clock>,
    ) -> Simulator {
        // Shapes for every raw metric: its `sim:` hints, or healthy levels inferred from the
        // runbook; and values for quotas without hints.
        let inferred = infer::infer(runbook);
        let metrics: Vec<MetricModel> = runbook
            .metrics
            .iter()
            .zip(&inferred.shapes)
            .map(|(m, shape)| {
                let step = i64::from(m.period.max(1));
                let settle = crate::signal::settle_secs(m);
                let summed = m.stat.as_deref().is_some_and(|s| {
                    s.eq_ignore_ascii_case("Sum") || s.eq_ignore_ascii_case("SampleCount")
                });
                let sparse = crate::signal::is_sparse_counter(m);
                match (&m.expression, shape) {
                    (None, Some(shape)) => {
                        // Statistics of one metric share their noise and drift (and so their
                        // order); every other metric has its own.
                        let key = runbook
                            .metrics
                            .get(shape.noise_of)
                            .map_or_else(|| hash_str(&m.id), |o| hash_str(&o.id));
                        MetricModel {
                            step,
                            settle,
                            summed,
                            sparse,
                            key,
                            kind: Kind::Raw(Profile::from_shape(shape, key, seed)),
                        }
                    }
                    (e, _) => MetricModel {
                        step,
                        settle,
                        summed,
                        sparse,
                        key: hash_str(&m.id),
                        kind: Kind::Expr(e.as_deref().and_then(|e| Expr::parse(e).ok())),
                    },
                }
            })
            .collect();
        let mut ids = HashMap::new();
        for (i, m) in runbook.metrics.iter().enumerate() {
            ids.entry(m.id.clone()).or_insert(i);
        }
        let quotas = runbook
            .quotas
            .iter()
            .zip(&inferred.quotas)
            .enumerate()
            .map(|(i, (q, shape))| {
                let metric = q.usage_metric.as_ref().and_then(|id| ids.get(id).copied());
                let usage = match metric {
                    Some(m) => Usage::Metric(m),
                    None => Usage::Curve(Profile::new(
                        shape.base,
                        shape.peak,
                        QUOTA_NOISE,
                        false,
                        hash_str(&format!("quota/{i}/{}", q.code)),
                        seed,
                    )),
                };
                QuotaModel {
                    value: shape.value,
                    usage,
                    key: hash_str(&format!("quota-noise/{i}")),
                }
            })
            .collect();
        Simulator {
            runbook: runbook.clone(),
            t0,
            seed,
            clock,
            metrics,
            ids,
            quotas,
            alarms: Vec::new(),
            emitted_to: None,
            settled_sent: Vec::new(),
            plan: faults::Plan::default(),
        }
    }

    /// Plays these faults: values, quotas and alarms change while each is active, and
    /// `backfill`/`step` report when each begins and ends (`Update::Fault`).
    /// Plays the calibrated metrics on the team's own traffic (`capacity::calibration`): their
    /// level, daily pattern and noise from history, their peak at the forecast. Metrics the
    /// calibration does not cover keep their hints or inferred healthy shape.
    pub fn with_calibration(
        mut self,
        cal: &crate::capacity::calibration::Calibration,
    ) -> Simulator {
        let t0 = self.t0.timestamp();
        for (i, def) in self.runbook.metrics.iter().enumerate() {
            let (Some(shape), Some(model)) = (cal.metrics.get(&def.id), self.metrics.get_mut(i))
            else {
                continue;
            };
            if let Kind::Raw(p) = &mut model.kind {
                let mut q = Profile::new(
                    shape.base,
                    shape.peak,
                    shape.noise,
                    p.integer,
                    model.key,
                    self.seed,
                );
                q.lag = p.lag;
                q.daily = Some((t0, shape.daily.clone()));
                *p = q;
            }
        }
        self
    }

    pub fn with_faults(mut self, faults: Vec<ScheduledFault>) -> Simulator {
        let expr_refs = self
            .metrics
            .iter()
            .map(|m| match &m.kind {
                Kind::Expr(Some(e)) => e
                    .refs()
                    .into_iter()
                    .filter_map(|id| self.ids.get(id).copied())
                    .collect(),
                _ => Vec::new(),
            })
            .collect();
        let wiring = faults::Wiring {
            runbook: &self.runbook,
            t0: self.t0,
            ids: &self.ids,
            quota_metric: self
                .quotas
                .iter()
                .map(|q| match q.usage {
                    Usage::Metric(m) => Some(m),
                    Usage::Curve(_) => None,
                })
                .collect(),
            expr_refs,
            alarms: alarms::trackers(&self.runbook, self.t0)
                .into_iter()
                .map(|a| (a.name, a.metric))
                .collect(),
            quota_value: self.quotas.iter().map(|q| q.value).collect(),
        };
        self.plan = faults::Plan::new(faults, &wiring);
        self
    }

    /// The value of metric `metric` (index in `runbook.metrics`) in the bucket holding `at`.
    /// Depends only on the seed, the metric, the bucket and T-0, never on call order.
    pub fn value_at(&self, metric: usize, at: DateTime<Utc>) -> Option<f64> {
        self.value_at_secs(metric, at.timestamp(), 0)
    }

    fn value_at_secs(&self, metric: usize, t: i64, depth: usize) -> Option<f64> {
        let m = self.metrics.get(metric)?;
        let bucket = t.div_euclid(m.step) * m.step;
        let base = self.base_value(metric, bucket, depth);
        match self.plan.metric_effect(metric, bucket) {
            None => base,
            Some((effect, start, end)) => {
                // Ramp and flatline start from the last point before the fault; the lookup goes
                // strictly back in time, and the depth bounds chains of overlapping faults.
                let needs_before = matches!(
                    effect,
                    crate::runbook::fault::Effect::Ramp(_)
                        | crate::runbook::fault::Effect::Flatline
                );
                let before = (needs_before && depth < MAX_EXPR_DEPTH)
                    .then(|| {
                        let prev = (start - 1).div_euclid(m.step) * m.step;
                        self.value_at_secs(metric, prev, depth + 1)
                    })
                    .flatten();
                faults::apply(effect, bucket, start, end, base, before)
            }
        }
    }

    /// A metric's value in a bucket without faults on the metric itself (faults on the metrics
    /// an expression reads do show through).
    fn base_value(&self, metric: usize, bucket: i64, depth: usize) -> Option<f64> {
        let m = self.metrics.get(metric)?;
        match &m.kind {
            Kind::Raw(profile) => {
                let x = (bucket * 1000 - self.t0.timestamp_millis()) as f64 / 1000.0;
                let z = curve::gaussian(self.seed, m.key, bucket);
                profile.value(x, z)
            }
            Kind::Expr(None) => None,
            Kind::Expr(Some(e)) => {
                if depth >= MAX_EXPR_DEPTH {
                    return None;
                }
                e.eval(&mut EvalContext {
                    t: bucket,
                    period: m.step as f64,
                    lookup: &mut |id| {
                        let i = *self.ids.get(id)?;
                        self.value_at_secs(i, bucket, depth + 1)
                    },
                })
            }
        }
    }

    /// Quota usage at Unix second `t`.
    fn usage_at(&self, quota: usize, t: i64) -> Option<f64> {
        let q = self.quotas.get(quota)?;
        match &q.usage {
            Usage::Metric(m) => self.value_at_secs(*m, t, 0),
            Usage::Curve(_) if self.plan.quota_usage(quota, t).is_some() => {
                self.plan.quota_usage(quota, t)
            }
            Usage::Curve(p) => {
                let bucket = t.div_euclid(TICK_SECS) * TICK_SECS;
                let x = (bucket * 1000 - self.t0.timestamp_millis()) as f64 / 1000.0;
                p.value(x, curve::gaussian(self.seed, q.key, bucket))
            }
        }
    }

    /// Each quota's value, and its usage unless a metric gives it: the app takes that from
    /// the metric's settled points, as it does live.
    fn quota_updates(&self, at: DateTime<Utc>) -> Vec<Update> {
        (0..self.quotas.len())
            .map(|i| Update::Quota {
                quota: i,
                value: Some(self.quotas[i].value).filter(|v| v.is_finite()),
                usage: match self.quotas[i].usage {
                    Usage::Metric(_) => None,
                    Usage::Curve(_) => self.usage_at(i, at.timestamp()),
                },
                at,
            })
            .collect()
    }

    /// What CloudWatch would answer for metric `metric`'s bucket holding `t`, asked at `now`:
    /// a bucket still open holds only the part of a summed count seen so far (an expression
    /// over it follows). None: no datapoint.
    fn seen_at(&self, metric: usize, t: i64, now: i64) -> Option<f64> {
        let m = self.metrics.get(metric)?;
        let bucket = t.div_euclid(m.step) * m.step;
        let full = self.value_at_secs(metric, bucket, 0)?;
        let v = match &m.kind {
            Kind::Raw(_) if m.summed && bucket + m.step > now => {
                let seen = (now - bucket).clamp(0, m.step) as f64 / m.step as f64;
                (full * seen).round()
            }
            Kind::Expr(Some(e)) if bucket + m.step > now => e.eval(&mut EvalContext {
                t: bucket,
                period: m.step as f64,
                lookup: &mut |id| {
                    let i = *self.ids.get(id)?;
                    self.seen_at(i, bucket, now)
                },
            })?,
            _ => full,
        };
        (!(m.sparse && v == 0.0)).then_some(v)
    }

    /// For each metric, the buckets from its last settled boundary (or `from`) to `now`: the
    /// settled ones with their final values, the rest provisional as seen at `now`. Feeds the
    /// newly settled points to the alarms and returns their state changes too.
    fn advance(&mut self, from: i64, now: i64) -> (Vec<Update>, Vec<Update>) {
        let mut samples = Vec::new();
        let mut changes = Vec::new();
        self.settled_sent.resize(self.metrics.len(), None);
        for i in 0..self.metrics.len() {
            let (step, settle) = (self.metrics[i].step, self.metrics[i].settle);
            let Some(now_at) = DateTime::from_timestamp(now, 0) else {
                continue;
            };
            let settled_to = crate::signal::settled_to(now_at, step as u32, settle).timestamp();
            let start = self.settled_sent[i]
                .unwrap_or(from)
                .max(from)
                .div_euclid(step)
                * step;
            let mut points = Vec::new();
            let mut settled_points = Vec::new();
            let mut b = start;
            while b <= now {
                let value = if b < settled_to {
                    self.value_at_secs(i, b, 0)
                        .filter(|v| !(self.metrics[i].sparse && *v == 0.0))
                } else {
                    self.seen_at(i, b, now)
                };
                if let (Some(v), Some(at)) = (value, DateTime::from_timestamp(b, 0)) {
                    let p = Sample { at, value: v };
                    if b < settled_to {
                        settled_points.push(p);
                    }
                    points.push(p);
                }
                b += step;
            }
            self.settled_sent[i] = Some(settled_to.max(start));
            for a in self.alarms.iter_mut().filter(|a| a.metric == Some(i)) {
                for p in &settled_points {
                    if a.observe(p.at, p.value) {
                        changes.push(alarm_update(a));
                    }
                }
            }
            samples.push(Update::Samples {
                metric: i,
                points,
                settled_to: DateTime::from_timestamp(settled_to, 0),
            });
        }
        (samples, changes)
    }

    /// The last 30 minutes of points, quota history, every alarm's state and a health report:
    /// what the app needs to show a full screen at start. Calling it again starts over. During a
    /// source outage (a rehearsal fault) the history stops where the outage began.
    pub fn backfill(&mut self, now: DateTime<Utc>) -> Vec<Update> {
        let mut out = self.plan.notices(now.timestamp());
        let down = self.plan.down_since(now.timestamp());
        let to = down.map_or(now.timestamp(), |d| d.min(now.timestamp()));
        let from = to.saturating_sub(BACKFILL_SECS);
        let created = DateTime::from_timestamp(from, 0).unwrap_or(now);
        self.alarms = alarms::trackers(&self.runbook, created);
        self.settled_sent.clear();
        let (samples, _changes) = self.advance(from, to);
        out.extend(samples);
        self.emitted_to = Some(to);

        let mut t = (to - QUOTA_BACKFILL_SECS).div_euclid(TICK_SECS) * TICK_SECS + TICK_SECS;
        while t < to {
            if let Some(at) = DateTime::from_timestamp(t, 0) {
                out.extend(self.quota_updates(at));
            }
            t += TICK_SECS;
        }
        if down.is_some() {
            out.push(outage(now));
            return out;
        }
        out.extend(self.quota_updates(now));
        out.extend(self.alarm_updates(now));
        out.push(health(now));
        out
    }

    /// Everything due since the last call: fault notices, newly settled points and the
    /// provisional ones, alarm state changes, quota usage at `now`, and a health report. A clock
    /// that went backwards gives no new points. During a source outage only an error: the
    /// points are sent once it ends, late, as CloudWatch would.
    pub fn step(&mut self, now: DateTime<Utc>) -> Vec<Update> {
        let to = now.timestamp();
        if self.emitted_to.is_none() {
            self.alarms = alarms::trackers(&self.runbook, now);
        }
        let mut out = self.plan.notices(to);
        if self.plan.down_since(to).is_some() {
            out.push(outage(now));
            return out;
        }
        // After a long sleep (laptop lid, paused process) send at most the backfill window.
        let from = to.saturating_sub(BACKFILL_SECS);
        if self.emitted_to.is_none_or(|e| to > e) {
            let (samples, changes) = self.advance(from, to);
            out.extend(samples);
            out.extend(changes);
            self.emitted_to = Some(to);
        }
        // Every alarm's state on every step, as a DescribeAlarms poll returns them: the pane's
        // "updated" age then says how fresh the states are, not when one last changed.
        out.extend(self.alarm_updates(now));
        out.extend(self.quota_updates(now));
        out.push(health(now));
        out
    }

    /// Every alarm's state at `now`, with rehearsal faults forcing some of them.
    fn alarm_updates(&self, now: DateTime<Utc>) -> Vec<Update> {
        let t = now.timestamp();
        self.alarms
            .iter()
            .map(|a| {
                let forced = self.plan.alarm_state(&a.name, t);
                let released = self.plan.alarm_released(&a.name, t);
                match (forced, alarm_update(a)) {
                    (Some((state, since)), Update::Alarm { name, .. }) => Update::Alarm {
                        reason: forced_reason(a, state),
                        name,
                        state,
                        changed_at: DateTime::from_timestamp(since, 0).unwrap_or(now),
                    },
                    // After a forced state the alarm's own state is a change again.
                    (
                        None,
                        Update::Alarm {
                            name,
                            state,
                            reason,
                            changed_at,
                        },
                    ) if released.is_some_and(|r| r > changed_at.timestamp()) => Update::Alarm {
                        name,
                        state,
                        reason,
                        changed_at: released
                            .and_then(|r| DateTime::from_timestamp(r, 0))
                            .unwrap_or(changed_at),
                    },
                    (_, u) => u,
                }
            })
            .collect()
    }

    pub fn t0(&self) -> DateTime<Utc> {
        self.t0
    }
}

/// The names of the alarms the simulator plays for a runbook (what rehearsal faults may flip).
pub fn alarm_names(runbook: &Runbook) -> Vec<String> {
    let epoch = DateTime::<Utc>::UNIX_EPOCH;
    alarms::trackers(runbook, epoch)
        .into_iter()
        .map(|a| a.name)
        .collect()
}

fn alarm_update(a: &AlarmTracker) -> Update {
    Update::Alarm {
        name: a.name.clone(),
        state: a.state,
        reason: a.reason.clone(),
        changed_at: a.changed_at,
    }
}

/// What CloudWatch would say for an alarm in a state a fault forced, without giving the fault
/// away.
fn forced_reason(a: &AlarmTracker, state: crate::source::AlarmState) -> String {
    match state {
        crate::source::AlarmState::InsufficientData => format!(
            "Insufficient Data: {} datapoints were unknown.",
            alarms::DATAPOINTS
        ),
        _ => {
            let cmp = match a.direction {
                crate::runbook::model::Direction::Above => "greater than or equal to",
                crate::runbook::model::Direction::Below => "less than or equal to",
            };
            format!(
                "Threshold Crossed: {} datapoints were {cmp} the threshold ({:.1}).",
                alarms::DATAPOINTS,
                a.threshold
            )
        }
    }
}

/// The error a source in an outage reports, worded like a network failure, not like a fault.
fn outage(at: DateTime<Utc>) -> Update {
    Update::Health {
        source: SOURCE_NAME.to_string(),
        error: Some("request timed out: no response from the metrics endpoint".to_string()),
        at,
    }
}

fn health(at: DateTime<Utc>) -> Update {
    Update::Health {
        source: SOURCE_NAME.to_string(),
        error: None,
        at,
    }
}

/// Milliseconds from `now` to the next multiple of `TICK_SECS` strictly after it.
fn until_next_tick_ms(now: DateTime<Utc>) -> i64 {
    let ms = now.timestamp_millis();
    let tick = TICK_SECS * 1000;
    (ms.div_euclid(tick) + 1) * tick - ms
}

impl Source for Simulator {
    fn name(&self) -> &str {
        SOURCE_NAME
    }

    fn run(self: Box<Self>, tx: Sender<Update>) -> BoxFuture {
        Box::pin(async move {
            let mut sim = *self;
            let clock = sim.clock.clone();
            for u in sim.backfill(clock.now()) {
                if tx.send(u).await.is_err() {
                    return;
                }
            }
            // How fast the clock runs against real time: 1 for the wall clock, N for a rehearsal
            // at --speed N (as the clock says, then as measured), so a tick is not overslept N
            // times.
            let mut rate = clock.rate().clamp(1.0, 1000.0);
            loop {
                let before = clock.now();
                let wait_ms = (until_next_tick_ms(before) as f64 / rate).clamp(50.0, 10_000.0);
                let started = tokio::time::Instant::now();
                tokio::time::sleep(Duration::from_millis(wait_ms as u64)).await;
                let now = clock.now();
                let slept = started.elapsed().as_millis() as f64;
                let moved = (now - before).num_milliseconds() as f64;
                if slept > 0.0 && moved > 0.0 {
                    rate = (moved / slept).clamp(1.0, 1000.0);
                }
                for u in sim.step(now) {
                    if tx.send(u).await.is_err() {
                        return;
                    }
                }
            }
        })
    }
}

/// A simulated history: each metric's settled values and each quota's value and usage.
pub struct History {
    pub metrics: Vec<Vec<(DateTime<Utc>, f64)>>,
    pub quota_values: Vec<Option<f64>>,
    pub quota_usage: Vec<Vec<(DateTime<Utc>, f64)>>,
}

impl Simulator {
    /// What the simulator would have shown from `from` to `to`: every metric's value at its
    /// own period (sparse zeros included: a plan wants the level), and each quota's usage at
    /// the war room's tick. For `tminus plan --simulate`. At most `MAX_HISTORY_POINTS` a series:
    /// a longer window is sampled more coarsely.
    pub fn history(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> History {
        let mut h = History {
            metrics: vec![Vec::new(); self.metrics.len()],
            quota_values: self.quota_values(),
            quota_usage: vec![Vec::new(); self.quotas.len()],
        };
        self.visit_history(from, to, |series, i, at, v| match series {
            HistorySeries::Metric => h.metrics[i].push((at, v)),
            HistorySeries::QuotaUsage => h.quota_usage[i].push((at, v)),
        });
        h
    }

    /// Each quota's simulated value.
    pub fn quota_values(&self) -> Vec<Option<f64>> {
        self.quotas
            .iter()
            .map(|q| Some(q.value).filter(|v| v.is_finite()))
            .collect()
    }

    /// The same points as `history`, one at a time, without keeping them: a plan over two
    /// weeks needs only each series' peak.
    pub fn visit_history(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        mut visit: impl FnMut(HistorySeries, usize, DateTime<Utc>, f64),
    ) {
        let (from, to) = (from.timestamp(), to.timestamp());
        let span = (to - from).max(0);
        let mut series =
            |kind: HistorySeries, i: usize, step: i64, value: &dyn Fn(i64) -> Option<f64>| {
                let step = step.max(span / MAX_HISTORY_POINTS + 1);
                let mut t = from.div_euclid(step) * step;
                while t < to {
                    if let (Some(v), Some(at)) = (value(t), DateTime::from_timestamp(t, 0)) {
                        visit(kind, i, at, v);
                    }
                    t += step;
                }
            };
        for i in 0..self.metrics.len() {
            series(HistorySeries::Metric, i, self.metrics[i].step, &|t| {
                self.value_at_secs(i, t, 0)
            });
        }
        for i in 0..self.quotas.len() {
            series(HistorySeries::QuotaUsage, i, TICK_SECS, &|t| {
                self.usage_at(i, t)
            });
        }
    }
}

/// Which series a history point belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HistorySeries {
    Metric,
    QuotaUsage,
}
