//! `tminus plan RUNBOOK`: the capacity review weeks before the event. Reads each quota's value
//! and the history of its usage and of every metric with thresholds (live from CloudWatch and
//! Service Quotas, or played by the simulator with `--simulate`), projects them to the
//! forecast peak (`capacity::plan`) and prints the table or JSON. Exit 0 when everything fits,
//! 1 when anything is projected critical, 2 when something could not be read.

use std::collections::HashMap;

use anyhow::{Context, Result};
use chrono::{DateTime, Duration, Utc};

use crate::capacity::history::{at_metric_period, period_for};
use crate::capacity::{MetricReading, Peak, Plan, QuotaReading, Readings, Settings, Status};
use crate::runbook::Runbook;
use crate::runbook::model::Direction;
use crate::source::aws::errors::{Then, explain_for};
use crate::source::aws::plan::{self as queries, QueryKind, Target};
use crate::source::aws::quotas::{ValueSource, read_all};
use crate::source::aws::{Aws, AwsSettings, budget, metrics};

/// How long AWS has, in all, to answer one `tminus plan`: history reads are bigger than
/// `quotas`' (two weeks of every metric), so a little longer, still bounded.
pub const AWS_BUDGET: std::time::Duration = std::time::Duration::from_secs(60);

/// What `tminus plan` was asked.
pub struct Request {
    pub t0: DateTime<Utc>,
    pub peak: Option<f64>,
    pub history_secs: Option<i64>,
    pub simulate: bool,
    pub json: bool,
}

pub fn run(rb: &Runbook, aws: AwsSettings, req: &Request) -> Result<u8> {
    let now = Utc::now();
    let settings = Settings::new(rb, req.peak, req.history_secs);
    let readings = if req.simulate {
        simulated(rb, req.t0, now, &settings)
    } else {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .context("starting the async runtime")?;
        rt.block_on(budget::with_budget(
            AWS_BUDGET,
            live(rb, aws, now, &settings),
        ))
    };
    let plan = crate::capacity::plan(rb, req.t0, now, &settings, &readings);
    if req.json {
        crate::out::print(&(crate::text::json(&serde_json::to_string_pretty(&plan)?) + "\n"))?;
    } else {
        crate::out::print(&table(&plan, req.simulate))?;
    }
    Ok(plan.exit_code())
}

/// The history the simulator plays for this runbook: the same traffic curve, healthy levels
/// and quota values as `tminus demo`, read from `history` before `now` at each metric's period.
pub fn simulated(rb: &Runbook, t0: DateTime<Utc>, now: DateTime<Utc>, s: &Settings) -> Readings {
    let clock = crate::clock::ManualClock::new(now);
    let sim = crate::source::sim::Simulator::new(rb, t0, 42, std::sync::Arc::new(clock));
    let from = now - Duration::seconds(s.history_secs);
    let h = sim.history(from, now);
    Readings {
        quotas: (0..rb.quotas.len())
            .map(|i| QuotaReading {
                value: h.quota_values[i],
                is_default: false,
                adjustable: None,
                peak: Peak::of(h.quota_usage[i].iter().copied(), Direction::Above),
                error: None,
            })
            .collect(),
        metrics: rb
            .metrics
            .iter()
            .enumerate()
            .map(|(i, m)| MetricReading {
                peak: Peak::of(h.metrics[i].iter().copied(), m.direction),
                error: None,
            })
            .collect(),
        from: Some(from),
        to: Some(now),
        period_secs: rb.metrics.iter().map(|m| m.period).min().unwrap_or(60),
    }
}

/// Reads each quota's value, and the history of quota usage and of the metrics with
/// thresholds, in buckets that fit the window (`history::period_for`).
pub async fn live(rb: &Runbook, aws: AwsSettings, now: DateTime<Utc>, s: &Settings) -> Readings {
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
            m.warn.is_some()
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
    Readings {
        quotas,
        metrics,
        from: Some(from),
        to: Some(now),
        period_secs: period,
    }
}

