//! Healthy traffic for metrics and quotas without `sim:` hints.
//!
//! A runbook written for a real launch has no `sim:` hints. Rehearsed as it is, the simulator
//! must still show a healthy launch, so that only injected (or surprise) faults break
//! thresholds. Each raw metric without hints gets a `Shape` inferred from what the runbook says
//! about it and about the metrics around it:
//!
//! - levels from its thresholds, with a margin: the worst value the shape can produce (its top
//!   level x (1 + drift + 3 x noise), rounded for counts) stays on the good side of warn and
//!   crit, for `direction: above` and `below`; percent-like metrics stay within 0-100;
//! - relations by name and dimensions: an error-like count is 0.1 % of the request count on the
//!   same dimensions; the statistics of one metric are ordered (p50 < p90 < p95 < p99 < p99.9 <
//!   Maximum, Average below p99) and share their noise, so the order holds at every point;
//! - expressions with thresholds are checked along the whole launch curve with their inputs at
//!   the extremes of their noise; one that would breach pulls its inferred inputs back;
//! - quotas without hints are sized so usage stays well inside `warn_below`.
//!
//! Metrics with `sim:` hints keep exactly their hints (and so their story). Inference depends on
//! the runbook only, never on the seed: the seed moves the noise within bounds that hold for
//! every seed.

use std::collections::{BTreeMap, HashMap, HashSet};

use super::MAX_EXPR_DEPTH;
use super::curve::{DRIFT, LATENCY_LAG_SECS, SIGMA_CLIP, is_integer, traffic};
use crate::runbook::expr::{EvalContext, Expr};
use crate::runbook::model::{Direction, Metric, MetricSim, Runbook};

/// Relative noise of an inferred metric (the default of a `sim:` hint).
const NOISE: f64 = 0.05;
/// The worst value of an inferred metric stays at or under this share of an "above" threshold,
/// and at or over threshold / MARGIN for a "below" one.
const MARGIN: f64 = 0.8;
/// The peak of a metric with an "above" threshold, as a share of the threshold.
const PEAK_SHARE: f64 = 0.6;
/// The same for error-like counts, which sit far under their warn when healthy.
const ERROR_PEAK_SHARE: f64 = 0.2;
/// An error-like count as a share of the request count on the same dimensions.
pub const ERROR_SHARE: f64 = 0.001;
/// How often one expression may pull its inputs back, and passes over all expressions.
const FIX_ROUNDS: usize = 24;
const FIX_PASSES: usize = 4;
/// Expressions with at most this many raw inputs are checked at every corner of their noise;
/// beyond it at the corners their inputs' influence points to.
const FULL_CORNERS: usize = 4;
/// Points of headroom a quota without hints keeps above `warn_below` at the peak.
const QUOTA_SAFETY: f64 = 15.0;
/// The value of a quota without hints whose usage follows no metric.
const QUOTA_VALUE: f64 = 1000.0;

/// How one raw metric moves in the simulator: levels at rest and at the peak, noise and drift.
#[derive(Debug, Clone, PartialEq)]
pub struct Shape {
    pub base: f64,
    pub peak: f64,
    pub noise: f64,
    /// Amplitude of the slow drift (a share of the level).
    pub drift: f64,
    pub lag: f64,
    pub integer: bool,
    /// Index of the metric whose noise draws and drift this one shares: itself, unless it is
    /// one statistic of a metric whose other statistics the runbook shows too.
    pub noise_of: usize,
    /// False for a metric with `sim:` hints.
    pub inferred: bool,
}

impl Shape {
    /// The largest relative deviation from the level: drift plus clipped noise.
    fn amplitude(&self) -> f64 {
        self.drift.abs() + SIGMA_CLIP * self.noise
    }

    fn level(&self, x: f64) -> f64 {
        self.base + (self.peak - self.base) * traffic(x - self.lag)
    }

    /// The value `x` seconds from T-0 with the noise at `d` (-1..=1) of its full swing and the
    /// levels scaled by `scale`.
    fn at(&self, x: f64, d: f64, scale: f64) -> f64 {
        self.finish(self.level(x) * scale * (1.0 + d * self.amplitude()))
    }

    fn finish(&self, v: f64) -> f64 {
        let v = v.max(0.0);
        if self.integer { v.round() } else { v }
    }

    /// The highest and lowest values the shape can produce.
    fn highest(&self) -> f64 {
        self.finish(self.base.max(self.peak) * (1.0 + self.amplitude()))
    }

    fn lowest(&self) -> f64 {
        self.finish(self.base.min(self.peak) * (1.0 - self.amplitude()))
    }

    fn scale_amplitude(&mut self, k: f64) {
        self.noise *= k;
        self.drift *= k;
    }
}

/// What the simulator guessed for one metric, or could not keep.
#[derive(Debug, Clone, PartialEq)]
pub struct Guess {
    /// Index in `runbook.metrics`.
    pub metric: usize,
    /// A short human reason, e.g. "0.1 % of `requests` (same LoadBalancer)".
    pub reason: String,
}

/// A quota's simulated value and, for usage that follows no metric, its usage levels.
#[derive(Debug, Clone, PartialEq)]
pub struct QuotaShape {
    pub value: f64,
    pub base: f64,
    pub peak: f64,
}

