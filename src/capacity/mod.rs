//! The capacity plan: at the event's forecast peak, which quotas break, what to request and by
//! when, and which metrics cross their thresholds.
//!
//! Pure: the history comes in as numbers (read from CloudWatch and Service Quotas by
//! `capacity::live`, or played by the simulator in `capacity::simulated`), the plan goes out as
//! rows for `tminus plan`'s table and JSON, and for the war room's gauges and readiness items.

pub mod calibration;
pub mod history;
pub mod scale_down;

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use crate::runbook::Runbook;
use crate::runbook::model::{Direction, Metric};
use crate::thresholds::{metric_severity, quota_headroom_pct, quota_severity};
use crate::vocab::Severity;

/// Defaults when neither the runbook nor the command line says.
pub const DEFAULT_HISTORY_SECS: i64 = 14 * 86_400;
/// AWS gives no bound on how long an increase takes: large ones become support cases that take
/// days, and AWS's event guidance is to ask weeks ahead. Three weeks unless the runbook knows.
pub const DEFAULT_LEAD_TIME_SECS: i64 = 21 * 86_400;
/// Asked for on top of keeping the projected peak out of the warning band.
pub const DEFAULT_MARGIN: f64 = 0.10;

/// What the plan is computed with, after the runbook and the command line are merged.
#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    /// Peak traffic against the history's, for everything without its own `forecast`.
    pub forecast: f64,
    pub history_secs: i64,
    pub margin: f64,
    pub lead_time_secs: i64,
}

impl Settings {
    /// The runbook's `event.forecast` and `plan:` section, with `--peak` and `--history` over
    /// them.
    pub fn new(rb: &Runbook, peak: Option<f64>, history_secs: Option<i64>) -> Settings {
        let plan = rb.plan.clone().unwrap_or_default();
        Settings {
            forecast: peak.or(rb.event.forecast.map(|m| m.0)).unwrap_or(1.0),
            history_secs: history_secs
                .or(plan.history.map(|s| s.secs()))
                .unwrap_or(DEFAULT_HISTORY_SECS),
            margin: plan.margin.map_or(DEFAULT_MARGIN, |p| p.0 / 100.0),
            lead_time_secs: plan.lead_time.map_or(DEFAULT_LEAD_TIME_SECS, |s| s.secs()),
        }
    }
}

/// Parses `--history`: a duration from an hour to 90 days.
pub fn parse_history(s: &str) -> Result<i64, String> {
    let span: crate::time::Span = s
        .parse()
        .map_err(|e: crate::time::TimeParseError| e.to_string())?;
    let secs = span.secs();
    if (history::MIN_HISTORY_SECS..=history::MAX_HISTORY_SECS).contains(&secs) {
        Ok(secs)
    } else {
        Err(format!(
            "{s:?}: the history must be from 1h to 90d (CloudWatch keeps minutes for 15 days, 5-minute data for 63)"
        ))
    }
}

/// The highest value a series reached in the history window, and when.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Peak {
    pub value: f64,
    pub at: DateTime<Utc>,
}

impl Peak {
    /// The highest finite point of a series (the lowest for a lower-is-worse metric).
    pub fn of(
        points: impl IntoIterator<Item = (DateTime<Utc>, f64)>,
        dir: Direction,
    ) -> Option<Peak> {
        let mut best = None;
        for (at, value) in points {
            Peak::keep_worst(&mut best, at, value, dir);
        }
        best
    }

    /// Folds one point into `best`: it replaces it when finite and strictly worse (so a peak
    /// keeps the first time it was reached). The one rule for peaks: the plan, the simulated
    /// plan (which folds two weeks without holding them) and the review all use it.
    pub fn keep_worst(best: &mut Option<Peak>, at: DateTime<Utc>, value: f64, dir: Direction) {
        let worse = |b: &Peak| match dir {
            Direction::Above => value > b.value,
            Direction::Below => value < b.value,
        };
        if value.is_finite() && best.as_ref().is_none_or(worse) {
            *best = Some(Peak { value, at });
        }
    }
}

/// What was read for one quota: its value (or why not) and the peak of its usage.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct QuotaReading {
    pub value: Option<f64>,
    /// The AWS default holds (no value applied to the account).
    pub is_default: bool,
    pub adjustable: Option<bool>,
    pub peak: Option<Peak>,
    pub error: Option<String>,
}

/// What was read for one metric.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MetricReading {
    pub peak: Option<Peak>,
    pub error: Option<String>,
}

