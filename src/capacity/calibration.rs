//! A game day on your own traffic: each metric's recent history summarised as the simulator
//! needs it (its level, its daily pattern hour by hour, its noise) and its level at the
//! event's forecast peak. `tminus rehearse --calibrate` reads the history live and saves this
//! next to the runbook; `--calibration FILE` plays it again offline. A calibration file is
//! data: read within bounds, every number checked, never a command.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use chrono::{DateTime, Timelike, Utc};
use serde::{Deserialize, Serialize};

use crate::runbook::Runbook;

pub const FORMAT_VERSION: u32 = 1;
/// A calibration is a few numbers per metric: a megabyte is thousands of metrics.
pub const MAX_BYTES: u64 = 1024 * 1024;

/// One metric's traffic, as the simulator plays it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MetricShape {
    /// The history's mean.
    pub base: f64,
    /// Its level at the forecast peak (history peak times the forecast for what grows with
    /// traffic, the history's peak for the rest).
    pub peak: f64,
    /// Relative noise around the daily pattern (0.05 = 5 %).
    pub noise: f64,
    /// Each UTC hour's mean against `base` (24 values, 1 = the mean): the daily pattern.
    pub daily: Vec<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Calibration {
    pub tminus_calibration: u32,
    pub event_name: String,
    pub made_at: DateTime<Utc>,
    pub forecast: f64,
    pub history_from: DateTime<Utc>,
    pub history_to: DateTime<Utc>,
    /// By metric id.
    pub metrics: BTreeMap<String, MetricShape>,
}

/// Where a runbook's calibration is kept: `runbooks/launch.yaml` ->
/// `runbooks/launch.calibration.json`.
pub fn beside(runbook: &Path) -> PathBuf {
    runbook.with_extension("calibration.json")
}

/// The shape of one series (time, value) at the given forecast peak; None when it has too
/// few finite points to say anything (under a day of hourly coverage).
pub fn shape(points: &[(DateTime<Utc>, f64)], peak: f64) -> Option<MetricShape> {
    let finite: Vec<(DateTime<Utc>, f64)> = points
        .iter()
        .copied()
        .filter(|(_, v)| v.is_finite())
        .collect();
    if finite.len() < 24 {
        return None;
    }
    let mean = finite.iter().map(|p| p.1).sum::<f64>() / finite.len() as f64;
    let mut sums = [0.0f64; 24];
    let mut counts = [0usize; 24];
    for (at, v) in &finite {
        let h = at.hour() as usize;
        sums[h] += v;
        counts[h] += 1;
    }
    let daily: Vec<f64> = (0..24)
        .map(|h| {
            if counts[h] == 0 || mean <= 0.0 {
                1.0
            } else {
                (sums[h] / counts[h] as f64 / mean).clamp(0.0, 100.0)
            }
        })
        .collect();
    // Noise: the spread around the hour's mean, relative to it.
    let spread: Vec<f64> = finite
        .iter()
        .filter_map(|(at, v)| {
            let expected = mean * daily[at.hour() as usize];
            (expected > 0.0).then(|| (v - expected) / expected)
        })
        .collect();
    let noise = if spread.is_empty() {
        0.0
    } else {
        (spread.iter().map(|d| d * d).sum::<f64>() / spread.len() as f64)
            .sqrt()
            .clamp(0.0, 0.5)
    };
    Some(MetricShape {
        base: mean.max(0.0),
        peak: peak.max(0.0),
        noise,
        daily,
    })
}

/// The calibration for `rb` from live history: every raw metric with enough points, at its
/// own forecast (or the event's) when it grows with traffic, at its history's high otherwise.
pub fn calibrate(
    rb: &Runbook,
    readings: &super::Readings,
    settings: &super::Settings,
    now: DateTime<Utc>,
) -> Calibration {
    let mut metrics = BTreeMap::new();
    for (i, m) in rb.metrics.iter().enumerate() {
        if m.expression.is_some() {
            continue;
        }
        let Some(points) = readings.metric_series.get(&i) else {
            continue;
        };
        let high = points
            .iter()
            .map(|p| p.1)
            .filter(|v| v.is_finite())
            .fold(f64::NEG_INFINITY, f64::max);
        if !high.is_finite() {
            continue;
        }
        let forecast = match m.forecast {
            Some(f) => f.0,
            None if super::grows_with_traffic(m).is_ok() => settings.forecast,
            None => 1.0,
        };
        if let Some(s) = shape(points, high * forecast) {
            metrics.insert(m.id.clone(), s);
        }
    }
    Calibration {
        tminus_calibration: FORMAT_VERSION,
        event_name: rb.event.name.clone(),
        made_at: now,
        forecast: settings.forecast,
        history_from: readings.from.unwrap_or(now),
        history_to: readings.to.unwrap_or(now),
        metrics,
    }
}

impl MetricShape {
    /// The daily factor at `at` (UTC hour).
    pub fn factor(&self, at: DateTime<Utc>) -> f64 {
        self.daily
            .get(at.hour() as usize)
            .copied()
            .filter(|f| f.is_finite() && *f >= 0.0)
            .unwrap_or(1.0)
    }
}

