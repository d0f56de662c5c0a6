//! When a datapoint may be judged: the rules every source and the app share, so a bucket is
//! "settled" in one place only. A leaf module: it imports nothing of the app or the sources.
//!
//! CloudWatch answers a bucket that is still filling (a `Sum` over half a minute is half the
//! minute's sum) and publishes minutes late. Deciding an alert or quota usage on such a bucket
//! gives false "below" alerts and hides "above" ones, so sources mark everything at or after
//! `settled_to` as provisional: drawn, never judged.

use chrono::{DateTime, Utc};

use crate::runbook::model::{BreachRule, Metric, Runbook};

/// Settle delay for standard-resolution metrics: most services publish a minute's datapoint
/// within a minute or so of its end (ALB on a 60 s cycle).
pub const SETTLE_STANDARD_SECS: i64 = 60;
/// Settle delay for high-resolution (1-30 s) metrics, published by PutMetricData as they happen.
pub const SETTLE_HIGH_RES_SECS: i64 = 15;
/// "2 out of 3": one noisy datapoint never alerts, a breach that holds does within two periods.
pub const DEFAULT_BREACH: BreachRule = BreachRule {
    datapoints: 2,
    of: 3,
};
/// An alert closes after its signal has been clear this long (or three periods, if longer).
pub const DEFAULT_CLEAR_SECS: i64 = 5 * 60;

/// Counters CloudWatch publishes only when non-zero: no datapoint means zero.
/// (Namespace, metric name) pairs; see ../shared/CLOUDWATCH-SEMANTICS.md.
const SPARSE_COUNTERS: &[(&str, &str)] = &[
    ("AWS/ApplicationELB", "HTTPCode_ELB_5XX_Count"),
    ("AWS/ApplicationELB", "HTTPCode_ELB_4XX_Count"),
    ("AWS/ApplicationELB", "HTTPCode_ELB_3XX_Count"),
    ("AWS/ApplicationELB", "HTTPCode_ELB_502_Count"),
    ("AWS/ApplicationELB", "HTTPCode_ELB_503_Count"),
    ("AWS/ApplicationELB", "HTTPCode_ELB_504_Count"),
    ("AWS/ApplicationELB", "HTTPCode_Target_5XX_Count"),
    ("AWS/ApplicationELB", "HTTPCode_Target_4XX_Count"),
    ("AWS/ApplicationELB", "RejectedConnectionCount"),
    ("AWS/ApplicationELB", "TargetConnectionErrorCount"),
    ("AWS/Lambda", "Throttles"),
    ("AWS/Lambda", "Errors"),
    ("AWS/Lambda", "DeadLetterErrors"),
    ("AWS/Bedrock", "InvocationThrottles"),
    ("AWS/Bedrock", "InvocationClientErrors"),
    ("AWS/Bedrock", "InvocationServerErrors"),
    ("AWS/ApiGateway", "5XXError"),
    ("AWS/ApiGateway", "4XXError"),
    ("AWS/DynamoDB", "ThrottledRequests"),
    ("AWS/DynamoDB", "ReadThrottleEvents"),
    ("AWS/DynamoDB", "WriteThrottleEvents"),
    ("AWS/DynamoDB", "SystemErrors"),
    ("AWS/DynamoDB", "UserErrors"),
    ("AWS/DynamoDB", "ConditionalCheckFailedRequests"),
    ("AWS/States", "ExecutionsFailed"),
    ("AWS/States", "ExecutionThrottled"),
];

/// Whether a runbook metric is a counter CloudWatch leaves out when it is zero. Only counting
/// statistics qualify: an Average of a sparse counter has no meaningful zero.
pub fn is_sparse_counter(m: &Metric) -> bool {
    let (Some(ns), Some(name)) = (m.namespace.as_deref(), m.metric.as_deref()) else {
        return false;
    };
    let counting = m
        .stat
        .as_deref()
        .is_some_and(|s| s.eq_ignore_ascii_case("Sum") || s.eq_ignore_ascii_case("SampleCount"));
    counting && SPARSE_COUNTERS.iter().any(|(n, m)| *n == ns && *m == name)
}

