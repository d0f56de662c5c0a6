//! Where a value stands against its thresholds: metric severity with hysteresis, and quota
//! headroom. Plain functions shared by the war room's alert rules (`app::alerts`), `tminus
//! quotas` and the capacity plan, so all three judge a value the same way.

use crate::runbook::model::Direction;
use crate::vocab::Severity;

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

/// Used share of a quota in percent, when both value and usage are known.
pub fn quota_used_pct(value: Option<f64>, usage: Option<f64>) -> Option<f64> {
    match (value, usage) {
        (Some(v), Some(u)) if v > 0.0 && u.is_finite() => Some((u / v * 100.0).max(0.0)),
        _ => None,
    }
}

/// Free share of a quota in percent. A quota of 0 (new accounts have 0 for many Bedrock
/// models) has no headroom whatever the usage: nothing fits.
pub fn quota_headroom_pct(value: Option<f64>, usage: Option<f64>) -> Option<f64> {
    if value == Some(0.0) {
        return Some(0.0);
    }
    quota_used_pct(value, usage).map(|p| (100.0 - p).max(0.0))
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