/// Everything inferred for a runbook.
#[derive(Debug, Clone)]
pub struct Inference {
    /// Per metric: its shape for a raw metric, None for an expression.
    pub shapes: Vec<Option<Shape>>,
    pub quotas: Vec<QuotaShape>,
    /// One per raw metric without `sim:` hints.
    pub guesses: Vec<Guess>,
    /// Thresholds the rules could not keep (a contradiction in the runbook, or explicit hints
    /// that breach on purpose and drag an inferred metric with them).
    pub unkept: Vec<Guess>,
}

/// The metrics the simulator guesses for (no `sim:` hints), each with a short reason.
pub fn guesses(rb: &Runbook) -> Vec<Guess> {
    infer(rb).guesses
}

/// Thresholds of metrics with inferred inputs that the simulator cannot keep without faults.
pub fn cannot_keep(rb: &Runbook) -> Vec<Guess> {
    infer(rb).unkept
}

// ---- what a metric is, by its name, statistic and unit ----

#[derive(Debug, Clone, Copy, Default)]
struct Class {
    percent: bool,
    /// 5XX, 4XX, errors, faults, throttles, failures.
    error: bool,
    /// RequestCount, Invocations, Count...
    request: bool,
    /// A Sum or SampleCount.
    count: bool,
    latency: bool,
    seconds: bool,
    /// Where the statistic sits relative to p99, for statistics that order.
    rank: Option<f64>,
}

fn classify(m: &Metric) -> Class {
    let name = m.metric.as_deref().unwrap_or("");
    let lower = name.to_ascii_lowercase();
    let unit = m.unit.as_deref().unwrap_or("").trim().to_ascii_lowercase();
    let stat = m.stat.as_deref().unwrap_or("Average");
    let percent = unit.contains('%')
        || unit.contains("percent")
        || lower.ends_with("utilization")
        || lower.contains("percent");
    let error = ["5xx", "4xx", "error", "fault", "throttl", "fail"]
        .iter()
        .any(|k| lower.contains(k));
    let latency = m.is_latency();
    let request = !error
        && !latency
        && (name == "Count"
            || lower.contains("request")
            || lower.ends_with("invocations")
            || lower == "callcount");
    Class {
        percent,
        error,
        request,
        count: matches!(stat, "Sum" | "SampleCount"),
        latency,
        seconds: matches!(unit.as_str(), "s" | "sec" | "secs" | "second" | "seconds")
            || (unit.is_empty() && name == "TargetResponseTime"),
        rank: stat_rank(stat),
    }
}

/// Percentile (N, level relative to p99): where the statistics of one metric sit.
const RANKS: [(f64, f64); 7] = [
    (0.0, 0.25),
    (50.0, 0.45),
    (90.0, 0.7),
    (95.0, 0.8),
    (99.0, 1.0),
    (99.9, 1.25),
    (100.0, 1.6),
];

/// A statistic's level relative to the p99 of the same metric; None for statistics that do not
/// order with percentiles (Sum, SampleCount, ranges).
fn stat_rank(stat: &str) -> Option<f64> {
    match stat {
        "Minimum" => return Some(RANKS[0].1),
        "Maximum" => return Some(RANKS[6].1),
        "Average" | "IQM" => return Some(0.55),
        _ => {}
    }
    let lower = stat.to_ascii_lowercase();
    let number = |prefix: &str| {
        lower
            .strip_prefix(prefix)
            .and_then(|r| r.parse::<f64>().ok())
            .filter(|n| (0.0..=100.0).contains(n))
    };
    if let Some(n) = number("p") {
        return RANKS.windows(2).find_map(|w| {
            let ((n0, r0), (n1, r1)) = (w[0], w[1]);
            (n0..=n1)
                .contains(&n)
                .then(|| r0 + (r1 - r0) * (n - n0) / (n1 - n0))
        });
    }
    // Trimmed and winsorized means sit near the average.
    (number("tm").is_some() || number("wm").is_some()).then_some(0.55)
}

/// The shape of a metric with `sim:` hints: the hints, as given.
fn given(m: &Metric, s: &MetricSim, index: usize) -> Shape {
    Shape {
        base: s.base,
        peak: s.peak,
        // As `Profile::new` takes it.
        noise: if s.noise.is_finite() {
            s.noise.clamp(0.0, 1.0)
        } else {
            0.0
        },
        drift: DRIFT,
        lag: if m.is_latency() {
            LATENCY_LAG_SECS
        } else {
            0.0
        },
        integer: is_integer(m),
        noise_of: index,
        inferred: false,
    }
}

// ---- thresholds as a band the values must stay in ----

#[derive(Debug, Clone, Copy, Default)]
struct Band {
    /// Values must stay under this (the lower of warn and crit, `direction: above`).
    hi: Option<f64>,
    /// Values must stay over this (the higher of warn and crit, `direction: below`).
    lo: Option<f64>,
    /// Which threshold `hi` or `lo` is, for reasons.
    word: &'static str,
    percent: bool,
    integer: bool,
}

