//! tminus's AWS sources on the wire: the real AWS SDK (CloudWatch in Smithy RPC v2 CBOR,
//! Service Quotas in awsJson1_1) against moto on loopback, through the CBOR gateway
//! (tests/support). Calls are counted at the emulator.
//!
//! moto's limits, as measured: metric math is only evaluated when an expression is exactly
//! another query's id (so math is checked as sent, not as computed); Service Quotas knows only
//! the `vpc` service, so other quotas, defaults and increase requests are stubbed at the gateway
//! with answers shaped as in the API reference.
//!
//! Where moto is not CloudWatch, the gateway's realism layer answers instead: scripted raw
//! datapoints aggregated per period as CloudWatch does (StartTime rounded to the minute only, the
//! bucket still filling answered partial, late data visible from `visible_at`, sparse counters
//! with no datapoint), PartialData pages, response-level Messages, one Metrics Insights query a
//! call, and scripted metric and composite alarms. The settled-data tests script timestamps
//! relative to the wall clock and fold what the product fetched into a real `App`.

mod support;

use std::sync::Arc;
use std::time::Duration;

use aws_sdk_cloudwatch::primitives::DateTime as AwsTime;
use aws_sdk_cloudwatch::types::{
    ComparisonOperator, Dimension, MetricDatum, StateValue, Statistic,
};
use chrono::{DateTime, Utc};
use serde_json::json;
use support::Emulator;
use tminus::app::alerts::{Alert, AlertKey, Severity};
use tminus::app::update::{AppOptions, Msg};
use tminus::app::{App, Mode};
use tminus::clock::WallClock;
use tminus::journal::MemoryJournal;
use tminus::runbook::Runbook;
use tminus::source::aws::plan::{self, Group};
use tminus::source::aws::{alarms, metrics, quotas};
use tminus::source::{AlarmState, Source, Update};

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

fn runbook(yaml_tail: &str) -> Runbook {
    let y = format!("event: {{ name: wire, starts_at: 2026-12-01T17:00:00Z }}\n{yaml_tail}");
    tminus::runbook::parse("wire.yaml", &y).unwrap_or_else(|d| panic!("{d:?}"))
}

/// Minute-aligned times in the last hour, oldest first.
fn minutes_ago(n: i64) -> DateTime<Utc> {
    let now = Utc::now().timestamp();
    DateTime::from_timestamp(now - now % 60 - n * 60, 0).unwrap()
}

async fn put(e: &Emulator, ns: &str, name: &str, dims: &[(&str, &str)], points: &[(i64, f64)]) {
    let cw = e.cloudwatch();
    let data: Vec<MetricDatum> = points
        .iter()
        .map(|(ago, v)| {
            let mut d = MetricDatum::builder()
                .metric_name(name)
                .timestamp(AwsTime::from_secs(minutes_ago(*ago).timestamp()))
                .value(*v);
            for (k, val) in dims {
                d = d.dimensions(Dimension::builder().name(*k).value(*val).build());
            }
            d.build()
        })
        .collect();
    cw.put_metric_data()
        .namespace(ns)
        .set_metric_data(Some(data))
        .send()
        .await
        .unwrap();
}

async fn fetch_all(e: &Emulator, rb: &Runbook) -> (Vec<Update>, u64) {
    let groups = plan::groups(rb, &[]);
    let refs: Vec<&Group> = groups.iter().collect();
    let client = e.cloudwatch();
    let now = Utc::now();
    let mut updates = Vec::new();
    let mut calls = 0;
    for call in plan::pack(&refs) {
        // Periods count from the start time: start on the minute, as the source does.
        let f = metrics::fetch(&client, &call, minutes_ago(60), now)
            .await
            .unwrap();
        calls += f.calls;
        updates.extend(metrics::to_updates(&call, &f, now));
    }
    (updates, calls)
}

fn samples(updates: &[Update], metric: usize) -> Vec<f64> {
    updates
        .iter()
        .find_map(|u| match u {
            Update::Samples {
                metric: m, points, ..
            } if *m == metric => Some(points.iter().map(|p| p.value).collect()),
            _ => None,
        })
        .unwrap_or_default()
}

#[test]
fn metrics_round_trip_through_cbor_with_their_timestamps() {
    let e = Emulator::start();
    runtime().block_on(async {
        put(&e, "Tminus/Wire", "Latency", &[("Service", "web")], &[(3, 120.0), (2, 180.0), (1, 240.0)]).await;
        let rb = runbook(
            "metrics:\n  - { id: lat, namespace: Tminus/Wire, metric: Latency, dimensions: { Service: web }, stat: Maximum }\n",
        );
        let (updates, calls) = fetch_all(&e, &rb).await;
        assert_eq!(calls, 1);
        let Some(Update::Samples { points, .. }) = updates.first() else {
            panic!("{updates:?}")
        };
        let got: Vec<(DateTime<Utc>, f64)> = points.iter().map(|p| (p.at, p.value)).collect();
        assert_eq!(
            got,
            vec![
                (minutes_ago(3), 120.0),
                (minutes_ago(2), 180.0),
                (minutes_ago(1), 240.0)
            ]
        );
    });
    assert_eq!(e.calls("PutMetricData"), 1);
    assert_eq!(e.calls("GetMetricData"), 1);
}

#[test]
fn a_thousand_metrics_take_two_calls_and_duplicates_are_sent_once() {
    let e = Emulator::start();
    let mut y = String::from("metrics:\n");
    for i in 0..1000 {
        y.push_str(&format!(
            "  - {{ id: m{i}, namespace: Tminus/Wire, metric: Invocations, dimensions: {{ FunctionName: f{i} }}, stat: Sum }}\n"
        ));
    }
    // The same query under another id: merged, not sent twice.
    y.push_str("  - { id: again, namespace: Tminus/Wire, metric: Invocations, dimensions: { FunctionName: f7 }, stat: Sum }\n");
    let rb = runbook(&y);
    runtime().block_on(async {
        put(
            &e,
            "Tminus/Wire",
            "Invocations",
            &[("FunctionName", "f7")],
            &[(2, 5.0)],
        )
        .await;
        let (updates, calls) = fetch_all(&e, &rb).await;
        assert_eq!(calls, 2);
        // Both runbook metrics get the one query's data.
        assert_eq!(samples(&updates, 7), vec![5.0]);
        assert_eq!(samples(&updates, 1000), vec![5.0]);
    });
    let stats = e.stats();
    assert_eq!(stats["ops"]["GetMetricData"], 2);
    assert_eq!(stats["get_metric_data_queries"], 1000);
    assert_eq!(stats["get_metric_data_query_counts"], json!([500, 500]));
}

#[test]
fn metric_math_goes_out_with_its_hidden_helpers() {
    let e = Emulator::start();
    let rb = runbook(
        "metrics:\n  - { id: errors, namespace: Tminus/Wire, metric: Errors, stat: Sum, hidden: true }\n  - { id: errs, title: Errors (math), expression: errors }\n  - { id: doubled, expression: \"2 * errors\" }\n",
    );
    runtime().block_on(async {
        put(&e, "Tminus/Wire", "Errors", &[], &[(2, 3.0), (1, 4.0)]).await;
        let (updates, calls) = fetch_all(&e, &rb).await;
        assert_eq!(calls, 1, "an expression travels with its inputs");
        // moto evaluates an expression that is exactly another id.
        assert_eq!(samples(&updates, 1), vec![3.0, 4.0]);
        // The hidden helper's own data is not returned (ReturnData=false).
        assert!(samples(&updates, 0).is_empty());
        // "2 * errors" was sent; moto does not evaluate math, so it comes back empty.
        assert!(samples(&updates, 2).is_empty());
    });
    assert_eq!(e.stats()["get_metric_data_queries"], 3);
}

#[test]
fn next_token_pages_are_followed() {
    let e = Emulator::start();
    let rb =
        runbook("metrics:\n  - { id: rps, namespace: Tminus/Wire, metric: Requests, stat: Sum }\n");
    runtime().block_on(async {
        let points: Vec<(i64, f64)> = (1..=10).map(|i| (i, i as f64)).collect();
        put(&e, "Tminus/Wire", "Requests", &[], &points).await;
        e.fault(json!({ "mode": "paginate", "op": "GetMetricData", "count": 1 }));
        let (updates, calls) = fetch_all(&e, &rb).await;
        assert_eq!(calls, 2, "two pages");
        // Oldest first, all ten, none twice.
        let want: Vec<f64> = (1..=10).rev().map(|i| i as f64).collect();
        assert_eq!(samples(&updates, 0), want);
    });
}

#[test]
fn alarms_by_prefix_and_name_with_state_and_reason() {
    let e = Emulator::start();
    runtime().block_on(async {
        let cw = e.cloudwatch();
        for name in ["web-p99", "web-5xx", "db-throttles", "other"] {
            cw.put_metric_alarm()
                .alarm_name(name)
                .namespace("Tminus/Wire")
                .metric_name("Latency")
                .statistic(Statistic::Maximum)
                .period(60)
                .evaluation_periods(1)
                .threshold(900.0)
                .comparison_operator(ComparisonOperator::GreaterThanThreshold)
                .send()
                .await
                .unwrap();
        }
        cw.set_alarm_state()
            .alarm_name("web-p99")
            .state_value(StateValue::Alarm)
            .state_reason("Threshold Crossed: 3 datapoints were greater than 900")
            .send()
            .await
            .unwrap();
        let selector = tminus::runbook::model::AlarmSelector {
            prefix: Some("web-".into()),
            names: vec!["db-throttles".into()],
        };
        let rows = alarms::describe(&cw, &selector).await.unwrap();
        let names: Vec<&str> = rows.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(names, ["db-throttles", "web-5xx", "web-p99"]);
        let p99 = &rows[2];
        assert_eq!(p99.state, AlarmState::Alarm);
        assert_eq!(
            p99.reason,
            "Threshold Crossed: 3 datapoints were greater than 900"
        );
        assert!(
            (Utc::now() - p99.changed_at).num_seconds().abs() < 120,
            "{p99:?}"
        );
        assert_ne!(rows[1].state, AlarmState::Alarm);
    });
    // One call for the prefix, one for the names.
    assert_eq!(e.calls("DescribeAlarms"), 2);
}

/// The AWS/Usage dimensions of Lambda's concurrent executions, as Service Quotas names them.
const LAMBDA_CONCURRENCY_USAGE: &[(&str, &str)] = &[
    ("Service", "Lambda"),
    ("Type", "Resource"),
    ("Resource", "ConcurrentExecutions"),
    ("Class", "None"),
];

