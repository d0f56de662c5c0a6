//! Game-day faults: what `rehearsal.inject` says, as written (`Inject`, flat so serde_yaml can
//! locate every field) and as meant (`Fault`, typed, what the simulator plays).
//!
//! ```yaml
//! rehearsal:
//!   inject:
//!     - { at: T+5m,  metric: alb_5xx, shape: spike, to: 400, for: 3m }
//!     - { at: T+8m,  metric: p99_raw, shape: ramp, to: 2.5, for: 6m }
//!     - { at: T+12m, quota: L-B99A9384, usage: 95%, for: 4m }
//!     - { at: T+15m, alarm: shop-alb-5xx-spike, for: 2m }
//!     - { at: T+20m, source: simulator, for: 90s }
//! ```

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::source::AlarmState;
use crate::time::{Span, TOffset};

/// One injection as written in the runbook.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Inject {
    /// When the fault starts, relative to T-0.
    pub at: TOffset,
    /// How long it lasts; the target recovers after it. Required (checked by validation so the
    /// error can say so in words).
    #[serde(rename = "for", default)]
    pub duration: Option<Span>,
    #[serde(default)]
    pub metric: Option<String>,
    #[serde(default)]
    pub quota: Option<String>,
    #[serde(default)]
    pub alarm: Option<String>,
    #[serde(default)]
    pub source: Option<String>,
    /// What happens to a metric (spike, ramp, drop, flatline, gap) or a source (down).
    #[serde(default)]
    pub shape: Option<Shape>,
    /// The value a spike, ramp or drop goes to.
    #[serde(default)]
    pub to: Option<f64>,
    /// A quota's usage during the fault: "95%" of the quota, or an absolute value.
    #[serde(default)]
    pub usage: Option<UsageLevel>,
    /// The state an alarm is flipped to (ALARM unless said otherwise).
    #[serde(default)]
    pub state: Option<AlarmState>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Shape {
    /// Jumps to `to` and stays there.
    Spike,
    /// Moves in a straight line from its value at the start to `to` at the end.
    Ramp,
    /// Falls to `to` and stays there (a spike downwards, named for what it looks like).
    Drop,
    /// Repeats the last value from before the fault: a stuck agent or a frozen pipeline.
    Flatline,
    /// No data at all: the metric goes stale.
    Gap,
    /// A source fails: errors, no data.
    Down,
}

impl Shape {
    pub fn label(self) -> &'static str {
        match self {
            Shape::Spike => "spike",
            Shape::Ramp => "ramp",
            Shape::Drop => "drop",
            Shape::Flatline => "flatline",
            Shape::Gap => "gap",
            Shape::Down => "down",
        }
    }
}

/// A quota usage level: a share of the quota ("95%") or a value in the quota's unit (950).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub enum UsageLevel {
    Percent(f64),
    Value(f64),
}

impl UsageLevel {
    /// The usage this level means for a quota of `value`.
    pub fn of(self, value: f64) -> f64 {
        match self {
            UsageLevel::Percent(p) => value * p / 100.0,
            UsageLevel::Value(v) => v,
        }
    }
}

impl fmt::Display for UsageLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            UsageLevel::Percent(p) => write!(f, "{p}%"),
            UsageLevel::Value(v) => write!(f, "{v}"),
        }
    }
}

impl<'de> Deserialize<'de> for UsageLevel {
    // A visitor, as for `Percent`: an untagged enum would lose serde_yaml's position.
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = UsageLevel;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a usage level: a share of the quota like 95%, or a value like 950")
            }
            fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<UsageLevel, E> {
                Ok(UsageLevel::Value(v))
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<UsageLevel, E> {
                Ok(UsageLevel::Value(v as f64))
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<UsageLevel, E> {
                Ok(UsageLevel::Value(v as f64))
            }
            fn visit_str<E: serde::de::Error>(self, s: &str) -> Result<UsageLevel, E> {
                let t = s.trim();
                let (body, pct) = match t.strip_suffix('%') {
                    Some(b) => (b.trim(), true),
                    None => (t, false),
                };
                match body.parse::<f64>() {
                    Ok(v) if pct => Ok(UsageLevel::Percent(v)),
                    Ok(v) => Ok(UsageLevel::Value(v)),
                    Err(_) => Err(E::custom(format!(
                        "bad usage {s:?}: write a share of the quota like 95% or a value like 950"
                    ))),
                }
            }
        }
        d.deserialize_any(V)
    }
}

