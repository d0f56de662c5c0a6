//! Data in: samples (merged, settled points judged once), quota values and usage, alarm
//! states, source health, API usage and rehearsal fault notices.

use std::collections::VecDeque;

use chrono::{DateTime, Utc};

use super::alerts::{self, AlertKey, Severity};
use super::state::*;
use crate::journal::Event;
use crate::source::{AlarmState, Sample, Update};
use crate::time::TOffset;

/// Quota usage points kept for the time-to-exhaustion forecast.
const QUOTA_HISTORY: usize = 60;

/// The checklist the war room adds the capacity plan's increase requests to.
pub const CAPACITY_CHECKLIST: &str = "Capacity plan";
/// Quota headroom alerts: low headroom must hold in two of three readings, and the alert
/// closes after five minutes of enough headroom.
fn quota_rule() -> alerts::EpisodeRule {
    alerts::EpisodeRule::new(
        crate::signal::DEFAULT_BREACH,
        crate::signal::DEFAULT_CLEAR_SECS,
    )
}

/// Merges a source's points into a metric's series. An update that says what is settled is
/// authoritative from the previous settled boundary on (a provisional point it no longer
/// carries is dropped); settled buckets with no datapoint get the metric's fill value (sparse
/// counters: no datapoint means zero). Timestamps stay strictly increasing and bounded.
fn merge_points(
    st: &mut MetricState,
    def: &crate::runbook::model::Metric,
    points: Vec<Sample>,
    settled_to: Option<DateTime<Utc>>,
) {
    let previous = st.settled_to;
    if let (Some(_), Some(prev)) = (settled_to, previous) {
        st.series.retain(|p| p.at < prev);
    }
    let first = points.iter().map(|p| p.at).min();
    for p in points {
        insert_point(&mut st.series, p);
    }
    if let (Some(fill), Some(to)) = (crate::signal::fill(def), settled_to) {
        // From the previous boundary; on the first update from its first point, or half an
        // hour back when it has none (a sparse counter that was zero all along).
        let first_window = crate::time::TOffset(-30 * 60).at(to);
        let from = previous.unwrap_or_else(|| first.map_or(first_window, |f| f.min(first_window)));
        let period = i64::from(def.period.max(1));
        let mut b = crate::signal::align_down(from, period);
        // Bounded: never more buckets than the series holds.
        let mut filled = 0;
        while b < to && filled < SERIES_CAPACITY {
            if st.series.binary_search_by_key(&b, |p| p.at).is_err() {
                insert_point(&mut st.series, Sample { at: b, value: fill });
            }
            // A recording is data: a bucket at the end of time must not overflow the date.
            let Some(next) = b.checked_add_signed(chrono::Duration::seconds(period)) else {
                break;
            };
            b = next;
            filled += 1;
        }
    }
    while st.series.len() > SERIES_CAPACITY {
        st.series.pop_front();
    }
    if settled_to.is_some() {
        st.settled_to = settled_to.max(previous);
    }
}

/// Inserts in time order; a point at an existing timestamp replaces it (late data).
fn insert_point(series: &mut VecDeque<Sample>, p: Sample) {
    match series.binary_search_by_key(&p.at, |s| s.at) {
        Ok(i) => series[i].value = p.value,
        Err(i) => series.insert(i, p),
    }
}