/// The value of a settled bucket with no datapoint: the runbook's `fill:`, else 0 for a known
/// sparse counter, else none (a missing point stays missing and the row goes stale).
pub fn fill(m: &Metric) -> Option<f64> {
    m.fill.or_else(|| is_sparse_counter(m).then_some(0.0))
}

pub fn default_settle_secs(period: u32) -> i64 {
    if period >= 60 {
        SETTLE_STANDARD_SECS
    } else {
        SETTLE_HIGH_RES_SECS
    }
}

/// A metric's settle delay in seconds.
pub fn settle_secs(m: &Metric) -> i64 {
    m.settle
        .map(|s| s.secs())
        .unwrap_or_else(|| default_settle_secs(m.period))
}

pub fn breach_rule(m: &Metric) -> BreachRule {
    m.breach.unwrap_or(DEFAULT_BREACH)
}

/// How long a metric must stay clear before its alert closes.
pub fn clear_after_secs(m: &Metric) -> i64 {
    m.clear_after
        .map(|s| s.secs())
        .unwrap_or_else(|| DEFAULT_CLEAR_SECS.max(3 * i64::from(m.period)))
}

/// The start of the first bucket that is not settled at `now`: a bucket `[b, b + period)` is
/// settled once `b + period + settle <= now`. Buckets lie on multiples of the period from the
/// Unix epoch (sources align their windows so).
pub fn settled_to(now: DateTime<Utc>, period: u32, settle_secs: i64) -> DateTime<Utc> {
    let p = i64::from(period.max(1));
    let x = now.timestamp().saturating_sub(settle_secs.max(0));
    DateTime::from_timestamp(x.div_euclid(p) * p, 0).unwrap_or(now)
}

/// `t` rounded down to a multiple of `step` seconds from the Unix epoch.
pub fn align_down(t: DateTime<Utc>, step: i64) -> DateTime<Utc> {
    let s = t.timestamp();
    DateTime::from_timestamp(s - s.rem_euclid(step.max(1)), 0).unwrap_or(t)
}

/// A grid every period divides: GetMetricData's StartTime aligned to it puts every query of a
/// call on its own period's grid. Falls back to the largest period for absurd combinations.
pub fn common_grid(periods: impl IntoIterator<Item = u32>) -> i64 {
    fn gcd(a: i64, b: i64) -> i64 {
        if b == 0 { a } else { gcd(b, a % b) }
    }
    let mut lcm: i64 = 60;
    let mut largest: i64 = 60;
    for p in periods {
        let p = i64::from(p.max(1));
        largest = largest.max(p);
        lcm = lcm / gcd(lcm, p) * p;
        if lcm > 86_400 {
            return largest;
        }
    }
    lcm
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000 + s, 0).unwrap()
    }

    #[test]
    fn a_bucket_settles_a_period_and_the_delay_after_it_starts() {
        // 1_800_000_000 is a multiple of 60 and of 300.
        // Bucket [0, 60) settles at 60 + 60 = 120.
        assert_eq!(settled_to(at(119), 60, 60), at(0));
        assert_eq!(settled_to(at(120), 60, 60), at(60));
        assert_eq!(settled_to(at(179), 60, 60), at(60));
        assert_eq!(settled_to(at(10), 10, 15), at(-10));
        assert_eq!(settled_to(at(659), 300, 60), at(300));
        assert_eq!(settled_to(at(660), 300, 60), at(600));
        assert_eq!(settled_to(at(0), 60, -5), at(0), "a negative delay is none");
    }

    #[test]
    fn grids() {
        assert_eq!(common_grid([60, 60]), 60);
        assert_eq!(common_grid([60, 300, 120]), 600);
        assert_eq!(common_grid([10, 60]), 60);
        assert_eq!(common_grid([]), 60);
        assert_eq!(common_grid([60 * 7, 60 * 11, 60 * 13, 60 * 17]), 60 * 17);
        assert_eq!(align_down(at(299), 300), at(0));
        assert_eq!(align_down(at(-1), 300), at(-300));
    }

    #[test]
    fn sparse_counters_fill_with_zero() {
        let m = |ns: &str, name: &str, stat: &str| -> Metric {
            serde_yaml::from_str(&format!(
                "{{id: x, namespace: {ns}, metric: {name}, stat: {stat}}}"
            ))
            .unwrap()
        };
        assert_eq!(
            fill(&m("AWS/ApplicationELB", "HTTPCode_ELB_5XX_Count", "Sum")),
            Some(0.0)
        );
        assert_eq!(fill(&m("AWS/Lambda", "Throttles", "Sum")), Some(0.0));
        assert_eq!(fill(&m("AWS/Lambda", "Throttles", "Average")), None);
        assert_eq!(fill(&m("AWS/ApplicationELB", "RequestCount", "Sum")), None);
        let mut explicit = m("Shop", "Orders", "Sum");
        explicit.fill = Some(0.0);
        assert_eq!(fill(&explicit), Some(0.0));
    }
}

