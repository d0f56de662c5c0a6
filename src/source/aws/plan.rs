//! Which GetMetricData queries a refresh sends, worked out without touching the network:
//! identical metric queries merged, helpers only fetched when an expression needs them, and
//! queries packed into as few calls as the API allows (500 queries each) while every
//! expression travels with the queries it refers to.

use std::collections::{BTreeMap, HashMap};

use crate::runbook::Runbook;
use crate::runbook::expr::references;
use crate::time::TOffset;

/// GetMetricData takes at most this many queries per call.
pub const MAX_QUERIES_PER_CALL: usize = 500;
/// And at most this many Metrics Insights queries.
pub const MAX_INSIGHTS_PER_CALL: usize = 1;

/// What a query's results feed.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Target {
    /// A runbook metric, by index.
    Metric(usize),
    /// A runbook quota's usage, by index (from the quota's AWS/Usage metric).
    QuotaUsage(usize),
}

#[derive(Debug, Clone, PartialEq)]
pub enum QueryKind {
    Stat {
        namespace: String,
        metric: String,
        dimensions: BTreeMap<String, String>,
        stat: String,
    },
    Expression(String),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Query {
    /// The id sent to CloudWatch: the runbook's metric id, so expressions refer to it as written.
    pub id: String,
    pub kind: QueryKind,
    pub period: u32,
    /// False for helper queries only fetched because an expression uses them.
    pub return_data: bool,
    /// For `Target::QuotaUsage`: what the fetched value is multiplied by to be in the quota's
    /// unit (a per-minute Sum against a per-second rate quota: 1/60).
    pub usage_scale: f64,
    /// Seconds after a bucket ends before its datapoint is judged (`crate::signal`).
    pub settle_secs: i64,
    pub targets: Vec<Target>,
}

impl Query {
    /// Each metric query is one "metric requested" in GetMetricData pricing; expressions are not.
    pub fn is_metric(&self) -> bool {
        matches!(self.kind, QueryKind::Stat { .. })
    }
}

/// A quota's usage metric as Service Quotas describes it.
#[derive(Debug, Clone, PartialEq)]
pub struct UsageMetric {
    pub quota: usize,
    pub namespace: String,
    pub metric: String,
    pub dimensions: BTreeMap<String, String>,
    /// Sum or Maximum, as Service Quotas recommends.
    pub stat: String,
    /// Multiplies the fetched value to the quota's own rate (`quotas::usage_scale`).
    pub scale: f64,
}

/// Queries that must be sent together (an expression and everything it refers to), with the
/// region they go to and how often they are refreshed.
#[derive(Debug, Clone, PartialEq)]
pub struct Group {
    pub region: Option<String>,
    /// The longest period in the group: refreshing faster would fetch nothing new.
    pub period: u32,
    pub queries: Vec<Query>,
}

/// All query groups for a runbook plus the usage metrics Service Quotas named.
pub fn groups(runbook: &Runbook, usage: &[UsageMetric]) -> Vec<Group> {
    let metrics = &runbook.metrics;
    let index: HashMap<&str, usize> = metrics
        .iter()
        .enumerate()
        .map(|(i, m)| (m.id.as_str(), i))
        .collect();
    let refs: Vec<Vec<usize>> = metrics
        .iter()
        .map(|m| {
            m.expression
                .as_deref()
                .map(references)
                .unwrap_or_default()
                .iter()
                .filter_map(|r| index.get(r.as_str()).copied())
                .collect()
        })
        .collect();
    let referenced: Vec<bool> = (0..metrics.len())
        .map(|i| refs.iter().any(|r| r.contains(&i)))
        .collect();
    // A hidden metric that is a quota's usage (`usage_metric:`) is fetched and returned: the
    // quota's headroom comes from its points.
    let quota_usage: Vec<bool> = metrics
        .iter()
        .map(|m| {
            runbook
                .quotas
                .iter()
                .any(|q| q.usage_metric.as_deref() == Some(m.id.as_str()))
        })
        .collect();

    // Union-find over "refers to": each component is sent in one call.
    let mut parent: Vec<usize> = (0..metrics.len()).collect();
    fn find(p: &mut [usize], i: usize) -> usize {
        let mut r = i;
        while p[r] != r {
            r = p[r];
        }
        let mut j = i;
        while p[j] != r {
            let next = p[j];
            p[j] = r;
            j = next;
        }
        r
    }
    for (i, rs) in refs.iter().enumerate() {
        for &j in rs {
            let (a, b) = (find(&mut parent, i), find(&mut parent, j));
            parent[a] = b;
        }
    }

    let mut by_root: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for i in 0..metrics.len() {
        // A hidden metric nothing refers to is fetched for nobody.
        if metrics[i].hidden && !referenced[i] && !quota_usage[i] {
            continue;
        }
        let root = find(&mut parent, i);
        by_root.entry(root).or_default().push(i);
    }

    let mut out: Vec<Group> = Vec::new();
    // Plain metric queries that stand alone may be merged with an identical one.
    let mut standalone: HashMap<String, (usize, usize)> = HashMap::new();
    for members in by_root.values() {
        // Only a metric's own region is named here; `None` is the session's region, where
        // `--region` beats the runbook's `aws.region` (the same rule alarms and quotas follow).
        let region = members.iter().find_map(|&i| metrics[i].region.clone());
        let mut queries = Vec::new();
        for &i in members {
            let m = &metrics[i];
            let kind = match (&m.expression, &m.namespace, &m.metric) {
                (Some(e), _, _) => QueryKind::Expression(e.clone()),
                (None, Some(ns), Some(name)) => QueryKind::Stat {
                    namespace: ns.clone(),
                    metric: name.clone(),
                    dimensions: m.dimensions.clone(),
                    stat: m.stat.clone().unwrap_or_else(|| "Average".into()),
                },
                // Validation guarantees one or the other; skip rather than send garbage.
                _ => continue,
            };
            let return_data = !m.hidden || quota_usage[i];
            let targets = if return_data {
                vec![Target::Metric(i)]
            } else {
                vec![]
            };
            if members.len() == 1 && matches!(kind, QueryKind::Stat { .. }) {
                let key = format!("{region:?}|{kind:?}|{}", m.period);
                if let Some(&(g, q)) = standalone.get(&key) {
                    out[g].queries[q].targets.extend(targets);
                    continue;
                }
                standalone.insert(key, (out.len(), 0));
            }
            queries.push(Query {
                id: m.id.clone(),
                kind,
                period: m.period,
                return_data,
                usage_scale: 1.0,
                settle_secs: crate::signal::settle_secs(m),
                targets,
            });
        }
        if queries.is_empty() {
            continue;
        }
        let period = queries.iter().map(|q| q.period).max().unwrap_or(60);
        out.push(Group {
            region,
            period,
            queries,
        });
    }

    for u in usage {
        let quota = &runbook.quotas[u.quota];
        let region = quota.region.clone();
        let kind = QueryKind::Stat {
            namespace: u.namespace.clone(),
            metric: u.metric.clone(),
            dimensions: u.dimensions.clone(),
            stat: u.stat.clone(),
        };
        let key = format!("{region:?}|{kind:?}|60");
        // A runbook metric with the same query can carry the usage only when no scaling is
        // needed; a rate quota gets a query of its own.
        if let Some(&(g, q)) = standalone.get(&key).filter(|_| u.scale == 1.0) {
            out[g].queries[q].targets.push(Target::QuotaUsage(u.quota));
            out[g].queries[q].return_data = true;
            continue;
        }
        if u.scale == 1.0 {
            standalone.insert(key, (out.len(), 0));
        }
        out.push(Group {
            region,
            period: 60,
            queries: vec![Query {
                // Runbook ids start with a lowercase letter and never contain "__".
                id: format!("quota__{}", u.quota),
                kind,
                period: 60,
                return_data: true,
                usage_scale: u.scale,
                settle_secs: crate::signal::default_settle_secs(60),
                targets: vec![Target::QuotaUsage(u.quota)],
            }],
        });
    }
    out
}

/// Packs groups (all due now, same region) into calls of at most `MAX_QUERIES_PER_CALL`
/// queries and at most one Metrics Insights query (CloudWatch allows one a call), first fit,
/// largest groups first. A group larger than a call (an expression over more than 500
/// queries) is CloudWatch's limit too: it goes alone and the API will say so.
pub fn pack<'a>(groups: &[&'a Group]) -> Vec<Vec<&'a Group>> {
    let mut sorted: Vec<&Group> = groups.to_vec();
    sorted.sort_by_key(|g| std::cmp::Reverse(g.queries.len()));
    // (queries, Insights queries, groups)
    let mut calls: Vec<(usize, usize, Vec<&Group>)> = Vec::new();
    for g in sorted {
        let n = g.queries.len();
        let insights = g.insights_queries();
        match calls.iter_mut().find(|(used, ins, _)| {
            used + n <= MAX_QUERIES_PER_CALL && ins + insights <= MAX_INSIGHTS_PER_CALL
        }) {
            Some((used, ins, members)) => {
                *used += n;
                *ins += insights;
                members.push(g);
            }
            None => calls.push((n, insights, vec![g])),
        }
    }
    calls.into_iter().map(|(_, _, g)| g).collect()
}

