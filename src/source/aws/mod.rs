//! Live AWS sources: CloudWatch metrics (GetMetricData, batched), CloudWatch alarms
//! (DescribeAlarms) and Service Quotas. Each runs on its own task with timeouts and backoff
//! and only talks to the app through `Update`s, like the simulator.

pub mod alarms;
pub mod budget;
pub mod cap;
pub mod errors;
pub mod metrics;
pub mod plan;
pub mod quotas;

use std::collections::HashMap;
use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};

use crate::runbook::Runbook;

/// Where and as whom to call AWS: command-line flags win over the runbook's `aws:` block,
/// which wins over the environment and profile (the standard aws-config chain).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AwsSettings {
    pub profile: Option<String>,
    pub region: Option<String>,
    /// An emulator or VPC endpoint; AWS_ENDPOINT_URL works too (aws-config reads it).
    pub endpoint_url: Option<String>,
}

impl AwsSettings {
    pub fn resolve(runbook: &Runbook, cli: &AwsSettings) -> AwsSettings {
        AwsSettings {
            profile: cli.profile.clone().or_else(|| runbook.aws.profile.clone()),
            region: cli.region.clone().or_else(|| runbook.aws.region.clone()),
            endpoint_url: cli.endpoint_url.clone(),
        }
    }
}

/// Loads SDK configuration once per region. Network-free until a client makes a call, so it
/// never blocks the screen; credential problems surface on the first call, as a source error.
#[derive(Clone)]
pub struct Aws {
    settings: AwsSettings,
    configs: HashMap<Option<String>, SdkConfig>,
    fixed: Option<SdkConfig>,
}

/// Every call gets this long before it counts as failed: a war room must not wait on a hung
/// connection, and the next refresh will try again.
pub const CALL_TIMEOUT: Duration = Duration::from_secs(20);

impl Aws {
    pub fn new(settings: AwsSettings) -> Aws {
        Aws {
            settings,
            configs: HashMap::new(),
            fixed: None,
        }
    }

    /// Every region uses `config` as it is (tests: an emulator with fixed credentials).
    pub fn from_sdk_config(config: SdkConfig) -> Aws {
        Aws {
            settings: AwsSettings::default(),
            configs: HashMap::new(),
            fixed: Some(config),
        }
    }

    pub fn settings(&self) -> &AwsSettings {
        &self.settings
    }

    /// The SDK configuration for `region` (None: the default region).
    pub async fn config(&mut self, region: Option<&str>) -> SdkConfig {
        if let Some(c) = &self.fixed {
            return c.clone();
        }
        let key = region.map(str::to_string);
        if let Some(c) = self.configs.get(&key) {
            return c.clone();
        }
        let mut loader = aws_config::defaults(BehaviorVersion::latest())
            // The SDK's standard retries cover throttling and transient errors; our own
            // backoff between refreshes handles longer outages.
            .retry_config(RetryConfig::standard().with_max_attempts(3))
            .timeout_config(
                TimeoutConfig::builder()
                    .connect_timeout(Duration::from_secs(5))
                    .operation_attempt_timeout(Duration::from_secs(10))
                    .operation_timeout(CALL_TIMEOUT)
                    .build(),
            );
        if let Some(p) = &self.settings.profile {
            loader = loader.profile_name(p);
        }
        if let Some(r) = region.map(str::to_string).or(self.settings.region.clone()) {
            loader = loader.region(Region::new(r));
        }
        if let Some(u) = &self.settings.endpoint_url {
            loader = loader.endpoint_url(u);
        }
        let config = loader.load().await;
        self.configs.insert(key, config.clone());
        config
    }

    /// A CloudWatch client for `region`, its answers capped in size (`cap`).
    pub async fn cloudwatch(&mut self, region: Option<&str>) -> aws_sdk_cloudwatch::Client {
        let config = aws_sdk_cloudwatch::config::Builder::from(&self.config(region).await)
            .interceptor(cap::ResponseCap)
            .build();
        aws_sdk_cloudwatch::Client::from_conf(config)
    }

    /// A DynamoDB client for `region` (the team's room), its answers capped in size (`cap`).
    pub async fn dynamodb(&mut self, region: Option<&str>) -> aws_sdk_dynamodb::Client {
        let config = aws_sdk_dynamodb::config::Builder::from(&self.config(region).await)
            .interceptor(cap::ResponseCap)
            .build();
        aws_sdk_dynamodb::Client::from_conf(config)
    }

    /// A Service Quotas client for `region`, its answers capped in size (`cap`).
    pub async fn servicequotas(&mut self, region: Option<&str>) -> aws_sdk_servicequotas::Client {
        let config = aws_sdk_servicequotas::config::Builder::from(&self.config(region).await)
            .interceptor(cap::ResponseCap)
            .build();
        aws_sdk_servicequotas::Client::from_conf(config)
    }
}

pub(crate) fn to_aws_time(
    t: chrono::DateTime<chrono::Utc>,
) -> aws_sdk_cloudwatch::primitives::DateTime {
    aws_sdk_cloudwatch::primitives::DateTime::from_secs(t.timestamp())
}

pub(crate) fn from_aws_time(
    t: &aws_sdk_cloudwatch::primitives::DateTime,
) -> Option<chrono::DateTime<chrono::Utc>> {
    chrono::DateTime::from_timestamp(t.secs(), t.subsec_nanos())
}

/// Exponential backoff between failed refreshes: 5 s doubling to a minute. A war room wants
/// its data back soon after AWS recovers; a minute is gentle enough on a throttled API.
pub fn backoff(failures: u32) -> Duration {
    let secs = 5u64.saturating_mul(1u64 << failures.min(6));
    Duration::from_secs(secs.min(60))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_override_the_runbook() {
        let rb: Runbook = serde_yaml::from_str(
            "event: { name: t, starts_at: 2026-12-01T17:00:00Z }\naws: { region: us-east-1, profile: prod }",
        )
        .unwrap();
        let s = AwsSettings::resolve(&rb, &AwsSettings::default());
        assert_eq!(s.region.as_deref(), Some("us-east-1"));
        assert_eq!(s.profile.as_deref(), Some("prod"));
        let cli = AwsSettings {
            profile: Some("dev".into()),
            region: Some("eu-west-1".into()),
            endpoint_url: Some("http://127.0.0.1:4566".into()),
        };
        assert_eq!(AwsSettings::resolve(&rb, &cli), cli);
    }

    #[test]
    fn backoff_grows_and_caps() {
        assert_eq!(backoff(0), Duration::from_secs(5));
        assert_eq!(backoff(1), Duration::from_secs(10));
        assert_eq!(backoff(3), Duration::from_secs(40));
        assert_eq!(backoff(4), Duration::from_secs(60));
        assert_eq!(backoff(50), Duration::from_secs(60));
    }
}
