//! The launch-day shape and the seeded noise: pure functions of time, so any point can be
//! recomputed on its own (the sparkline, an expression and an alarm all see the same value).

use rand::{Rng, SeedableRng};
use rand_pcg::Pcg32;

use super::infer::Shape;
use crate::runbook::model::Metric;

/// Seconds around T-0 over which traffic ramps from the pre-launch level to the peak.
const RAMP_FROM: f64 = -120.0;
const RAMP_TO: f64 = 120.0;
/// Pre-launch interest: traffic creeps up to this share of the peak over the last half hour
/// (people refreshing the page), so the sparkline is not flat before the ramp.
const BUZZ_SHARE: f64 = 0.08;
const BUZZ_FROM: f64 = -1800.0;
/// After the peak, traffic eases down to this share of the peak over half an hour.
pub const PLATEAU: f64 = 0.65;
const DECAY_SECS: f64 = 1800.0;
/// Amplitude of the slow sinusoidal drift, as a share of the current level.
pub const DRIFT: f64 = 0.03;
/// `gaussian` clips its draws at this many standard deviations.
pub const SIGMA_CLIP: f64 = 3.0;

fn smoothstep(from: f64, to: f64, x: f64) -> f64 {
    let u = ((x - from) / (to - from)).clamp(0.0, 1.0);
    u * u * (3.0 - 2.0 * u)
}

/// Launch traffic as a share of the peak (0..=1), `x` seconds from T-0: near 0 long before,
/// a smooth ramp from T-2m to T+2m, then a slow decay to a plateau.
pub fn traffic(x: f64) -> f64 {
    if !x.is_finite() {
        return 0.0;
    }
    let pre = BUZZ_SHARE * smoothstep(BUZZ_FROM, RAMP_FROM, x);
    let ramp = pre + (1.0 - pre) * smoothstep(RAMP_FROM, RAMP_TO, x);
    let decay = 1.0 - (1.0 - PLATEAU) * smoothstep(RAMP_TO, RAMP_TO + DECAY_SECS, x);
    ramp * decay
}