/// A fault as the simulator plays it.
#[derive(Debug, Clone, PartialEq)]
pub struct Fault {
    pub at: TOffset,
    pub duration: Span,
    pub target: Target,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Target {
    Metric {
        id: String,
        effect: Effect,
    },
    Quota {
        code: String,
        usage: UsageLevel,
    },
    Alarm {
        name: String,
        state: AlarmState,
    },
    /// The source is down: errors instead of data.
    SourceDown {
        name: String,
    },
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Effect {
    Spike(f64),
    Ramp(f64),
    Drop(f64),
    Flatline,
    Gap,
}

impl Effect {
    pub fn shape(self) -> Shape {
        match self {
            Effect::Spike(_) => Shape::Spike,
            Effect::Ramp(_) => Shape::Ramp,
            Effect::Drop(_) => Shape::Drop,
            Effect::Flatline => Shape::Flatline,
            Effect::Gap => Shape::Gap,
        }
    }
}

impl Fault {
    /// What the fault does, in the words of the runbook: "spike alb_5xx to 400 for 3m at T+5m".
    pub fn describe(&self) -> String {
        let what = match &self.target {
            Target::Metric { id, effect } => match effect {
                Effect::Spike(v) | Effect::Ramp(v) | Effect::Drop(v) => {
                    format!("{} {id} to {v}", effect.shape().label())
                }
                Effect::Flatline | Effect::Gap => format!("{} {id}", effect.shape().label()),
            },
            Target::Quota { code, usage } => format!("quota {code} usage to {usage}"),
            Target::Alarm { name, state } => format!("alarm {name} to {}", state.label()),
            Target::SourceDown { name } => format!("source {name} down"),
        };
        format!("{what} for {} at {}", self.duration, self.at)
    }

    /// The target's name, for matching notes and for the score.
    pub fn target_name(&self) -> &str {
        match &self.target {
            Target::Metric { id, .. } => id,
            Target::Quota { code, .. } => code,
            Target::Alarm { name, .. } | Target::SourceDown { name } => name,
        }
    }
}

/// Why an injection cannot be played: the field to point at, the message and a hint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// A key of the injection's mapping ("shape", "to"...), or "" for the mapping itself.
    pub field: &'static str,
    pub message: String,
    pub hint: String,
}

fn problem(field: &'static str, message: impl Into<String>, hint: impl Into<String>) -> Problem {
    Problem {
        field,
        message: message.into(),
        hint: hint.into(),
    }
}

const EXAMPLES: &str = "e.g. { at: T+5m, metric: alb_5xx, shape: spike, to: 400, for: 3m }, \
     { at: T+12m, quota: L-B99A9384, usage: 95%, for: 5m }, { at: T+8m, alarm: web-p99, for: 2m }, \
     { at: T+9m, source: simulator, for: 90s }";

impl Inject {
    /// The typed fault, or every structural problem (references to metrics, quotas and alarms
    /// are checked against the runbook by validation).
    pub fn fault(&self) -> Result<Fault, Vec<Problem>> {
        let mut out = Vec::new();
        let duration = match self.duration {
            Some(d) if d.secs() > 0 => Some(d),
            Some(_) => {
                out.push(problem(
                    "for",
                    "`for` must be longer than 0",
                    "how long the fault lasts, e.g. for: 3m",
                ));
                None
            }
            None => {
                out.push(problem(
                    "",
                    "fault has no `for`",
                    "add how long it lasts before the target recovers, e.g. for: 3m",
                ));
                None
            }
        };
        let targets: Vec<(&'static str, &String)> = [
            ("metric", &self.metric),
            ("quota", &self.quota),
            ("alarm", &self.alarm),
            ("source", &self.source),
        ]
        .into_iter()
        .filter_map(|(k, v)| v.as_ref().map(|v| (k, v)))
        .collect();
        let target = match targets.as_slice() {
            [] => {
                out.push(problem(
                    "",
                    "fault has no target: give one of metric, quota, alarm or source",
                    EXAMPLES,
                ));
                None
            }
            [(kind, name)] => self.target(kind, name, &mut out),
            [(first, _), (second, _), ..] => {
                out.push(problem(
                    second_field(second),
                    format!(
                        "a fault has one target, but this one has both `{first}` and `{second}`"
                    ),
                    "write one injection per target",
                ));
                None
            }
        };
        match (duration, target) {
            (Some(duration), Some(target)) if out.is_empty() => Ok(Fault {
                at: self.at,
                duration,
                target,
            }),
            _ => Err(out),
        }
    }