fn band_of(m: &Metric, c: &Class) -> Band {
    let mut band = Band {
        percent: c.percent,
        integer: is_integer(m),
        ..Band::default()
    };
    let (warn, crit) = (
        m.warn.filter(|v| v.is_finite()),
        m.crit.filter(|v| v.is_finite()),
    );
    let pick = |keep_warn: bool| if keep_warn { "warn" } else { "crit" };
    match (m.direction, warn, crit) {
        (_, None, None) => {}
        (Direction::Above, w, c) => {
            let t = w.unwrap_or(f64::INFINITY).min(c.unwrap_or(f64::INFINITY));
            band.hi = Some(t);
            band.word = pick(w == Some(t));
        }
        (Direction::Below, w, c) => {
            let t = w
                .unwrap_or(f64::NEG_INFINITY)
                .max(c.unwrap_or(f64::NEG_INFINITY));
            band.lo = Some(t);
            band.word = pick(w == Some(t));
        }
    }
    band
}

impl Band {
    /// Bounds for a value before rounding, (over, under): with the margin, or just inside the
    /// thresholds. A count is rounded, so its bounds keep half a unit more.
    fn bounds(&self, margin: bool) -> (Option<f64>, Option<f64>) {
        let hi = self.hi.map(|h| {
            let mut v = if margin {
                h * MARGIN
            } else {
                h - (h.abs() * 1e-6).max(1e-12)
            };
            if self.integer {
                v = v.min(h.ceil() - 0.51);
            }
            v
        });
        let hi = match (hi, self.percent) {
            (Some(h), true) => Some(h.min(100.0)),
            (None, true) => Some(100.0),
            (h, false) => h,
        };
        // Values are never negative: a negative "below" threshold is always kept.
        let lo = self.lo.filter(|l| *l >= 0.0).map(|l| {
            let mut v = if margin && l > 0.0 {
                l / MARGIN
            } else {
                l + (l.abs() * 1e-6).max(1e-9)
            };
            if self.integer {
                v = v.max(l.floor() + 0.51);
            }
            v
        });
        (lo, hi)
    }

    /// Whether every value of the shape is on the good side of the thresholds (and within
    /// 0-100 for a percentage), as the app judges it (at or beyond a threshold alerts).
    fn holds(&self, s: &Shape) -> bool {
        let (top, bottom) = (s.highest(), s.lowest());
        self.hi.is_none_or(|h| top < h)
            && self.lo.is_none_or(|l| bottom > l)
            && (!self.percent || top <= 100.0)
    }

    fn threshold(&self) -> Option<(f64, &'static str)> {
        self.hi.or(self.lo).map(|t| (t, self.word))
    }
}

/// Fits a shape's levels into its band: scales them down under an upper bound, raises them over
/// a lower one, and when the band is too narrow for the usual noise, centres the metric in it
/// with less noise and drift.
fn fit(s: &mut Shape, band: &Band) {
    if !(s.base.is_finite() && s.peak.is_finite()) {
        s.base = 0.0;
        s.peak = 0.0;
    }
    s.base = s.base.max(0.0);
    s.peak = s.peak.max(0.0);
    let amp = s.amplitude();
    let (lo, hi) = band.bounds(true);
    let top_max = hi.map(|h| h / (1.0 + amp));
    let bottom_min = lo.map(|l| l / (1.0 - amp).max(1e-3));
    if let (Some(t), Some(b)) = (top_max, bottom_min)
        && b > t
    {
        let (lo, hi) = band.bounds(false);
        let (l, h) = (lo.unwrap_or(0.0), hi.unwrap_or(f64::MAX));
        if h > l && h > 0.0 {
            let mid = (l + h) / 2.0;
            let a = 0.6 * (h - l) / (h + l);
            if amp > a {
                s.scale_amplitude(a / amp);
            }
            s.base = mid;
            s.peak = mid;
        } else {
            // Nothing fits; `holds` reports it.
            s.base = h.max(0.0);
            s.peak = s.base;
        }
        return;
    }
    if let Some(t) = top_max {
        let top = s.base.max(s.peak);
        if t <= 0.0 {
            s.base = 0.0;
            s.peak = 0.0;
        } else if top > t {
            let k = t / top;
            s.base *= k;
            s.peak *= k;
        }
    }
    if let Some(f) = bottom_min {
        let bottom = s.base.min(s.peak);
        if bottom < f {
            if top_max.is_some() || bottom <= 0.0 {
                s.base = s.base.max(f);
                s.peak = s.peak.max(f);
            } else {
                let k = f / bottom;
                s.base *= k;
                s.peak *= k;
            }
        }
    }
}