/// Everything the plan is computed from.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Readings {
    pub quotas: Vec<QuotaReading>,
    pub metrics: Vec<MetricReading>,
    /// Each metric's points (by index), kept when a calibration asks for them.
    pub metric_series: std::collections::BTreeMap<usize, Vec<(DateTime<Utc>, f64)>>,
    /// The history actually read: its start, end and bucket length.
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    pub period_secs: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Projected within the thresholds.
    Fits,
    Warn,
    Crit,
    /// Not projected: no history, or the metric does not grow with traffic.
    NotProjected,
    /// Could not be read.
    Error,
}

impl Status {
    fn from_severity(s: Option<Severity>) -> Status {
        match s {
            None => Status::Fits,
            Some(Severity::Warn) => Status::Warn,
            Some(Severity::Crit) => Status::Crit,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Status::Fits => "fits",
            Status::Warn => "WARN",
            Status::Crit => "CRIT",
            Status::NotProjected => "—",
            Status::Error => "error",
        }
    }
}

/// One quota in the plan.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QuotaPlan {
    pub quota: usize,
    pub service: String,
    pub code: String,
    pub title: String,
    pub value: Option<f64>,
    pub is_default: bool,
    pub adjustable: Option<bool>,
    pub peak: Option<Peak>,
    pub forecast: f64,
    pub projected: Option<f64>,
    pub projected_headroom_pct: Option<f64>,
    pub status: Status,
    /// The value to ask for, when the projected peak does not fit the current value.
    pub request: Option<f64>,
    pub request_by: DateTime<Utc>,
    /// The request-by date is already behind us.
    pub late: bool,
    pub note: Option<String>,
}

/// One metric with thresholds in the plan.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MetricPlan {
    pub metric: usize,
    pub id: String,
    pub title: String,
    pub unit: Option<String>,
    pub peak: Option<Peak>,
    /// None: not projected (`note` says why).
    pub forecast: Option<f64>,
    pub projected: Option<f64>,
    pub warn: Option<f64>,
    pub crit: Option<f64>,
    pub status: Status,
    pub note: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    pub event: String,
    pub t0: DateTime<Utc>,
    pub made_at: DateTime<Utc>,
    pub forecast: f64,
    pub history_from: Option<DateTime<Utc>>,
    pub history_to: Option<DateTime<Utc>>,
    pub period_secs: u32,
    pub quotas: Vec<QuotaPlan>,
    pub metrics: Vec<MetricPlan>,
}

impl Plan {
    /// 1 when anything is projected critical, else 2 when something could not be read, else 0.
    pub fn exit_code(&self) -> u8 {
        let statuses = || {
            self.quotas
                .iter()
                .map(|q| q.status)
                .chain(self.metrics.iter().map(|m| m.status))
        };
        if statuses().any(|s| s == Status::Crit) {
            1
        } else if statuses().any(|s| s == Status::Error) {
            2
        } else {
            0
        }
    }
}

/// Whether a metric's value grows with traffic, so that the forecast multiplies it; `Err`
/// says why not. Counts, sums and concurrency grow; latency, percentages and ratios do not (a
/// p99 at 22 times the traffic is not 22 times the p99). A metric's own `forecast` decides.
pub fn scales_with_traffic(m: &Metric) -> Result<(), &'static str> {
    if m.direction == Direction::Below {
        return Err("lower is worse: more traffic raises it");
    }
    grows_with_traffic(m)
}

/// Whether a metric's value grows in proportion to traffic (counts, sums, concurrency), what
/// ever its direction; `Err` says why not.
pub fn grows_with_traffic(m: &Metric) -> Result<(), &'static str> {
    if m.expression.is_some() {
        return Err("metric math (often a ratio): set `forecast:` on it to project it");
    }
    let unit = m.unit.as_deref().unwrap_or("").to_ascii_lowercase();
    let name = m.metric.as_deref().unwrap_or("").to_ascii_lowercase();
    let stat = m.stat.as_deref().unwrap_or("Average").to_ascii_lowercase();
    if unit.contains('%') || unit.contains("percent") || name.contains("utilization") {
        return Err("a percentage");
    }
    if m.is_latency() {
        return Err("latency does not grow in proportion to traffic");
    }
    if stat == "sum" || stat == "samplecount" {
        return Ok(());
    }
    const VOLUME: [&str; 9] = [
        "concurren",
        "count",
        "invocations",
        "request",
        "token",
        "connection",
        "capacity",
        "executions",
        "bytes",
    ];
    if VOLUME.iter().any(|w| name.contains(w)) {
        Ok(())
    } else {
        Err("not a count: set `forecast:` on it to project it")
    }
}