fn stub_lambda_quota(e: &Emulator, applied: bool) {
    let quota = json!({
        "ServiceCode": "lambda",
        "ServiceName": "AWS Lambda",
        "QuotaCode": "L-B99A9384",
        "QuotaName": "Concurrent executions",
        "Value": 1000.0,
        "Unit": "None",
        "Adjustable": true,
        "GlobalQuota": false,
        "UsageMetric": {
            "MetricNamespace": "AWS/Usage",
            "MetricName": "ResourceCount",
            "MetricDimensions": {
                "Service": "Lambda",
                "Type": "Resource",
                "Resource": "ConcurrentExecutions",
                "Class": "None"
            },
            "MetricStatisticRecommendation": "Maximum"
        }
    });
    if applied {
        e.stub(json!({
            "target": "ServiceQuotasV20190624.GetServiceQuota",
            "match": { "ServiceCode": "lambda" },
            "body": { "Quota": quota }
        }));
    } else {
        // No value applied to this account: Service Quotas says NoSuchResource.
        e.stub(json!({
            "target": "ServiceQuotasV20190624.GetServiceQuota",
            "match": { "ServiceCode": "lambda" },
            "status": 400,
            "body": { "__type": "NoSuchResourceException", "message": "The request failed because the specified service quota does not exist." }
        }));
        e.stub(json!({
            "target": "ServiceQuotasV20190624.GetAWSDefaultServiceQuota",
            "match": { "ServiceCode": "lambda" },
            "body": { "Quota": quota }
        }));
    }
}

#[test]
fn quota_values_come_from_moto_or_fall_back_to_the_default() {
    let e = Emulator::start();
    runtime().block_on(async {
        let sq = e.servicequotas();
        // moto's own Service Quotas: VPCs per Region.
        let vpc = quotas::fetch(&sq, "vpc", "L-F678F1CE").await.unwrap();
        assert_eq!(vpc.source, quotas::ValueSource::Applied);
        assert!(vpc.value.is_some_and(|v| v > 0.0), "{vpc:?}");

        stub_lambda_quota(&e, false);
        let lambda = quotas::fetch(&sq, "lambda", "L-B99A9384").await.unwrap();
        assert_eq!(lambda.source, quotas::ValueSource::Default);
        assert_eq!(lambda.value, Some(1000.0));
        let (ns, metric, dims, stat) = lambda.usage.unwrap();
        assert_eq!(
            (ns.as_str(), metric.as_str(), stat.as_str()),
            ("AWS/Usage", "ResourceCount", "Maximum")
        );
        assert_eq!(dims["Resource"], "ConcurrentExecutions");
    });
    assert_eq!(e.calls("GetAWSDefaultServiceQuota"), 1);
}

#[test]
fn usage_metrics_join_the_batch_and_give_headroom() {
    let e = Emulator::start();
    let rb = runbook(
        "aws: { region: us-east-1 }\nmetrics:\n  - { id: rps, namespace: Tminus/Wire, metric: Requests, stat: Sum }\nquotas:\n  - { service: lambda, code: L-B99A9384, title: Lambda concurrency }\n",
    );
    runtime().block_on(async {
        put(
            &e,
            "AWS/Usage",
            "ResourceCount",
            LAMBDA_CONCURRENCY_USAGE,
            &[(3, 650.0), (2, 710.0)],
        )
        .await;
        put(&e, "Tminus/Wire", "Requests", &[], &[(2, 42.0)]).await;
        e.reset();
        stub_lambda_quota(&e, true);
        let (tx, mut rx) = tokio::sync::mpsc::channel(64);
        let (utx, urx) = tokio::sync::mpsc::channel(4);
        let clock = Arc::new(WallClock);
        let cw = Box::new(metrics::CloudWatchSource::new(
            e.aws(),
            rb.clone(),
            // At T-0: every metric at its own period.
            Utc::now(),
            clock.clone(),
            Some(urx),
        ));
        let sq = Box::new(quotas::QuotasSource::new(
            e.aws(),
            rb.clone(),
            clock,
            Some(utx),
        ));
        tokio::spawn(cw.run(tx.clone()));
        tokio::spawn(sq.run(tx));
        let (mut value, mut usage) = (None, None);
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        while (value.is_none() || usage.is_none()) && tokio::time::Instant::now() < deadline {
            match tokio::time::timeout(Duration::from_secs(20), rx.recv()).await {
                Ok(Some(Update::Quota {
                    value: v, usage: u, ..
                })) => {
                    value = v.or(value);
                    usage = u.or(usage);
                }
                Ok(Some(_)) => {}
                _ => break,
            }
        }
        assert_eq!((value, usage), (Some(1000.0), Some(710.0)));
    });
    // The usage metric Service Quotas named went out through GetMetricData like any metric
    // (from then on it shares the metrics' calls: groups with one period come due together).
    let ids = e.stats()["get_metric_data_query_ids"].clone();
    assert!(
        ids.as_array()
            .unwrap()
            .iter()
            .any(|call| call.as_array().unwrap().contains(&json!("quota__0"))),
        "{ids}"
    );
}

#[test]
fn a_confirmed_increase_request_reaches_service_quotas() {
    let e = Emulator::start();
    e.stub(json!({
        "target": "ServiceQuotasV20190624.RequestServiceQuotaIncrease",
        "body": { "RequestedQuota": {
            "Id": "d8abe8d1a4b0", "ServiceCode": "lambda", "QuotaCode": "L-B99A9384",
            "DesiredValue": 1500.0, "Status": "PENDING"
        } }
    }));
    let (tx, mut rx) = tokio::sync::mpsc::channel(8);
    runtime().block_on(async {
        tokio::spawn(quotas::run_increase(
            e.aws(),
            0,
            "lambda".into(),
            "L-B99A9384".into(),
            None,
            1500.0,
            tx,
        ));
        let first = tokio::time::timeout(Duration::from_secs(10), rx.recv())
            .await
            .unwrap();
        assert_eq!(
            first,
            Some(Update::QuotaRequest {
                quota: 0,
                status: "PENDING".into(),
                request_id: Some("d8abe8d1a4b0".into()),
                error: None
            })
        );
    });
    let stats = e.stats();
    let sent = &stats["stubbed_requests"][0];
    assert_eq!(
        sent["target"],
        "ServiceQuotasV20190624.RequestServiceQuotaIncrease"
    );
    assert_eq!(sent["body"]["DesiredValue"], 1500.0);
    assert_eq!(sent["body"]["QuotaCode"], "L-B99A9384");
}

#[test]
fn throttling_is_retried_then_reported() {
    let e = Emulator::start();
    let rb =
        runbook("metrics:\n  - { id: rps, namespace: Tminus/Wire, metric: Requests, stat: Sum }\n");
    let groups = plan::groups(&rb, &[]);
    let refs: Vec<&Group> = groups.iter().collect();
    runtime().block_on(async {
        let client = e.cloudwatch();
        let now = Utc::now();
        let window = now - chrono::Duration::hours(1);
        // Two throttles: the SDK's standard retries (3 attempts) get through.
        e.fault(json!({ "mode": "throttle", "op": "GetMetricData", "count": 2 }));
        assert!(metrics::fetch(&client, &refs, window, now).await.is_ok());
        assert_eq!(e.calls("GetMetricData"), 3);
        // Throttled on every attempt: one clear line, no SDK dump.
        e.reset();
        e.fault(json!({ "mode": "throttle", "op": "GetMetricData", "count": 10 }));
        let err = metrics::fetch(&client, &refs, window, now)
            .await
            .unwrap_err();
        // A call returns the raw cause; the source that reports it explains it, once.
        assert!(err.contains("ThrottlingException"), "{err}");
        assert_eq!(
            tminus::source::aws::errors::explain_text(&err, None),
            "throttled by AWS: backing off and retrying"
        );
    });
}

#[test]
fn an_outage_is_reported_and_the_source_recovers_by_itself() {
    let mut e = Emulator::start();
    let rb = runbook(
        "metrics:\n  - { id: rps, namespace: Tminus/Wire, metric: Requests, stat: Sum, period: 10 }\n",
    );
    let rt = runtime();
    let (tx, mut rx) = tokio::sync::mpsc::channel(64);
    let _guard = rt.enter();
    let source = Box::new(metrics::CloudWatchSource::new(
        e.aws(),
        rb,
        Utc::now(),
        Arc::new(WallClock),
        None,
    ));
    rt.spawn(source.run(tx));
    let health = |rx: &mut tokio::sync::mpsc::Receiver<Update>| {
        rt.block_on(async {
            loop {
                match tokio::time::timeout(Duration::from_secs(30), rx.recv()).await {
                    Ok(Some(Update::Health { error, .. })) => return error,
                    Ok(Some(_)) => continue,
                    other => panic!("no health report: {other:?}"),
                }
            }
        })
    };
    assert_eq!(health(&mut rx), None, "healthy at first");
    e.stop_gateway();
    let err = health(&mut rx).expect("the outage is reported");
    assert!(err.starts_with("cannot reach the AWS endpoint"), "{err}");
    e.start_gateway();
    assert_eq!(health(&mut rx), None, "recovered without a restart");
}

#[test]
fn the_quotas_command_gates_a_pipeline() {
    let e = Emulator::start();
    stub_lambda_quota(&e, false);
    runtime().block_on(async {
        // 950 of 1,000 concurrent executions: 5% headroom, below the 10% critical line.
        put(
            &e,
            "AWS/Usage",
            "ResourceCount",
            LAMBDA_CONCURRENCY_USAGE,
            // The minute that just ended is not settled yet: the newest usage is two back.
            &[(3, 900.0), (2, 950.0)],
        )
        .await;
    });
    let yaml = "event: { name: q, starts_at: 2026-12-01T17:00:00Z }\naws: { region: us-east-1 }\nquotas:\n  - { service: vpc, code: L-F678F1CE, title: VPCs per Region }\n  - { service: lambda, code: L-B99A9384, title: Lambda concurrency }\n";
    let (code, table) = quotas_command(&e, yaml, false);
    assert_eq!(code, Some(1), "{table}");
    let lambda = table
        .lines()
        .find(|l| l.contains("Lambda concurrency"))
        .unwrap();
    assert!(
        lambda.contains("1000 (default)") && lambda.contains("950"),
        "{table}"
    );
    assert!(
        lambda.contains("95.0%") && lambda.ends_with("CRIT"),
        "{table}"
    );
    let vpc = table
        .lines()
        .find(|l| l.contains("VPCs per Region"))
        .unwrap();
    // moto names no usage metric for VPCs: said honestly.
    assert!(vpc.ends_with("usage unknown"), "{table}");

    let (code, json) = quotas_command(&e, yaml, true);
    assert_eq!(code, Some(1));
    let rows: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(rows[1]["code"], "L-B99A9384");
    assert_eq!(rows[1]["status"], "CRIT");
    assert_eq!(rows[1]["headroom_pct"], 5.0);
    assert_eq!(rows[1]["value_source"], "default");
}

// ---- Settled data, on the wire ----------------------------------------------------------------
//
// Raw datapoints are scripted at the gateway with timestamps relative to the wall clock; the
// product fetches them as its CloudWatch source does and the updates are folded into a real
// `App`. Each test says what the code before the settled-data work (f021d59) did instead.

/// Epoch seconds.
fn secs(t: DateTime<Utc>) -> i64 {
    t.timestamp()
}