/// A number as a reason shows it: a few significant digits, no trailing zeros.
fn num(v: f64) -> String {
    let a = v.abs();
    let s = if a >= 100.0 {
        format!("{v:.0}")
    } else if a >= 1.0 {
        format!("{v:.2}")
    } else if a >= 0.01 {
        format!("{v:.3}")
    } else {
        format!("{v:.2e}")
    };
    if s.contains('.') && !s.contains('e') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

/// Levels for a metric on its own, from its kind and its thresholds, before fitting; and the
/// reason.
fn desired(m: &Metric, c: &Class, band: &Band) -> (f64, f64, String) {
    let per_minute = f64::from(m.period.max(1)) / 60.0;
    let (default_base, default_peak, what) = if c.percent {
        (18.0, 45.0, "percentage")
    } else if c.latency {
        if c.seconds {
            (0.11, 0.25, "latency (seconds)")
        } else {
            (110.0, 250.0, "latency")
        }
    } else if c.error && c.count {
        (0.0, 2.0 * per_minute, "error count")
    } else if c.request && c.count {
        (1000.0 * per_minute, 10000.0 * per_minute, "request count")
    } else if c.count {
        (100.0 * per_minute, 1000.0 * per_minute, "count")
    } else {
        (100.0, 300.0, "")
    };
    let rest = if c.count && !c.error {
        0.1
    } else if c.latency {
        0.45
    } else {
        0.4
    };
    let name = m.metric.as_deref().unwrap_or("").to_ascii_lowercase();
    let growth = if c.percent {
        1.0
    } else if ["host", "instance", "capacity", "healthy"]
        .iter()
        .any(|k| name.contains(k))
    {
        1.3
    } else if c.count {
        4.0
    } else {
        1.5
    };
    if let Some(lo) = band.lo.filter(|l| *l >= 0.0) {
        let lo_eff = band.bounds(true).0.unwrap_or(lo);
        let base = if lo > 0.0 {
            2.0 * lo_eff
        } else {
            default_base.max(1.0)
        };
        let why = format!("stays over {} {} (direction: below)", band.word, num(lo));
        return (base, base * growth, why);
    }
    if let Some(hi) = band.hi.filter(|h| *h > 0.0) {
        let (base, peak) = if c.error {
            let peak = ERROR_PEAK_SHARE * hi;
            (peak * 0.25, peak)
        } else {
            let peak = PEAK_SHARE * hi;
            (peak * rest, peak)
        };
        return (base, peak, format!("under {} {}", band.word, num(hi)));
    }
    let why = if what.is_empty() {
        "no thresholds: default levels".to_string()
    } else {
        format!("no thresholds: default {what} levels")
    };
    (default_base, default_peak, why)
}

/// The shape of a metric on its own: its hints, or healthy levels from its kind and thresholds
/// (no relations to other metrics).
#[cfg(test)]
pub fn own_shape(m: &Metric, index: usize) -> Shape {
    match &m.sim {
        Some(s) => given(m, s, index),
        None => alone(m, index, &classify(m)).0,
    }
}

fn alone(m: &Metric, index: usize, c: &Class) -> (Shape, String) {
    let band = band_of(m, c);
    let (base, peak, why) = desired(m, c, &band);
    let mut s = Shape {
        base,
        peak,
        noise: NOISE,
        drift: DRIFT,
        lag: if c.latency { LATENCY_LAG_SECS } else { 0.0 },
        integer: band.integer,
        noise_of: index,
        inferred: true,
    };
    fit(&mut s, &band);
    let why = if c.percent && band.hi.is_none() && band.lo.is_none() {
        why
    } else if c.percent {
        format!("{why}, within 0-100 %")
    } else {
        why
    };
    let why = format!("{why}, peak {}", num(s.peak));
    (s, why)
}

// ---- relations between metrics ----

/// How well a request-like metric's dimensions cover an error-like metric's: a score (higher is
/// closer) and how to say it.
fn dims_match(ns: &str, e: &Metric, r: &Metric) -> Option<(u8, String)> {
    let keys = |m: &Metric| m.dimensions.keys().cloned().collect::<Vec<_>>().join(", ");
    if e.dimensions == r.dimensions {
        let how = if e.dimensions.is_empty() {
            "no dimensions".to_string()
        } else {
            format!("same {}", keys(e))
        };
        return Some((3, how));
    }
    if ns == "AWS/ApplicationELB"
        && let (Some(a), Some(b)) = (
            e.dimensions.get("LoadBalancer"),
            r.dimensions.get("LoadBalancer"),
        )
        && a == b
    {
        return Some((2, "same LoadBalancer".into()));
    }
    if !r.dimensions.is_empty()
        && r.dimensions
            .iter()
            .all(|(k, v)| e.dimensions.get(k) == Some(v))
    {
        return Some((2, format!("same {}", keys(r))));
    }
    r.dimensions
        .is_empty()
        .then(|| (1, "all of the namespace".into()))
}

/// The request count an error-like count is a fraction of: same namespace and region, dimensions
/// that cover it. In AWS namespaces only request-like names (RequestCount, Invocations, Count);
/// in custom ones any plain count (OrdersFailed of OrdersPlaced).
fn partner(rb: &Runbook, classes: &[Class], e: usize) -> Option<(usize, String)> {
    let em = &rb.metrics[e];
    let ns = em.namespace.as_deref()?;
    rb.metrics
        .iter()
        .enumerate()
        .filter(|&(i, m)| {
            let c = &classes[i];
            i != e
                && m.expression.is_none()
                && m.namespace.as_deref() == Some(ns)
                && m.region == em.region
                && !c.error
                && c.count
                && !c.latency
                && !c.percent
                && (c.request || !ns.starts_with("AWS/"))
        })
        .filter_map(|(i, m)| {
            dims_match(ns, em, m).map(|(score, how)| ((score, classes[i].request), i, how))
        })
        // Highest score; the first in the runbook on a tie.
        .fold(
            None,
            |best: Option<((u8, bool), usize, String)>, cand| match &best {
                Some(b) if b.0 >= cand.0 => best,
                _ => Some(cand),
            },
        )
        .map(|(_, i, how)| (i, how))
}

/// Statistics of one metric: raw metrics with the same namespace, name, dimensions, region and
/// point step whose statistics order. Only groups of two or more with something to infer.
fn stat_groups(rb: &Runbook, classes: &[Class]) -> Vec<Vec<usize>> {
    type Key<'a> = (
        Option<&'a str>,
        Option<&'a str>,
        &'a BTreeMap<String, String>,
        Option<&'a str>,
        u32,
    );
    let mut groups: Vec<(Key, Vec<usize>)> = Vec::new();
    for (i, m) in rb.metrics.iter().enumerate() {
        if m.expression.is_some() || classes[i].rank.is_none() {
            continue;
        }
        let key: Key = (
            m.namespace.as_deref(),
            m.metric.as_deref(),
            &m.dimensions,
            m.region.as_deref(),
            m.period.max(1),
        );
        match groups.iter_mut().find(|(k, _)| *k == key) {
            Some((_, members)) => members.push(i),
            None => groups.push((key, vec![i])),
        }
    }
    groups
        .into_iter()
        .map(|(_, members)| members)
        .filter(|g| g.len() >= 2 && g.iter().any(|&i| rb.metrics[i].sim.is_none()))
        .collect()
}

