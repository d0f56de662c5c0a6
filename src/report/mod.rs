//! `tminus report`: the review of an event or a game day, from its journal (what people did and
//! what alerted) and, when there is one, its recording (what the metrics did). The model is
//! built by pure functions; `markdown`, `html` and `svg` only render it.

pub mod compare;
pub mod html;
pub mod markdown;
pub mod svg;
pub mod team;

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

use crate::app::alerts::{AlertKey, Severity};
pub use crate::journal::describe::MarkerKind;
use crate::journal::describe::{describe, key_label, marker_kind};
use crate::journal::{Event, Record};
use crate::record::Entry;
use crate::rehearsal::score::{self, Score};
use crate::runbook::Runbook;
use crate::runbook::model::Direction;
use crate::source::{Sample, Update};
use crate::time::TOffset;

#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    pub event_name: String,
    pub t0: DateTime<Utc>,
    pub mode: String,
    pub rehearsal: bool,
    pub started: DateTime<Utc>,
    pub ended: DateTime<Utc>,
    pub operators: Vec<String>,
    pub phases: Vec<(String, DateTime<Utc>)>,
    pub alerts: Vec<AlertRow>,
    pub timeline: Vec<TimelineRow>,
    pub metrics: Vec<MetricRow>,
    pub quotas: Vec<QuotaRow>,
    /// Checklist outcomes, notes and, for rehearsals, fault scores.
    pub score: Score,
    /// What happened when, for the charts: T-0, phases, alerts, notes, requests, faults.
    pub markers: Vec<Marker>,
    /// The capacity plan the war room made (from the recording), against what happened.
    pub plan: Vec<PlanRow>,
    /// Increases requested and items done with `revert:`: to revert or keep after the event.
    pub scale_down: crate::capacity::scale_down::ScaleDown,
    /// The go/no-go poll at the end and every status update.
    pub team: team::Team,
}

/// An event drawn across every time chart.
#[derive(Debug, Clone, PartialEq)]
pub struct Marker {
    pub at: DateTime<Utc>,
    pub kind: MarkerKind,
    pub label: String,
}

