//! tminus's AWS sources on the wire: the real AWS SDK (CloudWatch in Smithy RPC v2 CBOR,
//! Service Quotas in awsJson1_1) against moto on loopback, through the CBOR gateway
//! (tests/support). Calls are counted at the emulator.
//!
//! moto's limits, as measured: metric math is only evaluated when an expression is exactly
//! another query's id (so math is checked as sent, not as computed); Service Quotas knows only
//! the `vpc` service, so other quotas, defaults and increase requests are stubbed at the gateway
//! with answers shaped as in the API reference.

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
use tminus::clock::WallClock;
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
        assert_eq!(err, "throttled by AWS: backing off and retrying");
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
            &[(2, 900.0), (1, 950.0)],
        )
        .await;
    });
    let dir = tempfile::tempdir().unwrap();
    let rb = dir.path().join("q.yaml");
    std::fs::write(
        &rb,
        "event: { name: q, starts_at: 2026-12-01T17:00:00Z }\naws: { region: us-east-1 }\nquotas:\n  - { service: vpc, code: L-F678F1CE, title: VPCs per Region }\n  - { service: lambda, code: L-B99A9384, title: Lambda concurrency }\n",
    )
    .unwrap();
    let run = |json: bool| {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_tminus"));
        cmd.arg("quotas")
            .arg(&rb)
            .args(["--endpoint-url", &e.endpoint_url()])
            .env("AWS_ACCESS_KEY_ID", "testing")
            .env("AWS_SECRET_ACCESS_KEY", "testing")
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env_remove("AWS_PROFILE");
        if json {
            cmd.arg("--json");
        }
        cmd.output().unwrap()
    };
    let out = run(false);
    let table = String::from_utf8_lossy(&out.stdout).to_string();
    assert_eq!(
        out.status.code(),
        Some(1),
        "{table}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
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

    let out = run(true);
    assert_eq!(out.status.code(), Some(1));
    let rows: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(rows[1]["code"], "L-B99A9384");
    assert_eq!(rows[1]["status"], "CRIT");
    assert_eq!(rows[1]["headroom_pct"], 5.0);
    assert_eq!(rows[1]["value_source"], "default");
}