fn at(secs: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(secs, 0).unwrap()
}

/// `t` rounded down to a multiple of `step` seconds.
fn floor(t: i64, step: i64) -> i64 {
    t - t.rem_euclid(step)
}

/// Raw observations for the gateway's scripted CloudWatch store: (t, value, visible_at) in
/// epoch seconds; without visible_at a point is visible from t.
fn script(
    e: &Emulator,
    namespace: &str,
    metric: &str,
    dimensions: &[(&str, &str)],
    points: &[(i64, f64, Option<i64>)],
) {
    let dims: serde_json::Map<String, serde_json::Value> = dimensions
        .iter()
        .map(|(k, v)| (k.to_string(), json!(v)))
        .collect();
    let points: Vec<serde_json::Value> = points
        .iter()
        .map(|(t, v, visible)| match visible {
            Some(vis) => json!({ "t": t, "v": v, "visible_at": vis }),
            None => json!({ "t": t, "v": v }),
        })
        .collect();
    e.datapoints(json!({
        "namespace": namespace, "metric": metric, "dimensions": dims, "points": points
    }));
}

/// The group state the CloudWatch source keeps between refreshes: (fetched_to, settled_to).
type Last = Option<(DateTime<Utc>, DateTime<Utc>)>;

/// One refresh of every group as `CloudWatchSource` does it at `now`: the window from
/// `metrics::window_start` (the first load when `last` is None), GetMetricData up to `now`,
/// `to_updates` at `now`; `last` moves on as the source's group state does.
async fn refresh(
    e: &Emulator,
    groups: &[Group],
    last: &mut Last,
    now: DateTime<Utc>,
) -> Vec<Update> {
    let refs: Vec<&Group> = groups.iter().collect();
    let client = e.cloudwatch();
    let mut out = Vec::new();
    for call in plan::pack(&refs) {
        let start = metrics::window_start(
            std::iter::once((last.map(|l| l.0), last.map(|l| l.1))),
            call.iter().flat_map(|g| g.queries.iter().map(|q| q.period)),
            now,
        );
        let f = metrics::fetch(&client, &call, start, now).await.unwrap();
        out.extend(metrics::to_updates(&call, &f, now));
    }
    *last = groups
        .iter()
        .flat_map(|g| &g.queries)
        .map(|q| tminus::signal::settled_to(now, q.period, q.settle_secs))
        .min()
        .map(|s| (now, s));
    out
}

/// Now, in whole seconds (as GetMetricData takes it), at least two seconds into the minute:
/// EndTime is exclusive, so a refresh in the minute's first second has no bucket for it yet.
fn clear_of_the_minute() -> DateTime<Utc> {
    loop {
        let now = secs(Utc::now());
        if now % 60 >= 2 {
            return at(now);
        }
        std::thread::sleep(Duration::from_millis(250));
    }
}

/// A live war room on `rb`, journalling to memory.
fn war_room(rb: &Runbook, now: DateTime<Utc>) -> App {
    App::new(
        rb.clone(),
        AppOptions {
            mode: Mode::Live,
            ..AppOptions::simulated("wire.yaml", rb.event.starts_at, "wire")
        },
        now,
        Box::new(MemoryJournal::default()),
        Vec::new(),
    )
}

fn fold(app: &mut App, now: DateTime<Utc>, updates: &[Update]) {
    for u in updates {
        app.update(now, Msg::Source(u.clone()));
    }
}

/// Alerts (open or closed) on one runbook metric.
fn metric_alerts<'a>(app: &'a App, id: &str) -> Vec<&'a Alert> {
    app.alerts
        .iter()
        .filter(|a| a.key == AlertKey::Metric(id.into()))
        .collect()
}

/// The points and settled boundary of the first Samples update for `metric`.
fn samples_of(updates: &[Update], metric: usize) -> (Vec<(i64, f64)>, Option<DateTime<Utc>>) {
    updates
        .iter()
        .find_map(|u| match u {
            Update::Samples {
                metric: m,
                points,
                settled_to,
            } if *m == metric => Some((
                points.iter().map(|p| (secs(p.at), p.value)).collect(),
                *settled_to,
            )),
            _ => None,
        })
        .unwrap_or_else(|| panic!("no samples for metric {metric}: {updates:?}"))
}

#[test]
fn the_bucket_still_filling_is_drawn_but_never_judged() {
    let e = Emulator::start();
    let rb = runbook(
        "metrics:\n  - { id: orders, namespace: Shop, metric: Orders, stat: Sum, warn: 30, direction: below }\n",
    );
    let now = clear_of_the_minute();
    let minute = floor(secs(now), 60);
    // Ten orders every ten seconds for the last 20 minutes: 60 a minute, all along. The minute
    // that just ended is still being published: two of its six points have arrived. The
    // current minute has one point so far.
    let mut points: Vec<(i64, f64, Option<i64>)> = (0..120)
        .map(|i| {
            let t = minute - 1200 + 10 * i;
            let late = t >= minute - 60 + 20;
            (t, 10.0, late.then_some(secs(now) + 600))
        })
        .collect();
    points.push((minute, 10.0, None));
    script(&e, "Shop", "Orders", &[], &points);

    let groups = plan::groups(&rb, &[]);
    let updates = runtime().block_on(refresh(&e, &groups, &mut None, now));
    let mut app = war_room(&rb, now);
    fold(&mut app, now, &updates);
    // The old code sent EndTime=now and judged every point: the newest one, the ten orders of
    // a few seconds of the open minute, read as "orders fell to 10/min, below 30" and opened
    // an alert on every refresh until the minute filled. Now both partial buckets (two below
    // 30: enough for the 2-of-3 rule if they were judged) are provisional, drawn and not
    // judged.
    assert!(metric_alerts(&app, "orders").is_empty(), "{:?}", app.alerts);
    let m = &app.metrics[0];
    assert_eq!(m.severity, None);
    assert_eq!(m.latest().map(|p| p.value), Some(10.0), "drawn");
    assert_eq!(m.provisional().count(), 2);
    let latest = m.latest_settled().unwrap();
    assert_eq!((secs(latest.at), latest.value), (minute - 120, 60.0));

    // On the wire: 60 s period, 60 s settle delay, so the minute that just ended and the one
    // filling are provisional.
    let (got, settled_to) = samples_of(&updates, 0);
    assert_eq!(settled_to, Some(at(minute - 60)));
    let newest = *got.last().unwrap();
    assert_eq!(newest, (minute, 10.0), "the open bucket, partial: {got:?}");
    assert!(at(newest.0) >= settled_to.unwrap() && newest.1 < 60.0);
    assert_eq!(
        got[got.len() - 2],
        (minute - 60, 20.0),
        "late data: {got:?}"
    );
    let settled: Vec<f64> = got
        .iter()
        .filter(|(t, _)| *t < minute - 60)
        .map(|p| p.1)
        .collect();
    assert_eq!(settled, vec![60.0; 19], "every settled minute is whole");
}

#[test]
fn late_data_inside_the_settle_delay_is_judged_once_it_has_landed() {
    let e = Emulator::start();
    // High resolution: 10 s buckets, settled 15 s after they end (the default), so the wait
    // for the late points to land and the bucket to settle is a few seconds.
    let rb = runbook(
        "metrics:\n  - { id: orders, namespace: Shop, metric: Orders, stat: Sum, period: 10, warn: 20, direction: below }\n",
    );
    let now1 = at(secs(Utc::now()));
    let current = floor(secs(now1), 10);
    // Five points of 5 a bucket (25 per 10 s) for three minutes. The publisher sends the
    // first two of each bucket at once and the other three 12 s after the bucket ends: inside
    // the 15 s settle delay. For the bucket that just ended they land at `current + 12`, after
    // the first fetch.
    let mut points = Vec::new();
    for b in (current - 180..=current).step_by(10) {
        for (j, t) in (b..b + 10).step_by(2).enumerate() {
            let visible = if j < 2 { t } else { b + 10 + 12 };
            points.push((t, 5.0, Some(visible)));
        }
    }
    // Only what has happened by now: points after now1 are in the future.
    points.retain(|p| p.0 <= secs(now1));
    script(&e, "Shop", "Orders", &[], &points);

    let groups = plan::groups(&rb, &[]);
    let rt = runtime();
    let mut last: Last = None;
    let first = rt.block_on(refresh(&e, &groups, &mut last, now1));
    let ended = current - 10;
    let mut app = war_room(&rb, now1);
    fold(&mut app, now1, &first);
    // The old code judged the newest point as it came (10 of 25): a "below" alert on data
    // that was simply late. Judged by the 2-of-3 rule, the partial buckets would open one too.
    assert!(metric_alerts(&app, "orders").is_empty(), "{:?}", app.alerts);
    assert!(app.metrics[0].latest_settled().unwrap().at < at(ended));
    let (got, settled1) = samples_of(&first, 0);
    let partial = got.iter().find(|p| p.0 == ended).copied();
    assert_eq!(
        partial,
        Some((ended, 10.0)),
        "two of five points so far: {got:?}"
    );
    assert!(at(ended) >= settled1.unwrap(), "provisional: {settled1:?}");

    // The late points land at current + 12, the bucket settles at current + 15.
    let wake = at(current + 16);
    std::thread::sleep((wake - Utc::now()).to_std().unwrap_or_default());
    let now2 = Utc::now();
    let second = rt.block_on(refresh(&e, &groups, &mut last, now2));
    let (got, settled2) = samples_of(&second, 0);
    assert_eq!(
        got.iter().find(|p| p.0 == ended),
        Some(&(ended, 25.0)),
        "{got:?}"
    );
    assert!(at(ended) < settled2.unwrap(), "settled: {settled2:?}");
    fold(&mut app, now2, &second);
    let latest = app.metrics[0].latest_settled().unwrap();
    assert_eq!((secs(latest.at), latest.value), (ended, 25.0));
    assert!(metric_alerts(&app, "orders").is_empty(), "{:?}", app.alerts);
}