impl App {
    pub(super) fn on_source(&mut self, u: Update) {
        self.dirty = true;
        match u {
            Update::Samples {
                metric,
                points,
                settled_to,
            } => self.on_samples(metric, points, settled_to),
            Update::Quota {
                quota,
                value,
                usage,
                at,
            } => self.on_quota(quota, value, usage, at),
            Update::QuotaMeta {
                quota,
                adjustable,
                period_secs,
                default,
            } => {
                if let Some(st) = self.quotas.get_mut(quota) {
                    st.adjustable = Some(adjustable);
                    st.period_secs = period_secs;
                    st.is_default = default;
                }
            }
            Update::Alarm {
                name,
                state,
                reason,
                changed_at,
            } => {
                let key = AlertKey::Alarm(name.clone());
                // CloudWatch has already judged the datapoints: each poll is one observation,
                // and an alarm that flips back to ALARM within the clear time stays one alert.
                let episode = self.alarm_episodes.entry(name.clone()).or_default();
                let level = (state == AlarmState::Alarm).then_some(Severity::Crit);
                episode.observe(
                    self.now,
                    level,
                    alerts::EpisodeRule::immediate(crate::signal::DEFAULT_CLEAR_SECS),
                );
                let episode = episode.clone();
                let wanted = episode
                    .open
                    .map(|s| (s, format!("alarm {name} in ALARM: {reason}")));
                self.alarms.insert(
                    name.clone(),
                    AlarmView {
                        name,
                        state,
                        reason,
                        changed_at,
                        received_at: self.now,
                    },
                );
                self.sync_episode(key, &episode, wanted);
            }
            Update::QuotaRequest {
                quota,
                status,
                request_id,
                error,
            } => {
                let Some(q) = self.runbook.quotas.get(quota) else {
                    return;
                };
                let status = match error {
                    Some(e) => format!("FAILED: {e}"),
                    None => status,
                };
                let changed = self.quotas[quota]
                    .request
                    .as_ref()
                    .is_none_or(|r| r.1 != status);
                if changed {
                    let code = q.code.clone();
                    self.observe(Event::QuotaRequestStatus {
                        code,
                        status,
                        request_id,
                    });
                }
            }
            Update::MetricNote { metric, note } => {
                if let Some(st) = self.metrics.get_mut(metric) {
                    st.note = note;
                }
            }
            Update::Usage {
                source,
                calls,
                metrics,
                at,
            } => {
                let h = self.sources.entry(source).or_default();
                h.requests.push_back((at, calls, metrics));
                while h
                    .requests
                    .front()
                    .is_some_and(|r| (at - r.0).num_seconds() > 3600)
                {
                    h.requests.pop_front();
                }
            }
            Update::Fault(n) => {
                if self.faults_journalled.contains(&(n.id.clone(), n.started)) {
                    return;
                }
                let event = if n.started {
                    Event::FaultInjected {
                        fault: n.id,
                        description: n.description,
                        target: n.target,
                        at: n.at,
                        until: n.until,
                        surprise: n.surprise,
                        affects: n.affects,
                    }
                } else {
                    Event::FaultRecovered {
                        fault: n.id,
                        at: n.at,
                    }
                };
                self.observe(event);
            }
            Update::Plan(plan) => self.on_plan(*plan),
            Update::Health { source, error, at } => {
                let h = self.sources.entry(source).or_default();
                match error {
                    None => {
                        h.last_ok = Some(at);
                        h.error = None;
                        h.failing_since = None;
                    }
                    Some(e) => {
                        h.failing_since.get_or_insert(at);
                        h.error = Some((e, at));
                    }
                }
            }
        }
    }

    /// Keeps the capacity plan for the quota gauges, and adds a readiness item for each quota
    /// projected critical that needs an increase: what to request and by when.
    fn on_plan(&mut self, plan: crate::capacity::Plan) {
        for q in &plan.quotas {
            let Some(request) = q
                .request
                .filter(|_| q.status == crate::capacity::Status::Crit)
            else {
                continue;
            };
            let item = crate::runbook::model::Item {
                id: format!("request-{}", q.code.to_ascii_lowercase()),
                title: format!(
                    "Request {} ({}) to {} by {}",
                    q.code,
                    q.title,
                    crate::format::value(request),
                    q.request_by.format("%Y-%m-%d")
                ),
                owner: None,
                due: Some(TOffset::between(self.t0, q.request_by)),
                verify: None,
                link: None,
                revert: Some(format!(
                    "keep {} at {} or ask AWS to lower it",
                    q.code,
                    crate::format::value(request)
                )),
                blocking: false,
            };
            if !self
                .runbook
                .checklists
                .iter()
                .flat_map(|c| &c.items)
                .any(|i| i.id == item.id)
            {
                self.observe(Event::ItemAdded {
                    checklist: CAPACITY_CHECKLIST.into(),
                    item,
                });
            }
        }
        self.plan = Some(plan);
        self.dirty = true;
    }

