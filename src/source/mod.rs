//! Data sources: anything that feeds the war room with metric samples, quota usage and alarm
//! states. Each source runs on its own task and only talks to the app through `Update`s on a
//! channel, so the simulator, a recording and AWS are interchangeable and the UI never waits on one.

pub mod aws;
pub mod history;
pub mod replay;
pub mod sim;

use std::future::Future;
use std::pin::Pin;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use tokio::sync::mpsc::Sender;

pub use crate::vocab::{AlarmState, Sample};

/// What a source tells the app. Indices refer to the runbook's `metrics` and `quotas` lists.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Update {
    /// New points for a metric, oldest first. May overlap points already received. Points at
    /// or after `settled_to` are provisional (a bucket still filling, or data that may still
    /// land late): drawn, replaced by later updates, never judged (see `crate::signal`).
    /// `None`, as in recordings made before it existed, means all settled.
    Samples {
        metric: usize,
        points: Vec<Sample>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        settled_to: Option<DateTime<Utc>>,
    },
    /// A quota's applied value and current usage (either may be unknown).
    Quota {
        quota: usize,
        value: Option<f64>,
        usage: Option<f64>,
        at: DateTime<Utc>,
    },
    /// What Service Quotas says about a quota besides its value: whether AWS takes increase
    /// requests for it, its period if it is a rate, and whether the value is the AWS default.
    QuotaMeta {
        quota: usize,
        adjustable: bool,
        period_secs: Option<i64>,
        default: bool,
    },
    Alarm {
        name: String,
        state: AlarmState,
        reason: String,
        changed_at: DateTime<Utc>,
    },
    /// A note about a metric's latest data, e.g. CloudWatch's PartialData status and messages;
    /// `None` clears it.
    MetricNote { metric: usize, note: Option<String> },
    /// The status of a quota increase request (PENDING, CASE_OPENED, APPROVED...), or
    /// "FAILED" with the reason.
    QuotaRequest {
        quota: usize,
        status: String,
        request_id: Option<String>,
        error: Option<String>,
    },
    /// API calls made and metrics requested since the last report, for the cost estimate.
    Usage {
        source: String,
        calls: u64,
        metrics: u64,
        at: DateTime<Utc>,
    },
    /// A source's health: `error: None` after a successful fetch, `Some(message)` after a failure.
    Health {
        source: String,
        error: Option<String>,
        at: DateTime<Utc>,
    },
    /// A rehearsal fault began or ended. The simulator reports its own faults (surprises
    /// included) so the journal, and the score, hold what was really injected and when.
    Fault(FaultNotice),
    /// The capacity plan (`crate::capacity`): each quota's and metric's history peak
    /// projected to the event's forecast peak. Sent once at start by `history::PlanSource`.
    Plan(Box<crate::capacity::Plan>),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FaultNotice {
    /// "inject[0]", "surprise[1]": unique within a session.
    pub id: String,
    /// True when it began, false when its target recovered.
    pub started: bool,
    /// When it began (or ended), on the session's clock: exact, whatever the tick.
    pub at: DateTime<Utc>,
    /// When it ends.
    pub until: DateTime<Utc>,
    /// "spike alb_5xx to 400 for 3m at T+5m".
    pub description: String,
    /// The metric id, quota code, alarm or source name it targets.
    pub target: String,
    pub surprise: bool,
    /// Alerts it can open: an alert on one of these keys after it began counts as detecting it.
    pub affects: Vec<crate::vocab::AlertKey>,
}

pub type BoxFuture = Pin<Box<dyn Future<Output = ()> + Send + 'static>>;

/// A feed that runs until the receiving side of its channel is dropped.
pub trait Source: Send + 'static {
    fn name(&self) -> &str;
    /// Takes the source by value and returns the task that feeds `tx`.
    fn run(self: Box<Self>, tx: Sender<Update>) -> BoxFuture;
}