#[test]
fn windows_start_on_the_period_grid_as_cloudwatch_rounds_to_the_minute_only() {
    let e = Emulator::start();
    let rb = runbook(
        "metrics:\n  - { id: orders, namespace: Shop, metric: Orders, stat: Sum, period: 300 }\n",
    );
    // A refresh at 2 min 3 s past a 5-minute boundary (in the past, so everything is visible).
    let now = floor(secs(Utc::now()), 300) - 300 + 123;
    // One order a minute for three hours.
    let points: Vec<(i64, f64, Option<i64>)> = (1..=180)
        .map(|k| (floor(now, 60) - 60 * k, 1.0, None))
        .collect();
    script(&e, "Shop", "Orders", &[], &points);
    let groups = plan::groups(&rb, &[]);
    let refs: Vec<&Group> = groups.iter().collect();
    let client = e.cloudwatch();
    let rt = runtime();

    let start = metrics::window_start(std::iter::once((None, None)), [300].into_iter(), at(now));
    let f = rt
        .block_on(metrics::fetch(&client, &refs, start, at(now)))
        .unwrap();
    let got: Vec<(i64, f64)> = f.series["orders"]
        .iter()
        .map(|p| (secs(p.at), p.value))
        .collect();
    assert_eq!(got.len(), 25, "{got:?}");
    assert!(got.iter().all(|(t, _)| t % 300 == 0), "{got:?}");
    assert_eq!(secs(start) % 300, 0);
    // Five orders in each bucket before the one still filling.
    assert!(got[..24].iter().all(|(_, v)| *v == 5.0), "{got:?}");

    // The old code aligned StartTime to the minute only. CloudWatch counts buckets from the
    // StartTime it was given (rounded to the minute), so the buckets were 2 minutes off the
    // 5-minute grid, and a later refresh with another start landed on yet another grid.
    let minute_start = at(floor(now - 7200, 60));
    let f = rt
        .block_on(metrics::fetch(&client, &refs, minute_start, at(now)))
        .unwrap();
    let off: Vec<i64> = f.series["orders"].iter().map(|p| secs(p.at)).collect();
    assert!(!off.is_empty());
    assert!(!off.iter().all(|t| t % 300 == 0), "{off:?}");
    assert!(off.iter().all(|t| t % 300 == 120), "{off:?}");
}

#[test]
fn a_sparse_counter_reads_zero_and_its_alert_closes_after_the_clear_time() {
    let e = Emulator::start();
    let rb = runbook(
        "metrics:\n  - { id: e5xx, namespace: AWS/ApplicationELB, metric: HTTPCode_ELB_5XX_Count, dimensions: { LoadBalancer: app/web/1 }, stat: Sum, warn: 5, crit: 20 }\n",
    );
    // 50 errors a minute for three minutes, twenty minutes ago; none since, so CloudWatch
    // publishes nothing since.
    let h = floor(secs(Utc::now()), 60) - 20 * 60;
    let points: Vec<(i64, f64, Option<i64>)> = (h - 120..h + 60)
        .step_by(12)
        .map(|t| (t, 10.0, None))
        .collect();
    script(
        &e,
        "AWS/ApplicationELB",
        "HTTPCode_ELB_5XX_Count",
        &[("LoadBalancer", "app/web/1")],
        &points,
    );
    let groups = plan::groups(&rb, &[]);
    let rt = runtime();
    let mut last: Last = None;
    let mut app: Option<App> = None;
    // A refresh a minute (in the past: every point is there): at k, the newest settled bucket
    // is h + k minutes.
    for k in 0..=10 {
        let now = at(h + (k + 2) * 60 + 5);
        let updates = rt.block_on(refresh(&e, &groups, &mut last, now));
        let app = app.get_or_insert_with(|| war_room(&rb, now));
        fold(app, now, &updates);
        let latest = app.metrics[0].latest_settled().unwrap();
        let alerts = metric_alerts(app, "e5xx");
        assert_eq!(
            alerts.len(),
            1,
            "k={k}: one alert, opened on the errors: {alerts:?}"
        );
        let open = alerts[0].is_open();
        if k == 0 {
            assert_eq!((secs(latest.at), latest.value), (h, 50.0));
            assert!(open && alerts[0].severity == Severity::Crit);
            continue;
        }
        // No datapoint means zero: the settled minutes since read 0 (the old code kept
        // showing 50 and the alert never closed).
        assert_eq!((secs(latest.at), latest.value), (h + k * 60, 0.0), "k={k}");
        // Clear from h + 2 (2 of the last 3 minutes breached until then) for 5 minutes: the
        // reading at h + 7 closes it.
        assert_eq!(open, k < 7, "k={k}: {alerts:?}");
    }
}

#[test]
fn partial_data_notes_clear_when_the_next_page_completes_and_call_messages_reach_every_metric() {
    let e = Emulator::start();
    let rb = runbook(
        "metrics:\n  - { id: orders, namespace: Shop, metric: Orders, stat: Sum }\n  - { id: carts, namespace: Shop, metric: Carts, stat: Sum }\n",
    );
    let minute = floor(secs(Utc::now()), 60);
    for metric in ["Orders", "Carts"] {
        let points: Vec<(i64, f64, Option<i64>)> = (1..=10)
            .map(|k| (minute - 60 * k, k as f64, None))
            .collect();
        script(&e, "Shop", metric, &[], &points);
    }
    let groups = plan::groups(&rb, &[]);
    let refs: Vec<&Group> = groups.iter().collect();
    assert_eq!(plan::pack(&refs).len(), 1, "one call");
    let client = e.cloudwatch();
    let rt = runtime();
    let notes = |updates: &[Update]| -> Vec<Option<String>> {
        updates
            .iter()
            .filter_map(|u| match u {
                Update::MetricNote { note, .. } => Some(note.clone()),
                _ => None,
            })
            .collect()
    };
    let now = Utc::now();
    let start = at(minute - 3600);

    // The first page says PartialData, the second completes both series.
    e.fault(json!({ "mode": "partial", "op": "GetMetricData", "count": 1 }));
    let f = rt
        .block_on(metrics::fetch(&client, &refs, start, now))
        .unwrap();
    assert_eq!(f.calls, 2);
    assert!(f.partial.is_empty(), "{:?}", f.partial);
    let updates = metrics::to_updates(&refs, &f, now);
    assert_eq!(samples_of(&updates, 0).0.len(), 10);
    // The old code kept "PartialData: More data is available with NextToken" on the row.
    assert_eq!(notes(&updates), vec![None, None]);

    // Response-level Messages apply to the whole call: every metric of it says so.
    e.fault(json!({ "mode": "messages", "op": "GetMetricData", "count": 1 }));
    let f = rt
        .block_on(metrics::fetch(&client, &refs, start, now))
        .unwrap();
    let updates = metrics::to_updates(&refs, &f, now);
    let said = Some("MaxMetricsExceeded: Maximum number of allowed metrics exceeded".to_string());
    assert_eq!(notes(&updates), vec![said.clone(), said.clone()]);
    let mut app = war_room(&rb, now);
    fold(&mut app, now, &updates);
    assert_eq!(app.metrics[0].note, said);
    assert_eq!(app.metrics[1].note, said);
}

#[test]
fn two_metrics_insights_queries_go_in_two_calls() {
    let e = Emulator::start();
    let rb = runbook(
        "metrics:\n  - { id: orders, namespace: Shop, metric: Orders, stat: Sum }\n  - { id: busiest, expression: 'SELECT SUM(RequestCount) FROM SCHEMA(\"AWS/ApplicationELB\", LoadBalancer)' }\n  - { id: slowest, expression: 'SELECT MAX(TargetResponseTime) FROM SCHEMA(\"AWS/ApplicationELB\", LoadBalancer)' }\n",
    );
    let minute = floor(secs(Utc::now()), 60);
    script(&e, "Shop", "Orders", &[], &[(minute - 120, 4.0, None)]);
    let groups = plan::groups(&rb, &[]);
    let refs: Vec<&Group> = groups.iter().collect();
    let calls = plan::pack(&refs);
    let client = e.cloudwatch();
    let now = Utc::now();
    runtime().block_on(async {
        for call in &calls {
            // CloudWatch refuses two SELECTs in one call ("Maximum number of queries (1)
            // exceeded"); each of these goes through.
            let f = metrics::fetch(&client, call, now - chrono::Duration::hours(1), now)
                .await
                .unwrap_or_else(|err| panic!("{err}"));
            assert_eq!(f.calls, 1);
        }
    });
    assert_eq!(calls.len(), 2);
    let stats = e.stats();
    let per_call: Vec<u64> = stats["insights_queries_per_call"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n.as_u64().unwrap())
        .collect();
    assert_eq!(per_call.len(), 2, "{stats}");
    assert!(per_call.iter().all(|&n| n <= 1), "{per_call:?}");
    assert_eq!(stats["get_metric_data_queries"], 3, "the plain metric once");
}

#[test]
fn alarms_include_composites_in_their_state_since_the_last_transition() {
    let e = Emulator::start();
    let now = secs(Utc::now());
    // The reason was updated a minute ago; the state has held for an hour (composite alarms
    // update their reason without a transition as their children change).
    e.alarms(json!({
        "metric_alarms": [
            { "AlarmName": "launch-p99", "StateValue": "ALARM",
              "StateReason": "Threshold Crossed: 3 datapoints were greater than 900",
              "StateUpdatedTimestamp": now - 60, "StateTransitionedTimestamp": now - 3600,
              "Namespace": "AWS/ApplicationELB", "MetricName": "TargetResponseTime" },
            { "AlarmName": "other-cpu", "StateValue": "OK",
              "StateUpdatedTimestamp": now - 60, "StateTransitionedTimestamp": now - 60 }
        ],
        "composite_alarms": [
            { "AlarmName": "launch-health", "StateValue": "ALARM",
              "StateReason": "launch-p99 in ALARM",
              "AlarmRule": "ALARM(launch-p99) OR ALARM(checkout-5xx)",
              "StateUpdatedTimestamp": now - 30, "StateTransitionedTimestamp": now - 1800 },
            { "AlarmName": "checkout-slo", "StateValue": "OK",
              "StateReason": "all children OK", "AlarmRule": "ALARM(checkout-5xx)",
              "StateUpdatedTimestamp": now - 10, "StateTransitionedTimestamp": now - 7200 }
        ]
    }));
    let selector = tminus::runbook::model::AlarmSelector {
        prefix: Some("launch-".into()),
        names: vec!["checkout-slo".into()],
    };
    let rows = runtime()
        .block_on(alarms::describe(&e.cloudwatch(), &selector))
        .unwrap();
    let got: Vec<(&str, AlarmState, i64)> = rows
        .iter()
        .map(|r| (r.name.as_str(), r.state, secs(r.changed_at)))
        .collect();
    // The old code showed StateUpdatedTimestamp: "in ALARM for 30 s" for an hour-old alarm.
    assert_eq!(
        got,
        vec![
            ("checkout-slo", AlarmState::Ok, now - 7200),
            ("launch-health", AlarmState::Alarm, now - 1800),
            ("launch-p99", AlarmState::Alarm, now - 3600),
        ]
    );
    assert_eq!(rows[1].reason, "launch-p99 in ALARM");
}

// ---- Service Quotas, as the API reference shapes them -----------------------------------------

/// GetServiceQuota for one quota answers `quota` (merged into the identity fields).
fn stub_quota(e: &Emulator, service: &str, code: &str, quota: serde_json::Value) {
    let mut q = json!({
        "ServiceCode": service,
        "QuotaCode": code,
        "QuotaArn": format!("arn:aws:servicequotas:us-east-1:123456789012:{service}/{code}"),
        "GlobalQuota": false,
    });
    q.as_object_mut()
        .unwrap()
        .extend(quota.as_object().unwrap().clone());
    e.stub(json!({
        "target": "ServiceQuotasV20190624.GetServiceQuota",
        "match": { "ServiceCode": service, "QuotaCode": code },
        "body": { "Quota": q }
    }));
}

