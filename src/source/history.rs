//! The history a capacity plan is computed from (`crate::capacity`): read live from
//! CloudWatch and Service Quotas, or played by the simulator. Used by `tminus plan` and, as a
//! source, by the war room, which marks each quota's projected peak and adds a readiness item
//! for each increase to request.

use std::collections::HashMap;

use chrono::{DateTime, Duration, Utc};

use super::aws::errors::{Then, explain_for};
use super::aws::plan::{self as queries, QueryKind, Target};
use super::aws::quotas::{ValueSource, read_all};
use super::aws::{Aws, AwsSettings, metrics};
use super::{BoxFuture, Source, Update};
use crate::capacity::history::{at_metric_period, period_for};
use crate::capacity::{MetricReading, Peak, QuotaReading, Readings, Settings};
use crate::runbook::Runbook;
use crate::runbook::model::Direction;
use crate::source::sim::HistorySeries;

/// How long AWS has, in all, to answer one plan's reads: history reads are bigger than
/// `quotas`' (two weeks of every metric), so a little longer, still bounded.
pub const AWS_BUDGET: std::time::Duration = std::time::Duration::from_secs(60);

/// The history the simulator plays for this runbook: the same traffic curve, healthy levels
/// and quota values as `tminus demo`, read from `history` before `now` at each metric's period.
pub fn simulated(rb: &Runbook, t0: DateTime<Utc>, now: DateTime<Utc>, s: &Settings) -> Readings {
    let clock = crate::clock::ManualClock::new(now);
    let sim = crate::source::sim::Simulator::new(rb, t0, 42, std::sync::Arc::new(clock));
    let from = now - Duration::seconds(s.history_secs);
    // Peaks folded as the points come: two weeks of every metric are never held at once.
    let mut metric_peaks: Vec<Option<Peak>> = vec![None; rb.metrics.len()];
    let mut quota_peaks: Vec<Option<Peak>> = vec![None; rb.quotas.len()];
    sim.visit_history(from, now, |series, i, at, value| match series {
        HistorySeries::Metric => {
            Peak::keep_worst(&mut metric_peaks[i], at, value, rb.metrics[i].direction)
        }
        HistorySeries::QuotaUsage => {
            Peak::keep_worst(&mut quota_peaks[i], at, value, Direction::Above)
        }
    });
    let quota_values = sim.quota_values();
    Readings {
        quotas: (0..rb.quotas.len())
            .map(|i| QuotaReading {
                value: quota_values[i],
                is_default: false,
                adjustable: None,
                peak: quota_peaks[i],
                error: None,
            })
            .collect(),
        metrics: metric_peaks
            .into_iter()
            .map(|peak| MetricReading { peak, error: None })
            .collect(),
        metric_series: Default::default(),
        from: Some(from),
        to: Some(now),
        period_secs: rb.metrics.iter().map(|m| m.period).min().unwrap_or(60),
    }
}

/// Reads each quota's value, and the history of quota usage and of the metrics with
/// thresholds, in buckets that fit the window (`history::period_for`).
pub async fn live(rb: &Runbook, aws: AwsSettings, now: DateTime<Utc>, s: &Settings) -> Readings {
    read(rb, aws, now, s, false).await
}

/// As `live`, reading every raw metric and keeping each one's points: what a calibration
/// (`rehearse --calibrate`) shapes the simulation from.
pub async fn live_series(
    rb: &Runbook,
    aws: AwsSettings,
    now: DateTime<Utc>,
    s: &Settings,
) -> Readings {
    read(rb, aws, now, s, true).await
}

