//! Alert rules and escalation, as plain functions over values and times.

use std::collections::VecDeque;

use crate::runbook::model::EscalationLevel;
use chrono::{DateTime, Utc};

pub use crate::thresholds::{
    HYSTERESIS, metric_severity, quota_headroom_pct, quota_severity, quota_used_pct,
};
pub use crate::vocab::{Alert, AlertKey, Severity};

/// How a signal's alert opens and closes: CloudWatch-style "M out of N" settled datapoints to
/// open, and a time it must stay clear before it closes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EpisodeRule {
    pub datapoints: usize,
    pub of: usize,
    pub clear_after_secs: i64,
}

impl EpisodeRule {
    /// A runbook's "M out of N" and clear time.
    pub fn new(breach: crate::runbook::model::BreachRule, clear_after_secs: i64) -> Self {
        EpisodeRule {
            datapoints: breach.datapoints as usize,
            of: breach.of as usize,
            clear_after_secs,
        }
    }

    /// A state someone else already judged (a CloudWatch alarm): each observation counts.
    pub fn immediate(clear_after_secs: i64) -> Self {
        EpisodeRule {
            datapoints: 1,
            of: 1,
            clear_after_secs,
        }
    }
}

/// A breach that cleared and came back this many times within one alert is flapping.
pub const FLAPPING_AFTER: u32 = 2;

/// One signal's alert episode, folded from its settled observations in time order. The one
/// place that decides when an alert opens, changes severity, flaps and closes.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Episode {
    /// The level of each of the last `of` observations, oldest first.
    recent: VecDeque<Option<Severity>>,
    /// The severity of the open alert; `None` when there is none.
    pub open: Option<Severity>,
    /// Since when the open alert's signal has read clear (no breach holding).
    clear_since: Option<DateTime<Utc>>,
    /// Times the breach came back while clearing, in this episode.
    pub flaps: u32,
    /// The last observation folded in: each is judged once.
    pub last: Option<DateTime<Utc>>,
}

impl Episode {
    /// An episode resumed from the journal: open at `severity`, nothing observed yet.
    pub fn resumed(severity: Severity, flaps: u32) -> Self {
        Episode {
            open: Some(severity),
            flaps,
            ..Episode::default()
        }
    }

    /// Folds one observation at `at` (later than the last, or it is ignored) whose level the
    /// caller judged against `self.open` for hysteresis.
    pub fn observe(&mut self, at: DateTime<Utc>, level: Option<Severity>, rule: EpisodeRule) {
        if self.last.is_some_and(|l| at <= l) {
            return;
        }
        self.last = Some(at);
        let of = rule.of.max(1);
        while self.recent.len() >= of {
            self.recent.pop_front();
        }
        self.recent.push_back(level);
        let need = rule.datapoints.clamp(1, of);
        let holding = |s: Severity| self.recent.iter().filter(|l| **l >= Some(s)).count() >= need;
        let held = if holding(Severity::Crit) {
            Some(Severity::Crit)
        } else if holding(Severity::Warn) {
            Some(Severity::Warn)
        } else {
            None
        };
        match (self.open, held) {
            (None, Some(s)) => {
                self.open = Some(s);
                self.flaps = 0;
                self.clear_since = None;
            }
            (Some(_), Some(s)) => {
                if self.clear_since.take().is_some() {
                    self.flaps += 1;
                }
                self.open = Some(s);
            }
            (Some(_), None) => {
                let since = *self.clear_since.get_or_insert(at);
                if (at - since).num_seconds() >= rule.clear_after_secs {
                    self.open = None;
                    self.clear_since = None;
                    self.flaps = 0;
                }
            }
            (None, None) => {}
        }
    }

    pub fn is_flapping(&self) -> bool {
        self.flaps >= FLAPPING_AFTER
    }

    /// Whether the open alert's signal reads clear now (it closes if that lasts).
    pub fn clearing(&self) -> bool {
        self.open.is_some() && self.clear_since.is_some()
    }
}