    pub(super) fn on_samples(
        &mut self,
        metric: usize,
        points: Vec<Sample>,
        settled_to: Option<DateTime<Utc>>,
    ) {
        let (Some(def), Some(st)) = (
            self.runbook.metrics.get(metric),
            self.metrics.get_mut(metric),
        ) else {
            return;
        };
        st.received_at = Some(self.now);
        merge_points(st, def, points, settled_to);

        // Judge each newly settled point once, in time order: the episode decides the alert.
        let rule = alerts::EpisodeRule::new(
            crate::signal::breach_rule(def),
            crate::signal::clear_after_secs(def),
        );
        // A NaN or an infinity is shown as what the source sent, never judged.
        let fresh: Vec<Sample> = st
            .series
            .iter()
            .filter(|p| st.is_settled(p) && st.episode.last.is_none_or(|l| p.at > l))
            .filter(|p| p.value.is_finite())
            .copied()
            .collect();
        for p in &fresh {
            st.severity = alerts::metric_severity(
                p.value,
                def.warn,
                def.crit,
                def.direction,
                st.episode.open,
            );
            st.episode.observe(p.at, st.severity, rule);
        }
        let Some(latest) = st.latest_settled() else {
            return;
        };
        let episode = st.episode.clone();
        let wanted = episode.open.map(|sev| {
            let threshold = if sev == Severity::Crit {
                def.crit
            } else {
                def.warn
            };
            let unit = def
                .unit
                .as_deref()
                .map(|u| format!(" {u}"))
                .unwrap_or_default();
            let cmp = match def.direction {
                crate::runbook::model::Direction::Above => ">=",
                crate::runbook::model::Direction::Below => "<=",
            };
            (
                sev,
                format!(
                    "{} {}{unit} {cmp} {}",
                    def.display_title(),
                    crate::format::value(latest.value),
                    crate::format::value(threshold.unwrap_or(f64::NAN))
                ),
            )
        });
        let key = AlertKey::Metric(def.id.clone());
        self.sync_episode(key, &episode, wanted);
        if fresh.is_empty() {
            return;
        }

        // A quota whose usage is this metric (`usage_metric:` in the runbook) moves with its
        // settled points.
        let id = self.runbook.metrics[metric].id.clone();
        let usage_of: Vec<usize> = self
            .runbook
            .quotas
            .iter()
            .enumerate()
            .filter(|(_, q)| q.usage_metric.as_deref() == Some(id.as_str()))
            .map(|(i, _)| i)
            .collect();
        for q in usage_of {
            for p in &fresh {
                self.on_quota(q, None, Some(p.value), p.at);
            }
        }

        let ticks: Vec<String> = self
            .verify
            .iter()
            .filter(|r| r.metric == metric && r.holds(latest.value))
            .filter(|r| {
                matches!(
                    self.items[r.checklist][r.item].status,
                    ItemStatus::Todo | ItemStatus::InProgress
                )
            })
            .map(|r| {
                self.runbook.checklists[r.checklist].items[r.item]
                    .id
                    .clone()
            })
            .collect();
        for item in ticks {
            self.observe(Event::ItemDone { item, auto: true });
        }
    }

    pub(super) fn on_quota(
        &mut self,
        quota: usize,
        value: Option<f64>,
        usage: Option<f64>,
        at: DateTime<Utc>,
    ) {
        let (Some(def), Some(st)) = (self.runbook.quotas.get(quota), self.quotas.get_mut(quota))
        else {
            return;
        };
        // Value and usage may come from different sources (Service Quotas, CloudWatch): an
        // update carries what its source knows and leaves the rest as it was.
        let value_changed = value.is_some() && value != st.value;
        st.value = value.or(st.value);
        st.usage = usage.or(st.usage);
        st.at = Some(at);
        if let Some(u) = usage.filter(|u| u.is_finite()) {
            if st.history.len() == QUOTA_HISTORY {
                st.history.pop_front();
            }
            st.history.push_back((at, u));
        }
        let Some(headroom) = st.headroom_pct() else {
            return;
        };
        st.severity = alerts::quota_severity(
            headroom,
            def.warn_below.0,
            def.crit_below.0,
            st.episode.open,
        );
        // A new usage reading is an observation, and so is a new value; the same value again
        // is not a second reading of the same usage.
        if usage.is_some() || value_changed {
            // A quota of 0 is a fact from Service Quotas, not a noisy reading: no need to wait
            // for it to hold.
            let rule = if st.value == Some(0.0) {
                alerts::EpisodeRule::immediate(crate::signal::DEFAULT_CLEAR_SECS)
            } else {
                quota_rule()
            };
            st.episode.observe(at, st.severity, rule);
        }
        let episode = st.episode.clone();
        let wanted = episode.open.map(|sev| {
            (
                sev,
                format!(
                    "{} headroom {:.0}% (below {:.0}%)",
                    def.display_title(),
                    headroom,
                    match sev {
                        Severity::Crit => def.crit_below.0,
                        Severity::Warn => def.warn_below.0,
                    }
                ),
            )
        });
        self.sync_episode(AlertKey::Quota(def.code.clone()), &episode, wanted);
    }
}