#[test]
fn a_rate_quota_per_second_is_compared_with_calls_per_second() {
    let e = Emulator::start();
    // A request-rate quota (code illustrative): 50 calls a second, measured by AWS/Usage
    // CallCount, whose Sum over CloudWatch's 60 s bucket is calls a minute.
    let usage_dims = [
        ("Service", "Secrets Manager"),
        ("Type", "API"),
        ("Resource", "GetSecretValue"),
        ("Class", "None"),
    ];
    stub_quota(
        &e,
        "secretsmanager",
        "L-1A2B3C4D",
        json!({
            "ServiceName": "AWS Secrets Manager",
            "QuotaName": "Rate of GetSecretValue requests",
            "Value": 50.0,
            "Unit": "None",
            "Adjustable": true,
            "Period": { "PeriodValue": 1, "PeriodUnit": "SECOND" },
            "UsageMetric": {
                "MetricNamespace": "AWS/Usage",
                "MetricName": "CallCount",
                "MetricDimensions": usage_dims.iter().map(|(k, v)| (k.to_string(), json!(v))).collect::<serde_json::Map<_, _>>(),
                "MetricStatisticRecommendation": "Sum"
            }
        }),
    );
    // 600 calls a minute (100 every 10 s) for the last ten minutes: 10 a second.
    let minute = floor(secs(Utc::now()), 60);
    let points: Vec<(i64, f64, Option<i64>)> = (minute - 600..minute)
        .step_by(10)
        .map(|t| (t, 100.0, None))
        .collect();
    script(&e, "AWS/Usage", "CallCount", &usage_dims, &points);
    let rb = runbook(
        "aws: { region: us-east-1 }\nquotas:\n  - { service: secretsmanager, code: L-1A2B3C4D, title: GetSecretValue rate }\n",
    );
    let now = Utc::now();
    let rt = runtime();
    let (quota_updates, usage, _, failed) = rt.block_on(quotas::read_all(&mut e.aws(), &rb, now));
    assert!(failed.is_empty(), "{failed:?}");
    assert_eq!(usage.len(), 1);
    assert_eq!(
        (usage[0].metric.as_str(), usage[0].stat.as_str()),
        ("CallCount", "Sum")
    );
    assert!(quota_updates.contains(&Update::QuotaMeta {
        quota: 0,
        adjustable: true,
        period_secs: Some(1),
        default: false
    }));
    let groups = plan::groups(&rb, &usage);
    let updates = rt.block_on(refresh(&e, &groups, &mut None, now));
    let per_second = updates
        .iter()
        .find_map(|u| match u {
            Update::Quota { usage: Some(v), .. } => Some(*v),
            _ => None,
        })
        .expect("usage from CallCount");
    assert!((per_second - 10.0).abs() < 1e-9, "{per_second}");

    // The old code compared 600 (a minute's calls) with 50 (a second's): no headroom, CRIT.
    let mut app = war_room(&rb, now);
    fold(&mut app, now, &quota_updates);
    fold(&mut app, now, &updates);
    let q = &app.quotas[0];
    assert_eq!(q.value, Some(50.0));
    let headroom = q.headroom_pct().unwrap();
    assert!((headroom - 80.0).abs() < 1e-6, "{headroom}");
    assert_eq!(q.severity, None);
    assert_eq!(app.open_alerts().count(), 0, "{:?}", app.alerts);
}

/// Runs `tminus <args> --endpoint-url <emulator>` with test credentials; returns the exit
/// status and stdout (stderr is shown when a test fails).
fn tminus_on(e: &Emulator, args: &[&str]) -> (Option<i32>, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_tminus"))
        .args(args)
        .args(["--endpoint-url", &e.endpoint_url()])
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env_remove("AWS_PROFILE")
        .output()
        .unwrap();
    // Shown when a test fails; stdout stays parseable (the JSON form).
    eprintln!("{}", String::from_utf8_lossy(&out.stderr));
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

fn quotas_command(e: &Emulator, runbook_yaml: &str, json: bool) -> (Option<i32>, String) {
    let dir = tempfile::tempdir().unwrap();
    let rb = dir.path().join("q.yaml");
    std::fs::write(&rb, runbook_yaml).unwrap();
    let mut args = vec!["quotas", rb.to_str().unwrap()];
    if json {
        args.push("--json");
    }
    tminus_on(e, &args)
}

#[test]
fn a_quota_of_zero_is_critical_in_the_quotas_command() {
    let e = Emulator::start();
    // New accounts get 0 for many Bedrock models: nothing fits, whatever the usage.
    stub_quota(
        &e,
        "bedrock",
        "L-4A6BFAB1",
        json!({
            "ServiceName": "Amazon Bedrock",
            "QuotaName": "Cross-region model inference requests per minute for Anthropic Claude Sonnet 4.5",
            "Value": 0.0,
            "Unit": "None",
            "Adjustable": true,
            "Period": { "PeriodValue": 1, "PeriodUnit": "MINUTE" }
        }),
    );
    let yaml = "event: { name: q, starts_at: 2026-12-01T17:00:00Z }\naws: { region: us-east-1 }\nquotas:\n  - { service: bedrock, code: L-4A6BFAB1, title: Sonnet requests/min }\n";
    let (code, out) = quotas_command(&e, yaml, false);
    // The old code had no headroom for a 0 (nothing to divide by): "usage unknown", exit 0.
    assert_eq!(code, Some(1), "{out}");
    let row = out
        .lines()
        .find(|l| l.contains("Sonnet requests/min"))
        .unwrap();
    assert!(
        row.ends_with("CRIT") && !out.contains("usage unknown"),
        "{out}"
    );
    let (code, out) = quotas_command(&e, yaml, true);
    assert_eq!(code, Some(1));
    let rows: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(rows[0]["status"], "CRIT");
    assert_eq!(rows[0]["value"], 0.0);
    assert_eq!(rows[0]["headroom_pct"], 0.0);
}

#[test]
fn a_quota_service_quotas_could_not_read_is_an_error_not_the_default() {
    let e = Emulator::start();
    // Reading ELB quotas needs elasticloadbalancing:DescribeAccountLimits as well: without it
    // Service Quotas answers 200 with an ErrorReason and no value.
    stub_quota(
        &e,
        "elasticloadbalancing",
        "L-53DA6B97",
        json!({
            "ServiceName": "Elastic Load Balancing (ELB)",
            "QuotaName": "Application Load Balancers per Region",
            "Unit": "None",
            "Adjustable": true,
            "ErrorReason": {
                "ErrorCode": "DEPENDENCY_ACCESS_DENIED_ERROR",
                "ErrorMessage": "Unable to retrieve the quota value: elasticloadbalancing:DescribeAccountLimits was denied for the caller"
            }
        }),
    );
    e.stub(json!({
        "target": "ServiceQuotasV20190624.GetAWSDefaultServiceQuota",
        "match": { "ServiceCode": "elasticloadbalancing" },
        "body": { "Quota": {
            "ServiceCode": "elasticloadbalancing", "QuotaCode": "L-53DA6B97",
            "QuotaName": "Application Load Balancers per Region", "Value": 50.0,
            "Unit": "None", "Adjustable": true, "GlobalQuota": false
        } }
    }));
    let rb = runbook(
        "aws: { region: us-east-1 }\nquotas:\n  - { service: elasticloadbalancing, code: L-53DA6B97, title: ALBs }\n",
    );
    let rt = runtime();
    let err = rt
        .block_on(quotas::fetch(
            &e.servicequotas(),
            "elasticloadbalancing",
            "L-53DA6B97",
        ))
        .unwrap_err();
    assert!(err.contains("DEPENDENCY_ACCESS_DENIED_ERROR"), "{err}");
    assert!(err.contains("DescribeAccountLimits"), "{err}");
    // What reaches the app: a failure naming the reason, no value. The old code fell back to
    // GetAWSDefaultServiceQuota and showed 50 "(default)" as if it applied.
    let (updates, _, infos, failed) = rt.block_on(quotas::read_all(&mut e.aws(), &rb, Utc::now()));
    assert!(updates.is_empty() && infos.is_empty(), "{updates:?}");
    assert_eq!(failed.len(), 1);
    assert!(
        failed[0].1.contains("DEPENDENCY_ACCESS_DENIED_ERROR"),
        "{failed:?}"
    );
    assert_eq!(e.calls("GetAWSDefaultServiceQuota"), 0);
}

#[test]
fn a_quota_aws_will_not_raise_says_so_to_the_app() {
    let e = Emulator::start();
    stub_quota(
        &e,
        "lambda",
        "L-2ACBD22F",
        json!({
            "ServiceName": "AWS Lambda",
            "QuotaName": "Function and layer storage",
            "Value": 75.0,
            "Unit": "Gigabytes",
            "Adjustable": false
        }),
    );
    let rb = runbook(
        "aws: { region: us-east-1 }\nquotas:\n  - { service: lambda, code: L-2ACBD22F, title: Code storage }\n",
    );
    let now = Utc::now();
    let (updates, _, _, failed) = runtime().block_on(quotas::read_all(&mut e.aws(), &rb, now));
    assert!(failed.is_empty(), "{failed:?}");
    assert!(
        updates.contains(&Update::QuotaMeta {
            quota: 0,
            adjustable: false,
            period_secs: None,
            default: false
        }),
        "{updates:?}"
    );
    let mut app = war_room(&rb, now);
    fold(&mut app, now, &updates);
    assert_eq!(app.quotas[0].adjustable, Some(false));
}

#[test]
fn a_failing_request_status_check_is_reported_once_not_retried_in_silence() {
    let e = Emulator::start();
    e.stub(json!({
        "target": "ServiceQuotasV20190624.RequestServiceQuotaIncrease",
        "body": { "RequestedQuota": {
            "Id": "d8abe8d1a4b0", "ServiceCode": "lambda", "QuotaCode": "L-B99A9384",
            "DesiredValue": 1500.0, "Status": "PENDING"
        } }
    }));
    e.stub(json!({
        "target": "ServiceQuotasV20190624.GetRequestedServiceQuotaChange",
        "status": 400,
        "body": { "__type": "AccessDeniedException", "message": "User: arn:aws:sts::123456789012:assumed-role/launch-operator/jane is not authorized to perform: servicequotas:GetRequestedServiceQuotaChange because no identity-based policy allows the servicequotas:GetRequestedServiceQuotaChange action" }
    }));
    let (tx, mut rx) = tokio::sync::mpsc::channel(8);
    let mut got = Vec::new();
    runtime().block_on(async {
        tokio::spawn(quotas::follow_increase(
            e.aws(),
            0,
            "lambda".into(),
            "L-B99A9384".into(),
            None,
            1500.0,
            Duration::from_millis(200),
            tx,
        ));
        // The request, then the failing check (after 200 ms).
        for _ in 0..2 {
            let u = tokio::time::timeout(Duration::from_secs(10), rx.recv())
                .await
                .expect("a report within 10 s")
                .unwrap();
            got.push(u);
        }
        // Checks go on (200 ms, then 400, 800...) but the same failure is not said again.
        tokio::time::sleep(Duration::from_millis(1600)).await;
        while let Ok(u) = rx.try_recv() {
            got.push(u);
        }
    });
    let statuses: Vec<String> = got
        .iter()
        .map(|u| match u {
            Update::QuotaRequest {
                status,
                error: None,
                request_id,
                ..
            } => {
                assert_eq!(request_id.as_deref(), Some("d8abe8d1a4b0"));
                status.clone()
            }
            other => panic!("{other:?}"),
        })
        .collect();
    // The old code ignored the failing check and polled in silence forever.
    assert_eq!(statuses.len(), 2, "{statuses:?}");
    assert_eq!(statuses[0], "PENDING");
    assert!(
        statuses[1].starts_with("PENDING (status check failing: access denied")
            && statuses[1].contains("servicequotas:GetRequestedServiceQuotaChange"),
        "{}",
        statuses[1]
    );
    assert!(e.calls("GetRequestedServiceQuotaChange") >= 2);
}

#[test]
fn an_access_denied_error_is_explained_once_with_the_missing_action() {
    let e = Emulator::start();
    let role = "launch-readonly-for-the-platform-team-with-a-rather-long-role-name";
    e.stub(json!({
        "target": "ServiceQuotasV20190624.GetServiceQuota",
        "status": 400,
        "body": { "__type": "AccessDeniedException", "message": format!("User: arn:aws:sts::123456789012:assumed-role/{role}/jane is not authorized to perform: servicequotas:GetServiceQuota because no identity-based policy allows the servicequotas:GetServiceQuota action") }
    }));
    let rb = runbook(
        "aws: { region: us-east-1 }\nquotas:\n  - { service: lambda, code: L-B99A9384, title: Lambda concurrency }\n",
    );
    // What the quotas source tells the app.
    let (tx, mut rx) = tokio::sync::mpsc::channel(16);
    let error = runtime().block_on(async {
        let source = Box::new(quotas::QuotasSource::new(
            e.aws(),
            rb,
            Arc::new(WallClock),
            None,
        ));
        tokio::spawn(source.run(tx));
        loop {
            match tokio::time::timeout(Duration::from_secs(10), rx.recv()).await {
                Ok(Some(Update::Health { error, .. })) => break error,
                Ok(Some(_)) => {}
                other => panic!("no health report: {other:?}"),
            }
        }
    });
    let error = error.expect("the failure is reported");
    // The old code explained the error where it was made and again where it was reported:
    // "access denied: ...: access denied: ...", cut at 200 characters before the action.
    assert_eq!(
        error.matches("servicequotas:GetServiceQuota").count(),
        1,
        "{error}"
    );
    assert_eq!(
        error.to_lowercase().matches("access denied").count(),
        1,
        "{error}"
    );
    assert_eq!(
        error,
        "lambda L-B99A9384: access denied: the credentials lack servicequotas:GetServiceQuota (the README lists tminus's IAM policy)"
    );
}

// ---- Bounds on what the network sends ------------------------------------------------------

/// This process's peak resident memory so far, in KiB (VmHWM).
fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap()
}