/// FNV-1a: a stable hash of a metric id. Stable across Rust releases and platforms, unlike
/// `DefaultHasher`, so a seed gives the same event everywhere.
pub fn hash_str(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// splitmix64 finaliser: mixes (seed, id, bucket) into a well-spread generator seed.
pub fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// A standard normal draw that depends only on (seed, key, bucket): independent of call order.
pub fn gaussian(seed: u64, key: u64, bucket: i64) -> f64 {
    let mut rng = Pcg32::seed_from_u64(mix(seed ^ mix(key ^ mix(bucket as u64))));
    // Box-Muller; 1 - u keeps the logarithm's argument in (0, 1].
    let u1: f64 = 1.0 - rng.random::<f64>();
    let u2: f64 = rng.random::<f64>();
    let z = (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos();
    // Clip the rare far tail: a 5-sigma blip would read as an incident nobody scripted.
    z.clamp(-SIGMA_CLIP, SIGMA_CLIP)
}

/// How one metric moves: its level at rest and at the peak, noise, and its slow drift.
#[derive(Debug, Clone, PartialEq)]
pub struct Profile {
    pub base: f64,
    pub peak: f64,
    pub noise: f64,
    /// Counts (Sum of a count) are whole numbers.
    pub integer: bool,
    /// Seconds this metric trails the traffic curve by.
    pub lag: f64,
    /// Amplitude of the slow drift, as a share of the level (`DRIFT` unless a narrow band
    /// between thresholds needs less).
    pub drift: f64,
    drift_period: f64,
    drift_phase: f64,
    /// A calibrated daily pattern: T-0 (Unix seconds) and each UTC hour's factor on `base`.
    pub daily: Option<(i64, Vec<f64>)>,
}

/// Latency trails traffic: queues fill and autoscaling reacts before a percentile over a
/// period shows it. Half a minute puts the demo's p99 warning about a minute after T-0.
pub const LATENCY_LAG_SECS: f64 = 30.0;

impl Profile {
    pub fn new(base: f64, peak: f64, noise: f64, integer: bool, key: u64, seed: u64) -> Self {
        let h = mix(seed ^ key);
        Profile {
            base,
            peak,
            noise: if noise.is_finite() {
                noise.clamp(0.0, 1.0)
            } else {
                0.0
            },
            integer,
            lag: 0.0,
            drift: DRIFT,
            // 20 to 40 minutes, and a phase of its own, so metrics do not breathe in step.
            drift_period: 1200.0 + (h % 1200) as f64,
            drift_phase: ((h >> 16) % 10_000) as f64 / 10_000.0 * std::f64::consts::TAU,
            daily: None,
        }
    }

    /// The profile of a runbook metric on its own: its `sim:` hints, or healthy levels inferred
    /// from its thresholds (without the relations to other metrics that `infer` adds).
    #[cfg(test)]
    pub fn for_metric(m: &Metric, seed: u64) -> Self {
        Profile::from_shape(&super::infer::own_shape(m, 0), hash_str(&m.id), seed)
    }

    /// The profile of a shape; `key` (a metric id's hash) seeds its drift.
    pub fn from_shape(s: &Shape, key: u64, seed: u64) -> Self {
        let mut p = Profile::new(s.base, s.peak, s.noise, s.integer, key, seed);
        p.lag = s.lag;
        p.drift = s.drift;
        p
    }

    /// The value `x` seconds from T-0 with the noise draw `z`; None if it is not a finite number.
    pub fn value(&self, x: f64, z: f64) -> Option<f64> {
        // A calibrated metric rests at its own hour's level; the launch adds to it.
        let rest = match &self.daily {
            Some((t0, factors)) if x.is_finite() => {
                let hour = (t0 + x as i64).rem_euclid(86_400) / 3_600;
                self.base * factors.get(hour as usize).copied().unwrap_or(1.0)
            }
            _ => self.base,
        };
        let level = rest + (self.peak - self.base) * traffic(x - self.lag);
        let drift =
            self.drift * (std::f64::consts::TAU * x / self.drift_period + self.drift_phase).sin();
        let mut v = level * (1.0 + drift + self.noise * z);
        if !v.is_finite() {
            return None;
        }
        v = v.max(0.0);
        if self.integer {
            v = v.round();
        }
        v.is_finite().then_some(v)
    }
}

/// Counts (a Sum or SampleCount, or unit Count) are whole numbers.
pub fn is_integer(m: &Metric) -> bool {
    let stat = m.stat.as_deref().unwrap_or("").to_ascii_lowercase();
    let unit = m.unit.as_deref().unwrap_or("").to_ascii_lowercase();
    matches!(stat.as_str(), "sum" | "samplecount") && !unit.contains('%') || unit == "count"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn traffic_shape() {
        assert!(traffic(-7200.0) < 0.01, "quiet long before");
        assert!(
            (traffic(-120.0) - BUZZ_SHARE).abs() < 1e-9,
            "buzz just before the ramp"
        );
        assert!((traffic(0.0) - 0.54).abs() < 0.01);
        assert!((traffic(120.0) - 1.0).abs() < 1e-9, "peak at T+2m");
        assert!(
            (traffic(4.0 * 3600.0) - PLATEAU).abs() < 1e-9,
            "plateau later"
        );
        // Rises monotonically through the ramp, falls monotonically after it.
        let mut prev = traffic(-3600.0);
        for x in (-3590..=120).step_by(10) {
            let t = traffic(x as f64);
            assert!(t >= prev, "not rising at {x}");
            prev = t;
        }
        for x in (130..=3000).step_by(10) {
            let t = traffic(x as f64);
            assert!(t <= prev, "not falling at {x}");
            prev = t;
        }
        assert_eq!(traffic(f64::NAN), 0.0);
    }

    #[test]
    fn noise_is_a_pure_function_of_its_inputs() {
        let a = gaussian(42, hash_str("p99"), 1000);
        assert_eq!(a, gaussian(42, hash_str("p99"), 1000));
        assert_ne!(a, gaussian(43, hash_str("p99"), 1000));
        assert_ne!(a, gaussian(42, hash_str("p98"), 1000));
        assert_ne!(a, gaussian(42, hash_str("p99"), 1001));
        // Roughly standard normal over many buckets.
        let n = 4000;
        let draws: Vec<f64> = (0..n).map(|b| gaussian(7, 1, b)).collect();
        let mean = draws.iter().sum::<f64>() / n as f64;
        let var = draws.iter().map(|d| (d - mean).powi(2)).sum::<f64>() / n as f64;
        assert!(mean.abs() < 0.1, "mean {mean}");
        assert!((var - 1.0).abs() < 0.15, "variance {var}");
    }

    #[test]
    fn latency_lags_traffic() {
        let m = |stat: &str, metric: &str| -> Metric {
            serde_yaml::from_str(&format!(
                "{{id: x, namespace: N, metric: {metric}, stat: {stat}, sim: {{base: 1, peak: 2, noise: 0}}}}"
            ))
            .unwrap()
        };
        assert_eq!(
            Profile::for_metric(&m("p99", "TargetResponseTime"), 1).lag,
            30.0
        );
        assert_eq!(Profile::for_metric(&m("tm99", "Foo"), 1).lag, 30.0);
        assert_eq!(
            Profile::for_metric(&m("Average", "SuccessfulRequestLatency"), 1).lag,
            30.0
        );
        assert_eq!(Profile::for_metric(&m("Sum", "RequestCount"), 1).lag, 0.0);
        assert_eq!(Profile::for_metric(&m("Sum", "Errors"), 1).lag, 0.0);
        let lagged = Profile::for_metric(&m("p99", "X"), 1);
        let mut now = lagged.clone();
        now.lag = 0.0;
        assert_eq!(
            lagged
                .value(60.0, 0.0)
                .map(|v| v - now.value(30.0, 0.0).unwrap())
                .map(f64::abs)
                .map(|d| d < 0.1),
            Some(true)
        );
    }

    #[test]
    fn values_are_finite_and_non_negative() {
        let p = Profile::new(-50.0, 1e308, 1.0, false, 1, 1);
        for x in [-1e12, -3600.0, 0.0, 60.0, 1e12, f64::NAN] {
            if let Some(v) = p.value(x, 3.0) {
                assert!(v.is_finite() && v >= 0.0, "{x}: {v}");
            }
        }
        assert_eq!(
            Profile::new(f64::NAN, 1.0, 0.0, false, 1, 1).value(0.0, 0.0),
            None
        );
        let counts = Profile::new(0.0, 40.0, 0.1, true, 9, 9);
        let v = counts.value(120.0, 0.7).unwrap();
        assert_eq!(v, v.round());
    }
}