    fn target(&self, kind: &str, name: &str, out: &mut Vec<Problem>) -> Option<Target> {
        let n = out.len();
        // Fields that belong to other kinds of target are mistakes, not decoration.
        let unused = |field: &'static str, present: bool, out: &mut Vec<Problem>| {
            if present {
                out.push(problem(
                    field,
                    format!("`{field}` does not apply to a {kind} fault"),
                    EXAMPLES,
                ));
            }
        };
        let target = match kind {
            "metric" => {
                unused("usage", self.usage.is_some(), out);
                unused("state", self.state.is_some(), out);
                let effect = self.effect(out);
                effect.map(|effect| Target::Metric {
                    id: name.to_string(),
                    effect,
                })
            }
            "quota" => {
                unused("shape", self.shape.is_some(), out);
                unused("to", self.to.is_some(), out);
                unused("state", self.state.is_some(), out);
                match self.usage {
                    None => {
                        out.push(problem(
                            "",
                            "quota fault has no `usage`",
                            "the usage it jumps to: a share of the quota (usage: 95%) or a value (usage: 950)",
                        ));
                        None
                    }
                    Some(UsageLevel::Percent(p)) if !(0.0..=100.0).contains(&p) => {
                        out.push(problem(
                            "usage",
                            format!("usage {p}% is not between 0% and 100%"),
                            "",
                        ));
                        None
                    }
                    Some(UsageLevel::Value(v)) if !(v.is_finite() && v >= 0.0) => {
                        out.push(problem("usage", "usage must be a finite number ≥ 0", ""));
                        None
                    }
                    Some(usage) => Some(Target::Quota {
                        code: name.to_string(),
                        usage,
                    }),
                }
            }
            "alarm" => {
                unused("shape", self.shape.is_some(), out);
                unused("to", self.to.is_some(), out);
                unused("usage", self.usage.is_some(), out);
                match self.state.unwrap_or(AlarmState::Alarm) {
                    AlarmState::Ok => {
                        out.push(problem(
                            "state",
                            "a fault flips an alarm to ALARM or INSUFFICIENT_DATA, not OK",
                            "leave `state` out for ALARM",
                        ));
                        None
                    }
                    state => Some(Target::Alarm {
                        name: name.to_string(),
                        state,
                    }),
                }
            }
            _ => {
                unused("to", self.to.is_some(), out);
                unused("usage", self.usage.is_some(), out);
                unused("state", self.state.is_some(), out);
                match self.shape {
                    None | Some(Shape::Down) => Some(Target::SourceDown {
                        name: name.to_string(),
                    }),
                    Some(s) => {
                        out.push(problem(
                            "shape",
                            format!("a source can only go down, not {}", s.label()),
                            "leave `shape` out, or write shape: down",
                        ));
                        None
                    }
                }
            }
        };
        if out.len() > n { None } else { target }
    }

    fn effect(&self, out: &mut Vec<Problem>) -> Option<Effect> {
        let Some(shape) = self.shape else {
            out.push(problem(
                "",
                "metric fault has no `shape`",
                "shape is one of spike, ramp, drop (each with `to:`), flatline, gap",
            ));
            return None;
        };
        let to = |out: &mut Vec<Problem>| match self.to {
            Some(v) if v.is_finite() => Some(v),
            Some(_) => {
                out.push(problem("to", "`to` must be a finite number", ""));
                None
            }
            None => {
                out.push(problem(
                    "",
                    format!(
                        "a {} needs `to`: the value the metric goes to",
                        shape.label()
                    ),
                    "e.g. shape: spike, to: 400",
                ));
                None
            }
        };
        let no_to = |out: &mut Vec<Problem>| {
            if self.to.is_some() {
                out.push(problem(
                    "to",
                    format!("a {} takes no `to`", shape.label()),
                    "flatline holds the last value and gap sends none",
                ));
            }
        };
        match shape {
            Shape::Spike => to(out).map(Effect::Spike),
            Shape::Ramp => to(out).map(Effect::Ramp),
            Shape::Drop => to(out).map(Effect::Drop),
            Shape::Flatline => {
                no_to(out);
                Some(Effect::Flatline)
            }
            Shape::Gap => {
                no_to(out);
                Some(Effect::Gap)
            }
            Shape::Down => {
                out.push(problem(
                    "shape",
                    "`down` is for sources; a metric's shape is spike, ramp, drop, flatline or gap",
                    "a metric with no data at all is `shape: gap`",
                ));
                None
            }
        }
    }
}

