//! CloudWatch metrics through GetMetricData: every query that is due goes out in as few calls
//! as the API allows, each query is refreshed at its own period, and after the first load only
//! the new window (from the last settled bucket, and a few minutes for data that lands late)
//! is fetched. Windows start on the queries' period grid; everything from the first bucket
//! that is not settled (`crate::signal`) on is sent to the app as provisional.

use std::collections::HashMap;
use std::sync::Arc;

use aws_sdk_cloudwatch::types::{
    Dimension, Metric, MetricDataQuery, MetricStat, ScanBy, StatusCode,
};
use chrono::{DateTime, Duration, Utc};
use tokio::sync::mpsc::{Receiver, Sender};

use super::plan::{self, Group, QueryKind, Target, UsageMetric};
use super::{Aws, backoff, errors, from_aws_time, to_aws_time};
use crate::clock::Clock;
use crate::runbook::Runbook;
use crate::signal;
use crate::source::{BoxFuture, Sample, Source, Update};

pub const SOURCE: &str = "cloudwatch";
/// History loaded when the war room opens: enough for the sparklines and the zoom chart.
const FIRST_WINDOW: Duration = Duration::hours(2);
/// CloudWatch data lands minutes late: each refresh re-reads this much before the last one.
const LATE_DATA: Duration = Duration::minutes(5);
/// Never refresh faster than this, whatever the period says.
const MIN_REFRESH_SECS: i64 = 10;

#[derive(Debug, Clone, Default)]
struct GroupState {
    next_due: Option<DateTime<Utc>>,
    fetched_to: Option<DateTime<Utc>>,
    /// The earliest settled boundary of the group's queries at the last fetch: the next
    /// window starts no later, so every provisional point is fetched again, settled.
    settled_to: Option<DateTime<Utc>>,
    failures: u32,
}

pub struct CloudWatchSource {
    aws: Aws,
    runbook: Runbook,
    /// T-0 of this session (`--t0` may move it): polling follows it (`signal::poll_every`).
    t0: DateTime<Utc>,
    clock: Arc<dyn Clock>,
    /// Quota usage metrics found by the quotas source, to batch with the metrics.
    usage_rx: Option<Receiver<Vec<UsageMetric>>>,
}

impl CloudWatchSource {
    pub fn new(
        aws: Aws,
        runbook: Runbook,
        t0: DateTime<Utc>,
        clock: Arc<dyn Clock>,
        usage_rx: Option<Receiver<Vec<UsageMetric>>>,
    ) -> Self {
        Self {
            aws,
            runbook,
            t0,
            clock,
            usage_rx,
        }
    }
}

impl Source for CloudWatchSource {
    fn name(&self) -> &str {
        SOURCE
    }

    fn run(self: Box<Self>, tx: Sender<Update>) -> BoxFuture {
        Box::pin(async move { self.run_loop(tx).await })
    }
}

/// One GetMetricData call's worth of results.
#[derive(Debug, Default)]
pub struct Fetched {
    pub series: HashMap<String, Vec<Sample>>,
    /// Per query id: a status other than Complete on the last page that mentioned it.
    pub partial: HashMap<String, String>,
    /// Response-level messages: they apply to every query of the call.
    pub messages: Vec<String>,
    pub calls: u64,
    pub metrics_requested: u64,
}

impl CloudWatchSource {
    async fn run_loop(mut self, tx: Sender<Update>) {
        let mut usage: Vec<UsageMetric> = Vec::new();
        let mut groups = plan::groups(&self.runbook, &usage);
        let mut state: Vec<GroupState> = vec![GroupState::default(); groups.len()];
        loop {
            if tx.is_closed() {
                return;
            }
            let now = self.clock.now();
            let due: Vec<usize> = (0..groups.len())
                .filter(|&i| state[i].next_due.is_none_or(|d| d <= now))
                .collect();
            if !due.is_empty() {
                self.refresh(&groups, &mut state, &due, now, &tx).await;
            }
            let next = state
                .iter()
                .filter_map(|s| s.next_due)
                .min()
                .unwrap_or(now + Duration::seconds(60));
            let wait = (next - self.clock.now())
                .to_std()
                .unwrap_or_default()
                .max(std::time::Duration::from_millis(200));
            let new_usage = match self.usage_rx.as_mut() {
                Some(rx) => tokio::select! {
                    u = rx.recv() => {
                        if u.is_none() {
                            // The quotas source is done (no quotas): stop listening, or
                            // this select would return at once forever.
                            self.usage_rx = None;
                        }
                        u
                    }
                    () = tokio::time::sleep(wait) => None,
                },
                None => {
                    tokio::time::sleep(wait).await;
                    None
                }
            };
            if let Some(u) = new_usage {
                usage = u;
                let old: HashMap<String, GroupState> = groups
                    .iter()
                    .zip(&state)
                    .map(|(g, s)| (g.queries[0].id.clone(), s.clone()))
                    .collect();
                groups = plan::groups(&self.runbook, &usage);
                state = groups
                    .iter()
                    .map(|g| old.get(&g.queries[0].id).cloned().unwrap_or_default())
                    .collect();
            }
        }
    }

