//! The runbook as written in YAML: serde types only. Loading and validation live beside it.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::time::{Span, TOffset};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Runbook {
    pub event: Event,
    #[serde(default)]
    pub aws: AwsConfig,
    #[serde(default)]
    pub phases: Vec<Phase>,
    #[serde(default)]
    pub metrics: Vec<Metric>,
    #[serde(default)]
    pub alarms: AlarmSelector,
    #[serde(default)]
    pub quotas: Vec<Quota>,
    #[serde(default)]
    pub checklists: Vec<Checklist>,
    #[serde(default)]
    pub escalation: Escalation,
    #[serde(default)]
    pub rehearsal: Option<Rehearsal>,
    /// How `tminus plan` reads history and asks for increases.
    #[serde(default)]
    pub plan: Option<PlanConfig>,
    /// How often live metrics are read as the event nears and passes (`signal::poll_every`).
    #[serde(default)]
    pub polling: Option<Polling>,
    /// Who is in the war room: who votes in the go/no-go poll, who posts status updates.
    #[serde(default)]
    pub roles: Vec<Role>,
    /// The go/no-go poll: opened when its phase starts.
    #[serde(default)]
    pub go_no_go: Option<GoNoGo>,
}

/// A seat in the war room ("Incident commander"), and who holds it on the day.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Role {
    /// Unique across the roles; the same characters as item ids (`ic`, `web-owner`).
    pub id: String,
    pub name: String,
    /// The person holding the role ("Jane Doe").
    #[serde(default)]
    pub who: Option<String>,
    /// How to reach them ("#launch-bridge", "+1 555 0101").
    #[serde(default)]
    pub contact: Option<String>,
    /// This role must vote in the go/no-go poll.
    #[serde(default)]
    pub votes: bool,
    /// This role is reminded to post status updates (each phase's `updates_every`).
    #[serde(default)]
    pub updates: bool,
}

/// The go/no-go poll, in which the roles with `votes: true` vote; it cannot read GO while a
/// `blocking` item is not done.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GoNoGo {
    /// The phase whose start opens the poll: one of `phases`.
    pub phase: String,
}

/// Polling that follows the event: each metric at its own period near T-0, slower far from
/// it, where nobody is watching minute by minute and every GetMetricData call costs.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Polling {
    /// From when each metric is read at its own period. Default T-1h.
    #[serde(default)]
    pub near_from: Option<TOffset>,
    /// Until when. Default `event.ends_at`, else T+1h.
    #[serde(default)]
    pub near_until: Option<TOffset>,
    /// How often metrics are read outside that window. Default 5m.
    #[serde(default)]
    pub far_every: Option<Span>,
}

impl Runbook {
    /// Adds `item` to the checklist named `checklist` (appended as a new checklist when there
    /// is none), unless an item with its id exists. Returns where it went. For items the war
    /// room adds itself (an increase the capacity plan says to request), journalled so a
    /// restart, the report and the score see them too.
    pub fn add_item(&mut self, checklist: &str, item: Item) -> Option<(usize, usize)> {
        if self
            .checklists
            .iter()
            .flat_map(|c| &c.items)
            .any(|i| i.id == item.id)
        {
            return None;
        }
        let c = match self.checklists.iter().position(|c| c.name == checklist) {
            Some(c) => c,
            None => {
                self.checklists.push(Checklist {
                    name: checklist.to_string(),
                    phase: None,
                    items: Vec::new(),
                });
                self.checklists.len() - 1
            }
        };
        self.checklists[c].items.push(item);
        Some((c, self.checklists[c].items.len() - 1))
    }