fn second_field(kind: &str) -> &'static str {
    match kind {
        "metric" => "metric",
        "quota" => "quota",
        "alarm" => "alarm",
        _ => "source",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inject(yaml: &str) -> Inject {
        serde_yaml::from_str(yaml).unwrap()
    }

    #[test]
    fn each_kind_becomes_its_typed_fault() {
        let f = inject("{ at: T+5m, metric: alb_5xx, shape: spike, to: 400, for: 3m }")
            .fault()
            .unwrap();
        assert_eq!(f.at, TOffset(300));
        assert_eq!(f.duration, Span(180));
        assert_eq!(
            f.target,
            Target::Metric {
                id: "alb_5xx".into(),
                effect: Effect::Spike(400.0)
            }
        );
        assert_eq!(f.describe(), "spike alb_5xx to 400 for 3m at T+5m");
        let q = inject("{ at: T+12m, quota: L-1, usage: 95%, for: 4m }")
            .fault()
            .unwrap();
        assert_eq!(
            q.target,
            Target::Quota {
                code: "L-1".into(),
                usage: UsageLevel::Percent(95.0)
            }
        );
        assert_eq!(UsageLevel::Percent(95.0).of(1000.0), 950.0);
        let v = inject("{ at: T+1m, quota: L-1, usage: 950, for: 4m }")
            .fault()
            .unwrap();
        assert_eq!(
            v.target,
            Target::Quota {
                code: "L-1".into(),
                usage: UsageLevel::Value(950.0)
            }
        );
        let a = inject("{ at: T-1m, alarm: web-p99, for: 2m }")
            .fault()
            .unwrap();
        assert_eq!(a.describe(), "alarm web-p99 to ALARM for 2m at T-1m");
        let s = inject("{ at: T+9m, source: simulator, for: 90s }")
            .fault()
            .unwrap();
        assert_eq!(s.describe(), "source simulator down for 1m30s at T+9m");
        let g = inject("{ at: T+9m, metric: x, shape: gap, for: 1m }")
            .fault()
            .unwrap();
        assert_eq!(
            g.target,
            Target::Metric {
                id: "x".into(),
                effect: Effect::Gap
            }
        );
    }

    #[test]
    fn structural_mistakes_name_the_field() {
        let fields = |yaml: &str| -> Vec<(&'static str, String)> {
            inject(yaml)
                .fault()
                .unwrap_err()
                .into_iter()
                .map(|p| (p.field, p.message))
                .collect()
        };
        assert_eq!(
            fields("{ at: T+5m, metric: a, shape: spike, to: 4 }"),
            [("", "fault has no `for`".to_string())]
        );
        assert_eq!(fields("{ at: T+5m, for: 1m }")[0].0, "");
        assert!(fields("{ at: T+5m, for: 1m }")[0].1.contains("no target"));
        assert_eq!(
            fields("{ at: T+5m, metric: a, quota: b, shape: gap, for: 1m }")[0].0,
            "quota"
        );
        assert_eq!(
            fields("{ at: T+5m, metric: a, shape: spike, for: 1m }")[0].1,
            "a spike needs `to`: the value the metric goes to"
        );
        assert_eq!(
            fields("{ at: T+5m, metric: a, shape: gap, to: 3, for: 1m }")[0].0,
            "to"
        );
        assert_eq!(
            fields("{ at: T+5m, quota: L-1, usage: 120%, for: 1m }")[0].0,
            "usage"
        );
        assert_eq!(
            fields("{ at: T+5m, alarm: x, state: OK, for: 1m }")[0].0,
            "state"
        );
        assert_eq!(
            fields("{ at: T+5m, source: simulator, shape: spike, for: 1m }")[0].0,
            "shape"
        );
        assert_eq!(
            fields("{ at: T+5m, metric: a, shape: down, for: 1m }")[0].0,
            "shape"
        );
        assert_eq!(
            fields("{ at: T+5m, metric: a, shape: gap, usage: 3, for: 0 }")
                .iter()
                .map(|p| p.0)
                .collect::<Vec<_>>(),
            ["for", "usage"]
        );
    }

    #[test]
    fn bad_usage_text_is_a_serde_error() {
        let e = serde_yaml::from_str::<Inject>("{ at: T+5m, quota: L-1, usage: lots, for: 1m }")
            .unwrap_err()
            .to_string();
        assert!(e.contains("bad usage \"lots\""), "{e}");
    }
}