    async fn refresh(
        &mut self,
        groups: &[Group],
        state: &mut [GroupState],
        due: &[usize],
        now: DateTime<Utc>,
        tx: &Sender<Update>,
    ) {
        // One round of calls per region.
        let mut by_region: HashMap<Option<String>, Vec<usize>> = HashMap::new();
        for &i in due {
            by_region
                .entry(groups[i].region.clone())
                .or_default()
                .push(i);
        }
        for (region, members) in by_region {
            let refs: Vec<&Group> = members.iter().map(|&i| &groups[i]).collect();
            let client = self.aws.cloudwatch(region.as_deref()).await;
            for call in plan::pack(&refs) {
                let idx: Vec<usize> = call
                    .iter()
                    .filter_map(|g| groups.iter().position(|x| std::ptr::eq(x, *g)))
                    .collect();
                let start = window_start(
                    idx.iter()
                        .map(|&i| (state[i].fetched_to, state[i].settled_to)),
                    call.iter().flat_map(|g| g.queries.iter().map(|q| q.period)),
                    now,
                );
                let result = fetch(&client, &call, start, now).await;
                let mut updates = Vec::new();
                match result {
                    Ok(f) => {
                        updates.push(Update::Usage {
                            source: SOURCE.into(),
                            calls: f.calls,
                            metrics: f.metrics_requested,
                            at: now,
                        });
                        updates.extend(to_updates(&call, &f, now));
                        updates.push(Update::Health {
                            source: SOURCE.into(),
                            error: None,
                            at: now,
                        });
                        for &i in &idx {
                            let g = &groups[i];
                            let s = &mut state[i];
                            s.failures = 0;
                            s.fetched_to = Some(now);
                            s.settled_to = g
                                .queries
                                .iter()
                                .map(|q| signal::settled_to(now, q.period, q.settle_secs))
                                .min();
                            // Each metric's own period near T-0, slower far from it.
                            let every = signal::poll_every(
                                &self.runbook,
                                (now - self.t0).num_seconds(),
                                g.period,
                            );
                            s.next_due = Some(next_refresh(
                                now,
                                u32::try_from(every).unwrap_or(g.period),
                                g.settle_secs(),
                            ));
                        }
                    }
                    Err(e) => {
                        let profile = self.aws.settings().profile.clone();
                        updates.push(Update::Health {
                            source: SOURCE.into(),
                            error: Some(errors::explain_text(&e, profile.as_deref())),
                            at: now,
                        });
                        for &i in &idx {
                            let s = &mut state[i];
                            s.failures += 1;
                            let wait = backoff(s.failures - 1);
                            s.next_due = Some(now + Duration::from_std(wait).unwrap_or_default());
                        }
                    }
                }
                for u in updates {
                    if tx.send(u).await.is_err() {
                        return;
                    }
                }
            }
        }
    }
}

/// Where a call's window starts: two hours back on the first load; afterwards no later than
/// each group's last settled boundary (so every provisional point is fetched again, settled)
/// and a few minutes back for late data. CloudWatch rounds StartTime to the minute only, so it
/// is aligned down to a grid every period of the call divides: each query's buckets then fall
/// on its own period's grid, the same on every refresh.
pub fn window_start(
    groups: impl Iterator<Item = (Option<DateTime<Utc>>, Option<DateTime<Utc>>)>,
    periods: impl Iterator<Item = u32>,
    now: DateTime<Utc>,
) -> DateTime<Utc> {
    let start = groups
        .map(|(fetched_to, settled_to)| match (fetched_to, settled_to) {
            (Some(f), Some(s)) => s.min(f - LATE_DATA),
            (Some(f), None) => f - LATE_DATA,
            (None, _) => now - FIRST_WINDOW,
        })
        .min()
        .unwrap_or(now - FIRST_WINDOW);
    signal::align_down(start, signal::common_grid(periods))
}