/// The plan as two aligned tables (quotas, then metrics) under a line saying what it assumes;
/// every cell is cleaned and measured after cleaning (titles come from the runbook, notes from
/// AWS).
pub fn table(p: &Plan, simulated: bool) -> String {
    let num = |v: Option<f64>| v.map(crate::format::value).unwrap_or_else(|| "—".into());
    let day = |t: DateTime<Utc>| t.format("%Y-%m-%d").to_string();
    let mut out = String::new();
    let history = match (p.history_from, p.history_to) {
        (Some(a), Some(b)) => format!(
            "history {} to {} in {} buckets",
            day(a),
            day(b),
            crate::time::Span(i64::from(p.period_secs))
        ),
        _ => "no history".into(),
    };
    out.push_str(&format!(
        "Capacity plan: {} · T-0 {} · peak {}x normal · {}{}\n\n",
        crate::text::clean(&p.event),
        p.t0.format("%Y-%m-%d %H:%M UTC"),
        crate::format::value(p.forecast),
        history,
        if simulated { " · SIMULATED DATA" } else { "" }
    ));
    let mut rows = vec![
        [
            "QUOTA", "TITLE", "VALUE", "PEAK", "AT PEAK", "HEADROOM", "STATUS", "REQUEST", "BY",
        ]
        .map(String::from)
        .to_vec(),
    ];
    let mut notes = Vec::new();
    for q in &p.quotas {
        let value = match (q.value, q.is_default, q.adjustable) {
            (None, ..) => "—".to_string(),
            (Some(v), d, a) => format!(
                "{}{}{}",
                crate::format::value(v),
                if d { " (default)" } else { "" },
                if a == Some(false) { " fixed" } else { "" }
            ),
        };
        let by = match q.request {
            Some(_) if q.late => format!("{} PASSED", day(q.request_by)),
            Some(_) => day(q.request_by),
            None => String::new(),
        };
        rows.push(vec![
            q.code.clone(),
            q.title.clone(),
            value,
            num(q.peak.map(|p| p.value)),
            match q.projected {
                Some(v) => format!(
                    "{} ({}x)",
                    crate::format::value(v),
                    crate::format::value(q.forecast)
                ),
                None => "—".into(),
            },
            q.projected_headroom_pct
                .map(|h| format!("{h:.0}%"))
                .unwrap_or_else(|| "—".into()),
            q.status.label().into(),
            q.request.map(crate::format::value).unwrap_or_default(),
            by,
        ]);
        if let Some(n) = &q.note {
            notes.push(format!("{}: {n}", q.code));
        }
    }
    out.push_str(&crate::text::columns(&rows));
    if !p.metrics.is_empty() {
        out.push('\n');
        let mut rows = vec![
            [
                "METRIC", "PEAK", "AT PEAK", "WARN", "CRIT", "STATUS", "NOTE",
            ]
            .map(String::from)
            .to_vec(),
        ];
        for m in &p.metrics {
            let unit = m
                .unit
                .as_deref()
                .map(|u| format!(" {u}"))
                .unwrap_or_default();
            rows.push(vec![
                m.title.clone(),
                num(m.peak.map(|p| p.value)) + &unit,
                match (m.projected, m.forecast) {
                    (Some(v), Some(f)) => {
                        format!(
                            "{}{unit} ({}x)",
                            crate::format::value(v),
                            crate::format::value(f)
                        )
                    }
                    _ => "—".into(),
                },
                num(m.warn),
                num(m.crit),
                m.status.label().into(),
                m.note.clone().unwrap_or_default(),
            ]);
        }
        out.push_str(&crate::text::columns(&rows));
    }
    if p.period_secs > 60 && !simulated {
        out.push_str(&format!(
            "\nPeaks of counts are {} averages: a burst shorter than that reads lower.\n",
            crate::time::Span(i64::from(p.period_secs))
        ));
    }
    let mut seen = std::collections::BTreeSet::new();
    for n in notes {
        if seen.insert(n.clone()) {
            out.push_str(&format!("note: {}\n", crate::text::clean(&n)));
        }
    }
    if p.quotas
        .iter()
        .any(|q| q.status == Status::Crit || q.status == Status::Warn)
    {
        out.push_str("\nREQUEST: the value to ask for keeps the projected peak out of the warning band, plus the margin.\n");
    }
    out
}
