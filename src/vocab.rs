//! The shared vocabulary: what alerts are about and how bad they are, an alert episode, a
//! data point, an alarm's state. A leaf: sources, the journal, the app and the UI all import it,
//! and it imports none of them, so no two of them need each other.

use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// One data point: when the value was measured (not when it was fetched) and the value.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Sample {
    pub at: DateTime<Utc>,
    pub value: f64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum AlarmState {
    Ok,
    Alarm,
    #[serde(rename = "INSUFFICIENT_DATA")]
    InsufficientData,
}

impl AlarmState {
    pub fn label(self) -> &'static str {
        match self {
            AlarmState::Ok => "OK",
            AlarmState::Alarm => "ALARM",
            AlarmState::InsufficientData => "INSUFFICIENT_DATA",
        }
    }
}

/// What an alert is about. One open alert per key at a time.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(tag = "kind", content = "id", rename_all = "snake_case")]
pub enum AlertKey {
    Metric(String),
    Quota(String),
    Alarm(String),
    /// One overdue item, by id: journals written before overdue items were rolled up per
    /// checklist. Read, never opened any more.
    Overdue(String),
    /// The overdue items of one checklist, by the checklist's name: one alert however many.
    Checklist(String),
    /// A data source failing for a while: the war room is blind to what it feeds.
    Source(String),
}

impl fmt::Display for AlertKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AlertKey::Metric(id) => write!(f, "metric {id}"),
            AlertKey::Quota(code) => write!(f, "quota {code}"),
            AlertKey::Alarm(name) => write!(f, "alarm {name}"),
            AlertKey::Overdue(item) => write!(f, "overdue {item}"),
            AlertKey::Checklist(name) => write!(f, "overdue in {name}"),
            AlertKey::Source(name) => write!(f, "source {name}"),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Warn,
    Crit,
}

impl Severity {
    pub fn label(self) -> &'static str {
        match self {
            Severity::Warn => "WARN",
            Severity::Crit => "CRIT",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Alert {
    pub key: AlertKey,
    pub severity: Severity,
    pub message: String,
    pub opened_at: DateTime<Utc>,
    /// Who acknowledged it and when; an acknowledged alert stops escalating.
    pub acked: Option<(String, DateTime<Utc>)>,
    /// Index into the runbook's escalation levels of the level reached, if any (the highest
    /// reached, unless an operator moved it by hand).
    pub level: Option<usize>,
    /// When the escalation last moved and to which level: the clock to the next level runs
    /// from here (an escalation, a move by hand, an acknowledgement lapsing). `None`: from
    /// `opened_at`.
    pub escalated_at: Option<(DateTime<Utc>, usize)>,
    pub closed_at: Option<DateTime<Utc>>,
    /// The signal cleared and breached again while the alert was open, this many times: the
    /// alert stayed one episode instead of opening again each time.
    pub flaps: u32,
    /// The most severe it has been.
    pub worst: Severity,
    /// When it fired: opened, changed severity, or started flapping (the game-day score counts
    /// any of them as detecting a fault).
    pub fired: Vec<DateTime<Utc>>,
}

impl Alert {
    pub fn is_open(&self) -> bool {
        self.closed_at.is_none()
    }
}
