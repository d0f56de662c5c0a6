//! Against real AWS, read-only, for users with an account. Opt-in: these tests are ignored by
//! default and make no changes. Run them with credentials from the standard chain:
//!
//!   TMINUS_REAL_AWS=1 AWS_PROFILE=readonly AWS_REGION=us-east-1 \
//!       cargo test --test aws_real -- --ignored
//!
//! They call GetServiceQuota / GetAWSDefaultServiceQuota, GetMetricData and DescribeAlarms
//! only, the calls the README's read-only IAM policy allows.

use chrono::{Duration, Utc};
use tminus::runbook::Runbook;
use tminus::source::aws::{Aws, AwsSettings, alarms, metrics, plan, quotas};

fn enabled() -> bool {
    let on = std::env::var("TMINUS_REAL_AWS").is_ok_and(|v| v == "1");
    if !on {
        eprintln!("set TMINUS_REAL_AWS=1 to run against real AWS");
    }
    on
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

#[test]
#[ignore = "real AWS: TMINUS_REAL_AWS=1 cargo test --test aws_real -- --ignored"]
fn lambda_concurrency_quota_has_a_value() {
    if !enabled() {
        return;
    }
    runtime().block_on(async {
        let mut aws = Aws::new(AwsSettings::default());
        let client = aws.servicequotas(None).await;
        let q = quotas::fetch(&client, "lambda", "L-B99A9384")
            .await
            .unwrap();
        assert!(q.value.is_some_and(|v| v > 0.0), "{q:?}");
    });
}

#[test]
#[ignore = "real AWS: TMINUS_REAL_AWS=1 cargo test --test aws_real -- --ignored"]
fn get_metric_data_answers_a_batched_query() {
    if !enabled() {
        return;
    }
    let rb: Runbook = serde_yaml::from_str(
        "event: { name: t, starts_at: 2026-12-01T17:00:00Z }\nmetrics:\n  - { id: conc, namespace: AWS/Lambda, metric: ConcurrentExecutions, stat: Maximum }\n  - { id: doubled, expression: \"2 * conc\" }\n",
    )
    .unwrap();
    runtime().block_on(async {
        let mut aws = Aws::new(AwsSettings::default());
        let client = aws.cloudwatch(None).await;
        let gs = plan::groups(&rb, &[]);
        let refs: Vec<&plan::Group> = gs.iter().collect();
        let now = Utc::now();
        let f = metrics::fetch(&client, &refs, now - Duration::hours(1), now)
            .await
            .unwrap();
        assert_eq!(f.calls, 1);
        assert_eq!(f.metrics_requested, 1);
    });
}

#[test]
#[ignore = "real AWS: TMINUS_REAL_AWS=1 cargo test --test aws_real -- --ignored"]
fn describe_alarms_by_prefix() {
    if !enabled() {
        return;
    }
    runtime().block_on(async {
        let mut aws = Aws::new(AwsSettings::default());
        let client = aws.cloudwatch(None).await;
        let selector = tminus::runbook::model::AlarmSelector {
            prefix: Some("a".into()),
            names: vec![],
        };
        let rows = alarms::describe(&client, &selector).await.unwrap();
        let mut sorted = rows.clone();
        sorted.sort_by(|a, b| a.name.cmp(&b.name));
        assert_eq!(rows, sorted);
    });
}
