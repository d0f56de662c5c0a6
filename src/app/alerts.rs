//! Alert rules and escalation, as plain functions over values and times.

use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::runbook::model::{Direction, EscalationLevel};

/// What an alert is about. One open alert per key at a time.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(tag = "kind", content = "id", rename_all = "snake_case")]
pub enum AlertKey {
    Metric(String),
    Quota(String),
    Alarm(String),
    Overdue(String),
    /// A data source failing for a while: the war room is blind to what it feeds.
    Source(String),
}

impl fmt::Display for AlertKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AlertKey::Metric(id) => write!(f, "metric {id}"),
            AlertKey::Quota(code) => write!(f, "quota {code}"),
            AlertKey::Alarm(name) => write!(f, "alarm {name}"),
            AlertKey::Overdue(item) => write!(f, "overdue {item}"),
            AlertKey::Source(name) => write!(f, "source {name}"),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Warn,
    Crit,
}

impl Severity {
    pub fn label(self) -> &'static str {
        match self {
            Severity::Warn => "WARN",
            Severity::Crit => "CRIT",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Alert {
    pub key: AlertKey,
    pub severity: Severity,
    pub message: String,
    pub opened_at: DateTime<Utc>,
    /// Who acknowledged it and when; an acknowledged alert stops escalating.
    pub acked: Option<(String, DateTime<Utc>)>,
    /// Index into the runbook's escalation levels of the highest level reached, if any.
    pub level: Option<usize>,
    pub closed_at: Option<DateTime<Utc>>,
}

impl Alert {
    pub fn is_open(&self) -> bool {
        self.closed_at.is_none()
    }
}

/// Share of a threshold that a value must move back past before an alert closes, so a value
/// hovering at the threshold does not open and close an alert every sample.
pub const HYSTERESIS: f64 = 0.05;

fn beyond(value: f64, threshold: f64, dir: Direction) -> bool {
    match dir {
        Direction::Above => value >= threshold,
        Direction::Below => value <= threshold,
    }
}

/// The severity a value is at, given the severity it was at before (for hysteresis).
/// NaN and infinities never open or close anything: they keep the previous severity.
pub fn metric_severity(
    value: f64,
    warn: Option<f64>,
    crit: Option<f64>,
    dir: Direction,
    previous: Option<Severity>,
) -> Option<Severity> {
    if !value.is_finite() {
        return previous;
    }
    // A threshold, moved towards the good side by the hysteresis margin when the alert is
    // already at or past that level.
    let relaxed = |t: f64, held: bool| {
        if !held {
            return t;
        }
        let margin = t.abs().max(f64::EPSILON) * HYSTERESIS;
        match dir {
            Direction::Above => t - margin,
            Direction::Below => t + margin,
        }
    };
    if let Some(c) = crit
        && beyond(value, relaxed(c, previous == Some(Severity::Crit)), dir)
    {
        return Some(Severity::Crit);
    }
    if let Some(w) = warn
        && beyond(value, relaxed(w, previous.is_some()), dir)
    {
        return Some(Severity::Warn);
    }
    None
}

/// Severity of a quota from its headroom (free share, percent).
pub fn quota_severity(
    headroom_pct: f64,
    warn_below: f64,
    crit_below: f64,
    previous: Option<Severity>,
) -> Option<Severity> {
    // Headroom is "lower is worse", so the same rule as a Below metric applies.
    metric_severity(
        headroom_pct,
        Some(warn_below),
        Some(crit_below),
        Direction::Below,
        previous,
    )
}

/// The escalation level reached `elapsed_secs` after an alert opened: the last level whose
/// `after` has passed. Levels are validated to be in ascending order.
pub fn escalation_level(levels: &[EscalationLevel], elapsed_secs: i64) -> Option<usize> {
    levels.iter().rposition(|l| l.after.secs() <= elapsed_secs)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::Span;

    #[test]
    fn thresholds_with_hysteresis() {
        let s = |v, prev| metric_severity(v, Some(100.0), Some(200.0), Direction::Above, prev);
        assert_eq!(s(99.0, None), None);
        assert_eq!(s(100.0, None), Some(Severity::Warn));
        assert_eq!(s(250.0, None), Some(Severity::Crit));
        // Just under crit keeps crit, just under warn keeps warn: the hysteresis band.
        assert_eq!(s(195.0, Some(Severity::Crit)), Some(Severity::Crit));
        assert_eq!(s(189.0, Some(Severity::Crit)), Some(Severity::Warn));
        assert_eq!(s(96.0, Some(Severity::Warn)), Some(Severity::Warn));
        assert_eq!(s(94.0, Some(Severity::Warn)), None);
        assert_eq!(s(f64::NAN, Some(Severity::Warn)), Some(Severity::Warn));
        assert_eq!(s(f64::INFINITY, None), None);
    }

    #[test]
    fn below_direction_and_quota() {
        assert_eq!(
            metric_severity(5.0, Some(50.0), Some(10.0), Direction::Below, None),
            Some(Severity::Crit)
        );
        assert_eq!(quota_severity(25.0, 30.0, 10.0, None), Some(Severity::Warn));
        assert_eq!(quota_severity(9.0, 30.0, 10.0, None), Some(Severity::Crit));
        assert_eq!(
            quota_severity(31.0, 30.0, 10.0, Some(Severity::Warn)),
            Some(Severity::Warn)
        );
        assert_eq!(quota_severity(40.0, 30.0, 10.0, Some(Severity::Warn)), None);
    }

    #[test]
    fn escalation_levels_by_elapsed_time() {
        let lvl = |after| EscalationLevel {
            after: Span(after),
            who: "x".into(),
            contact: "y".into(),
        };
        let levels = [lvl(0), lvl(600), lvl(1200)];
        assert_eq!(escalation_level(&levels, 0), Some(0));
        assert_eq!(escalation_level(&levels, 599), Some(0));
        assert_eq!(escalation_level(&levels, 600), Some(1));
        assert_eq!(escalation_level(&levels, 5000), Some(2));
        assert_eq!(escalation_level(&levels[1..], 10), None);
        assert_eq!(escalation_level(&[], 10), None);
    }
}