/// The next refresh of a group: the next instant a bucket of its period settles (a multiple
/// of the period plus the settle delay, on the wall clock), so a settled bucket is judged as
/// soon as it can be, and every group with the same period and delay comes due at the same
/// instant and shares the calls, whenever it was first fetched.
pub fn next_refresh(now: DateTime<Utc>, period: u32, settle_secs: i64) -> DateTime<Utc> {
    let every = i64::from(period).max(MIN_REFRESH_SECS);
    let offset = settle_secs.rem_euclid(every);
    let t = now.timestamp() - offset;
    DateTime::from_timestamp(t - t.rem_euclid(every) + every + offset, 0).unwrap_or(now)
}

pub fn to_query(q: &plan::Query) -> MetricDataQuery {
    let mut b = MetricDataQuery::builder()
        .id(&q.id)
        .return_data(q.return_data);
    match &q.kind {
        QueryKind::Stat {
            namespace,
            metric,
            dimensions,
            stat,
        } => {
            let mut m = Metric::builder().namespace(namespace).metric_name(metric);
            for (k, v) in dimensions {
                m = m.dimensions(Dimension::builder().name(k).value(v).build());
            }
            b = b.metric_stat(
                MetricStat::builder()
                    .metric(m.build())
                    .period(q.period as i32)
                    .stat(stat)
                    .build(),
            );
        }
        QueryKind::Expression(e) => {
            b = b.expression(e).period(q.period as i32);
        }
    }
    b.build()
}

/// One refresh's GetMetricData call, following NextToken to the end. Errors come back as one
/// explained line.
pub async fn fetch(
    client: &aws_sdk_cloudwatch::Client,
    groups: &[&Group],
    start: DateTime<Utc>,
    end: DateTime<Utc>,
) -> Result<Fetched, String> {
    let queries: Vec<MetricDataQuery> = groups
        .iter()
        .flat_map(|g| g.queries.iter().map(to_query))
        .collect();
    let metric_queries = groups
        .iter()
        .flat_map(|g| &g.queries)
        .filter(|q| q.is_metric())
        .count() as u64;
    let wanted: std::collections::HashSet<&str> = groups
        .iter()
        .flat_map(|g| g.queries.iter().map(|q| q.id.as_str()))
        .collect();
    let mut out = Fetched::default();
    let mut token: Option<String> = None;
    // A bounded number of pages: a runaway token loop must not hang the source.
    for _ in 0..100 {
        let call = client
            .get_metric_data()
            .set_metric_data_queries(Some(queries.clone()))
            .start_time(to_aws_time(start))
            .end_time(to_aws_time(end))
            .scan_by(ScanBy::TimestampAscending)
            .set_next_token(token.clone());
        let resp = match super::budget::call(call.send()).await {
            Err(_) => return Err("GetMetricData timed out".into()),
            Ok(Err(e)) => return Err(errors::describe(&e)),
            Ok(Ok(r)) => r,
        };
        out.calls += 1;
        out.metrics_requested += metric_queries;
        for m in resp.messages() {
            let text = match (m.code(), m.value()) {
                (Some(c), Some(v)) => format!("{c}: {v}"),
                (c, v) => c.or(v).unwrap_or("").to_string(),
            };
            if !text.is_empty() && !out.messages.contains(&text) {
                out.messages.push(text);
            }
        }
        for r in resp.metric_data_results() {
            // Results for ids the call did not ask for are not CloudWatch's: not kept.
            let Some(id) = r.id().filter(|id| wanted.contains(id)) else {
                continue;
            };
            let points = out.series.entry(id.to_string()).or_default();
            for (t, v) in r.timestamps().iter().zip(r.values()) {
                if let Some(at) = from_aws_time(t) {
                    points.push(Sample { at, value: *v });
                }
            }
            if points.len() > 2 * MAX_POINTS_PER_SERIES {
                keep_newest(points, MAX_POINTS_PER_SERIES);
            }
            match r.status_code() {
                // PartialData means "ask again with NextToken": once a later page completes
                // the series, the note no longer applies.
                Some(StatusCode::Complete) | None => {
                    out.partial.remove(id);
                }
                Some(code) => {
                    let msgs: Vec<String> = r
                        .messages()
                        .iter()
                        .filter_map(|m| m.value().map(str::to_string))
                        .collect();
                    let note = if msgs.is_empty() {
                        code.as_str().to_string()
                    } else {
                        format!("{}: {}", code.as_str(), msgs.join("; "))
                    };
                    out.partial.insert(id.to_string(), note);
                }
            }
        }
        token = resp.next_token().map(str::to_string);
        if token.is_none() {
            break;
        }
    }
    for points in out.series.values_mut() {
        keep_newest(points, MAX_POINTS_PER_SERIES);
    }
    Ok(out)
}

