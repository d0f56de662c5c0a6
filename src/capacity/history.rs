//! Which buckets a history is read in, and what a bucket's value means at the metric's own
//! period. CloudWatch keeps 1-minute data 15 days, 5-minute data 63 days and 1-hour data 455
//! days, and one answer carries at most `MAX_POINTS_PER_SERIES` points of a series here: a
//! 14-day history is read in 10-minute buckets (2,016 points).

use crate::source::aws::metrics::MAX_POINTS_PER_SERIES;

pub use crate::limits::{MAX_HISTORY_SECS, MIN_HISTORY_SECS};

/// Bucket lengths CloudWatch aggregates cleanly and people read easily.
const PERIODS: [u32; 10] = [60, 120, 300, 600, 900, 1_800, 3_600, 10_800, 21_600, 86_400];

/// The bucket length for a history of `history_secs` over metrics of `metric_period` seconds
/// (the largest period among them): within retention, within the points cap, a multiple of the
/// metric's period.
pub fn period_for(history_secs: i64, metric_period: u32) -> u32 {
    let retention_floor = if history_secs > 63 * 86_400 {
        3_600
    } else if history_secs > 15 * 86_400 {
        300
    } else {
        60
    };
    let cap = MAX_POINTS_PER_SERIES as i64;
    let needed = (history_secs + cap - 1) / cap;
    PERIODS
        .iter()
        .copied()
        .find(|&p| {
            i64::from(p) >= needed
                && p >= retention_floor
                && p >= metric_period
                && p % metric_period.max(1) == 0
        })
        .unwrap_or(86_400)
}

/// A bucket of `bucket_secs` expressed at the metric's own period: a Sum (or SampleCount) over
/// 15 minutes is fifteen 1-minute sums, so it is divided back to one (the bucket's average
/// minute: a shorter burst inside it is smoothed, which `tminus plan` says). Other statistics
/// (Maximum, Average, percentiles) read the same at any bucket length.
pub fn at_metric_period(value: f64, stat: &str, metric_period: u32, bucket_secs: u32) -> f64 {
    if stat.eq_ignore_ascii_case("Sum") || stat.eq_ignore_ascii_case("SampleCount") {
        value * f64::from(metric_period) / f64::from(bucket_secs.max(1))
    } else {
        value
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fourteen_days_read_in_ten_minute_buckets_within_the_cap() {
        assert_eq!(period_for(14 * 86_400, 60), 600);
        assert!(14 * 86_400 / 600 <= MAX_POINTS_PER_SERIES as i64);
        assert_eq!(period_for(86_400, 60), 60);
        assert_eq!(period_for(2 * 86_400, 60), 60);
        assert_eq!(period_for(3 * 86_400, 60), 120);
        // Past 15 days 1-minute data is gone; past 63 days 5-minute data.
        assert_eq!(period_for(20 * 86_400, 60), 600);
        assert_eq!(period_for(90 * 86_400, 60), 3_600);
        // Never finer than the metric's own period, and a multiple of it.
        assert_eq!(period_for(3_600, 300), 300);
        assert_eq!(period_for(3_600, 120), 120);
        assert_eq!(period_for(3_600, 240), 3_600);
    }

    #[test]
    fn sums_are_brought_back_to_the_metrics_own_period() {
        assert_eq!(at_metric_period(1_500.0, "Sum", 60, 900), 100.0);
        assert_eq!(at_metric_period(1_500.0, "SampleCount", 60, 900), 100.0);
        assert_eq!(at_metric_period(1_500.0, "Maximum", 60, 900), 1_500.0);
        assert_eq!(at_metric_period(120.0, "p99", 60, 900), 120.0);
    }
}