impl Group {
    /// The longest settle delay of the group's queries: it refreshes when all have settled.
    pub fn settle_secs(&self) -> i64 {
        self.queries
            .iter()
            .map(|q| q.settle_secs)
            .max()
            .unwrap_or(0)
    }

    /// Metrics Insights (SELECT) queries in the group.
    pub fn insights_queries(&self) -> usize {
        self.queries
            .iter()
            .filter(|q| matches!(&q.kind, QueryKind::Expression(e) if crate::runbook::expr::is_insights_query(e)))
            .count()
    }
}

/// One phase's polling cost, against reading every metric at its own period throughout.
#[derive(Debug, Clone, PartialEq)]
pub struct PhaseCost {
    pub phase: String,
    pub from: TOffset,
    pub until: TOffset,
    pub usd: f64,
    pub usd_full_rate: f64,
}

/// The cost of each phase under the runbook's polling (`signal::poll_every`), from the first
/// phase to `event.ends_at` (or an hour after the last phase starts). A phase that straddles
/// the near window is split where polling changes.
pub fn cost_by_phase(runbook: &Runbook) -> Vec<PhaseCost> {
    let full = estimate(runbook).usd_per_hour;
    let (near_from, near_until) = crate::signal::near_window(runbook);
    let phases = &runbook.phases;
    phases
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let from = p.from.secs();
            let until = phases
                .get(i + 1)
                .map(|n| n.from.secs())
                .or(runbook
                    .event
                    .ends_at
                    .map(|e| e.secs())
                    .filter(|e| *e > from))
                .unwrap_or(from + 3_600);
            let mut cuts = vec![from, until];
            cuts.extend(
                [near_from, near_until]
                    .into_iter()
                    .filter(|c| from < *c && *c < until),
            );
            cuts.sort_unstable();
            let usd = cuts
                .windows(2)
                .map(|w| {
                    let mid = (w[0] + w[1]) / 2;
                    let rate = estimate_polling(runbook, |period| {
                        crate::signal::poll_every(runbook, mid, period)
                    })
                    .usd_per_hour;
                    rate * (w[1] - w[0]) as f64 / 3_600.0
                })
                .sum();
            PhaseCost {
                phase: p.name.clone(),
                from: p.from,
                until: TOffset(until),
                usd,
                usd_full_rate: full * (until - from) as f64 / 3_600.0,
            }
        })
        .collect()
}

