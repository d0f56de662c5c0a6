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
    /// A rate quota's period in seconds (per second: 1, per minute: 60); None for a count.
    pub period_secs: Option<i64>,
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
        period_secs: q.period().and_then(period_secs),
        usage,
    }
}

/// A quota period in seconds: `PeriodValue` of `PeriodUnit`.
fn period_secs(p: &aws_sdk_servicequotas::types::QuotaPeriod) -> Option<i64> {
    use aws_sdk_servicequotas::types::PeriodUnit;
    let unit = match p.period_unit()? {
        PeriodUnit::Microsecond | PeriodUnit::Millisecond => return None,
        PeriodUnit::Second => 1,
        PeriodUnit::Minute => 60,
        PeriodUnit::Hour => 3600,
        PeriodUnit::Day => 86_400,
        PeriodUnit::Week => 7 * 86_400,
        _ => return None,
    };
    Some(i64::from(p.period_value()?) * unit).filter(|s| *s > 0)
}

/// What a Sum over a 60 s bucket (how usage metrics are fetched) is multiplied by to compare
/// with a rate quota: a CallCount per minute against a quota per second is divided by 60.
/// Maximum-type usage (a count of resources) is compared as it is.
pub fn usage_scale(stat: &str, period_secs: Option<i64>) -> f64 {
    match period_secs {
        Some(p) if stat.eq_ignore_ascii_case("Sum") => p as f64 / 60.0,
        _ => 1.0,
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
    match super::budget::call(applied).await {
        Err(_) => return Err("GetServiceQuota timed out".into()),
        Ok(Ok(r)) => {
            if let Some(q) = r.quota() {
                // The value could not be read (a missing permission of the service's own,
                // for instance): say so rather than show the AWS default as if it applied.
                if let Some(reason) = q.error_reason() {
                    return Err(format!(
                        "Service Quotas could not read the applied value: {}: {}",
                        reason.error_code().map_or("error", |c| c.as_str()),
                        reason.error_message().unwrap_or("no message")
                    ));
                }
                if q.value().is_some() {
                    return Ok(info(q, ValueSource::Applied));
                }
            }
        }
        Ok(Err(e)) => {
            let no_applied_value = e
                .as_service_error()
                .is_some_and(|s| s.is_no_such_resource_exception());
            if !no_applied_value {
                return Err(errors::describe(&e));
            }
        }
    }
    let default = client
        .get_aws_default_service_quota()
        .service_code(service)
        .quota_code(code)
        .send();
    match super::budget::call(default).await {
        Err(_) => Err("GetAWSDefaultServiceQuota timed out".into()),
        Ok(Err(e)) => Err(errors::describe(&e)),
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

/// Reads every quota once: value updates for the app, the usage metrics to batch, what was
/// read, and what failed (the raw cause: the caller explains it, in its own words).
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
        // A one-shot command's time for AWS is spent: the rest would time out the same way.
        if super::budget::spent() {
            failed.push((i, "GetServiceQuota timed out".to_string()));
            continue;
        }
        let client = aws.servicequotas(q.region.as_deref()).await;
        match fetch(&client, &q.service, &q.code).await {
            Ok(info) => {
                updates.push(Update::Quota {
                    quota: i,
                    value: info.value,
                    usage: None,
                    at: now,
                });
                updates.push(Update::QuotaMeta {
                    quota: i,
                    adjustable: info.adjustable,
                    period_secs: info.period_secs,
                    default: info.source == ValueSource::Default,
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
                        scale: usage_scale(&stat, info.period_secs),
                        stat,
                    });
                }
                infos.push((i, info));
            }
            Err(e) => failed.push((i, e)),
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
            let profile = self.aws.settings().profile.clone();
            let error = failed.first().map(|(i, e)| {
                let q = &self.runbook.quotas[*i];
                let e = errors::explain_text(e, profile.as_deref());
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
/// How often a pending request's status is read again; after failures, backing off to
/// `REQUEST_POLL_MAX`.
const REQUEST_POLL: std::time::Duration = std::time::Duration::from_secs(60);
const REQUEST_POLL_MAX: std::time::Duration = std::time::Duration::from_secs(15 * 60);

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
    match super::budget::call(call).await {
        Err(_) => Err("RequestServiceQuotaIncrease timed out".into()),
        Ok(Err(e)) => Err(errors::describe(&e)),
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
    aws: Aws,
    quota: usize,
    service: String,
    code: String,
    region: Option<String>,
    desired: f64,
    tx: Sender<Update>,
) {
    follow_increase(aws, quota, service, code, region, desired, REQUEST_POLL, tx).await
}

/// `run_increase` with the time between status checks to start from (tests use a short one).
#[allow(clippy::too_many_arguments)]
pub async fn follow_increase(
    mut aws: Aws,
    quota: usize,
    service: String,
    code: String,
    region: Option<String>,
    desired: f64,
    poll: std::time::Duration,
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
    let profile = aws.settings().profile.clone();
    let (id, mut status) = match request_increase(&client, &service, &code, desired).await {
        Ok(r) => r,
        Err(e) => {
            let e = errors::explain_text(&e, profile.as_deref());
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
    let mut wait = poll;
    // The status check's failure last reported, so a lasting one is said once, not every poll.
    let mut failing: Option<String> = None;
    while !FINAL.contains(&status.as_str()) {
        tokio::time::sleep(wait).await;
        let call = client
            .get_requested_service_quota_change()
            .request_id(&id)
            .send();
        let (next, error) = match super::budget::call(call).await {
            Err(_) => (
                None,
                Some("GetRequestedServiceQuotaChange timed out".to_string()),
            ),
            Ok(Err(e)) => (None, Some(errors::describe(&e))),
            Ok(Ok(r)) => (
                r.requested_quota()
                    .and_then(|c| c.status())
                    .map(|s| s.as_str().to_string()),
                None,
            ),
        };
        let update = match error {
            // The request itself is still in whatever state it was: the check failed.
            Some(e) => {
                wait = (wait * 2).min(REQUEST_POLL_MAX.max(poll));
                let e = errors::explain_text(&e, profile.as_deref());
                (failing.as_ref() != Some(&e)).then(|| {
                    failing = Some(e.clone());
                    report(
                        format!("{status} (status check failing: {e})"),
                        Some(id.clone()),
                        None,
                    )
                })
            }
            None => {
                wait = poll;
                let recovered = failing.take().is_some();
                match next {
                    Some(now) if now != status || recovered => {
                        status = now;
                        Some(report(status.clone(), Some(id.clone()), None))
                    }
                    _ => None,
                }
            }
        };
        if let Some(u) = update
            && tx.send(u).await.is_err()
        {
            return;
        }
    }
}
