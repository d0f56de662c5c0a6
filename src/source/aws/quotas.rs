//! Service Quotas: the applied value (GetServiceQuota), falling back to the AWS default
//! (GetAWSDefaultServiceQuota) when the account has none, and the quota's usage metric, which
//! the CloudWatch source then batches with everything else. Values change rarely, so they are
//! read at start and every 15 minutes.

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::Duration;
use tokio::sync::mpsc::Sender;

use super::plan::UsageMetric;
use super::{Aws, backoff, errors};
use crate::clock::Clock;
use crate::runbook::Runbook;
use crate::source::{BoxFuture, Source, Update};

pub const SOURCE: &str = "servicequotas";
const REFRESH: Duration = Duration::minutes(15);
/// GetServiceQuota allows 5 requests a second: stay under it.
const BETWEEN_CALLS: std::time::Duration = std::time::Duration::from_millis(250);

/// Where a quota's value came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueSource {
    Applied,
    Default,
}

#[derive(Debug, Clone, PartialEq)]
pub struct QuotaInfo {
    pub name: Option<String>,
    pub value: Option<f64>,
    pub source: ValueSource,
    pub adjustable: bool,
    /// The metric Service Quotas says measures usage (namespace AWS/Usage, mostly); many
    /// quotas have none.
    pub usage: Option<(String, String, BTreeMap<String, String>, String)>,
}