/// A process's peak resident memory so far, in KiB (VmHWM), while it runs.
fn peak_rss_of(pid: u32) -> Option<u64> {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()?
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

/// Runs `cmd` to its end, killed after `limit`: exit code, stdout, stderr, time taken and peak
/// resident memory in KiB. The peak is the child's own VmHWM, read every few milliseconds
/// while it runs (wait4's ru_maxrss would include this test process's: a spawned child
/// inherits the parent's high-water mark when it execs).
fn run_measured(
    mut cmd: std::process::Command,
    limit: Duration,
) -> (Option<i32>, String, String, Duration, u64) {
    use std::io::Read;
    use std::process::Stdio;
    let start = std::time::Instant::now();
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = child.stdout.take().unwrap();
    let mut err = child.stderr.take().unwrap();
    let out_reader = std::thread::spawn(move || {
        let mut s = String::new();
        out.read_to_string(&mut s).ok();
        s
    });
    let err_reader = std::thread::spawn(move || {
        let mut s = String::new();
        err.read_to_string(&mut s).ok();
        s
    });
    let mut peak = 0;
    let status = loop {
        if let Some(kib) = peak_rss_of(child.id()) {
            peak = peak.max(kib);
        }
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!("still running after {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    (
        status.code(),
        out_reader.join().unwrap(),
        err_reader.join().unwrap(),
        start.elapsed(),
        peak,
    )
}

/// An endpoint streaming a 200 MB body: the war room's source reports an error, and neither it
/// nor `tminus quotas` reads more than the cap (this drove `quotas` to 8.7 GB and the war room
/// to 5.6 GB before the cap).
#[test]
fn a_huge_answer_is_refused_and_memory_stays_bounded() {
    let e = Emulator::start();
    let rb = runbook(
        "metrics:\n  - { id: rps, namespace: Tminus/Wire, metric: Requests, stat: Sum, period: 10 }\n",
    );
    // The war room's CloudWatch source, in this process.
    e.fault(json!({ "mode": "huge", "op": "GetMetricData", "bytes": 200_000_000 }));
    let rt = runtime();
    let (tx, mut rx) = tokio::sync::mpsc::channel(64);
    let before = peak_rss_kib();
    let start = std::time::Instant::now();
    {
        let _guard = rt.enter();
        let source = Box::new(metrics::CloudWatchSource::new(
            e.aws(),
            rb,
            Utc::now(),
            Arc::new(WallClock),
            None,
        ));
        rt.spawn(source.run(tx));
    }
    let error = rt.block_on(async {
        loop {
            match tokio::time::timeout(Duration::from_secs(30), rx.recv()).await {
                Ok(Some(Update::Health { error, .. })) => break error,
                Ok(Some(_)) => continue,
                other => panic!("no health report: {other:?}"),
            }
        }
    });
    let took = start.elapsed();
    let grew_mib = (peak_rss_kib() - before) / 1024;
    drop(rt);
    let error = error.expect("the huge answer is an error");
    assert!(
        error.starts_with("the AWS endpoint sent an answer larger than 16 MiB"),
        "{error}"
    );
    assert!(took < Duration::from_secs(25), "{took:?}");
    // The body is 200 MB; reading it whole (as the SDK did) costs twice that.
    assert!(grew_mib < 100, "peak memory grew by {grew_mib} MiB");
    eprintln!("war room source: error after {took:?}, peak memory +{grew_mib} MiB: {error}");

    // `tminus quotas`, every call answered with the huge body, chunked or declared.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("q.yaml");
    std::fs::write(
        &path,
        "event: { name: q, starts_at: 2026-12-01T17:00:00Z }\naws: { region: us-east-1 }\nmetrics:\n  - { id: used, namespace: AWS/Usage, metric: ResourceCount, stat: Maximum }\nquotas:\n  - { service: lambda, code: L-B99A9384, usage_metric: used }\n",
    )
    .unwrap();
    for declare in [false, true] {
        e.reset();
        e.fault(json!({ "mode": "huge", "bytes": 200_000_000, "declare": declare }));
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_tminus"));
        cmd.arg("quotas")
            .arg(&path)
            .args(["--endpoint-url", &e.endpoint_url()])
            .env("AWS_ACCESS_KEY_ID", "testing")
            .env("AWS_SECRET_ACCESS_KEY", "testing")
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env_remove("AWS_PROFILE");
        let (code, stdout, stderr, took, peak_kib) = run_measured(cmd, Duration::from_secs(60));
        eprintln!(
            "tminus quotas (declared length: {declare}): exit {code:?} after {took:?}, peak RSS {} MiB\n{stdout}{stderr}",
            peak_kib / 1024
        );
        assert_eq!(code, Some(2), "{stdout}{stderr}");
        assert!(
            stdout.contains("error: the AWS endpoint sent an answer larger than 16 MiB"),
            "{stdout}"
        );
        assert!(peak_kib < 100 * 1024, "peak RSS {} MiB", peak_kib / 1024);
        assert!(took < Duration::from_secs(30), "{took:?}");
    }
}

/// Millions of one-byte values under the size cap: 16 MB of empty CBOR maps parsed into 16
/// million structs (2.3 GB). The values are counted before the SDK parses them.
#[test]
fn a_flood_of_tiny_values_is_refused_before_it_is_parsed() {
    let e = Emulator::start();
    let rb =
        runbook("metrics:\n  - { id: rps, namespace: Tminus/Wire, metric: Requests, stat: Sum }\n");
    let groups = plan::groups(&rb, &[]);
    let refs: Vec<&Group> = groups.iter().collect();
    e.fault(json!({ "mode": "flood", "op": "GetMetricData", "values": 16_000_000 }));
    let before = peak_rss_kib();
    let err = runtime().block_on(async {
        let client = e.aws().cloudwatch(None).await;
        let now = Utc::now();
        metrics::fetch(&client, &refs, now - chrono::Duration::hours(1), now)
            .await
            .unwrap_err()
    });
    let grew_mib = (peak_rss_kib() - before) / 1024;
    assert_eq!(
        tminus::source::aws::errors::explain_text(&err, None),
        "the AWS endpoint sent an answer with more than 500000 values: stopped reading it (check --endpoint-url, AWS_ENDPOINT_URL or a proxy in between)"
    );
    assert!(grew_mib < 150, "peak memory grew by {grew_mib} MiB");
    eprintln!("flood, in process: +{grew_mib} MiB: {err}");

    // `tminus quotas`: the quota is read, its usage metric is flooded.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("q.yaml");
    std::fs::write(
        &path,
        "event: { name: q, starts_at: 2026-12-01T17:00:00Z }\naws: { region: us-east-1 }\nmetrics:\n  - { id: used, namespace: AWS/Usage, metric: ResourceCount, stat: Maximum }\nquotas:\n  - { service: vpc, code: L-F678F1CE, usage_metric: used }\n",
    )
    .unwrap();
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_tminus"));
    cmd.arg("quotas")
        .arg(&path)
        .args(["--endpoint-url", &e.endpoint_url()])
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env_remove("AWS_PROFILE");
    let (code, stdout, stderr, took, peak_kib) = run_measured(cmd, Duration::from_secs(60));
    eprintln!(
        "tminus quotas, flooded: exit {code:?} after {took:?}, peak RSS {} MiB\n{stdout}{stderr}",
        peak_kib / 1024
    );
    assert!(
        stdout
            .contains("error: usage: the AWS endpoint sent an answer with more than 500000 values"),
        "{stdout}{stderr}"
    );
    assert!(peak_kib < 150 * 1024, "peak RSS {} MiB", peak_kib / 1024);
}

/// However many datapoints an answer holds, a fetch keeps the newest few thousand of each
/// series (the app shows 720): memory per call is bounded by the queries, not by the endpoint.
#[test]
fn a_fetch_keeps_a_bounded_number_of_points_per_series() {
    let e = Emulator::start();
    let now = Utc::now().timestamp();
    let start = now - now % 60 - 5_000 * 10;
    let points: Vec<serde_json::Value> = (0..5_000)
        .map(|i| json!({ "t": (start + i * 10) as f64, "v": i as f64 }))
        .collect();
    e.datapoints(
        json!({ "namespace": "Tminus/Many", "metric": "M", "dimensions": {}, "points": points }),
    );
    let rb = runbook(
        "metrics:\n  - { id: many, namespace: Tminus/Many, metric: M, stat: Sum, period: 10 }\n",
    );
    let groups = plan::groups(&rb, &[]);
    let refs: Vec<&Group> = groups.iter().collect();
    let f = runtime()
        .block_on(async {
            let client = e.aws().cloudwatch(None).await;
            let from = DateTime::from_timestamp(start, 0).unwrap();
            metrics::fetch(&client, &refs, from, Utc::now()).await
        })
        .unwrap();
    let got = &f.series["many"];
    assert_eq!(got.len(), metrics::MAX_POINTS_PER_SERIES);
    // The newest ones, oldest first.
    assert_eq!(got.last().unwrap().value, 4_999.0);
    assert_eq!(
        got.first().unwrap().value,
        (5_000 - metrics::MAX_POINTS_PER_SERIES) as f64
    );
}

/// `tminus plan` against the emulator: three days of history put into CloudWatch, the quota
/// from Service Quotas, read live in two-minute buckets and projected to 22x.
#[test]
fn the_plan_reads_history_live_and_projects_it_to_the_forecast_peak() {
    let e = Emulator::start();
    stub_quota(
        &e,
        "lambda",
        "L-B99A9384",
        json!({
            "ServiceName": "AWS Lambda",
            "QuotaName": "Concurrent executions",
            "Value": 1000.0,
            "Unit": "None",
            "Adjustable": true
        }),
    );
    let rt = runtime();
    rt.block_on(async {
        // Concurrency: a quiet baseline with a peak of 180 a day and a half ago.
        let mut conc: Vec<(i64, f64)> = (0..72)
            .map(|h| (h * 60 + 7, 40.0 + (h % 5) as f64))
            .collect();
        conc.push((36 * 60 + 3, 180.0));
        put(&e, "AWS/Lambda", "ClaimedAccountConcurrency", &[], &conc).await;
        // Requests: 500 a minute in both minutes of one two-minute bucket (a Sum of 1,000 read
        // back as 500 a minute), 100 a minute elsewhere.
        let mut req: Vec<(i64, f64)> = (0..72).map(|h| (h * 60 + 11, 100.0)).collect();
        let b = {
            let now = Utc::now().timestamp();
            let t = minutes_ago(1_000).timestamp();
            (now - now.rem_euclid(60) - (t - t.rem_euclid(120))) / 60
        };
        req.push((b, 500.0));
        req.push((b - 1, 500.0));
        put(
            &e,
            "AWS/ApplicationELB",
            "RequestCount",
            &[("LoadBalancer", "app/web/1")],
            &req,
        )
        .await;
    });
    let dir = tempfile::tempdir().unwrap();
    let rb = dir.path().join("plan.yaml");
    let t0 = (Utc::now() + chrono::Duration::days(30)).to_rfc3339();
    std::fs::write(
        &rb,
        format!(
            "event: {{ name: plan, starts_at: \"{t0}\", forecast: 22x }}
aws: {{ region: us-east-1 }}
metrics:
  - {{ id: conc, namespace: AWS/Lambda, metric: ClaimedAccountConcurrency, stat: Maximum, warn: 800, crit: 950 }}
  - {{ id: req, namespace: AWS/ApplicationELB, metric: RequestCount, dimensions: {{ LoadBalancer: app/web/1 }}, stat: Sum, warn: 20000, crit: 50000 }}
quotas:
  - {{ service: lambda, code: L-B99A9384, title: Lambda concurrency, usage_metric: conc }}
"
        ),
    )
    .unwrap();
    let run = |json: bool| {
        let rb = rb.to_str().unwrap();
        let args: &[&str] = if json {
            &["plan", rb, "--history", "3d", "--json"]
        } else {
            &["plan", rb, "--history", "3d"]
        };
        tminus_on(&e, args)
    };
    let (code, out) = run(true);
    assert_eq!(code, Some(1), "projected critical: {out}");
    let plan: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(plan["period_secs"], 120, "three days in two-minute buckets");
    let q = &plan["quotas"][0];
    assert_eq!(q["value"], 1000.0);
    assert_eq!(q["adjustable"], true);
    assert_eq!(q["peak"]["value"], 180.0, "{q}");
    assert_eq!(q["projected"], 3960.0);
    assert_eq!(q["status"], "crit");
    assert_eq!(q["request"], 8000.0);
    let metric = |id: &str| {
        plan["metrics"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["id"] == id)
            .unwrap()
            .clone()
    };
    assert_eq!(metric("conc")["projected"], 3960.0);
    assert_eq!(metric("conc")["status"], "crit");
    // The Sum over two minutes is read back per minute, as the runbook's period.
    assert_eq!(metric("req")["peak"]["value"], 500.0, "{}", metric("req"));
    assert_eq!(metric("req")["projected"], 11000.0);
    assert_eq!(metric("req")["status"], "fits");

    let (code, table) = run(false);
    assert_eq!(code, Some(1));
    let row = table.lines().find(|l| l.starts_with("L-B99A9384")).unwrap();
    assert!(row.contains("CRIT") && row.contains("8000"), "{table}");
    assert!(table.contains("2m averages"), "{table}");
}

fn room_table(e: &Emulator, name: &str) -> tminus::room::table::Table {
    tminus::room::table::Table::new(aws_sdk_dynamodb::Client::new(&e.sdk_config()), name)
}

fn note(who: &str, text: &str) -> tminus::journal::Record {
    tminus::journal::Record {
        ts: Utc::now(),
        operator: who.into(),
        room: None,
        event: tminus::journal::Event::Note { text: text.into() },
    }
}

#[test]
fn room_create_is_harmless_twice_and_three_writers_converge_on_one_log() {
    use tminus::room::table::Created;
    use tminus::room::{Follower, Outgoing, RoomMeta};
    let e = Emulator::start();
    let rt = runtime();
    rt.block_on(async {
        let t = room_table(&e, "tminus-rooms");
        assert_eq!(t.create().await.unwrap(), Created::New);
        assert_eq!(t.create().await.unwrap(), Created::Existed);

        // The first session fixes the room's runbook and T-0; a joiner gets them.
        let meta = |who: &str| RoomMeta {
            event_name: "Sale".into(),
            runbook_yaml: format!("# {who}'s copy"),
            t0: Utc::now(),
            created_by: who.into(),
            created_at: Utc::now(),
            mode: "live".into(),
            seed: 0,
            rehearsal: None,
        };
        let first = t
            .open_room("sale", &meta("jane"), Utc::now())
            .await
            .unwrap();
        let joined = t.open_room("sale", &meta("raj"), Utc::now()).await.unwrap();
        assert_eq!(joined, first);
        assert_eq!(joined.created_by, "jane");

        // Three writers, 20 records each, interleaved on one runtime: every append races.
        let writer = |who: &'static str| {
            let t = room_table(&e, "tminus-rooms");
            async move {
                let mut f = Follower::default();
                let mut missed = 0;
                for i in 0..20 {
                    let out = Outgoing {
                        id: format!("{who}:{i}"),
                        record: note(who, &format!("{who}-{i:02}")),
                    };
                    let mut m = Vec::new();
                    t.append("sale", &mut f, &out, Utc::now(), &mut m)
                        .await
                        .unwrap();
                    missed += m.len();
                    tokio::task::yield_now().await;
                }
                (f, missed)
            }
        };
        let (a, b, c) = tokio::join!(writer("ann"), writer("bob"), writer("cat"));
        for (mut f, mut missed) in [a, b, c] {
            // Catch up once everyone is done, as every instance does each second.
            let rest = t.read_after("sale", f.seen).await.unwrap();
            missed += f.take(rest).len();
            assert_eq!(f.seen, 60, "every writer sees the whole log");
            assert_eq!(
                missed, 40,
                "and folds the other two writers' 40 records once"
            );
        }
        let log = t.read_after("sale", 0).await.unwrap();
        assert_eq!(
            log.iter().map(|e| e.seq).collect::<Vec<_>>(),
            (1..=60).collect::<Vec<u64>>()
        );
        let mut ids: Vec<&str> = log.iter().map(|e| e.id.as_str()).collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), 60, "nothing written twice");
        for who in ["ann", "bob", "cat"] {
            let mine: Vec<String> = log
                .iter()
                .filter(|e| e.record.operator == who)
                .map(|e| match &e.record.event {
                    tminus::journal::Event::Note { text } => text.clone(),
                    _ => unreachable!(),
                })
                .collect();
            let want: Vec<String> = (0..20).map(|i| format!("{who}-{i:02}")).collect();
            assert_eq!(mine, want, "each writer's records in its own order");
        }

        // A retried write that had landed is found, not repeated.
        let mut f = Follower::default();
        f.take(t.read_after("sale", 0).await.unwrap());
        let again = Outgoing {
            id: "ann:3".into(),
            record: note("ann", "ann-03"),
        };
        t.append("sale", &mut f, &again, Utc::now(), &mut Vec::new())
            .await
            .unwrap();
        assert_eq!(t.read_after("sale", 0).await.unwrap().len(), 60);
    });

    // The command: exit 0 both times, and says which.
    let run = || {
        let (code, out) = tminus_on(
            &e,
            &["room", "create", "cli-rooms", "--region", "us-east-1"],
        );
        assert_eq!(code, Some(0), "{out}");
        out
    };
    assert!(run().contains("created"));
    assert!(run().contains("already there"));
}

