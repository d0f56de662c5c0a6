//! Simulated CloudWatch alarms: each follows one metric's points and changes state after three
//! consecutive datapoints on the other side of its threshold, like an alarm with
//! "3 out of 3" evaluation.

use std::collections::VecDeque;

use chrono::{DateTime, Utc};

use crate::runbook::model::{Direction, Runbook};
use crate::source::AlarmState;

/// Datapoints in a row needed to change state.
pub const DATAPOINTS: usize = 3;

#[derive(Debug, Clone)]
pub struct AlarmTracker {
    pub name: String,
    /// Index in `runbook.metrics` of the metric it follows; None when no metric fits.
    pub metric: Option<usize>,
    pub threshold: f64,
    pub direction: Direction,
    pub state: AlarmState,
    pub reason: String,
    pub changed_at: DateTime<Utc>,
    /// The latest points and whether each was beyond the threshold, newest last.
    recent: VecDeque<(f64, bool)>,
}

impl AlarmTracker {
    pub fn new(
        name: String,
        metric: Option<usize>,
        threshold: f64,
        direction: Direction,
        created: DateTime<Utc>,
    ) -> Self {
        let reason = match metric {
            Some(_) => "Unchecked: Initial alarm creation".to_string(),
            None => "No simulated metric matches this alarm's name".to_string(),
        };
        AlarmTracker {
            name,
            metric,
            threshold,
            direction,
            state: AlarmState::InsufficientData,
            reason,
            changed_at: created,
            recent: VecDeque::with_capacity(DATAPOINTS),
        }
    }

    /// Feeds one datapoint; returns true when the state changed.
    pub fn observe(&mut self, at: DateTime<Utc>, value: f64) -> bool {
        if !value.is_finite() {
            return false;
        }
        let beyond = match self.direction {
            Direction::Above => value >= self.threshold,
            Direction::Below => value <= self.threshold,
        };
        if self.recent.len() == DATAPOINTS {
            self.recent.pop_front();
        }
        self.recent.push_back((value, beyond));
        if self.recent.len() < DATAPOINTS || self.recent.iter().any(|(_, b)| *b != beyond) {
            return false;
        }
        let next = if beyond {
            AlarmState::Alarm
        } else {
            AlarmState::Ok
        };
        if next == self.state {
            return false;
        }
        let values: Vec<String> = self.recent.iter().map(|(v, _)| format!("{v:.1}")).collect();
        let cmp = match self.direction {
            Direction::Above => "greater than or equal to",
            Direction::Below => "less than or equal to",
        };
        let not = if beyond { "" } else { "not " };
        self.reason = format!(
            "Threshold Crossed: {DATAPOINTS} datapoints [{}] were {not}{cmp} the threshold ({:.1}).",
            values.join(", "),
            self.threshold
        );
        self.state = next;
        self.changed_at = at;
        true
    }
}

fn squash(s: &str) -> String {
    s.chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

/// The alarms to simulate: each name in `alarms.names`, plus, when only a prefix is given, one
/// `<prefix><metric id>` per metric with a crit threshold.
pub fn trackers(runbook: &Runbook, created: DateTime<Utc>) -> Vec<AlarmTracker> {
    let sel = &runbook.alarms;
    let mut names: Vec<String> = sel.names.clone();
    if names.is_empty()
        && let Some(prefix) = &sel.prefix
    {
        names.extend(
            runbook
                .metrics
                .iter()
                .filter(|m| m.crit.is_some_and(f64::is_finite))
                .map(|m| format!("{prefix}{}", m.id)),
        );
    }
    let mut seen = std::collections::HashSet::new();
    names.retain(|n| seen.insert(n.clone()));
    names
        .into_iter()
        .map(|name| {
            let metric = follow(runbook, &name);
            let (threshold, direction) = metric
                .and_then(|i| runbook.metrics.get(i))
                .and_then(|m| {
                    m.crit
                        .or(m.warn)
                        .filter(|t| t.is_finite())
                        .map(|t| (t, m.direction))
                })
                .unwrap_or((f64::INFINITY, Direction::Above));
            AlarmTracker::new(name, metric, threshold, direction, created)
        })
        .collect()
}

/// The metric an alarm name is about: the one whose id or title appears in the name (the
/// longest match, so `orders_failed` beats `orders`), else the first metric with a crit.
fn follow(runbook: &Runbook, name: &str) -> Option<usize> {
    let hay = squash(name);
    let usable = |m: &crate::runbook::model::Metric| m.crit.or(m.warn).is_some_and(f64::is_finite);
    runbook
        .metrics
        .iter()
        .enumerate()
        .filter(|(_, m)| usable(m))
        .filter_map(|(i, m)| {
            let keys = [
                squash(&m.id),
                m.title.as_deref().map(squash).unwrap_or_default(),
            ];
            keys.into_iter()
                .filter(|k| !k.is_empty() && hay.contains(k.as_str()))
                .map(|k| k.len())
                .max()
                .map(|len| (i, len))
        })
        .max_by_key(|&(i, len)| (len, std::cmp::Reverse(i)))
        .map(|(i, _)| i)
        .or_else(|| {
            runbook
                .metrics
                .iter()
                .position(|m| m.crit.is_some_and(f64::is_finite))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000 + s, 0).unwrap()
    }

    #[test]
    fn three_in_a_row_change_state() {
        let mut a = AlarmTracker::new("x".into(), Some(0), 900.0, Direction::Above, t(0));
        assert!(!a.observe(t(10), 100.0));
        assert!(!a.observe(t(20), 100.0));
        assert_eq!(a.state, AlarmState::InsufficientData);
        assert!(a.observe(t(30), 100.0));
        assert_eq!(a.state, AlarmState::Ok);
        assert!(!a.observe(t(40), 912.3));
        assert!(!a.observe(t(50), 100.0), "a blip is not three in a row");
        assert!(!a.observe(t(60), 912.3));
        assert!(!a.observe(t(70), 940.1));
        assert!(a.observe(t(80), 955.0));
        assert_eq!(a.state, AlarmState::Alarm);
        assert_eq!(a.changed_at, t(80));
        assert_eq!(
            a.reason,
            "Threshold Crossed: 3 datapoints [912.3, 940.1, 955.0] were greater than or equal to \
             the threshold (900.0)."
        );
        assert!(
            !a.observe(t(90), 999.0),
            "no change while it stays in ALARM"
        );
        a.observe(t(100), 1.0);
        a.observe(t(110), f64::NAN);
        a.observe(t(120), 2.0);
        assert!(a.observe(t(130), 3.0));
        assert_eq!(a.state, AlarmState::Ok);
        assert!(a.reason.contains("were not greater than or equal to"));
    }

    #[test]
    fn below_alarms_fire_on_low_values() {
        let mut a = AlarmTracker::new("hosts".into(), Some(0), 4.0, Direction::Below, t(0));
        for (i, v) in [3.0, 2.0, 4.0].into_iter().enumerate() {
            a.observe(t(i as i64), v);
        }
        assert_eq!(a.state, AlarmState::Alarm);
        assert!(
            a.reason
                .contains("less than or equal to the threshold (4.0)")
        );
    }
}