fn info(q: &aws_sdk_servicequotas::types::ServiceQuota, source: ValueSource) -> QuotaInfo {
    let usage = q.usage_metric().and_then(|m| {
        Some((
            m.metric_namespace()?.to_string(),
            m.metric_name()?.to_string(),
            m.metric_dimensions()
                .map(|d| d.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
                .unwrap_or_default(),
            m.metric_statistic_recommendation()
                .unwrap_or("Maximum")
                .to_string(),
        ))
    });
    QuotaInfo {
        name: q.quota_name().map(str::to_string),
        value: q.value(),
        source,
        adjustable: q.adjustable(),
        usage,
    }
}

/// The quota's applied value, or the AWS default when none is applied.
pub async fn fetch(
    client: &aws_sdk_servicequotas::Client,
    service: &str,
    code: &str,
) -> Result<QuotaInfo, String> {
    let applied = client
        .get_service_quota()
        .service_code(service)
        .quota_code(code)
        .send();
    match tokio::time::timeout(super::CALL_TIMEOUT, applied).await {
        Err(_) => return Err("GetServiceQuota timed out".into()),
        Ok(Ok(r)) => {
            if let Some(q) = r.quota()
                && q.value().is_some()
            {
                return Ok(info(q, ValueSource::Applied));
            }
        }
        Ok(Err(e)) => {
            let no_applied_value = e
                .as_service_error()
                .is_some_and(|s| s.is_no_such_resource_exception());
            if !no_applied_value {
                return Err(errors::explain(&e, None));
            }
        }
    }
    let default = client
        .get_aws_default_service_quota()
        .service_code(service)
        .quota_code(code)
        .send();
    match tokio::time::timeout(super::CALL_TIMEOUT, default).await {
        Err(_) => Err("GetAWSDefaultServiceQuota timed out".into()),
        Ok(Err(e)) => Err(errors::explain(&e, None)),
        Ok(Ok(r)) => r
            .quota()
            .map(|q| info(q, ValueSource::Default))
            .ok_or_else(|| format!("no quota {service} {code}")),
    }
}

pub struct QuotasSource {
    aws: Aws,
    runbook: Runbook,
    clock: Arc<dyn Clock>,
    usage_tx: Option<Sender<Vec<UsageMetric>>>,
}

impl QuotasSource {
    pub fn new(
        aws: Aws,
        runbook: Runbook,
        clock: Arc<dyn Clock>,
        usage_tx: Option<Sender<Vec<UsageMetric>>>,
    ) -> Self {
        Self {
            aws,
            runbook,
            clock,
            usage_tx,
        }
    }
}

impl Source for QuotasSource {
    fn name(&self) -> &str {
        SOURCE
    }
    fn run(self: Box<Self>, tx: Sender<Update>) -> BoxFuture {
        Box::pin(async move { self.run_loop(tx).await })
    }
}

/// Reads every quota once: value updates for the app and the usage metrics to batch.
pub async fn read_all(
    aws: &mut Aws,
    runbook: &Runbook,
    now: chrono::DateTime<chrono::Utc>,
) -> (
    Vec<Update>,
    Vec<UsageMetric>,
    Vec<(usize, QuotaInfo)>,
    Vec<(usize, String)>,
) {
    let mut updates = Vec::new();
    let mut usage = Vec::new();
    let mut infos = Vec::new();
    let mut failed = Vec::new();
    for (i, q) in runbook.quotas.iter().enumerate() {
        let client = aws.servicequotas(q.region.as_deref()).await;
        match fetch(&client, &q.service, &q.code).await {
            Ok(info) => {
                updates.push(Update::Quota {
                    quota: i,
                    value: info.value,
                    usage: None,
                    at: now,
                });
                // A runbook's own usage metric wins: it is there because AWS has none, or a
                // better one.
                if q.usage_metric.is_none()
                    && let Some((namespace, metric, dimensions, stat)) = info.usage.clone()
                {
                    usage.push(UsageMetric {
                        quota: i,
                        namespace,
                        metric,
                        dimensions,
                        stat,
                    });
                }
                infos.push((i, info));
            }
            Err(e) => {
                let profile = aws.settings().profile.clone();
                failed.push((i, errors::explain_text(&e, profile.as_deref())));
            }
        }
        tokio::time::sleep(BETWEEN_CALLS).await;
    }
    (updates, usage, infos, failed)
}

impl QuotasSource {
    async fn run_loop(mut self, tx: Sender<Update>) {
        if self.runbook.quotas.is_empty() {
            return;
        }
        let mut failures = 0u32;
        let mut sent_usage: Option<Vec<UsageMetric>> = None;
        loop {
            let now = self.clock.now();
            let (mut updates, usage, _, failed) = read_all(&mut self.aws, &self.runbook, now).await;
            let error = failed.first().map(|(i, e)| {
                let q = &self.runbook.quotas[*i];
                format!("{} {}: {e}", q.service, q.code)
            });
            let wait = if error.is_some() {
                failures += 1;
                backoff(failures - 1)
            } else {
                failures = 0;
                REFRESH.to_std().unwrap_or_default()
            };
            updates.push(Update::Health {
                source: SOURCE.into(),
                error,
                at: now,
            });
            if sent_usage.as_ref() != Some(&usage)
                && let Some(utx) = &self.usage_tx
            {
                let _ = utx.send(usage.clone()).await;
                sent_usage = Some(usage);
            }
            for u in updates {
                if tx.send(u).await.is_err() {
                    return;
                }
            }
            tokio::time::sleep(wait).await;
            if tx.is_closed() {
                return;
            }
        }
    }
}

/// Statuses after which a request no longer changes.
const FINAL: &[&str] = &[
    "APPROVED",
    "DENIED",
    "NOT_APPROVED",
    "CASE_CLOSED",
    "INVALID_REQUEST",
];
/// How often a pending request's status is read again.
const REQUEST_POLL: std::time::Duration = std::time::Duration::from_secs(60);

/// Sends RequestServiceQuotaIncrease: the one write tminus makes, only after the operator
/// confirmed it in a war room started with --allow-writes. Returns (request id, status).
pub async fn request_increase(
    client: &aws_sdk_servicequotas::Client,
    service: &str,
    code: &str,
    desired: f64,
) -> Result<(Option<String>, String), String> {
    let call = client
        .request_service_quota_increase()
        .service_code(service)
        .quota_code(code)
        .desired_value(desired)
        .send();
    match tokio::time::timeout(super::CALL_TIMEOUT, call).await {
        Err(_) => Err("RequestServiceQuotaIncrease timed out".into()),
        Ok(Err(e)) => Err(errors::explain(&e, None)),
        Ok(Ok(r)) => {
            let change = r.requested_quota();
            Ok((
                change.and_then(|c| c.id()).map(str::to_string),
                change
                    .and_then(|c| c.status())
                    .map(|s| s.as_str().to_string())
                    .unwrap_or_else(|| "PENDING".into()),
            ))
        }
    }
}

/// Sends the request, then follows its status until it is final, reporting each change.
pub async fn run_increase(
    mut aws: Aws,
    quota: usize,
    service: String,
    code: String,
    region: Option<String>,
    desired: f64,
    tx: Sender<Update>,
) {
    let client = aws.servicequotas(region.as_deref()).await;
    let report =
        |status: String, request_id: Option<String>, error: Option<String>| Update::QuotaRequest {
            quota,
            status,
            request_id,
            error,
        };
    let (id, mut status) = match request_increase(&client, &service, &code, desired).await {
        Ok(r) => r,
        Err(e) => {
            let _ = tx.send(report("FAILED".into(), None, Some(e))).await;
            return;
        }
    };
    if tx
        .send(report(status.clone(), id.clone(), None))
        .await
        .is_err()
    {
        return;
    }
    let Some(id) = id else { return };
    while !FINAL.contains(&status.as_str()) {
        tokio::time::sleep(REQUEST_POLL).await;
        let call = client
            .get_requested_service_quota_change()
            .request_id(&id)
            .send();
        let Ok(Ok(r)) = tokio::time::timeout(super::CALL_TIMEOUT, call).await else {
            continue;
        };
        let now = r
            .requested_quota()
            .and_then(|c| c.status())
            .map(|s| s.as_str().to_string());
        if let Some(now) = now
            && now != status
        {
            status = now;
            if tx
                .send(report(status.clone(), Some(id.clone()), None))
                .await
                .is_err()
            {
                return;
            }
        }
    }
}