/// The most datapoints one fetch keeps per query, the newest: four times what the app holds
/// per metric (720), so a fetch's memory is bounded however many pages an endpoint sends.
pub const MAX_POINTS_PER_SERIES: usize = 2_880;

/// The newest `max` points, oldest first, one per timestamp.
fn keep_newest(points: &mut Vec<Sample>, max: usize) {
    if points.len() <= max {
        return;
    }
    points.sort_by_key(|p| p.at);
    points.dedup_by_key(|p| p.at);
    let extra = points.len().saturating_sub(max);
    points.drain(..extra);
}

/// What the app hears from one call's results: each metric's points with the boundary from
/// which they are provisional, and each quota's usage from its newest settled point.
pub fn to_updates(groups: &[&Group], f: &Fetched, now: DateTime<Utc>) -> Vec<Update> {
    let mut out = Vec::new();
    for q in groups.iter().flat_map(|g| &g.queries) {
        let mut points = f.series.get(&q.id).cloned().unwrap_or_default();
        // Pages may interleave; the app wants oldest first, one point per timestamp.
        points.sort_by_key(|p| p.at);
        points.dedup_by_key(|p| p.at);
        let settled_to = signal::settled_to(now, q.period, q.settle_secs);
        for t in &q.targets {
            match t {
                Target::Metric(i) => {
                    out.push(Update::Samples {
                        metric: *i,
                        points: points.clone(),
                        settled_to: Some(settled_to),
                    });
                    let mut notes: Vec<String> =
                        f.partial.get(&q.id).cloned().into_iter().collect();
                    notes.extend(f.messages.iter().cloned());
                    out.push(Update::MetricNote {
                        metric: *i,
                        note: (!notes.is_empty()).then(|| notes.join("; ")),
                    });
                }
                Target::QuotaUsage(quota) => {
                    if let Some(last) = points.iter().rev().find(|p| p.at < settled_to) {
                        out.push(Update::Quota {
                            quota: *quota,
                            value: None,
                            usage: Some(last.value * q.usage_scale),
                            at: last.at,
                        });
                    }
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_fetch_keeps_the_newest_points_of_each_series() {
        const { assert!(MAX_POINTS_PER_SERIES >= 4 * crate::app::state::SERIES_CAPACITY) };
        let at = |s: i64| DateTime::from_timestamp(1_800_000_000 + s, 0).unwrap();
        let mut points: Vec<Sample> = (0..10)
            .rev()
            .map(|s| Sample {
                at: at(s),
                value: s as f64,
            })
            .collect();
        points.push(Sample {
            at: at(9),
            value: 9.0,
        });
        keep_newest(&mut points, 3);
        let got: Vec<f64> = points.iter().map(|p| p.value).collect();
        assert_eq!(got, [7.0, 8.0, 9.0]);
    }

    use super::*;

    #[test]
    fn groups_with_one_period_come_due_together() {
        let at = |s: i64| DateTime::from_timestamp(1_800_000_000 + s, 0).unwrap();
        // 1_800_000_000 is a multiple of 60 and 300.
        assert_eq!(next_refresh(at(1), 60, 60), at(60));
        assert_eq!(next_refresh(at(59), 60, 60), at(60));
        assert_eq!(next_refresh(at(60), 60, 60), at(120));
        assert_eq!(next_refresh(at(3), 1, 0), at(10), "never faster than 10 s");
        assert_eq!(
            next_refresh(at(61), 300, 60),
            at(360),
            "when [0, 300) settles"
        );
        // High resolution: bucket [0, 10) settles 15 s after it ends, at 25.
        assert_eq!(next_refresh(at(16), 10, 15), at(25));
        assert_eq!(next_refresh(at(25), 10, 15), at(35));
    }

    #[test]
    fn windows_start_on_the_period_grid_and_before_the_settled_boundary() {
        let at = |s: i64| DateTime::from_timestamp(1_800_000_000 + s, 0).unwrap();
        // First load: two hours back, on the grid of a 5-minute period (not just the minute).
        let first = window_start([(None, None)].into_iter(), [300].into_iter(), at(7_383));
        assert_eq!(
            first,
            at(0),
            "7,383 s less two hours is 183 s: down to 0 on a 300 s grid"
        );
        assert_eq!(first.timestamp() % 300, 0);
        // Later: from the settled boundary when it is older than five minutes back.
        let later = window_start(
            [(Some(at(3_000)), Some(at(2_400)))].into_iter(),
            [60, 300].into_iter(),
            at(3_060),
        );
        assert_eq!(later, at(2_400));
        let recent = window_start(
            [(Some(at(3_000)), Some(at(2_940)))].into_iter(),
            [60].into_iter(),
            at(3_060),
        );
        assert_eq!(recent, at(2_700), "five minutes before the last fetch");
    }

    #[test]
    fn results_become_samples_notes_and_quota_usage() {
        let rb: Runbook = serde_yaml::from_str(
            "event: { name: t, starts_at: 2026-12-01T17:00:00Z }\nmetrics:\n  - { id: a, namespace: N, metric: M, stat: Sum }\nquotas:\n  - { service: lambda, code: L-B99A9384 }\n",
        )
        .unwrap();
        let usage = [UsageMetric {
            quota: 0,
            namespace: "AWS/Usage".into(),
            metric: "ResourceCount".into(),
            dimensions: Default::default(),
            stat: "Maximum".into(),
            scale: 1.0,
        }];
        let gs = plan::groups(&rb, &usage);
        let refs: Vec<&Group> = gs.iter().collect();
        let at = |s: i64| DateTime::from_timestamp(1_800_000_000 + s, 0).unwrap();
        let mut f = Fetched::default();
        f.series.insert(
            "a".into(),
            vec![
                Sample {
                    at: at(120),
                    value: 3.0,
                },
                Sample {
                    at: at(60),
                    value: 2.0,
                },
                Sample {
                    at: at(120),
                    value: 3.0,
                },
            ],
        );
        f.series.insert(
            "quota__0".into(),
            vec![
                Sample {
                    at: at(60),
                    value: 710.0,
                },
                // The bucket still filling (or not yet past its settle delay): not usage.
                Sample {
                    at: at(120),
                    value: 350.0,
                },
            ],
        );
        f.partial
            .insert("a".into(), "PartialData: more data".into());
        f.messages.push("MaxMetricsExceeded: too many".into());
        // At 200 with a 60 s period and a 60 s settle delay, [60, 120) is the newest settled
        // bucket.
        let ups = to_updates(&refs, &f, at(200));
        assert_eq!(
            ups[0],
            Update::Samples {
                metric: 0,
                points: vec![
                    Sample {
                        at: at(60),
                        value: 2.0
                    },
                    Sample {
                        at: at(120),
                        value: 3.0
                    }
                ],
                settled_to: Some(at(120)),
            }
        );
        assert_eq!(
            ups[1],
            Update::MetricNote {
                metric: 0,
                note: Some("PartialData: more data; MaxMetricsExceeded: too many".into())
            }
        );
        assert_eq!(
            ups[2],
            Update::Quota {
                quota: 0,
                value: None,
                usage: Some(710.0),
                at: at(60)
            }
        );
    }

    #[test]
    fn queries_carry_stat_dimensions_and_expressions() {
        let q = plan::Query {
            id: "p99".into(),
            kind: QueryKind::Stat {
                namespace: "AWS/ApplicationELB".into(),
                metric: "TargetResponseTime".into(),
                dimensions: [("LoadBalancer".to_string(), "app/web/1".to_string())].into(),
                stat: "p99".into(),
            },
            period: 60,
            return_data: true,
            usage_scale: 1.0,
            settle_secs: 60,
            targets: vec![],
        };
        let m = to_query(&q);
        assert_eq!(m.id(), Some("p99"));
        let stat = m.metric_stat().unwrap();
        assert_eq!(stat.stat(), Some("p99"));
        assert_eq!(stat.period(), Some(60));
        assert_eq!(
            stat.metric().unwrap().dimensions()[0].value(),
            Some("app/web/1")
        );
        let e = to_query(&plan::Query {
            id: "pct".into(),
            kind: QueryKind::Expression("100 * a / b".into()),
            period: 60,
            return_data: false,
            usage_scale: 1.0,
            settle_secs: 60,
            targets: vec![],
        });
        assert_eq!(e.expression(), Some("100 * a / b"));
        assert_eq!(e.return_data(), Some(false));
    }
}
