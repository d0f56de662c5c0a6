//! `tminus report A.journal B.journal ...`: game days side by side. Each run is scored as the
//! single review scores it (`rehearsal::score`); this lines the scores up per fault type
//! (time to detect, acknowledge and resolve) and per checklist item (on time, late...), so a
//! team sees whether it is getting faster.

use chrono::{DateTime, Utc};

use crate::rehearsal::score::{FaultScore, Score};

/// One run: where it came from and its score.
#[derive(Debug, Clone, PartialEq)]
pub struct Run {
    /// The journal's file name.
    pub label: String,
    pub started: DateTime<Utc>,
    pub score: Score,
}

/// The runs, in the order given, and what lines them up.
#[derive(Debug, Clone, PartialEq)]
pub struct Comparison {
    pub runs: Vec<Run>,
    /// Fault types in the order first seen ("spike alb_5xx", "source cloudwatch down").
    pub fault_types: Vec<String>,
    /// Checklist items by title, in the order first seen.
    pub items: Vec<String>,
}

/// A fault's type: what it does to what, without its size or time ("spike alb_5xx to 400 for
/// 3m at T+5m" is a "spike alb_5xx"), so the same exercise compares across runs that tuned it.
pub fn fault_type(description: &str) -> &str {
    let cut = [" to ", " for "]
        .iter()
        .filter_map(|sep| description.find(sep))
        .min()
        .unwrap_or(description.len());
    &description[..cut]
}

pub fn compare(runs: Vec<Run>) -> Comparison {
    let mut fault_types: Vec<String> = Vec::new();
    let mut items: Vec<String> = Vec::new();
    for r in &runs {
        for f in &r.score.faults {
            let t = fault_type(&f.description).to_string();
            if !fault_types.contains(&t) {
                fault_types.push(t);
            }
        }
        for i in &r.score.items {
            if !items.contains(&i.title) {
                items.push(i.title.clone());
            }
        }
    }
    Comparison {
        runs,
        fault_types,
        items,
    }
}

impl Comparison {
    /// The faults of `fault_type` in run `run` (a run may inject one type more than once).
    pub fn faults(&self, run: usize, fault_type: &str) -> Vec<&FaultScore> {
        self.runs[run]
            .score
            .faults
            .iter()
            .filter(|f| self::fault_type(&f.description) == fault_type)
            .collect()
    }

    /// "detect 1m · ack 2m · resolve 5m", "missed", or "—" when the run did not inject it.
    pub fn fault_cell(&self, run: usize, fault_type: &str) -> String {
        let faults = self.faults(run, fault_type);
        if faults.is_empty() {
            return "—".into();
        }
        let opt = |s: Option<i64>| s.map(super::span).unwrap_or_else(|| "never".into());
        faults
            .iter()
            .map(|f| match &f.detected {
                None => "missed".to_string(),
                Some((d, _)) => format!(
                    "detect {} · ack {} · resolve {}",
                    super::span(*d),
                    opt(f.acked),
                    opt(f.resolved)
                ),
            })
            .collect::<Vec<_>>()
            .join("; ")
    }

    /// What happened to the item titled `title` in run `run`.
    pub fn item_cell(&self, run: usize, title: &str) -> String {
        self.runs[run]
            .score
            .items
            .iter()
            .find(|i| i.title == title)
            .map(|i| super::outcome_text(&i.outcome))
            .unwrap_or_else(|| "—".into())
    }

    /// A run's totals: faults detected of injected, median seconds to detect, acknowledge
    /// and resolve, and items on time of all.
    pub fn totals(&self, run: usize) -> Totals {
        let s = &self.runs[run].score;
        let median = |mut v: Vec<i64>| -> Option<i64> {
            v.sort_unstable();
            (!v.is_empty()).then(|| v[v.len() / 2])
        };
        Totals {
            injected: s.faults.len(),
            detected: s.faults.iter().filter(|f| f.detected.is_some()).count(),
            detect: median(
                s.faults
                    .iter()
                    .filter_map(|f| f.detected.as_ref().map(|d| d.0))
                    .collect(),
            ),
            ack: median(s.faults.iter().filter_map(|f| f.acked).collect()),
            resolve: median(s.faults.iter().filter_map(|f| f.resolved).collect()),
            on_time: s
                .items
                .iter()
                .filter(|i| {
                    matches!(
                        i.outcome,
                        crate::rehearsal::score::Outcome::OnTime
                            | crate::rehearsal::score::Outcome::Done
                    )
                })
                .count(),
            items: s.items.len(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Totals {
    pub injected: usize,
    pub detected: usize,
    pub detect: Option<i64>,
    pub ack: Option<i64>,
    pub resolve: Option<i64>,
    pub on_time: usize,
    pub items: usize,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fault_types_drop_size_and_time() {
        assert_eq!(
            fault_type("spike alb_5xx to 400 for 3m at T+5m"),
            "spike alb_5xx"
        );
        assert_eq!(
            fault_type("flatline orders for 5m at T+8m"),
            "flatline orders"
        );
        assert_eq!(
            fault_type("source cloudwatch down for 2m at T+1m"),
            "source cloudwatch down"
        );
        assert_eq!(
            fault_type("quota L-B99A9384 usage to 95% for 4m at T+12m"),
            "quota L-B99A9384 usage"
        );
        assert_eq!(fault_type("odd"), "odd");
    }
}