/// Shapes for the inferred members of a group of statistics: levels in rank order from the
/// member with hints (if any) or from the tightest threshold, and one noise for all.
fn shape_group(
    rb: &Runbook,
    classes: &[Class],
    group: &[usize],
    shapes: &mut [Option<Shape>],
    reasons: &mut [Vec<String>],
) {
    let rank = |i: usize| classes[i].rank.unwrap_or(1.0);
    let anchor = group.iter().copied().find(|&i| rb.metrics[i].sim.is_some());
    let (base, peak, noise, drift, lag, noise_of) = match anchor.and_then(|a| {
        shapes[a]
            .as_ref()
            .map(|s| (a, s.base, s.peak, s.noise, s.drift, s.lag))
    }) {
        Some((a, b, p, noise, drift, lag)) => (b / rank(a), p / rank(a), noise, drift, lag, a),
        None => {
            let first = &classes[group[0]];
            let latency = group.iter().any(|&i| classes[i].latency);
            // The p99-equivalent peak: under every member's threshold with the usual share.
            let caps = group.iter().filter_map(|&i| {
                let band = band_of(&rb.metrics[i], &classes[i]);
                let hi = band.hi.filter(|h| *h > 0.0).map(|h| PEAK_SHARE * h);
                let pct = band.percent.then_some(45.0);
                match (hi, pct) {
                    (Some(h), Some(p)) => Some(h.min(p) / rank(i)),
                    (h, p) => h.or(p).map(|v| v / rank(i)),
                }
            });
            let peak = caps.fold(None, |acc: Option<f64>, v| {
                Some(acc.map_or(v, |a| a.min(v)))
            });
            let peak = peak.unwrap_or(if first.percent {
                45.0
            } else if latency && first.seconds {
                0.25
            } else if latency {
                250.0
            } else {
                300.0
            });
            let rest = if latency { 0.45 } else { 0.4 };
            let lag = if latency { LATENCY_LAG_SECS } else { 0.0 };
            (peak * rest, peak, NOISE, DRIFT, lag, group[0])
        }
    };
    let mut ordered: Vec<usize> = group.to_vec();
    ordered.sort_by(|&a, &b| rank(a).total_cmp(&rank(b)));
    let stats: Vec<String> = ordered
        .iter()
        .map(|&i| {
            rb.metrics[i]
                .stat
                .clone()
                .unwrap_or_else(|| "Average".into())
        })
        .collect();
    let name = rb.metrics[group[0]].metric.as_deref().unwrap_or("");
    for &i in group {
        if rb.metrics[i].sim.is_some() {
            continue;
        }
        let m = &rb.metrics[i];
        let band = band_of(m, &classes[i]);
        let mut s = Shape {
            base: base * rank(i),
            peak: peak * rank(i),
            noise,
            drift,
            lag,
            integer: band.integer,
            noise_of,
            inferred: true,
        };
        fit(&mut s, &band);
        let mut why = format!("{} of {name} in order", stats.join(" < "));
        if let Some(a) = anchor {
            why.push_str(&format!(" with `{}`", rb.metrics[a].id));
        }
        if let Some((t, word)) = band.threshold() {
            let side = if band.hi.is_some() { "under" } else { "over" };
            why.push_str(&format!(", {side} {word} {}", num(t)));
        }
        why.push_str(&format!(", peak {}", num(s.peak)));
        reasons[i].push(why);
        shapes[i] = Some(s);
    }
}

// ---- expressions ----

/// Raw shapes and parsed expressions, to evaluate any metric at any point of the launch curve
/// with any noise.
struct Model<'a> {
    rb: &'a Runbook,
    ids: HashMap<&'a str, usize>,
    exprs: Vec<Option<Expr>>,
    shapes: Vec<Option<Shape>>,
    /// Seconds from T-0 at which expressions are checked: rest, the ramp, the decay, plateau.
    grid: Vec<f64>,
}

/// One noise assignment: each raw metric's deviation (-1..=1 of its swing).
type Corner = Vec<f64>;