/// What polling a runbook live costs, before quota usage metrics are known (Service Quotas
/// names them at run time; each adds one metric per minute).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Estimate {
    pub queries: usize,
    pub metric_queries: usize,
    /// GetMetricData calls for one refresh of every query.
    pub calls_per_refresh: usize,
    pub calls_per_hour: f64,
    pub metrics_per_hour: f64,
    pub usd_per_hour: f64,
}

/// At full rate: every metric read at its own period.
pub fn estimate(runbook: &Runbook) -> Estimate {
    estimate_polling(runbook, i64::from)
}

/// With each period read every `every(period)` seconds (polling that follows the event).
pub fn estimate_polling(runbook: &Runbook, every: impl Fn(u32) -> i64) -> Estimate {
    let gs = groups(runbook, &[]);
    let mut by_cadence: BTreeMap<(Option<String>, u32), Vec<&Group>> = BTreeMap::new();
    for g in &gs {
        by_cadence
            .entry((g.region.clone(), g.period))
            .or_default()
            .push(g);
    }
    let all: Vec<&Group> = gs.iter().collect();
    let mut calls_per_hour = 0.0;
    let mut metrics_per_hour = 0.0;
    for ((_, period), members) in &by_cadence {
        let per_hour = 3600.0 / every(*period).max(crate::signal::MIN_POLL_SECS) as f64;
        calls_per_hour += pack(members).len() as f64 * per_hour;
        let metrics = members
            .iter()
            .flat_map(|g| &g.queries)
            .filter(|q| q.is_metric())
            .count();
        metrics_per_hour += metrics as f64 * per_hour;
    }
    let queries = gs.iter().map(|g| g.queries.len()).sum();
    Estimate {
        queries,
        metric_queries: gs
            .iter()
            .flat_map(|g| &g.queries)
            .filter(|q| q.is_metric())
            .count(),
        calls_per_refresh: {
            let mut regions: BTreeMap<Option<String>, Vec<&Group>> = BTreeMap::new();
            for g in &all {
                regions.entry(g.region.clone()).or_default().push(g);
            }
            regions.values().map(|v| pack(v).len()).sum()
        },
        calls_per_hour,
        metrics_per_hour,
        usd_per_hour: metrics_per_hour * crate::app::USD_PER_METRIC_REQUESTED,
    }
}

