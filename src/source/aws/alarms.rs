//! CloudWatch alarms through DescribeAlarms: by name prefix and by explicit names (100 a call),
//! metric and composite alarms, every 30 s.

use std::sync::Arc;

use aws_sdk_cloudwatch::types::{AlarmType, StateValue};
use chrono::{DateTime, Duration, Utc};
use tokio::sync::mpsc::Sender;

use super::{Aws, backoff, errors, from_aws_time};
use crate::clock::Clock;
use crate::runbook::model::AlarmSelector;
use crate::source::{AlarmState, BoxFuture, Source, Update};

pub const SOURCE: &str = "alarms";
const REFRESH: Duration = Duration::seconds(30);
/// DescribeAlarms takes at most this many AlarmNames.
const NAMES_PER_CALL: usize = 100;

pub struct AlarmsSource {
    aws: Aws,
    selector: AlarmSelector,
    clock: Arc<dyn Clock>,
}

impl AlarmsSource {
    pub fn new(aws: Aws, selector: AlarmSelector, clock: Arc<dyn Clock>) -> Self {
        Self {
            aws,
            selector,
            clock,
        }
    }
}

impl Source for AlarmsSource {
    fn name(&self) -> &str {
        SOURCE
    }
    fn run(self: Box<Self>, tx: Sender<Update>) -> BoxFuture {
        Box::pin(async move { self.run_loop(tx).await })
    }
}

/// One alarm as the app sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct AlarmRow {
    pub name: String,
    pub state: AlarmState,
    pub reason: String,
    pub changed_at: DateTime<Utc>,
}

fn state(s: Option<&StateValue>) -> AlarmState {
    match s {
        Some(StateValue::Alarm) => AlarmState::Alarm,
        Some(StateValue::Ok) => AlarmState::Ok,
        _ => AlarmState::InsufficientData,
    }
}

/// Every selected alarm, metric and composite, following NextToken.
pub async fn describe(
    client: &aws_sdk_cloudwatch::Client,
    selector: &AlarmSelector,
) -> Result<Vec<AlarmRow>, String> {
    let mut requests: Vec<
        aws_sdk_cloudwatch::operation::describe_alarms::builders::DescribeAlarmsFluentBuilder,
    > = Vec::new();
    let base = || {
        client
            .describe_alarms()
            .alarm_types(AlarmType::MetricAlarm)
            .alarm_types(AlarmType::CompositeAlarm)
    };
    if let Some(p) = &selector.prefix {
        requests.push(base().alarm_name_prefix(p));
    }
    for chunk in selector.names.chunks(NAMES_PER_CALL) {
        requests.push(base().set_alarm_names(Some(chunk.to_vec())));
    }
    let mut out: Vec<AlarmRow> = Vec::new();
    for req in requests {
        let mut token: Option<String> = None;
        for _ in 0..100 {
            let call = req.clone().set_next_token(token.clone());
            let resp = match super::budget::call(call.send()).await {
                Err(_) => return Err("DescribeAlarms timed out".into()),
                Ok(Err(e)) => return Err(errors::describe(&e)),
                Ok(Ok(r)) => r,
            };
            let row =
                |name: Option<&str>,
                 st: Option<&StateValue>,
                 reason: Option<&str>,
                 at: Option<&aws_sdk_cloudwatch::primitives::DateTime>| AlarmRow {
                    name: name.unwrap_or_default().to_string(),
                    state: state(st),
                    reason: reason.unwrap_or_default().to_string(),
                    changed_at: at
                        .and_then(from_aws_time)
                        .unwrap_or(DateTime::<Utc>::UNIX_EPOCH),
                };
            out.extend(resp.metric_alarms().iter().map(|a| {
                row(
                    a.alarm_name(),
                    a.state_value(),
                    a.state_reason(),
                    // In this state since: the last transition. StateUpdatedTimestamp also
                    // moves when only the reason changes (composite alarms do it often).
                    a.state_transitioned_timestamp()
                        .or(a.state_updated_timestamp()),
                )
            }));
            out.extend(resp.composite_alarms().iter().map(|a| {
                row(
                    a.alarm_name(),
                    a.state_value(),
                    a.state_reason(),
                    // In this state since: the last transition. StateUpdatedTimestamp also
                    // moves when only the reason changes (composite alarms do it often).
                    a.state_transitioned_timestamp()
                        .or(a.state_updated_timestamp()),
                )
            }));
            token = resp.next_token().map(str::to_string);
            if token.is_none() {
                break;
            }
        }
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    out.dedup_by(|a, b| a.name == b.name);
    Ok(out)
}

impl AlarmsSource {
    async fn run_loop(mut self, tx: Sender<Update>) {
        if self.selector.prefix.is_none() && self.selector.names.is_empty() {
            return;
        }
        let mut failures = 0u32;
        loop {
            let client = self.aws.cloudwatch(None).await;
            let now = self.clock.now();
            let (updates, wait) = match describe(&client, &self.selector).await {
                Ok(rows) => {
                    failures = 0;
                    let mut u: Vec<Update> = rows
                        .into_iter()
                        .map(|r| Update::Alarm {
                            name: r.name,
                            state: r.state,
                            reason: r.reason,
                            changed_at: r.changed_at,
                        })
                        .collect();
                    u.push(Update::Health {
                        source: SOURCE.into(),
                        error: None,
                        at: now,
                    });
                    (u, REFRESH.to_std().unwrap_or_default())
                }
                Err(e) => {
                    failures += 1;
                    let profile = self.aws.settings().profile.clone();
                    let u = vec![Update::Health {
                        source: SOURCE.into(),
                        error: Some(errors::explain_text(&e, profile.as_deref())),
                        at: now,
                    }];
                    (u, backoff(failures - 1))
                }
            };
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