/// A number people would write in an increase request: the next of 1, 1.2, 1.5, 2, 2.5, 3, 4,
/// 5, 6, 8 times a power of ten at or above `v` (4,752 asks for 5,000; 37 for 40).
pub fn round_up(v: f64) -> f64 {
    if !v.is_finite() {
        return v;
    }
    if v <= 0.0 {
        return 0.0;
    }
    const STEPS: [f64; 11] = [1.0, 1.2, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 8.0, 10.0];
    let mag = 10f64.powf(v.log10().floor());
    let step = STEPS
        .iter()
        .map(|s| s * mag)
        // Float noise (4000.0000001) must not push 4,000 up to 5,000.
        .find(|&x| x >= v * (1.0 - 1e-9))
        .unwrap_or(10.0 * mag);
    if step >= 100.0 { step.round() } else { step }
}

/// The plan for `rb` at `now`, from what was read.
pub fn plan(
    rb: &Runbook,
    t0: DateTime<Utc>,
    now: DateTime<Utc>,
    settings: &Settings,
    readings: &Readings,
) -> Plan {
    let quotas = rb
        .quotas
        .iter()
        .enumerate()
        .map(|(i, q)| {
            let r = readings.quotas.get(i).cloned().unwrap_or_default();
            let forecast = q.forecast.map_or(settings.forecast, |m| m.0);
            let lead = q.lead_time.map_or(settings.lead_time_secs, |s| s.secs());
            let request_by = t0 - Duration::seconds(lead);
            let projected = r.peak.map(|p| p.value * forecast);
            let headroom = quota_headroom_pct(r.value, projected);
            let warn_below = q.warn_below.0;
            let mut note = r.error.clone();
            let status = if r.error.is_some() {
                Status::Error
            } else {
                match headroom {
                    Some(h) => {
                        Status::from_severity(quota_severity(h, warn_below, q.crit_below.0, None))
                    }
                    None => {
                        note = Some(if r.value.is_none() {
                            "quota value unknown".into()
                        } else {
                            "no usage history: nothing to project".into()
                        });
                        Status::NotProjected
                    }
                }
            };
            // Ask for enough that the projected peak stays out of the warning band, plus the
            // margin, rounded as people round.
            let request = match (status, projected, r.value) {
                (Status::Warn | Status::Crit, Some(p), Some(v)) => {
                    let keep = (1.0 - warn_below / 100.0).max(0.01);
                    let want = round_up(p / keep * (1.0 + settings.margin));
                    (want > v).then_some(want)
                }
                _ => None,
            };
            if request.is_some() && r.adjustable == Some(false) {
                note =
                    Some("not adjustable: AWS will not raise it; shed or spread the load".into());
            }
            QuotaPlan {
                quota: i,
                service: q.service.clone(),
                code: q.code.clone(),
                title: q.display_title(),
                value: r.value,
                is_default: r.is_default,
                adjustable: r.adjustable,
                peak: r.peak,
                forecast,
                projected,
                projected_headroom_pct: headroom,
                status,
                request: request.filter(|_| r.adjustable != Some(false)),
                request_by,
                late: request.is_some() && now > request_by,
                note,
            }
        })
        .collect();
    let metrics = rb
        .metrics
        .iter()
        .enumerate()
        .filter(|(_, m)| !m.hidden && (m.warn.is_some() || m.crit.is_some()))
        .map(|(i, m)| {
            let r = readings.metrics.get(i).cloned().unwrap_or_default();
            let scaling = match m.forecast {
                Some(f) => Ok(f.0),
                None => scales_with_traffic(m).map(|()| settings.forecast),
            };
            let (forecast, projected, status, note) = match (&r.error, &scaling, r.peak) {
                (Some(e), _, _) => (None, None, Status::Error, Some(e.clone())),
                (None, Err(why), _) => (None, None, Status::NotProjected, Some(why.to_string())),
                (None, Ok(_), None) => (
                    None,
                    None,
                    Status::NotProjected,
                    Some("no history: nothing to project".into()),
                ),
                (None, Ok(f), Some(p)) => {
                    let projected = p.value * f;
                    let sev = metric_severity(projected, m.warn, m.crit, m.direction, None);
                    (Some(*f), Some(projected), Status::from_severity(sev), None)
                }
            };
            MetricPlan {
                metric: i,
                id: m.id.clone(),
                title: m.display_title().to_string(),
                unit: m.unit.clone(),
                peak: r.peak,
                forecast,
                projected,
                warn: m.warn,
                crit: m.crit,
                status,
                note,
            }
        })
        .collect();
    Plan {
        event: rb.event.name.clone(),
        t0,
        made_at: now,
        forecast: settings.forecast,
        history_from: readings.from,
        history_to: readings.to,
        period_secs: readings.period_secs,
        quotas,
        metrics,
    }
}

#[cfg(test)]
mod tests;