async fn read(
    rb: &Runbook,
    aws: AwsSettings,
    now: DateTime<Utc>,
    s: &Settings,
    every_metric: bool,
) -> Readings {
    let endpoint = crate::quotas_cmd::endpoint_label(&aws);
    let then = Then::Stop {
        endpoint: &endpoint,
        within: AWS_BUDGET,
    };
    let profile = aws.profile.clone();
    let explain = |e: &str| explain_for(e, profile.as_deref(), then);
    let mut client = Aws::new(aws);
    let (_, usage_metrics, infos, failed) = read_all(&mut client, rb, now).await;
    let infos: HashMap<usize, _> = infos.into_iter().collect();
    let failed: HashMap<usize, String> = failed.iter().map(|(i, e)| (*i, explain(e))).collect();

    let slowest = rb.metrics.iter().map(|m| m.period).max().unwrap_or(60);
    let period = period_for(s.history_secs, slowest.max(60));
    let from = now - Duration::seconds(s.history_secs);
    // The same queries as the war room, every one read in history buckets.
    let mut groups = queries::groups(rb, &usage_metrics);
    for q in groups.iter_mut().flat_map(|g| g.queries.iter_mut()) {
        q.period = period;
    }
    let wanted = |t: &Target| match t {
        Target::QuotaUsage(_) => true,
        Target::Metric(i) => {
            let m = &rb.metrics[*i];
            (every_metric && m.expression.is_none())
                || m.warn.is_some()
                || m.crit.is_some()
                || rb
                    .quotas
                    .iter()
                    .any(|q| q.usage_metric.as_deref() == Some(m.id.as_str()))
        }
    };
    let needed: Vec<&queries::Group> = groups
        .iter()
        .filter(|g| g.queries.iter().flat_map(|q| &q.targets).any(wanted))
        .collect();
    let mut metric_points: HashMap<usize, Vec<(DateTime<Utc>, f64)>> = HashMap::new();
    let mut usage_points: HashMap<usize, Vec<(DateTime<Utc>, f64)>> = HashMap::new();
    let mut errors: HashMap<Option<String>, String> = HashMap::new();
    let mut by_region: HashMap<Option<String>, Vec<&queries::Group>> = HashMap::new();
    for g in needed {
        by_region.entry(g.region.clone()).or_default().push(g);
    }
    for (region, gs) in by_region {
        let cw = client.cloudwatch(region.as_deref()).await;
        for call in queries::pack(&gs) {
            let start = metrics::window_start(
                std::iter::once((Some(from), None)),
                std::iter::once(period),
                now,
            );
            match metrics::fetch(&cw, &call, start, now).await {
                Ok(f) => {
                    for q in call.iter().flat_map(|g| &g.queries) {
                        let points = f.series.get(&q.id).map(Vec::as_slice).unwrap_or_default();
                        let stat = match &q.kind {
                            QueryKind::Stat { stat, .. } => stat.as_str(),
                            QueryKind::Expression(_) => "Average",
                        };
                        for t in &q.targets {
                            match t {
                                Target::Metric(i) => {
                                    let m = &rb.metrics[*i];
                                    metric_points
                                        .entry(*i)
                                        .or_default()
                                        .extend(points.iter().map(|p| {
                                            (
                                                p.at,
                                                at_metric_period(p.value, stat, m.period, period),
                                            )
                                        }));
                                }
                                // `usage_scale` is for a 60 s bucket, as the war room reads it.
                                Target::QuotaUsage(quota) => {
                                    usage_points.entry(*quota).or_default().extend(
                                        points.iter().map(|p| {
                                            (
                                                p.at,
                                                at_metric_period(p.value, stat, 60, period)
                                                    * q.usage_scale,
                                            )
                                        }),
                                    );
                                }
                            }
                        }
                    }
                }
                Err(e) => {
                    errors.insert(region.clone(), explain(&e));
                }
            }
        }
    }
    let region_error = |r: &Option<String>| errors.get(r).or_else(|| errors.get(&None)).cloned();
    let quotas = rb
        .quotas
        .iter()
        .enumerate()
        .map(|(i, q)| {
            let info = infos.get(&i);
            let from_metric = q.usage_metric.as_deref().and_then(|id| {
                let m = rb.metrics.iter().position(|m| m.id == id)?;
                metric_points.get(&m)
            });
            let points = usage_points.get(&i).or(from_metric);
            QuotaReading {
                value: info.and_then(|i| i.value),
                is_default: info.is_some_and(|i| i.source == ValueSource::Default),
                adjustable: info.map(|i| i.adjustable),
                peak: points.and_then(|p| Peak::of(p.iter().copied(), Direction::Above)),
                error: failed.get(&i).cloned().or_else(|| {
                    points
                        .is_none()
                        .then(|| region_error(&q.region))
                        .flatten()
                        .map(|e| format!("usage: {e}"))
                }),
            }
        })
        .collect();
    let metrics = rb
        .metrics
        .iter()
        .enumerate()
        .map(|(i, m)| MetricReading {
            peak: metric_points
                .get(&i)
                .and_then(|p| Peak::of(p.iter().copied(), m.direction)),
            error: (!metric_points.contains_key(&i))
                .then(|| region_error(&m.region))
                .flatten(),
        })
        .collect();
    let metric_series = if every_metric {
        metric_points.into_iter().collect()
    } else {
        Default::default()
    };
    Readings {
        quotas,
        metrics,
        metric_series,
        from: Some(from),
        to: Some(now),
        period_secs: period,
    }
}

/// The name the plan's reads report health under.
pub const SOURCE: &str = "capacity plan";

/// Where a war room's plan reads its history.
pub enum Reader {
    Live(AwsSettings),
    Simulated,
}

/// The war room's capacity plan: read once at start (a plan does not change in an afternoon),
/// projected, and sent as `Update::Plan`. Live reads get `AWS_BUDGET` in all and run beside
/// the other sources, so the screen never waits for them; a failure becomes the plan's own
/// "could not be read" rows.
pub struct PlanSource {
    runbook: Runbook,
    t0: DateTime<Utc>,
    reader: Reader,
    clock: std::sync::Arc<dyn crate::clock::Clock>,
}

impl PlanSource {
    pub fn new(
        runbook: &Runbook,
        t0: DateTime<Utc>,
        reader: Reader,
        clock: std::sync::Arc<dyn crate::clock::Clock>,
    ) -> PlanSource {
        PlanSource {
            runbook: runbook.clone(),
            t0,
            reader,
            clock,
        }
    }
}

impl Source for PlanSource {
    fn name(&self) -> &str {
        SOURCE
    }

    fn run(self: Box<Self>, tx: tokio::sync::mpsc::Sender<Update>) -> BoxFuture {
        Box::pin(async move {
            let now = self.clock.now();
            let settings = Settings::new(&self.runbook, None, None);
            let readings = match self.reader {
                Reader::Live(aws) => {
                    super::aws::budget::with_budget(
                        AWS_BUDGET,
                        live(&self.runbook, aws, now, &settings),
                    )
                    .await
                }
                Reader::Simulated => {
                    let (rb, t0, s) = (self.runbook.clone(), self.t0, settings.clone());
                    // Two weeks of every metric: off the event loop's thread.
                    match tokio::task::spawn_blocking(move || simulated(&rb, t0, now, &s)).await {
                        Ok(r) => r,
                        Err(_) => return,
                    }
                }
            };
            let plan = crate::capacity::plan(&self.runbook, self.t0, now, &settings, &readings);
            let _ = tx.send(Update::Plan(Box::new(plan))).await;
        })
    }
}