    /// The role with this id, if the runbook lists one.
    pub fn role(&self, id: &str) -> Option<&Role> {
        self.roles.iter().find(|r| r.id == id)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Event {
    pub name: String,
    /// T-0 as an RFC 3339 instant. `tminus demo` and `--t0` override it.
    pub starts_at: DateTime<Utc>,
    #[serde(default)]
    pub ends_at: Option<TOffset>,
    /// IANA zone names shown in the header next to the countdown.
    #[serde(default)]
    pub zones: Vec<String>,
    /// The expected peak against normal traffic ("22x"): what `tminus plan` multiplies the
    /// history's peaks by. Quotas and metrics may set their own.
    #[serde(default)]
    pub forecast: Option<Multiplier>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AwsConfig {
    #[serde(default)]
    pub region: Option<String>,
    #[serde(default)]
    pub profile: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Phase {
    pub name: String,
    pub from: TOffset,
    /// How often a status update is due while this phase is current (1m to 24h).
    #[serde(default)]
    pub updates_every: Option<Span>,
}

/// Which side of a threshold is bad.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    /// Higher is worse (latency, errors): alert when value >= threshold.
    #[default]
    Above,
    /// Lower is worse (orders/s, healthy hosts): alert when value <= threshold.
    Below,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Metric {
    /// CloudWatch query id: starts with a lowercase letter; letters, digits and underscores.
    pub id: String,
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default)]
    pub namespace: Option<String>,
    #[serde(default)]
    pub metric: Option<String>,
    #[serde(default)]
    pub dimensions: BTreeMap<String, String>,
    /// CloudWatch statistic: Average, Sum, Maximum, Minimum, SampleCount, p99, tm99...
    #[serde(default)]
    pub stat: Option<String>,
    /// Seconds: 1, 5, 10, 20, 30 or a multiple of 60.
    #[serde(default = "default_period")]
    pub period: u32,
    /// CloudWatch metric math over other metric ids, instead of namespace/metric.
    #[serde(default)]
    pub expression: Option<String>,
    #[serde(default)]
    pub unit: Option<String>,
    #[serde(default)]
    pub warn: Option<f64>,
    #[serde(default)]
    pub crit: Option<f64>,
    #[serde(default)]
    pub direction: Direction,
    /// Region override for multi-region events.
    #[serde(default)]
    pub region: Option<String>,
    /// A helper query used by expressions only: fetched but not shown (ReturnData=false).
    #[serde(default)]
    pub hidden: bool,
    /// How long after a bucket ends its datapoint is trusted: CloudWatch publishes late. Alerts
    /// and quota usage are decided only on settled buckets. Default: `signal::default_settle`.
    #[serde(default)]
    pub settle: Option<Span>,
    /// "M out of N": a threshold breach alerts only when `datapoints` of the last `of` settled
    /// datapoints are beyond it. Default: `signal::DEFAULT_BREACH`.
    #[serde(default)]
    pub breach: Option<BreachRule>,
    /// How long the signal must stay clear before its alert closes; a breach within it keeps
    /// the same alert (shown as flapping). Default: `signal::default_clear_after`.
    #[serde(default)]
    pub clear_after: Option<Span>,
    /// The value of a settled bucket with no datapoint. CloudWatch publishes many counters only
    /// when they are non-zero (5XX counts, throttles); for those it defaults to 0.
    #[serde(default)]
    pub fill: Option<f64>,
    /// How the simulator should shape this metric; ignored against live AWS.
    #[serde(default)]
    pub sim: Option<MetricSim>,
    /// This metric's peak against normal for `tminus plan`, instead of `event.forecast` (and
    /// for metrics the plan would not multiply: ratios, latency...).
    #[serde(default)]
    pub forecast: Option<Multiplier>,
}

pub fn default_period() -> u32 {
    60
}

/// CloudWatch alarms' "datapoints to alarm" out of "evaluation periods".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BreachRule {
    pub datapoints: u32,
    pub of: u32,
}

impl Metric {
    pub fn display_title(&self) -> &str {
        self.title.as_deref().unwrap_or(&self.id)
    }

    /// Percentile statistics (p99, tm99, ...) and metrics named for latency or duration.
    pub fn is_latency(&self) -> bool {
        let stat = self.stat.as_deref().unwrap_or("").to_ascii_lowercase();
        let percentile = ["p", "tm", "tc", "ts", "wm", "pr"].iter().any(|pre| {
            stat.strip_prefix(pre)
                .is_some_and(|r| r.starts_with(|c: char| c.is_ascii_digit()))
        });
        let name = self.metric.as_deref().unwrap_or("");
        percentile
            || ["Latency", "ResponseTime", "Duration"]
                .iter()
                .any(|k| name.contains(k))
    }
}

/// Simulator hints: the metric's value at rest and at the launch peak, and relative noise.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MetricSim {
    pub base: f64,
    pub peak: f64,
    /// Relative noise, 0.05 = 5 % of the value.
    #[serde(default = "default_noise")]
    pub noise: f64,
}