#[cfg(test)]
mod tests {

    #[test]
    fn phases_far_from_t0_cost_less_and_a_phase_straddling_the_window_is_split() {
        let rb = crate::runbook::parse(
            "t.yaml",
            "event: { name: e, starts_at: 2026-12-01T17:00:00Z, ends_at: T+1h }
phases:
  - { name: Prep, from: T-3h }
  - { name: Launch, from: T-0 }
metrics:
  - { id: a, namespace: N, metric: M, stat: Sum }
",
        )
        .unwrap();
        let full = estimate(&rb).usd_per_hour;
        let phases = cost_by_phase(&rb);
        assert_eq!(phases.len(), 2);
        // Prep: two hours at a read every 5 minutes, one at every minute.
        let prep = &phases[0];
        assert_eq!((prep.from.secs(), prep.until.secs()), (-3 * 3_600, 0));
        assert!((prep.usd_full_rate - 3.0 * full).abs() < 1e-12);
        assert!(
            (prep.usd - (2.0 * full / 5.0 + full)).abs() < 1e-12,
            "{prep:?}"
        );
        // Launch runs to event.ends_at, all near T-0.
        assert_eq!(phases[1].until.secs(), 3_600);
        assert!((phases[1].usd - phases[1].usd_full_rate).abs() < 1e-12);
    }
    use super::*;

    fn runbook(metrics: &str) -> Runbook {
        let y = format!(
            "event: {{ name: t, starts_at: 2026-12-01T17:00:00Z }}\naws: {{ region: us-east-1 }}\nmetrics:\n{metrics}"
        );
        serde_yaml::from_str(&y).unwrap()
    }