/// Never read a metric more often than this, whatever its period.
pub const MIN_POLL_SECS: i64 = 10;
/// Near T-0 by default: from an hour before to an hour after (or `event.ends_at`).
pub const DEFAULT_NEAR_SECS: i64 = 3_600;
/// Outside it, by default, every five minutes.
pub const DEFAULT_FAR_EVERY_SECS: i64 = 300;

/// The window, in seconds from T-0, in which metrics are read at their own period.
pub fn near_window(rb: &Runbook) -> (i64, i64) {
    let p = rb.polling.clone().unwrap_or_default();
    let from = p.near_from.map_or(-DEFAULT_NEAR_SECS, |o| o.secs());
    let until = p
        .near_until
        .or(rb.event.ends_at)
        .map_or(DEFAULT_NEAR_SECS, |o| o.secs());
    (from, until)
}

/// How often a metric of `period` seconds is read at `offset_secs` from T-0: its own period
/// inside the near window, `polling.far_every` (never faster than its period) outside.
pub fn poll_every(rb: &Runbook, offset_secs: i64, period: u32) -> i64 {
    let own = i64::from(period).max(MIN_POLL_SECS);
    let (from, until) = near_window(rb);
    if (from..=until).contains(&offset_secs) {
        own
    } else {
        let far = rb
            .polling
            .as_ref()
            .and_then(|p| p.far_every)
            .map_or(DEFAULT_FAR_EVERY_SECS, |s| s.secs());
        far.max(own)
    }
}

#[cfg(test)]
mod polling_tests {
    use super::*;

    fn rb(extra: &str) -> Runbook {
        crate::runbook::parse(
            "t.yaml",
            &format!(
                "event: {{ name: e, starts_at: 2026-12-01T17:00:00Z, ends_at: T+4h }}\n{extra}"
            ),
        )
        .unwrap()
    }

    #[test]
    fn metrics_are_read_at_their_period_near_t0_and_slower_far_from_it() {
        let r = rb("");
        assert_eq!(
            near_window(&r),
            (-3_600, 4 * 3_600),
            "T-1h to event.ends_at"
        );
        assert_eq!(
            poll_every(&r, -2 * 86_400, 60),
            300,
            "two days out: every 5m"
        );
        assert_eq!(poll_every(&r, -3_600, 60), 60, "from T-1h: its own period");
        assert_eq!(poll_every(&r, 3 * 3_600, 60), 60, "hypercare");
        assert_eq!(poll_every(&r, 5 * 3_600, 60), 300, "after the event");
        assert_eq!(
            poll_every(&r, -86_400, 900),
            900,
            "never faster than its own period"
        );
        assert_eq!(poll_every(&r, 0, 1), 10, "never faster than 10 s");
        let r = rb("polling: { near_from: T-3h, near_until: T+30m, far_every: 15m }\n");
        assert_eq!(poll_every(&r, -2 * 3_600, 60), 60);
        assert_eq!(poll_every(&r, 3_600, 60), 900);
    }
}