/// A journal the test can read after the war room has it.
#[derive(Clone, Default)]
struct SharedJournal(std::rc::Rc<std::cell::RefCell<Vec<tminus::journal::Record>>>);

impl tminus::journal::JournalSink for SharedJournal {
    fn append(&mut self, r: &tminus::journal::Record) -> anyhow::Result<()> {
        self.0.borrow_mut().push(r.clone());
        Ok(())
    }
    fn location(&self) -> String {
        "(shared)".into()
    }
}

const TEAM_RUNBOOK: &str = r#"
event: { name: wire team, starts_at: 2026-12-01T17:00:00Z }
roles:
  - { id: ic, name: Incident commander, votes: true }
checklists:
  - name: Pre-flight
    items:
      - { id: a, title: Item A }
      - { id: b, title: Item B }
      - { id: c, title: Item C }
"#;

/// One seat of a room in this process: its war room, its journal and its sync task's ends.
struct TestSeat {
    app: App,
    journal: SharedJournal,
    to_sync: Option<tokio::sync::mpsc::UnboundedSender<tminus::room::sync::ToSync>>,
    from_sync: tokio::sync::mpsc::Receiver<tminus::room::RoomUpdate>,
    task: tokio::task::JoinHandle<()>,
}

impl TestSeat {
    fn start(e: &Emulator, table: &str, who: &str) -> TestSeat {
        use tminus::app::room::{RoomState, Seat};
        let journal = SharedJournal::default();
        let rb = tminus::runbook::parse("team.yaml", TEAM_RUNBOOK).unwrap();
        let app = App::new(
            rb,
            AppOptions {
                runbook_path: "team.yaml".into(),
                t0: DateTime::parse_from_rfc3339("2026-12-01T17:00:00Z")
                    .unwrap()
                    .to_utc(),
                operator: who.into(),
                mode: Mode::Simulated,
                allow_writes: false,
                speed: 1.0,
                data_label: None,
                seat: Seat::Member,
                room: Some(RoomState::new("wire", format!("{who}-1"))),
            },
            Utc::now(),
            Box::new(journal.clone()),
            Vec::new(),
        );
        let (stx, srx) = tokio::sync::mpsc::unbounded_channel();
        let (rtx, rrx) = tokio::sync::mpsc::channel(256);
        let sync = tminus::room::sync::SyncTask {
            table: room_table(e, table),
            room: "wire".into(),
            seat: tminus::room::Presence {
                session: format!("{who}-1"),
                operator: who.into(),
                role: None,
                watcher: false,
                joined_at: Utc::now(),
                last_seen: Utc::now(),
                left: false,
            },
            seen: 0,
            known: Vec::new(),
            now: Utc::now,
        };
        let task = tokio::spawn(sync.run(srx, rtx));
        TestSeat {
            app,
            journal,
            to_sync: Some(stx),
            from_sync: rrx,
            task,
        }
    }