    fn many(n: usize) -> Runbook {
        let mut y = String::new();
        for i in 0..n {
            y.push_str(&format!(
                "  - {{ id: m{i}, namespace: AWS/Lambda, metric: Invocations, dimensions: {{ FunctionName: f{i} }}, stat: Sum }}\n"
            ));
        }
        runbook(&y)
    }

    #[test]
    fn a_thousand_metrics_take_two_calls() {
        let rb = many(1000);
        let gs = groups(&rb, &[]);
        assert_eq!(gs.len(), 1000);
        let refs: Vec<&Group> = gs.iter().collect();
        let calls = pack(&refs);
        assert_eq!(calls.len(), 2);
        assert!(
            calls
                .iter()
                .all(|c| c.iter().map(|g| g.queries.len()).sum::<usize>() == 500)
        );
        assert_eq!(pack(&refs[..10]).len(), 1);
        assert_eq!(pack(&refs[..501]).len(), 2);
    }

    #[test]
    fn estimates_count_calls_metrics_and_cost() {
        for (n, calls) in [(10, 1), (500, 1), (1000, 2)] {
            let e = estimate(&many(n));
            assert_eq!(e.calls_per_refresh, calls, "{n} metrics");
            assert_eq!(e.metric_queries, n);
            // Period 60: 60 refreshes an hour.
            assert_eq!(e.metrics_per_hour, n as f64 * 60.0);
            assert!((e.usd_per_hour - n as f64 * 60.0 * 0.00001).abs() < 1e-9);
        }
    }

    #[test]
    fn identical_queries_are_sent_once() {
        let rb = runbook(
            "  - { id: a, namespace: AWS/ELB, metric: Latency, stat: p99 }\n  - { id: b, title: same, namespace: AWS/ELB, metric: Latency, stat: p99 }\n  - { id: c, namespace: AWS/ELB, metric: Latency, stat: p50 }\n",
        );
        let gs = groups(&rb, &[]);
        assert_eq!(gs.len(), 2);
        assert_eq!(
            gs[0].queries[0].targets,
            vec![Target::Metric(0), Target::Metric(1)]
        );
    }

    #[test]
    fn expressions_travel_with_their_inputs_and_hidden_helpers_return_no_data() {
        let rb = runbook(
            "  - { id: errors, namespace: AWS/ELB, metric: HTTPCode_ELB_5XX_Count, stat: Sum, hidden: true }\n  - { id: requests, namespace: AWS/ELB, metric: RequestCount, stat: Sum }\n  - { id: error_pct, expression: \"100 * errors / requests\" }\n  - { id: unused, namespace: AWS/ELB, metric: X, stat: Sum, hidden: true }\n  - { id: other, namespace: AWS/ELB, metric: RequestCount, stat: Sum }\n",
        );
        let gs = groups(&rb, &[]);
        let with_expr = gs
            .iter()
            .find(|g| g.queries.iter().any(|q| q.id == "error_pct"))
            .unwrap();
        let ids: Vec<&str> = with_expr.queries.iter().map(|q| q.id.as_str()).collect();
        assert_eq!(ids, ["errors", "requests", "error_pct"]);
        assert!(!with_expr.queries[0].return_data);
        assert!(with_expr.queries[0].targets.is_empty());
        // A query inside an expression group is not merged away, even if identical to another.
        assert!(gs.iter().any(|g| g.queries[0].id == "other"));
        // Nobody needs `unused`.
        assert!(
            gs.iter()
                .all(|g| g.queries.iter().all(|q| q.id != "unused"))
        );
    }

