//! The review's team section: the go/no-go poll as it stood at the end (each voting role's
//! standing vote, with the changes along the way) and every status update. Read by replaying
//! the session through the war room's own fold (`App`), so conflicts and changed votes settle
//! exactly as they did on screen.

use chrono::{DateTime, Utc};

use crate::app::team::Verdict;
use crate::app::update::{AppOptions, Msg};
use crate::app::{App, Mode};
use crate::journal::{Event, MemoryJournal, Record, Vote};
use crate::runbook::Runbook;

/// A voting role's standing vote at the end of the session.
#[derive(Debug, Clone, PartialEq)]
pub struct VoteRow {
    pub role: String,
    /// `None`: the role never voted.
    pub vote: Option<Vote>,
    pub reason: String,
    pub by: String,
    pub at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct UpdateRow {
    pub at: DateTime<Utc>,
    pub by: String,
    pub conditions: String,
    pub actions: String,
    pub needs: String,
}

/// The poll and the updates; empty when the runbook has no poll and nobody posted an update.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Team {
    /// The poll's verdict at the end ("GO", "NO-GO", ...), when the runbook has one.
    pub verdict: Option<String>,
    pub votes: Vec<VoteRow>,
    /// Votes cast in all, counting changes of mind and votes that lost to another.
    pub votes_cast: usize,
    /// Blocking items not done at the end.
    pub blocking_left: Vec<String>,
    pub updates: Vec<UpdateRow>,
}

/// The team section of the review of `session`, which ended at `ended`.
pub fn team(runbook: &Runbook, session: &[Record], ended: DateTime<Utc>) -> Team {
    let updates: Vec<UpdateRow> = session
        .iter()
        .filter_map(|r| match &r.event {
            Event::StatusUpdate {
                conditions,
                actions,
                needs,
            } => Some(UpdateRow {
                at: r.ts,
                by: r.operator.clone(),
                conditions: conditions.clone(),
                actions: actions.clone(),
                needs: needs.clone(),
            }),
            _ => None,
        })
        .collect();
    let votes_cast = session
        .iter()
        .filter(|r| matches!(r.event, Event::VoteCast { .. }))
        .count();
    if runbook.go_no_go.is_none() && updates.is_empty() {
        return Team::default();
    }
    let t0 = session
        .iter()
        .find_map(|r| match &r.event {
            Event::SessionStarted { t0, .. } => Some(*t0),
            _ => None,
        })
        .unwrap_or(runbook.event.starts_at);
    let opts = AppOptions {
        runbook_path: String::new(),
        t0,
        operator: String::new(),
        mode: Mode::Replay,
        allow_writes: false,
        speed: 1.0,
        data_label: None,
        seat: Default::default(),
        room: None,
    };
    // The war room's fold over the session, in memory: what it observes at the end is
    // discarded with it.
    let mut app = App::new(
        runbook.clone(),
        opts,
        ended,
        Box::new(MemoryJournal::default()),
        session.to_vec(),
    );
    app.update(ended, Msg::Tick);
    let Some(poll) = app.poll() else {
        return Team {
            updates,
            votes_cast,
            ..Team::default()
        };
    };
    let verdict = match poll.verdict {
        Verdict::NotOpen => "the poll never opened",
        Verdict::Waiting => "waiting for votes",
        Verdict::NoGo => "NO-GO",
        Verdict::Blocked => "every role GO, blocking items not done",
        Verdict::Go => "GO",
    };
    Team {
        verdict: Some(verdict.into()),
        votes: poll
            .required
            .iter()
            .map(|r| VoteRow {
                role: r.name.to_string(),
                vote: r.vote.map(|v| v.vote),
                reason: r.vote.map(|v| v.reason.clone()).unwrap_or_default(),
                by: r.vote.map(|v| v.operator.clone()).unwrap_or_default(),
                at: r.vote.map(|v| v.at),
            })
            .collect(),
        votes_cast,
        blocking_left: poll.blocking_left.iter().map(|s| s.to_string()).collect(),
        updates,
    }
}