fn default_noise() -> f64 {
    0.05
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AlarmSelector {
    /// Show every CloudWatch alarm whose name starts with this.
    #[serde(default)]
    pub prefix: Option<String>,
    /// And these alarms by exact name.
    #[serde(default)]
    pub names: Vec<String>,
}

/// A percentage written "30%" or 30.
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd, Serialize)]
pub struct Percent(pub f64);

impl<'de> Deserialize<'de> for Percent {
    // A visitor rather than an untagged enum: untagged buffering loses serde_yaml's position, and
    // `tminus check` must point at the bad value itself.
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        fn checked<E: serde::de::Error>(v: f64, shown: &str) -> Result<Percent, E> {
            if (0.0..=100.0).contains(&v) {
                Ok(Percent(v))
            } else {
                Err(E::custom(format!(
                    "bad percentage {shown:?}: write a number from 0 to 100 with an optional %, e.g. 30%"
                )))
            }
        }
        impl serde::de::Visitor<'_> for V {
            type Value = Percent;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a percentage like 30%")
            }
            fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<Percent, E> {
                checked(v, &v.to_string())
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Percent, E> {
                checked(v as f64, &v.to_string())
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Percent, E> {
                checked(v as f64, &v.to_string())
            }
            fn visit_str<E: serde::de::Error>(self, s: &str) -> Result<Percent, E> {
                match s.trim().trim_end_matches('%').trim().parse::<f64>() {
                    Ok(v) => checked(v, s),
                    Err(_) => checked(f64::NAN, s),
                }
            }
        }
        d.deserialize_any(V)
    }
}

/// A multiple of normal traffic, written "22x" or 22: the event's forecast peak.
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd, Serialize)]
pub struct Multiplier(pub f64);

/// The largest forecast taken: past ten thousand times normal, a plan is guesswork.
pub const MAX_MULTIPLIER: f64 = 10_000.0;

/// Parses "22x", "22 x", "1.5X" or "22" (also `--peak`).
pub fn parse_multiplier(s: &str) -> Result<f64, String> {
    let n = s.trim().trim_end_matches(['x', 'X']).trim();
    match n.parse::<f64>() {
        Ok(v) if v > 0.0 && v <= MAX_MULTIPLIER => Ok(v),
        _ => Err(format!(
            "bad multiplier {s:?}: write how many times normal traffic, from above 0 to {MAX_MULTIPLIER}, e.g. 22x"
        )),
    }
}

impl<'de> Deserialize<'de> for Multiplier {
    // A visitor, as for `Percent`: `tminus check` must point at the bad value itself.
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = Multiplier;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a multiple of normal traffic like 22x")
            }
            fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<Multiplier, E> {
                parse_multiplier(&v.to_string())
                    .map(Multiplier)
                    .map_err(E::custom)
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Multiplier, E> {
                parse_multiplier(&v.to_string())
                    .map(Multiplier)
                    .map_err(E::custom)
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Multiplier, E> {
                parse_multiplier(&v.to_string())
                    .map(Multiplier)
                    .map_err(E::custom)
            }
            fn visit_str<E: serde::de::Error>(self, s: &str) -> Result<Multiplier, E> {
                parse_multiplier(s).map(Multiplier).map_err(E::custom)
            }
        }
        d.deserialize_any(V)
    }
}

/// How `tminus plan` reads history and asks for increases.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlanConfig {
    /// How far back usage is read (1h to 90d). Default 14d.
    #[serde(default)]
    pub history: Option<Span>,
    /// Asked for on top of keeping the projected peak out of the warning band. Default 10%.
    #[serde(default)]
    pub margin: Option<Percent>,
    /// How long before T-0 an increase must be requested, for quotas without their own.
    /// Default 21d.
    #[serde(default)]
    pub lead_time: Option<Span>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Quota {
    /// Service Quotas service code: lambda, ec2, dynamodb, bedrock...
    pub service: String,
    /// Quota code, e.g. L-B99A9384.
    pub code: String,
    #[serde(default)]
    pub title: Option<String>,
    /// Warn when headroom (free share of the quota) falls below this.
    #[serde(default = "default_warn_below")]
    pub warn_below: Percent,
    #[serde(default = "default_crit_below")]
    pub crit_below: Percent,
    /// Usage source for quotas without a Service Quotas usage metric: a metric id from `metrics`.
    #[serde(default)]
    pub usage_metric: Option<String>,
    #[serde(default)]
    pub region: Option<String>,
    #[serde(default)]
    pub sim: Option<QuotaSim>,
    /// This quota's peak against normal for `tminus plan`, instead of `event.forecast`.
    #[serde(default)]
    pub forecast: Option<Multiplier>,
    /// How long before T-0 an increase must be asked for (AWS gives no bound; large ones take
    /// days). Default: `plan.lead_time`, else 21d.
    #[serde(default)]
    pub lead_time: Option<Span>,
}