    #[test]
    fn quota_usage_metrics_join_the_batch_and_merge_with_identical_metrics() {
        let mut rb = runbook(
            "  - { id: conc, namespace: AWS/Usage, metric: ResourceCount, dimensions: { Service: Lambda, Type: Resource, Resource: ConcurrentExecutions, Class: None }, stat: Maximum }\n",
        );
        rb.quotas = serde_yaml::from_str(
            "[{ service: lambda, code: L-B99A9384 }, { service: ec2, code: L-1216C47A }]",
        )
        .unwrap();
        let usage = |quota, resource: &str| UsageMetric {
            quota,
            namespace: "AWS/Usage".into(),
            metric: "ResourceCount".into(),
            dimensions: [
                ("Class", "None"),
                ("Resource", resource),
                ("Service", "Lambda"),
                ("Type", "Resource"),
            ]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
            stat: "Maximum".into(),
            scale: 1.0,
        };
        let gs = groups(&rb, &[usage(0, "ConcurrentExecutions"), usage(1, "vCPU")]);
        assert_eq!(gs.len(), 2);
        assert_eq!(
            gs[0].queries[0].targets,
            vec![Target::Metric(0), Target::QuotaUsage(0)]
        );
        assert_eq!(gs[1].queries[0].id, "quota__1");
    }

    #[test]
    fn only_a_metric_names_its_own_region_the_rest_follow_the_session() {
        // The runbook says us-east-1; `--region` may say otherwise, and must win for metrics
        // and quota usage as it does for alarms and quota values: the plan leaves it to the
        // session (None) instead of baking in the runbook's region.
        let mut rb = runbook(
            "  - { id: a, namespace: N, metric: M, stat: Sum }\n  - { id: b, namespace: N, metric: M, stat: Sum, region: eu-west-1 }\n",
        );
        rb.quotas = serde_yaml::from_str("[{ service: lambda, code: L-B99A9384 }]").unwrap();
        let usage = UsageMetric {
            quota: 0,
            namespace: "AWS/Usage".into(),
            metric: "ResourceCount".into(),
            dimensions: Default::default(),
            stat: "Maximum".into(),
            scale: 1.0,
        };
        let gs = groups(&rb, &[usage]);
        assert_eq!(gs[0].region, None);
        assert_eq!(gs[1].region.as_deref(), Some("eu-west-1"));
        assert_eq!(gs[2].queries[0].id, "quota__0");
        assert_eq!(gs[2].region, None);
    }

    #[test]
    fn a_hidden_metric_that_is_a_quotas_usage_is_fetched_and_returned() {
        // genai.yaml's tokens-per-minute quota reads a hidden metric nothing else refers to.
        let mut rb = runbook(
            "  - { id: tpm, namespace: AWS/Bedrock, metric: InputTokenCount, stat: Sum, hidden: true }\n  - { id: unused, namespace: N, metric: M, stat: Sum, hidden: true }\n",
        );
        rb.quotas =
            serde_yaml::from_str("[{ service: bedrock, code: L-12345678, usage_metric: tpm }]")
                .unwrap();
        let gs = groups(&rb, &[]);
        assert_eq!(gs.len(), 1, "{gs:?}");
        assert_eq!(gs[0].queries[0].id, "tpm");
        assert!(gs[0].queries[0].return_data);
        assert_eq!(gs[0].queries[0].targets, vec![Target::Metric(0)]);
    }

    #[test]
    fn one_metrics_insights_query_a_call() {
        let rb = runbook(
            "  - { id: a, expression: \"SELECT AVG(CPUUtilization) FROM SCHEMA(\\\"AWS/EC2\\\", InstanceId)\" }\n  - { id: b, expression: \"SELECT MAX(CPUUtilization) FROM SCHEMA(\\\"AWS/EC2\\\", InstanceId)\" }\n  - { id: c, namespace: N, metric: M, stat: Sum }\n",
        );
        let gs = groups(&rb, &[]);
        let refs: Vec<&Group> = gs.iter().collect();
        let calls = pack(&refs);
        assert_eq!(calls.len(), 2, "two SELECTs need two calls");
        for call in &calls {
            assert!(call.iter().map(|g| g.insights_queries()).sum::<usize>() <= 1);
        }
    }
}