impl Model<'_> {
    fn eval(&self, i: usize, x: f64, dev: &[f64], scale: &[f64], depth: usize) -> Option<f64> {
        if depth >= MAX_EXPR_DEPTH {
            return None;
        }
        if let Some(s) = self.shapes.get(i)? {
            return Some(s.at(x, dev[i], scale[i]));
        }
        let e = self.exprs.get(i)?.as_ref()?;
        // The time of day is not what makes a value breach: any bucket will do for it.
        e.eval(&mut EvalContext {
            t: x as i64,
            period: 60.0,
            lookup: &mut |id| {
                let k = *self.ids.get(id)?;
                self.eval(k, x, dev, scale, depth + 1)
            },
        })
    }

    /// The raw metrics an expression reads, directly or through other expressions.
    fn leaves(&self, i: usize) -> Vec<usize> {
        let mut out = Vec::new();
        let mut seen = HashSet::new();
        let mut stack = vec![(i, 0usize)];
        while let Some((k, depth)) = stack.pop() {
            if depth >= MAX_EXPR_DEPTH || !seen.insert(k) {
                continue;
            }
            if self.shapes.get(k).is_some_and(Option::is_some) {
                out.push(k);
            } else if let Some(Some(e)) = self.exprs.get(k) {
                for id in e.refs() {
                    if let Some(&j) = self.ids.get(id) {
                        stack.push((j, depth + 1));
                    }
                }
            }
        }
        out.sort_unstable();
        out
    }

    /// Noise corners to try at `x`: every corner for a few inputs; else the two corners the
    /// inputs' influence points to (each input at the end that raises, or lowers, the value).
    fn corners(&self, i: usize, leaves: &[usize], x: f64, ones: &[f64]) -> Vec<Corner> {
        let n = self.rb.metrics.len();
        let zero = vec![0.0; n];
        let mut out = vec![zero.clone()];
        if leaves.len() <= FULL_CORNERS {
            for bits in 0..(1u32 << leaves.len()) {
                let mut c = zero.clone();
                for (b, &k) in leaves.iter().enumerate() {
                    c[k] = if bits & (1 << b) != 0 { 1.0 } else { -1.0 };
                }
                out.push(c);
            }
            return out;
        }
        let (mut up, mut down) = (zero.clone(), zero.clone());
        for &k in leaves {
            let mut hi = zero.clone();
            hi[k] = 1.0;
            let mut lo = zero.clone();
            lo[k] = -1.0;
            let d = match (self.eval(i, x, &hi, ones, 0), self.eval(i, x, &lo, ones, 0)) {
                (Some(a), Some(b)) => a - b,
                _ => 0.0,
            };
            up[k] = if d >= 0.0 { 1.0 } else { -1.0 };
            down[k] = -up[k];
        }
        out.push(up);
        out.push(down);
        out
    }

    /// The highest (or lowest) value of metric `i` along the launch curve at any noise corner:
    /// (value, x, corner).
    fn extreme(&self, i: usize, highest: bool) -> Option<(f64, f64, Corner)> {
        let leaves = self.leaves(i);
        let ones = vec![1.0; self.rb.metrics.len()];
        let mut best: Option<(f64, f64, Corner)> = None;
        for &x in &self.grid {
            for c in self.corners(i, &leaves, x, &ones) {
                let Some(v) = self.eval(i, x, &c, &ones, 0) else {
                    continue;
                };
                let better = best
                    .as_ref()
                    .is_none_or(|b| if highest { v > b.0 } else { v < b.0 });
                if better {
                    best = Some((v, x, c));
                }
            }
        }
        best
    }

    /// Where expression `j` leaves its thresholds (with the margin when `margin`): the factor
    /// its value must move by (< 1: down), and the point where it is worst.
    fn breach(&self, j: usize, margin: bool) -> Option<(f64, f64, Corner)> {
        let m = &self.rb.metrics[j];
        let ts = [m.warn, m.crit];
        let finite = ts.iter().flatten().copied().filter(|v| v.is_finite());
        let (hi, lo) = match m.direction {
            Direction::Above => (finite.reduce(f64::min), None),
            Direction::Below => (None, finite.reduce(f64::max)),
        };
        // A percentage stays within 0-100 even without thresholds.
        let percent = is_percent_unit(m);
        let limit = match (hi, percent) {
            (Some(h), _) => {
                let l = if margin && h > 0.0 { h * MARGIN } else { h };
                Some(if percent { l.min(100.0) } else { l })
            }
            (None, true) => Some(100.0),
            (None, false) => None,
        };
        if let Some(limit) = limit {
            let (v, x, c) = self.extreme(j, true)?;
            let out = if margin {
                v > limit
            } else {
                hi.is_some_and(|h| v >= h) || (percent && v > 100.0)
            };
            if out {
                let ratio = if v > 0.0 && limit > 0.0 {
                    limit / v
                } else {
                    0.1
                };
                return Some((ratio, x, c));
            }
        }
        let lo = lo?;
        let (v, x, c) = self.extreme(j, false)?;
        let limit = if margin && lo > 0.0 { lo / MARGIN } else { lo };
        let out = if margin && lo > 0.0 {
            v < limit
        } else {
            v <= lo
        };
        out.then(|| {
            let ratio = if v > 0.0 && limit > 0.0 {
                limit / v
            } else {
                10.0
            };
            (ratio, x, c)
        })
    }
}

fn is_percent_unit(m: &Metric) -> bool {
    let unit = m.unit.as_deref().unwrap_or("").to_ascii_lowercase();
    unit.contains('%') || unit.contains("percent")
}