    /// What the event loop does each round: fold the room's news, hand over what is queued.
    fn pump(&mut self) {
        while let Ok(u) = self.from_sync.try_recv() {
            self.app.update(Utc::now(), Msg::Room(u));
        }
        for o in self.app.take_room_outgoing() {
            if let Some(tx) = &self.to_sync {
                tx.send(tminus::room::sync::ToSync::Send(Box::new(o)))
                    .unwrap();
            }
        }
    }

    fn items(&self) -> Vec<String> {
        self.app
            .visible_items()
            .iter()
            .map(|r| format!("{}={:?}", r.item.id, r.state.status))
            .collect()
    }

    fn queued(&self) -> usize {
        self.app.room.as_ref().unwrap().queued.len()
    }
}

#[test]
fn three_seats_acting_on_the_same_items_through_a_partition_converge_on_one_state() {
    use tminus::journal::Event;
    let mut e = Emulator::start();
    let rt = runtime();
    rt.block_on(async {
        let t = room_table(&e, "team-rooms");
        t.create().await.unwrap();
        let mut seats: Vec<TestSeat> = ["ann", "bob", "cat"]
            .iter()
            .map(|w| TestSeat::start(&e, "team-rooms", w))
            .collect();
        // Deterministic actions: every seat ticks and unticks the same three items and notes.
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut rand = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        let mut notes = Vec::new();
        let act = |seat: &mut TestSeat, r: u64, notes: &mut Vec<String>| {
            let item = ["a", "b", "c"][(r % 3) as usize].to_string();
            let who = seat.app.operator.clone();
            match (r >> 8) % 3 {
                0 => seat.app.act(Event::ItemDone { item, auto: false }),
                1 => seat.app.act(Event::ItemReopened { item }),
                _ => {
                    let text = format!("{who} note {}", notes.len());
                    notes.push(text.clone());
                    seat.app.act(Event::Note { text })
                }
            };
        };
        // 1. Connected: 3 s of actions, a few a second per seat.
        for _ in 0..30 {
            for s in seats.iter_mut() {
                let r = rand();
                act(s, r, &mut notes);
                s.pump();
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        // 2. Partition: the table is unreachable; the seats go on acting, their actions queued.
        e.stop_gateway();
        for _ in 0..20 {
            for s in seats.iter_mut() {
                let r = rand();
                act(s, r, &mut notes);
                s.pump();
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        // Let the sync tasks notice (their calls fail or time out within 5 s).
        for _ in 0..80 {
            for s in seats.iter_mut() {
                s.pump();
            }
            if seats
                .iter()
                .all(|s| s.app.room.as_ref().is_some_and(|r| r.link.error.is_some()))
            {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        for s in &seats {
            let room = s.app.room.as_ref().unwrap();
            assert!(
                room.link.error.is_some(),
                "{} says the room is unreachable",
                s.app.operator
            );
            assert!(s.queued() > 0, "{} kept its actions queued", s.app.operator);
        }
        // 3. Heal: everything queued goes through, in order, once.
        e.start_gateway();
        let healed = std::time::Instant::now();
        let deadline = healed + Duration::from_secs(30);
        loop {
            for s in seats.iter_mut() {
                s.pump();
            }
            let log = t.read_after("wire", 0).await.unwrap();
            let settled = seats
                .iter()
                .all(|s| s.queued() == 0 && s.app.room.as_ref().unwrap().seen == log.len() as u64);
            if settled {
                break;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "did not converge after healing"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        eprintln!("converged {:?} after the heal", healed.elapsed());
        let log = t.read_after("wire", 0).await.unwrap();
        // One contiguous log, every action once.
        assert_eq!(
            log.iter().map(|e| e.seq).collect::<Vec<_>>(),
            (1..=log.len() as u64).collect::<Vec<_>>()
        );
        let mut ids: Vec<&str> = log.iter().map(|e| e.id.as_str()).collect();
        ids.sort_unstable();
        let n = ids.len();
        ids.dedup();
        assert_eq!(ids.len(), n, "nothing written twice");
        assert_eq!(n, 150, "every action of 50 rounds x 3 seats is in the log");
        // Every seat holds the same state: the log's fold.
        let first = seats[0].items();
        for s in &seats {
            assert_eq!(s.items(), first, "{} converged", s.app.operator);
            // Every note once in each seat's journal.
            let mut seen: Vec<String> = s
                .journal
                .0
                .borrow()
                .iter()
                .filter_map(|r| match &r.event {
                    Event::Note { text } => Some(text.clone()),
                    _ => None,
                })
                .collect();
            seen.sort();
            let mut want = notes.clone();
            want.sort();
            assert_eq!(
                seen, want,
                "{}'s journal has every note once",
                s.app.operator
            );
        }
        // The state is the log's own fold: the last record per item wins.
        let mut last = std::collections::BTreeMap::new();
        for en in &log {
            match &en.record.event {
                Event::ItemDone { item, .. } => {
                    last.insert(item.clone(), "Done");
                }
                Event::ItemReopened { item } => {
                    last.insert(item.clone(), "Todo");
                }
                _ => {}
            }
        }
        for (item, st) in last {
            assert!(first.contains(&format!("{item}={st}")), "{item}: {first:?}");
        }
        for s in seats.iter_mut() {
            s.to_sync = None;
        }
        for s in seats {
            let _ = tokio::time::timeout(Duration::from_secs(10), s.task).await;
        }
    });
}

/// The room's figures for BENCHMARKS.md (run by scripts/bench-room, release build): time for
/// an action to reach another seat (p50, p99), append throughput for one and three writers,
/// and the calls an idle seat makes a minute (the DynamoDB cost of a room).
#[test]
#[ignore = "a benchmark: scripts/bench-room runs it"]
fn room_benchmark() {
    use tminus::journal::Event;
    let e = Emulator::start();
    let rt = runtime();
    rt.block_on(async {
        let t = room_table(&e, "bench-rooms");
        t.create().await.unwrap();
        let mut a = TestSeat::start(&e, "bench-rooms", "ann");
        let mut b = TestSeat::start(&e, "bench-rooms", "bob");
        // 1. Latency: ann notes, bob's war room folds it; 200 times, 50 ms apart.
        let mut lat = Vec::new();
        for i in 0..200 {
            let text = format!("n{i}");
            a.app.act(Event::Note { text: text.clone() });
            let start = std::time::Instant::now();
            a.pump();
            loop {
                a.pump();
                b.pump();
                let got = b.app.timeline.iter().any(|r| {
                    matches!(&r.event, Event::Note { text: t } if *t == text)
                });
                if got {
                    break;
                }
                assert!(start.elapsed() < Duration::from_secs(10));
                tokio::time::sleep(Duration::from_millis(2)).await;
            }
            lat.push(start.elapsed().as_secs_f64() * 1000.0);
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        lat.sort_by(f64::total_cmp);
        let pct = |p: f64| lat[((lat.len() as f64 - 1.0) * p).round() as usize];
        println!(
            "BENCH action to another seat: p50 {:.0} ms, p99 {:.0} ms, max {:.0} ms over {} actions",
            pct(0.5),
            pct(0.99),
            lat[lat.len() - 1],
            lat.len()
        );
        // 2. Throughput: appends as fast as the table takes them, one writer, then three.
        for writers in [1usize, 3] {
            let n_each = 300 / writers;
            let start = std::time::Instant::now();
            let run = |w: usize| {
                let t = room_table(&e, "bench-rooms");
                async move {
                    let mut f = tminus::room::Follower::default();
                    f.take(t.read_after("thru", 0).await.unwrap());
                    for i in 0..n_each {
                        let out = tminus::room::Outgoing {
                            id: format!("w{writers}-{w}:{i}"),
                            record: note("w", "x"),
                        };
                        // Losing the race 32 times in a row gives up (the sync task keeps the
                        // record queued and tries again): so does this.
                        let mut tries = 0;
                        while t
                            .append("thru", &mut f, &out, Utc::now(), &mut Vec::new())
                            .await
                            .is_err()
                        {
                            tries += 1;
                            assert!(tries < 100);
                        }
                    }
                }
            };
            match writers {
                1 => run(0).await,
                _ => {
                    tokio::join!(run(0), run(1), run(2));
                }
            }
            let secs = start.elapsed().as_secs_f64();
            println!(
                "BENCH append throughput, {writers} writer(s): {:.0} records/s ({} in {secs:.1} s)",
                (n_each * writers) as f64 / secs,
                n_each * writers
            );
        }
        // 3. An idle seat's calls a minute, counted at the emulator.
        e.reset();
        let idle = Duration::from_secs(30);
        let start = std::time::Instant::now();
        while start.elapsed() < idle {
            a.pump();
            b.pump();
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let per_min = |op: &str| e.calls(op) as f64 / 2.0 * (60.0 / idle.as_secs_f64());
        let (q, p) = (per_min("Query"), per_min("PutItem"));
        println!("BENCH idle seat: {q:.0} Query/min, {p:.0} PutItem/min");
        // On-demand, us-east-1: USD 0.125 per million read units (a consistent read of up to
        // 4 KB is one), USD 0.625 per million write units (up to 1 KB each).
        let seats = 10.0;
        let usd = seats * 60.0 * (q * 0.125 + p * 0.625) / 1e6;
        println!("BENCH ten-person room, idle: USD {usd:.4} an hour in reads and writes");
        drop(a);
        drop(b);
    });
}
