//! How a game day went, computed from its journal alone (so a later `tminus report` can do the
//! same): for each fault, how long until it was detected, acknowledged and resolved and how far
//! it escalated; for each checklist item, whether it was done on time; and the notes taken.
//!
//! Detection: the first alert opened (or raised to a higher severity) on one of the keys the
//! simulator said the fault affects, from its start until `GRACE_SECS` after it ends; or an
//! operator note that names the target (its id, code or name, or the title of an affected
//! metric). Notes matter for faults that open no alert by design: a flatline, a gap, a source
//! outage ("stale", "down", "no data" count for those).

use chrono::{DateTime, Utc};

use crate::app::alerts::{Alert, AlertKey};
use crate::journal::{Event, Record};
use crate::runbook::model::Runbook;
use crate::time::{Span, TOffset};

/// Alerts may trail a fault: a 60 s metric needs a point or three, an alarm three datapoints.
pub const GRACE_SECS: i64 = 300;

#[derive(Debug, Clone, PartialEq)]
pub struct Score {
    pub event_name: String,
    pub t0: DateTime<Utc>,
    pub started: DateTime<Utc>,
    pub ended: DateTime<Utc>,
    pub speed: Option<f64>,
    pub seed: Option<u64>,
    pub faults: Vec<FaultScore>,
    /// Runbook injections that never began in this session: (description, why).
    pub not_reached: Vec<(String, &'static str)>,
    pub items: Vec<ItemScore>,
    /// (when, who, text).
    pub notes: Vec<(DateTime<Utc>, String, String)>,
    /// Metric, quota and alarm alerts no fault explains (the launch's own load, or noise).
    pub other_alerts: Vec<AlertKey>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct FaultScore {
    pub id: String,
    pub description: String,
    pub surprise: bool,
    pub at: DateTime<Utc>,
    pub until: DateTime<Utc>,
    pub recovered: bool,
    /// Seconds from the fault's start, and what gave it away.
    pub detected: Option<(i64, String)>,
    pub acked: Option<i64>,
    /// When the last of its alerts closed (none left open at the end).
    pub resolved: Option<i64>,
    /// Highest escalation level reached by its alerts (index into the runbook's levels).
    pub level: Option<usize>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    OnTime,
    /// Done this many seconds after it was due.
    Late(i64),
    Skipped(String),
    /// Due before the session ended and not done.
    NeverDone,
    /// Not done, and not due by the time the session ended.
    NotDue,
    /// Done; it had no due time.
    Done,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ItemScore {
    pub id: String,
    pub title: String,
    pub due: Option<TOffset>,
    pub outcome: Outcome,
}

/// The records of the last session in a journal: from its last `SessionStarted` on.
pub fn last_session(records: &[Record]) -> &[Record] {
    let start = records
        .iter()
        .rposition(|r| matches!(r.event, Event::SessionStarted { .. }))
        .unwrap_or(0);
    &records[start..]
}

/// Scores the last session in `records` against `runbook`.
pub fn score(runbook: &Runbook, records: &[Record]) -> Score {
    let records = last_session(records);
    let (t0, speed, seed) = records
        .iter()
        .find_map(|r| match &r.event {
            Event::SessionStarted {
                t0, speed, seed, ..
            } => Some((*t0, *speed, *seed)),
            _ => None,
        })
        .unwrap_or((runbook.event.starts_at, None, None));
    let started = records.first().map(|r| r.ts).unwrap_or(t0);
    let ended = records
        .iter()
        .rev()
        .find(|r| matches!(r.event, Event::SessionEnded {}))
        .or(records.last())
        .map(|r| r.ts)
        .unwrap_or(started);

    // The journal's alert episodes: the fold the war room and the report use too.
    let episodes = crate::journal::alert_episodes(records);
    let notes: Vec<(DateTime<Utc>, String, String)> = records
        .iter()
        .filter_map(|r| match &r.event {
            Event::Note { text } => Some((r.ts, r.operator.clone(), text.clone())),
            _ => None,
        })
        .collect();

    let injected: Vec<Injected> = records
        .iter()
        .filter_map(|r| match &r.event {
            Event::FaultInjected {
                fault,
                description,
                target,
                at,
                until,
                surprise,
                affects,
            } => Some(Injected {
                id: fault,
                description,
                target,
                at: *at,
                until: *until,
                surprise: *surprise,
                affects,
            }),
            _ => None,
        })
        .collect();
    let owner = assign(&episodes, &injected);

    let mut faults = Vec::new();
    for (n, f) in injected.iter().enumerate() {
        let Injected {
            id: fault,
            description,
            target,
            at,
            until,
            surprise,
            affects,
        } = f;
        let recovered = records
            .iter()
            .any(|x| matches!(&x.event, Event::FaultRecovered { fault: f, .. } if f == *fault));
        let window_end = crate::time::TOffset(GRACE_SECS).at(*until);
        let mine: Vec<usize> = (0..episodes.len())
            .filter(|&i| owner[i] == Some(n))
            .collect();
        let secs = |t: DateTime<Utc>| (t - *at).num_seconds();
        let by_alert = mine
            .iter()
            .filter_map(|&i| {
                let e = &episodes[i];
                e.fired
                    .iter()
                    .filter(|f| **f >= *at && **f <= window_end)
                    .min()
                    .map(|f| (*f, format!("alert on {}", e.key)))
            })
            .min_by_key(|(t, _)| *t);
        let words = note_words(runbook, target, affects);
        let by_note = notes
            .iter()
            .filter(|(ts, _, _)| *ts >= *at && *ts <= window_end)
            .find(|(_, _, text)| {
                let text = text.to_lowercase();
                words.iter().any(|w| text.contains(w.as_str()))
            })
            .map(|(ts, who, _)| (*ts, format!("note by {who}")));
        let detected = [by_alert, by_note]
            .into_iter()
            .flatten()
            .min_by_key(|(t, _)| *t)
            .map(|(t, how)| (secs(t), how));
        let acked = mine
            .iter()
            .filter_map(|&i| episodes[i].acked.as_ref().map(|(_, t)| *t))
            .min()
            .map(secs);
        let resolved = if mine.is_empty() || mine.iter().any(|&i| episodes[i].closed_at.is_none()) {
            None
        } else {
            mine.iter()
                .filter_map(|&i| episodes[i].closed_at)
                .max()
                .map(secs)
        };
        let level = mine.iter().filter_map(|&i| episodes[i].level).max();
        faults.push(FaultScore {
            id: fault.to_string(),
            description: description.to_string(),
            surprise: *surprise,
            at: *at,
            until: *until,
            recovered,
            detected,
            acked,
            resolved,
            level,
        });
    }

    let not_reached = runbook
        .rehearsal
        .as_ref()
        .map(|r| r.faults())
        .unwrap_or_default()
        .into_iter()
        .filter(|(i, _)| {
            let id = format!("inject[{i}]");
            !faults.iter().any(|f| f.id == id)
        })
        .map(|(_, f)| {
            let why = if f.at.at(t0) >= ended {
                "after the session ended"
            } else {
                "over before the session began"
            };
            (f.describe(), why)
        })
        .collect();

    let other_alerts = episodes
        .iter()
        .zip(&owner)
        .filter(|(e, owner)| {
            owner.is_none() && !matches!(e.key, AlertKey::Overdue(_) | AlertKey::Checklist(_))
        })
        .map(|(e, _)| e.key.clone())
        .collect();

    Score {
        event_name: runbook.event.name.clone(),
        t0,
        started,
        ended,
        speed,
        seed,
        faults,
        not_reached,
        items: items(runbook, records, t0, ended),
        notes,
        other_alerts,
    }
}

/// A `FaultInjected` record's fields.
struct Injected<'a> {
    id: &'a str,
    description: &'a str,
    target: &'a str,
    at: DateTime<Utc>,
    until: DateTime<Utc>,
    surprise: bool,
    affects: &'a [AlertKey],
}

/// Which fault (index into `faults`) each alert episode belongs to: one whose affected keys
/// include the alert's and that it fired during or within the grace period after. When several
/// qualify (overlapping faults on related metrics), one active when it fired wins over one in
/// its grace period, then the one that began last: the likeliest cause.
fn assign(episodes: &[Alert], faults: &[Injected<'_>]) -> Vec<Option<usize>> {
    episodes
        .iter()
        .map(|e| {
            faults
                .iter()
                .enumerate()
                .filter(|(_, f)| f.affects.contains(&e.key))
                .filter_map(|(n, f)| {
                    let grace_end = crate::time::TOffset(GRACE_SECS).at(f.until);
                    let fired = e
                        .fired
                        .iter()
                        .copied()
                        .filter(|t| *t >= f.at && *t <= grace_end)
                        .min()?;
                    Some((fired < f.until, f.at, n))
                })
                .max_by_key(|(active, at, _)| (*active, *at))
                .map(|(_, _, n)| n)
        })
        .collect()
}

/// Lower-case words that, in a note, name what a fault hit.
fn note_words(runbook: &Runbook, target: &str, affects: &[AlertKey]) -> Vec<String> {
    let mut words = vec![target.to_lowercase()];
    for k in affects {
        match k {
            AlertKey::Metric(id) => {
                words.push(id.to_lowercase());
                if let Some(t) = runbook
                    .metrics
                    .iter()
                    .find(|m| &m.id == id)
                    .and_then(|m| m.title.as_deref())
                {
                    words.push(t.to_lowercase());
                }
            }
            AlertKey::Quota(code) => words.push(code.to_lowercase()),
            AlertKey::Alarm(name) => words.push(name.to_lowercase()),
            AlertKey::Overdue(_) | AlertKey::Checklist(_) | AlertKey::Source(_) => {}
        }
    }
    if target == crate::source::sim::SOURCE_NAME {
        words.extend(["stale", "no data", "down", "outage"].map(String::from));
    }
    words.retain(|w| !w.trim().is_empty());
    words
}

fn items(
    runbook: &Runbook,
    records: &[Record],
    t0: DateTime<Utc>,
    ended: DateTime<Utc>,
) -> Vec<ItemScore> {
    runbook
        .checklists
        .iter()
        .flat_map(|c| &c.items)
        .map(|item| {
            // The item's last change in the session is where it ended up.
            let last = records.iter().rev().find_map(|r| match &r.event {
                Event::ItemDone { item: i, .. } if *i == item.id => Some((r.ts, None)),
                Event::ItemSkipped { item: i, reason } if *i == item.id => {
                    Some((r.ts, Some(Some(reason.clone()))))
                }
                Event::ItemReopened { item: i } | Event::ItemInProgress { item: i }
                    if *i == item.id =>
                {
                    Some((r.ts, Some(None)))
                }
                _ => None,
            });
            let due = item.due.map(|d| d.at(t0));
            let outcome = match (last, due) {
                (Some((_, Some(Some(reason)))), _) => Outcome::Skipped(reason),
                (Some((at, None)), Some(due)) if at <= due => Outcome::OnTime,
                (Some((at, None)), Some(due)) => Outcome::Late((at - due).num_seconds()),
                (Some((_, None)), None) => Outcome::Done,
                (_, Some(due)) if due <= ended => Outcome::NeverDone,
                _ => Outcome::NotDue,
            };
            ItemScore {
                id: item.id.clone(),
                title: item.title.clone(),
                due: item.due,
                outcome,
            }
        })
        .collect()
}

/// "+42s", "+3m10s", or "-" when it never happened.
fn after(secs: Option<i64>) -> String {
    match secs {
        Some(s) if s >= 0 => format!("+{}", Span(s)),
        Some(s) => format!("-{}", Span(-s)),
        None => "-".into(),
    }
}

impl Score {
    /// The summary printed when a rehearsal ends. Names, notes and reasons come from the runbook and the journal: each is cleaned
    /// (`crate::text::clean`) so it prints as plain text on its own line.
    pub fn render(&self, runbook: &Runbook) -> String {
        let c = crate::text::clean;
        let mut out = String::new();
        let at = |t: DateTime<Utc>| TOffset::between(self.t0, t).to_string();
        let speed = self.speed.map(|s| format!(" at ×{s}")).unwrap_or_default();
        let seed = self.seed.map(|s| format!(", seed {s}")).unwrap_or_default();
        out.push_str(&format!(
            "Rehearsal score: {}{speed}{seed}, {} to {}\n",
            c(&self.event_name),
            at(self.started),
            at(self.ended)
        ));

        let surprises = self.faults.iter().filter(|f| f.surprise).count();
        let detected = self.faults.iter().filter(|f| f.detected.is_some()).count();
        out.push_str(&format!(
            "\nFaults: {} injected ({surprises} surprise), {detected} detected\n",
            self.faults.len()
        ));
        for f in &self.faults {
            let tag = if f.surprise { " (surprise)" } else { "" };
            out.push_str(&format!("  {}{tag}: {}\n", c(&f.id), c(&f.description)));
            let Some((secs, how)) = &f.detected else {
                out.push_str("    MISSED: no alert fired and no note named it\n");
                continue;
            };
            let level = f
                .level
                .map(|l| {
                    let who = runbook
                        .escalation
                        .levels
                        .get(l)
                        .map(|x| format!(" ({})", c(&x.who)))
                        .unwrap_or_default();
                    format!(" · escalated to L{}{who}", l + 1)
                })
                .unwrap_or_default();
            out.push_str(&format!(
                "    detected {} by {} · acknowledged {} · resolved {}{level}{}\n",
                after(Some(*secs)),
                c(how),
                after(f.acked),
                after(f.resolved),
                if f.recovered {
                    ""
                } else {
                    " · still active at the end"
                }
            ));
        }
        for (d, why) in &self.not_reached {
            out.push_str(&format!("  not played ({why}): {}\n", c(d)));
        }

        let count =
            |pred: fn(&Outcome) -> bool| self.items.iter().filter(|i| pred(&i.outcome)).count();
        out.push_str(&format!(
            "\nChecklist: {} on time, {} late, {} skipped, {} never done, {} done (no due time), {} not due yet\n",
            count(|o| *o == Outcome::OnTime),
            count(|o| matches!(o, Outcome::Late(_))),
            count(|o| matches!(o, Outcome::Skipped(_))),
            count(|o| *o == Outcome::NeverDone),
            count(|o| *o == Outcome::Done),
            count(|o| *o == Outcome::NotDue),
        ));
        for i in &self.items {
            let due = i.due.map(|d| d.to_string()).unwrap_or_default();
            let line = match &i.outcome {
                Outcome::Late(s) => format!("late {} (due {due})", after(Some(*s))),
                Outcome::Skipped(reason) => format!("skipped: {}", c(reason)),
                Outcome::NeverDone => format!("never done (due {due})"),
                _ => continue,
            };
            out.push_str(&format!("  \"{}\": {line}\n", c(&i.title)));
        }

        out.push_str(&format!("\nNotes: {}\n", self.notes.len()));
        for (ts, who, text) in &self.notes {
            out.push_str(&format!("  {} {}: {}\n", at(*ts), c(who), c(text)));
        }
        if !self.other_alerts.is_empty() {
            // "metric ddb_throttles ×7": a flapping alert once, with how often it opened.
            let mut counted: Vec<(&AlertKey, usize)> = Vec::new();
            for k in &self.other_alerts {
                match counted.iter_mut().find(|(c, _)| *c == k) {
                    Some((_, n)) => *n += 1,
                    None => counted.push((k, 1)),
                }
            }
            let keys: Vec<String> = counted
                .iter()
                .map(|(k, n)| match n {
                    1 => c(&k.to_string()).into_owned(),
                    n => format!("{} ×{n}", c(&k.to_string())),
                })
                .collect();
            out.push_str(&format!(
                "\nOther alerts (not caused by an injected fault): {}\n",
                keys.join(", ")
            ));
        }
        out
    }
}