fn default_warn_below() -> Percent {
    Percent(30.0)
}
fn default_crit_below() -> Percent {
    Percent(10.0)
}

impl Quota {
    pub fn display_title(&self) -> String {
        self.title
            .clone()
            .unwrap_or_else(|| format!("{} {}", self.service, self.code))
    }
}

/// Simulator hints for a quota: its value, and usage at rest and at the peak (same unit).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QuotaSim {
    pub value: f64,
    pub base: f64,
    pub peak: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Checklist {
    pub name: String,
    /// The phase this list belongs to; shown first while that phase is current.
    #[serde(default)]
    pub phase: Option<String>,
    pub items: Vec<Item>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Item {
    /// Unique across the runbook: the journal refers to items by id.
    pub id: String,
    pub title: String,
    #[serde(default)]
    pub owner: Option<String>,
    #[serde(default)]
    pub due: Option<TOffset>,
    /// "<metric id> <op> <number>" with op one of >= <= > < ==: ticks itself when data says so.
    #[serde(default)]
    pub verify: Option<String>,
    #[serde(default)]
    pub link: Option<String>,
    /// What undoes it once the event is over ("Scale web ASG back to 12"): listed by
    /// `tminus plan --scale-down` when the item was done.
    #[serde(default)]
    pub revert: Option<String>,
    /// Must be done (or verified) before the go/no-go poll can read GO. Not written when false,
    /// so journals (`ItemAdded` carries an item) stay as they were.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub blocking: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Escalation {
    #[serde(default)]
    pub levels: Vec<EscalationLevel>,
    #[serde(default)]
    pub notify: Option<Notify>,
    /// An acknowledged alert not resolved within this long escalates again (1m to 24h).
    #[serde(default)]
    pub ack_expires: Option<Span>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EscalationLevel {
    /// Time since the alert opened after which this level is reached.
    pub after: Span,
    pub who: String,
    pub contact: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Notify {
    /// Program and arguments; the alert is written to its stdin as JSON. Never run by a shell.
    /// Written either as a list (`[./notify.sh, --channel, "#launch bridge"]`) or as one string
    /// that is split on whitespace (`./notify.sh --channel ops`); the string form has no quoting,
    /// so an argument containing spaces needs the list form.
    #[serde(deserialize_with = "command_words")]
    pub command: Vec<String>,
}

/// A command as a list of words, or one string split on whitespace (see `Notify::command`).
fn command_words<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    struct V;
    impl<'de> serde::de::Visitor<'de> for V {
        type Value = Vec<String>;
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("a command: a list of words or one string like \"./notify.sh --page\"")
        }
        fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Vec<String>, E> {
            Ok(v.split_whitespace().map(str::to_string).collect())
        }
        fn visit_seq<A: serde::de::SeqAccess<'de>>(
            self,
            mut seq: A,
        ) -> Result<Vec<String>, A::Error> {
            let mut words = Vec::new();
            while let Some(w) = seq.next_element::<String>()? {
                words.push(w);
            }
            Ok(words)
        }
    }
    d.deserialize_any(V)
}

/// Game-day fault injection (used by `tminus rehearse`): see `super::fault`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rehearsal {
    #[serde(default)]
    pub inject: Vec<super::fault::Inject>,
}

impl Rehearsal {
    /// The faults that can be played, in runbook order with their index in `inject` (validation
    /// has refused a runbook with any other).
    pub fn faults(&self) -> Vec<(usize, super::fault::Fault)> {
        self.inject
            .iter()
            .enumerate()
            .filter_map(|(i, inj)| inj.fault().ok().map(|f| (i, f)))
            .collect()
    }
}