/// Scales a shape's levels by `factor` for an expression, each level stopping at its own
/// band's bounds (so the rest level still moves when the peak cannot, and the other way round);
/// whether anything moved.
fn rescale(s: &mut Shape, band: &Band, factor: f64) -> bool {
    let before = (s.base, s.peak);
    s.base *= factor;
    s.peak *= factor;
    let amp = s.amplitude();
    let (lo, hi) = band.bounds(true);
    if factor > 1.0
        && let Some(t) = hi.map(|h| h / (1.0 + amp))
    {
        s.base = s.base.min(t);
        s.peak = s.peak.min(t);
    }
    if factor < 1.0
        && let Some(f) = lo.map(|l| l / (1.0 - amp).max(1e-3))
    {
        s.base = s.base.max(f);
        s.peak = s.peak.max(f);
    }
    fit(s, band);
    before != (s.base, s.peak)
}

fn grid() -> Vec<f64> {
    let mut g: Vec<f64> = (-60..=80).map(|k| f64::from(k) * 30.0).collect();
    g.extend([-1e6, 1e6]);
    g
}

/// Pulls the inferred inputs of expressions with thresholds back until the expressions stay
/// inside their thresholds with the margin.
fn fix_expressions(
    model: &mut Model,
    classes: &[Class],
    bands: &[Band],
    mates: &[Vec<usize>],
    reasons: &mut [Vec<String>],
) {
    let rb = model.rb;
    let targets: Vec<usize> = (0..rb.metrics.len())
        .filter(|&j| {
            let m = &rb.metrics[j];
            model.exprs[j].is_some()
                && ([m.warn, m.crit].iter().flatten().any(|v| v.is_finite()) || is_percent_unit(m))
        })
        .collect();
    for _ in 0..FIX_PASSES {
        let mut changed = false;
        for &j in &targets {
            let inferred: Vec<usize> = model
                .leaves(j)
                .into_iter()
                .filter(|&k| model.shapes[k].as_ref().is_some_and(|s| s.inferred))
                .collect();
            if inferred.is_empty() {
                continue;
            }
            for _ in 0..FIX_ROUNDS {
                let Some((ratio, x, corner)) = model.breach(j, true) else {
                    break;
                };
                let want_down = ratio < 1.0;
                let ones = vec![1.0; rb.metrics.len()];
                // Which inputs move the value which way at the worst point.
                let mut raise = Vec::new();
                let mut lower = Vec::new();
                for &k in &inferred {
                    // Doubling and halving: enough to move a rounded count by one.
                    let mut up = ones.clone();
                    up[k] = 2.0;
                    let mut down = ones.clone();
                    down[k] = 0.5;
                    let (Some(a), Some(b)) = (
                        model.eval(j, x, &corner, &up, 0),
                        model.eval(j, x, &corner, &down, 0),
                    ) else {
                        continue;
                    };
                    if a > b {
                        raise.push(k);
                    } else if a < b {
                        lower.push(k);
                    }
                }
                let errors: Vec<usize> = raise
                    .iter()
                    .copied()
                    .filter(|&k| classes[k].error)
                    .collect();
                // Error counts first, then whatever else raises the value, then the other side;
                // the first choice that can move (its own thresholds may hold it) is taken.
                let options = if want_down {
                    vec![
                        (errors, ratio * 0.9),
                        (raise, ratio * 0.9),
                        (lower, 1.0 / (ratio * 0.9)),
                    ]
                } else {
                    vec![(raise, ratio * 1.1), (lower, 1.0 / (ratio * 1.1))]
                };
                let side = if rb.metrics[j].direction == Direction::Above {
                    "under"
                } else {
                    "over"
                };
                let mut moved = false;
                for (chosen, factor) in options {
                    let factor = factor.clamp(1e-9, 1e9);
                    for &k in &chosen {
                        let mut this = false;
                        for &g in &mates[k] {
                            if let Some(s) = model.shapes[g].as_mut() {
                                this |= rescale(s, &bands[g], factor);
                            }
                        }
                        if this {
                            let how = if factor < 1.0 { "down" } else { "up" };
                            let note = format!(
                                "scaled {how} so `{}` stays {side} its thresholds",
                                rb.metrics[j].id
                            );
                            if !reasons[k].contains(&note) {
                                reasons[k].push(note);
                            }
                        }
                        moved |= this;
                    }
                    if moved {
                        break;
                    }
                }
                if !moved {
                    break;
                }
                changed = true;
            }
        }
        if !changed {
            break;
        }
    }
}

// ---- the whole runbook ----