impl Calibration {
    /// Reads a calibration file: a regular file of at most `MAX_BYTES`, of this format, for
    /// this runbook's event, every number finite and in range. Errors name the file.
    pub fn load(path: &Path, rb: &Runbook) -> Result<Calibration> {
        let text = crate::limits::read_text(path, MAX_BYTES as usize)
            .with_context(|| format!("reading the calibration {}", path.display()))?;
        let cal: Calibration = serde_json::from_str(&text).map_err(|e| {
            anyhow::anyhow!(
                "{}:{}:{}: not a tminus calibration: {e}",
                path.display(),
                e.line(),
                e.column()
            )
        })?;
        if cal.tminus_calibration > FORMAT_VERSION {
            bail!(
                "{} is calibration format {}; this tminus reads up to {FORMAT_VERSION}",
                path.display(),
                cal.tminus_calibration
            );
        }
        if cal.event_name != rb.event.name {
            bail!(
                "{} calibrates {:?}, not {:?}: run `tminus rehearse {} --calibrate` again",
                path.display(),
                cal.event_name,
                rb.event.name,
                path.display()
            );
        }
        for (id, m) in &cal.metrics {
            let ok = [m.base, m.peak, m.noise]
                .iter()
                .all(|v| v.is_finite() && *v >= 0.0)
                && m.noise <= 1.0
                && m.daily.len() == 24
                && m.daily
                    .iter()
                    .all(|f| f.is_finite() && (0.0..=100.0).contains(f));
            if !ok {
                bail!(
                    "{}: metric {id:?} has numbers out of range (base, peak, noise 0-1, 24 daily factors 0-100)",
                    path.display()
                );
            }
            if !rb.metrics.iter().any(|m| &m.id == id) {
                bail!(
                    "{}: metric {id:?} is not in the runbook: calibrate again",
                    path.display()
                );
            }
        }
        Ok(cal)
    }

    /// Writes it as pretty JSON, whole or not at all (a temporary file renamed over).
    pub fn save(&self, path: &Path) -> Result<()> {
        let tmp = path.with_extension("json.tmp");
        std::fs::write(&tmp, serde_json::to_string_pretty(self)? + "\n")
            .with_context(|| format!("writing {}", tmp.display()))?;
        std::fs::rename(&tmp, path).with_context(|| format!("writing {}", path.display()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration;

    fn day_night(days: i64) -> Vec<(DateTime<Utc>, f64)> {
        let start = DateTime::parse_from_rfc3339("2026-11-10T00:00:00Z")
            .unwrap()
            .to_utc();
        (0..days * 24 * 6)
            .map(|i| {
                let at = start + Duration::minutes(10 * i);
                // 300 by day (08-20 UTC), 100 by night, ±5 % alternating.
                let level = if (8..20).contains(&at.hour()) {
                    300.0
                } else {
                    100.0
                };
                (at, level * if i % 2 == 0 { 1.05 } else { 0.95 })
            })
            .collect()
    }

    #[test]
    fn the_daily_pattern_level_and_noise_come_from_the_history() {
        let s = shape(&day_night(14), 6_600.0).unwrap();
        assert!((s.base - 200.0).abs() < 1e-6, "{s:?}");
        assert!(
            (s.daily[12] - 1.5).abs() < 1e-6 && (s.daily[3] - 0.5).abs() < 1e-6,
            "{s:?}"
        );
        assert!((s.noise - 0.05).abs() < 1e-6, "{s:?}");
        assert_eq!(s.peak, 6_600.0);
        assert_eq!(shape(&day_night(14)[..10], 1.0), None, "too little to say");
    }

    #[test]
    fn a_saved_calibration_loads_and_a_bad_one_is_refused_by_name() {
        let rb = crate::runbook::parse(
            "t.yaml",
            "event: { name: Sale, starts_at: 2026-12-01T17:00:00Z }
metrics:
  - { id: req, namespace: N, metric: RequestCount, stat: Sum }
",
        )
        .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let path = beside(&dir.path().join("launch.yaml"));
        assert!(path.ends_with("launch.calibration.json"));
        let cal = Calibration {
            tminus_calibration: FORMAT_VERSION,
            event_name: "Sale".into(),
            made_at: rb.event.starts_at,
            forecast: 22.0,
            history_from: rb.event.starts_at,
            history_to: rb.event.starts_at,
            metrics: [("req".to_string(), shape(&day_night(2), 4_400.0).unwrap())].into(),
        };
        cal.save(&path).unwrap();
        assert_eq!(Calibration::load(&path, &rb).unwrap(), cal);
        for (from, to, needle) in [
            (
                "\"noise\"",
                "\"noise\": 7, \"x\"",
                "not a tminus calibration",
            ),
            ("\"Sale\"", "\"Other\"", "calibrates \"Other\""),
            ("\"req\"", "\"gone\"", "not in the runbook"),
        ] {
            let text = std::fs::read_to_string(&path)
                .unwrap()
                .replacen(from, to, 1);
            let bad = dir.path().join("bad.calibration.json");
            std::fs::write(&bad, text).unwrap();
            let err = format!("{:#}", Calibration::load(&bad, &rb).unwrap_err());
            assert!(
                err.contains("bad.calibration.json") && err.contains(needle),
                "{err}"
            );
        }
    }
}