/// One quota or metric: the peak the plan projected, against the peak the event reached, so
/// the next forecast can be better.
#[derive(Debug, Clone, PartialEq)]
pub struct PlanRow {
    pub what: String,
    pub forecast: f64,
    pub projected: f64,
    /// The highest usage (quota) or worst value (metric) recorded in the session.
    pub observed: Option<f64>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct AlertRow {
    pub what: String,
    pub worst: Severity,
    pub opened: DateTime<Utc>,
    /// Seconds from opening.
    pub acked_after: Option<i64>,
    pub acked_by: Option<String>,
    pub closed_after: Option<i64>,
    /// 1-based escalation level reached.
    pub level: Option<usize>,
    pub message: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct TimelineRow {
    pub at: DateTime<Utc>,
    pub operator: String,
    pub text: String,
    /// Operator actions and notes, as opposed to what the system did.
    pub by_operator: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct MetricRow {
    pub title: String,
    pub unit: String,
    pub warn: Option<f64>,
    pub crit: Option<f64>,
    pub direction: Direction,
    /// The worst value: highest for `above` metrics, lowest for `below` ones.
    pub peak: Option<(DateTime<Utc>, f64)>,
    /// Alerts the metric opened (threshold breaches).
    pub breaches: usize,
    pub points: Vec<Sample>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct QuotaRow {
    pub title: String,
    pub code: String,
    /// Lowest free share seen, percent, and when.
    pub min_headroom: Option<(DateTime<Utc>, f64)>,
    pub breaches: usize,
    pub warn_below: f64,
    pub crit_below: f64,
    /// Free share over time, percent.
    pub headroom: Vec<Sample>,
    /// The highest usage recorded.
    pub peak_usage: Option<f64>,
}

/// (when, quota value if reported, usage if reported) from one recorded update.
type QuotaReading = (DateTime<Utc>, Option<f64>, Option<f64>);

/// The review of the last session in `records`, with metric data from `recording` if given.
pub fn build(runbook: &Runbook, records: &[Record], recording: Option<&[Entry]>) -> Report {
    let runbook = &crate::journal::with_added_items(runbook, records);
    let session = score::last_session(records);
    let score = score::score(runbook, records);
    let (mode, rehearsal) = session
        .iter()
        .find_map(|r| match &r.event {
            Event::SessionStarted {
                mode, rehearsal, ..
            } => Some((mode.clone(), *rehearsal)),
            _ => None,
        })
        .unwrap_or_else(|| ("unknown".into(), false));
    let mut operators: Vec<String> = session.iter().map(|r| r.operator.clone()).collect();
    operators.sort();
    operators.dedup();
    let phases = session
        .iter()
        .filter_map(|r| match &r.event {
            Event::PhaseEntered { phase } => Some((phase.clone(), r.ts)),
            _ => None,
        })
        .collect();

    // Alerts from open to close: the journal's one episode fold, as the war room and the
    // score read them.
    let episodes = crate::journal::alert_episodes(session);
    let mut breaches: BTreeMap<AlertKey, usize> = BTreeMap::new();
    for e in &episodes {
        *breaches.entry(e.key.clone()).or_default() += 1;
    }
    let alerts: Vec<AlertRow> = episodes
        .iter()
        .map(|e| AlertRow {
            what: key_label(runbook, &e.key),
            worst: e.worst,
            opened: e.opened_at,
            acked_after: e
                .acked
                .as_ref()
                .map(|(_, t)| (*t - e.opened_at).num_seconds()),
            acked_by: e.acked.as_ref().map(|(who, _)| who.clone()),
            closed_after: e.closed_at.map(|t| (t - e.opened_at).num_seconds()),
            level: e.level.map(|l| l + 1),
            message: e.message.clone(),
        })
        .collect();

    let timeline = session
        .iter()
        .filter(|r| {
            !matches!(
                r.event,
                Event::SessionStarted { .. } | Event::RoomSynced { .. }
            )
        })
        .map(|r| TimelineRow {
            at: r.ts,
            operator: r.operator.clone(),
            text: describe(runbook, &r.event),
            by_operator: r.event.is_decision(),
        })
        .collect();

    // Metric data from the recording: every point, later values for a timestamp winning.
    let mut series: BTreeMap<usize, BTreeMap<i64, Sample>> = BTreeMap::new();
    let mut quota_usage: BTreeMap<usize, Vec<QuotaReading>> = BTreeMap::new();
    let mut plan: Option<crate::capacity::Plan> = None;
    for e in recording.unwrap_or_default() {
        match &e.update {
            Update::Samples {
                metric,
                points,
                settled_to,
            } => {
                let s = series.entry(*metric).or_default();
                // A review shows settled data: a bucket still filling was redrawn later.
                for p in points
                    .iter()
                    .filter(|p| settled_to.is_none_or(|t| p.at < t))
                {
                    s.insert(p.at.timestamp(), *p);
                }
            }
            Update::Quota {
                quota,
                value,
                usage,
                at,
            } => quota_usage
                .entry(*quota)
                .or_default()
                .push((*at, *value, *usage)),
            Update::Plan(p) => plan = Some(p.as_ref().clone()),
            _ => {}
        }
    }
    let metrics: Vec<MetricRow> = runbook
        .metrics
        .iter()
        .enumerate()
        .filter(|(_, m)| !m.hidden)
        .map(|(i, m)| {
            let points: Vec<Sample> = series
                .get(&i)
                .map(|s| {
                    s.values()
                        .copied()
                        .filter(|p| p.value.is_finite())
                        .collect()
                })
                .unwrap_or_default();
            let peak =
                crate::capacity::Peak::of(points.iter().map(|p| (p.at, p.value)), m.direction)
                    .map(|p| (p.at, p.value));
            MetricRow {
                title: m.display_title().to_string(),
                unit: m.unit.clone().unwrap_or_default(),
                warn: m.warn,
                crit: m.crit,
                direction: m.direction,
                peak,
                breaches: breaches
                    .get(&AlertKey::Metric(m.id.clone()))
                    .copied()
                    .unwrap_or(0),
                points,
            }
        })
        .collect();
    let quotas: Vec<QuotaRow> = runbook
        .quotas
        .iter()
        .enumerate()
        .map(|(i, q)| {
            // Usage reported with the quota, or read from the runbook's `usage_metric` (as the
            // war room reads it), in time order.
            let mut readings = quota_usage.get(&i).cloned().unwrap_or_default();
            let from_metric = q
                .usage_metric
                .as_deref()
                .and_then(|id| runbook.metrics.iter().position(|m| m.id == id))
                .and_then(|m| series.get(&m));
            if let Some(s) = from_metric {
                readings.extend(s.values().map(|p| (p.at, None, Some(p.value))));
            }
            readings.sort_by_key(|r| r.0);
            let mut value = None;
            let mut min: Option<(DateTime<Utc>, f64)> = None;
            let mut headroom = Vec::new();
            let mut peak_usage: Option<f64> = None;
            for (at, v, u) in &readings {
                value = v.or(value);
                if let Some(u) = u.filter(|u| u.is_finite()) {
                    peak_usage = Some(peak_usage.map_or(u, |p| p.max(u)));
                }
                if let Some(free) = crate::thresholds::quota_headroom_pct(value, *u) {
                    headroom.push(Sample {
                        at: *at,
                        value: free,
                    });
                    if min.is_none_or(|(_, m)| free < m) {
                        min = Some((*at, free));
                    }
                }
            }
            QuotaRow {
                title: q.display_title(),
                code: q.code.clone(),
                min_headroom: min,
                breaches: breaches
                    .get(&AlertKey::Quota(q.code.clone()))
                    .copied()
                    .unwrap_or(0),
                warn_below: q.warn_below.0,
                crit_below: q.crit_below.0,
                headroom,
                peak_usage,
            }
        })
        .collect();

    let plan = plan_against_reality(plan.as_ref(), &metrics, &quotas);
    let markers = markers(runbook, session, score.t0);
    let team = team::team(runbook, session, score.ended);
    Report {
        event_name: score.event_name.clone(),
        t0: score.t0,
        mode,
        rehearsal,
        started: score.started,
        ended: score.ended,
        operators,
        phases,
        alerts,
        timeline,
        metrics,
        quotas,
        score,
        markers,
        plan,
        scale_down: crate::capacity::scale_down::scale_down(runbook, records),
        team,
    }
}

/// T-0, and every record the charts mark (`journal::describe::marker_kind`), said as the
/// timeline says it.
fn markers(runbook: &Runbook, session: &[Record], t0: DateTime<Utc>) -> Vec<Marker> {
    let mut out = vec![Marker {
        at: t0,
        kind: MarkerKind::T0,
        label: "T-0".into(),
    }];
    out.extend(session.iter().filter_map(|r| {
        Some(Marker {
            at: r.ts,
            kind: marker_kind(&r.event)?,
            label: describe(runbook, &r.event),
        })
    }));
    out.sort_by_key(|m| m.at);
    out
}

/// The plan's projected peaks against the peaks the session recorded.
fn plan_against_reality(
    plan: Option<&crate::capacity::Plan>,
    metrics: &[MetricRow],
    quotas: &[QuotaRow],
) -> Vec<PlanRow> {
    let Some(plan) = plan else {
        return Vec::new();
    };
    let mut rows: Vec<PlanRow> = plan
        .quotas
        .iter()
        .filter_map(|q| {
            let projected = q.projected?;
            let observed = quotas.iter().find(|r| r.code == q.code)?.peak_usage;
            Some(PlanRow {
                what: format!("{} ({})", q.title, q.code),
                forecast: q.forecast,
                projected,
                observed,
            })
        })
        .collect();
    rows.extend(plan.metrics.iter().filter_map(|m| {
        let projected = m.projected?;
        let observed = metrics
            .iter()
            .find(|r| r.title == m.title)?
            .peak
            .map(|p| p.1);
        Some(PlanRow {
            what: m.title.clone(),
            forecast: m.forecast?,
            projected,
            observed,
        })
    }));
    rows
}

/// "T+2m30s" for a time of the event.
pub fn offset(r: &Report, at: DateTime<Utc>) -> String {
    TOffset::between(r.t0, at).to_string()
}

/// What happened to a checklist item, in words ("late by 5m", "NEVER DONE").
pub fn outcome_text(o: &crate::rehearsal::score::Outcome) -> String {
    use crate::rehearsal::score::Outcome;
    match o {
        Outcome::OnTime => "on time".to_string(),
        Outcome::Done => "done".to_string(),
        Outcome::Late(s) => format!("late by {}", span(*s)),
        Outcome::Skipped(why) => format!("skipped: {why}"),
        Outcome::NeverDone => "NEVER DONE".to_string(),
        Outcome::NotDue => "not due yet".to_string(),
    }
}

/// "2m30s" for a number of seconds.
pub fn span(secs: i64) -> String {
    crate::time::Span(secs).to_string()
}

#[cfg(test)]
mod tests;