/// Infers shapes for every raw metric without hints and values for every quota without hints.
pub fn infer(rb: &Runbook) -> Inference {
    let n = rb.metrics.len();
    let classes: Vec<Class> = rb.metrics.iter().map(classify).collect();
    let bands: Vec<Band> = rb
        .metrics
        .iter()
        .zip(&classes)
        .map(|(m, c)| band_of(m, c))
        .collect();
    let mut shapes: Vec<Option<Shape>> = vec![None; n];
    let mut reasons: Vec<Vec<String>> = vec![Vec::new(); n];
    for (i, m) in rb.metrics.iter().enumerate() {
        if m.expression.is_none()
            && let Some(s) = &m.sim
        {
            shapes[i] = Some(given(m, s, i));
        }
    }
    // Statistics of one metric, in order.
    let groups = stat_groups(rb, &classes);
    let mut mates: Vec<Vec<usize>> = (0..n).map(|i| vec![i]).collect();
    for g in &groups {
        shape_group(rb, &classes, g, &mut shapes, &mut reasons);
        let inferred: Vec<usize> = g
            .iter()
            .copied()
            .filter(|&i| rb.metrics[i].sim.is_none())
            .collect();
        for &i in &inferred {
            mates[i] = inferred.clone();
        }
    }
    // Everything else on its own, except error counts that have a request count.
    let mut errors = Vec::new();
    for (i, m) in rb.metrics.iter().enumerate() {
        if m.expression.is_some() || shapes[i].is_some() {
            continue;
        }
        if classes[i].error
            && classes[i].count
            && let Some(p) = partner(rb, &classes, i)
        {
            errors.push((i, p));
            continue;
        }
        let (s, why) = alone(m, i, &classes[i]);
        reasons[i].push(why);
        shapes[i] = Some(s);
    }
    // Error counts as a small share of their request count.
    for (i, (p, how)) in errors {
        let m = &rb.metrics[i];
        let share =
            ERROR_SHARE * f64::from(m.period.max(1)) / f64::from(rb.metrics[p].period.max(1));
        let (pb, pp) = shapes[p].as_ref().map_or((0.0, 0.0), |s| (s.base, s.peak));
        let mut s = Shape {
            base: pb * share,
            peak: pp * share,
            noise: NOISE,
            drift: DRIFT,
            lag: 0.0,
            integer: bands[i].integer,
            noise_of: i,
            inferred: true,
        };
        fit(&mut s, &bands[i]);
        let mut why = format!(
            "{} % of `{}` ({how})",
            num(ERROR_SHARE * 100.0),
            rb.metrics[p].id
        );
        if let Some((t, word)) = bands[i].threshold() {
            let side = if bands[i].hi.is_some() {
                "under"
            } else {
                "over"
            };
            why.push_str(&format!(", {side} {word} {}", num(t)));
        }
        reasons[i].push(why);
        shapes[i] = Some(s);
    }

    let mut ids = HashMap::new();
    for (i, m) in rb.metrics.iter().enumerate() {
        ids.entry(m.id.as_str()).or_insert(i);
    }
    let mut model = Model {
        rb,
        ids,
        exprs: rb
            .metrics
            .iter()
            .map(|m| m.expression.as_deref().and_then(|e| Expr::parse(e).ok()))
            .collect(),
        shapes,
        grid: grid(),
    };
    fix_expressions(&mut model, &classes, &bands, &mates, &mut reasons);

    let mut unkept = Vec::new();
    for (i, m) in rb.metrics.iter().enumerate() {
        let Some(s) = model.shapes[i].as_ref().filter(|s| s.inferred) else {
            continue;
        };
        if !bands[i].holds(s) {
            let what = match bands[i].threshold() {
                Some((t, word)) => format!("on the good side of {word} {}", num(t)),
                None => "within 0-100 %".to_string(),
            };
            unkept.push(Guess {
                metric: i,
                reason: format!("the simulator cannot keep `{}` {what}", m.id),
            });
        }
    }
    for (j, m) in rb.metrics.iter().enumerate() {
        if model.exprs[j].is_none() {
            continue;
        }
        let inferred = model
            .leaves(j)
            .into_iter()
            .any(|k| model.shapes[k].as_ref().is_some_and(|s| s.inferred));
        if inferred && model.breach(j, false).is_some() {
            unkept.push(Guess {
                metric: j,
                reason: format!(
                    "the simulator cannot keep `{}` inside its thresholds by pulling back its \
                     guessed inputs (their other thresholds, or inputs with sim: hints, stand \
                     in the way)",
                    m.id
                ),
            });
        }
    }

    let quotas = rb
        .quotas
        .iter()
        .map(|q| {
            if let Some(s) = &q.sim {
                return QuotaShape {
                    value: s.value,
                    base: s.base,
                    peak: s.peak,
                };
            }
            let wb = q.warn_below.0;
            let share = ((100.0 - wb - QUOTA_SAFETY).max((100.0 - wb) * 0.5) / 100.0).max(1e-3);
            let metric = q
                .usage_metric
                .as_deref()
                .and_then(|id| model.ids.get(id).copied());
            match metric {
                Some(i) => {
                    // Sized so the metric's worst value uses `share` of it.
                    let worst = model.extreme(i, true).map_or(0.0, |e| e.0);
                    let value = if worst > 0.0 && worst.is_finite() {
                        worst / share
                    } else {
                        QUOTA_VALUE
                    };
                    QuotaShape {
                        value,
                        base: 0.0,
                        peak: 0.0,
                    }
                }
                None => {
                    let peak = share * QUOTA_VALUE;
                    QuotaShape {
                        value: QUOTA_VALUE,
                        base: (0.2 * QUOTA_VALUE).min(0.5 * peak),
                        peak,
                    }
                }
            }
        })
        .collect();

    let guesses = rb
        .metrics
        .iter()
        .enumerate()
        .filter(|(i, m)| m.sim.is_none() && model.shapes[*i].is_some())
        .map(|(i, _)| Guess {
            metric: i,
            reason: reasons[i].join("; "),
        })
        .collect();
    Inference {
        shapes: model.shapes,
        quotas,
        guesses,
        unkept,
    }
}