/// The escalation level reached `elapsed_secs` after an alert opened: the last level whose
/// `after` has passed. Levels are validated to be in ascending order.
pub fn escalation_level(levels: &[EscalationLevel], elapsed_secs: i64) -> Option<usize> {
    levels.iter().rposition(|l| l.after.secs() <= elapsed_secs)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runbook::model::Direction;
    use crate::time::Span;

    #[test]
    fn thresholds_with_hysteresis() {
        let s = |v, prev| metric_severity(v, Some(100.0), Some(200.0), Direction::Above, prev);
        assert_eq!(s(99.0, None), None);
        assert_eq!(s(100.0, None), Some(Severity::Warn));
        assert_eq!(s(250.0, None), Some(Severity::Crit));
        // Just under crit keeps crit, just under warn keeps warn: the hysteresis band.
        assert_eq!(s(195.0, Some(Severity::Crit)), Some(Severity::Crit));
        assert_eq!(s(189.0, Some(Severity::Crit)), Some(Severity::Warn));
        assert_eq!(s(96.0, Some(Severity::Warn)), Some(Severity::Warn));
        assert_eq!(s(94.0, Some(Severity::Warn)), None);
        assert_eq!(s(f64::NAN, Some(Severity::Warn)), Some(Severity::Warn));
        assert_eq!(s(f64::INFINITY, None), None);
    }

    #[test]
    fn below_direction_and_quota() {
        assert_eq!(
            metric_severity(5.0, Some(50.0), Some(10.0), Direction::Below, None),
            Some(Severity::Crit)
        );
        assert_eq!(quota_severity(25.0, 30.0, 10.0, None), Some(Severity::Warn));
        assert_eq!(quota_severity(9.0, 30.0, 10.0, None), Some(Severity::Crit));
        assert_eq!(
            quota_severity(31.0, 30.0, 10.0, Some(Severity::Warn)),
            Some(Severity::Warn)
        );
        assert_eq!(quota_severity(40.0, 30.0, 10.0, Some(Severity::Warn)), None);
    }

    fn t(s: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000 + s, 0).unwrap()
    }

    const RULE: EpisodeRule = EpisodeRule {
        datapoints: 2,
        of: 3,
        clear_after_secs: 300,
    };

    fn fold(levels: &[Option<Severity>]) -> Vec<Option<Severity>> {
        let mut e = Episode::default();
        levels
            .iter()
            .enumerate()
            .map(|(i, l)| {
                e.observe(t(60 * i as i64), *l, RULE);
                e.open
            })
            .collect()
    }

    #[test]
    fn one_noisy_datapoint_never_opens_an_alert() {
        let w = Some(Severity::Warn);
        assert_eq!(fold(&[None, w, None, None, w, None]), vec![None; 6]);
        // Two of three opens, on the second.
        assert_eq!(fold(&[None, w, None, w]), vec![None, None, None, w]);
    }

    #[test]
    fn severity_follows_what_holds_and_closing_waits_for_the_clear_time() {
        let (w, c) = (Some(Severity::Warn), Some(Severity::Crit));
        let mut e = Episode::default();
        let mut at = 0;
        let mut feed = |e: &mut Episode, l| {
            e.observe(t(at), l, RULE);
            at += 60;
            e.open
        };
        assert_eq!(feed(&mut e, c), None);
        assert_eq!(feed(&mut e, c), c);
        assert_eq!(feed(&mut e, w), c, "two of three still crit");
        assert_eq!(feed(&mut e, w), w);
        // Clear: two clear points before "2 of 3" stops holding, then 5 minutes.
        assert_eq!(feed(&mut e, None), w);
        assert_eq!(feed(&mut e, None), w);
        assert!(e.clearing());
        for _ in 0..4 {
            assert_eq!(feed(&mut e, None), w, "clear for under 5 minutes");
        }
        assert_eq!(feed(&mut e, None), None, "closed after 5 minutes clear");
        assert!(!e.clearing());
    }

    #[test]
    fn a_flapping_signal_stays_one_episode() {
        let w = Some(Severity::Warn);
        let mut e = Episode::default();
        let mut opened = 0;
        let mut was = None;
        // Breach for 3 minutes, clear for 3, again and again: never clear for 5 minutes.
        for i in 0..60 {
            let l = if (i / 3) % 2 == 0 { w } else { None };
            e.observe(t(60 * i), l, RULE);
            if was.is_none() && e.open.is_some() {
                opened += 1;
            }
            was = e.open;
        }
        assert_eq!(opened, 1);
        assert!(e.is_flapping(), "flaps {}", e.flaps);
    }

    #[test]
    fn observations_are_judged_once_in_time_order() {
        let c = Some(Severity::Crit);
        let mut e = Episode::default();
        e.observe(t(60), c, RULE);
        e.observe(t(60), c, RULE);
        e.observe(t(0), c, RULE);
        assert_eq!(e.open, None, "the same and older points are ignored");
        e.observe(t(120), c, RULE);
        assert_eq!(e.open, c);
        let mut once = Episode::default();
        once.observe(t(0), c, EpisodeRule::immediate(300));
        assert_eq!(once.open, c);
    }

    #[test]
    fn escalation_levels_by_elapsed_time() {
        let lvl = |after| EscalationLevel {
            after: Span(after),
            who: "x".into(),
            contact: "y".into(),
        };
        let levels = [lvl(0), lvl(600), lvl(1200)];
        assert_eq!(escalation_level(&levels, 0), Some(0));
        assert_eq!(escalation_level(&levels, 599), Some(0));
        assert_eq!(escalation_level(&levels, 600), Some(1));
        assert_eq!(escalation_level(&levels, 5000), Some(2));
        assert_eq!(escalation_level(&levels[1..], 10), None);
        assert_eq!(escalation_level(&[], 10), None);
    }
}
