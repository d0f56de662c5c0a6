//! The people in the war room: roles from the runbook, the go/no-go poll, the status-update
//! cadence and the whole escalation ladder. State comes from the journal fold (`apply_at`);
//! these are the rules read over it, and the actions that journal new decisions.

use chrono::{DateTime, Utc};

use super::alerts::{Alert, AlertKey};
use super::state::*;
use crate::journal::{Event, Vote};
use crate::time::Span;

/// What the go/no-go poll says now.
#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    /// Its phase has not started.
    NotOpen,
    /// Some required roles have not voted (and nobody said no).
    Waiting,
    /// A required role voted no-go.
    NoGo,
    /// Every required role voted go, but blocking items are not done.
    Blocked,
    /// Every required role voted go and every blocking item is done.
    Go,
}

/// One required role's line in the poll.
#[derive(Debug, Clone, PartialEq)]
pub struct RoleVote<'a> {
    pub role: &'a str,
    pub name: &'a str,
    pub vote: Option<&'a VoteState>,
}

/// The go/no-go poll as the header and the report show it.
#[derive(Debug, Clone, PartialEq)]
pub struct Poll<'a> {
    pub phase: &'a str,
    pub required: Vec<RoleVote<'a>>,
    /// Blocking items not yet done (or skipped), by title.
    pub blocking_left: Vec<&'a str>,
    pub verdict: Verdict,
}

impl Poll<'_> {
    pub fn go_votes(&self) -> usize {
        self.required
            .iter()
            .filter(|r| r.vote.is_some_and(|v| v.vote == Vote::Go))
            .count()
    }
    pub fn no_go(&self) -> Option<&RoleVote<'_>> {
        self.required
            .iter()
            .find(|r| r.vote.is_some_and(|v| v.vote == Vote::NoGo))
    }
}

/// When the next status update is due.
#[derive(Debug, Clone, PartialEq)]
pub struct UpdateDue {
    pub every: Span,
    pub due_at: DateTime<Utc>,
    pub overdue: bool,
}

/// One level of the escalation ladder for an alert.
#[derive(Debug, Clone, PartialEq)]
pub struct Rung<'a> {
    pub level: usize,
    pub who: &'a str,
    pub contact: &'a str,
    /// Reached (or passed) already.
    pub reached: bool,
    /// The level the alert is at now.
    pub current: bool,
    /// When it will be reached, for levels ahead while the alert escalates on its own
    /// (`None` when acknowledged: an acknowledged alert does not climb).
    pub at: Option<DateTime<Utc>>,
}

impl App {
    /// The role this operator holds.
    pub fn my_role(&self) -> Option<&str> {
        self.roles_held.get(&self.operator).map(|r| r.role.as_str())
    }

    /// Operators holding `role`, in name order.
    pub fn holders(&self, role: &str) -> Vec<&str> {
        self.roles_held
            .iter()
            .filter(|(_, h)| h.role == role)
            .map(|(op, _)| op.as_str())
            .collect()
    }

    /// Takes a runbook role (`--role`, or the role dialog).
    pub fn take_role_by_id(&mut self, id: &str) -> bool {
        if self.runbook.role(id).is_none() {
            let ids: Vec<&str> = self.runbook.roles.iter().map(|r| r.id.as_str()).collect();
            self.flash(if ids.is_empty() {
                "the runbook has no roles: add roles: to it".into()
            } else {
                format!("no role {id:?} in the runbook; roles: {}", ids.join(", "))
            });
            return false;
        }
        if self.my_role() == Some(id) {
            return true;
        }
        self.act(Event::RoleTaken { role: id.into() })
    }

    /// The poll, when the runbook has one.
    pub fn poll(&self) -> Option<Poll<'_>> {
        let g = self.runbook.go_no_go.as_ref()?;
        let start = self.runbook.phases.iter().position(|p| p.name == g.phase)?;
        let open = self.phase.is_some_and(|p| p >= start);
        let required: Vec<RoleVote<'_>> = self
            .runbook
            .roles
            .iter()
            .filter(|r| r.votes)
            .map(|r| RoleVote {
                role: &r.id,
                name: &r.name,
                vote: self.votes.get(&r.id),
            })
            .collect();
        let mut blocking_left = Vec::new();
        for (c, list) in self.runbook.checklists.iter().enumerate() {
            for (i, item) in list.items.iter().enumerate() {
                if item.blocking
                    && !matches!(
                        self.items[c][i].status,
                        ItemStatus::Done | ItemStatus::Skipped
                    )
                {
                    blocking_left.push(item.title.as_str());
                }
            }
        }
        let all_go = required
            .iter()
            .all(|r| r.vote.is_some_and(|v| v.vote == Vote::Go));
        let any_no = required
            .iter()
            .any(|r| r.vote.is_some_and(|v| v.vote == Vote::NoGo));
        let verdict = if !open {
            Verdict::NotOpen
        } else if any_no {
            Verdict::NoGo
        } else if !all_go {
            Verdict::Waiting
        } else if !blocking_left.is_empty() {
            Verdict::Blocked
        } else {
            Verdict::Go
        };
        Some(Poll {
            phase: &g.phase,
            required,
            blocking_left,
            verdict,
        })
    }

    /// `v`: opens the vote dialog, or says why this seat cannot vote now.
    pub(super) fn start_vote(&mut self) {
        if !self.seat.votes() {
            self.flash("watching: a watcher's seat does not vote".into());
            return;
        }
        let Some(poll) = self.poll() else {
            self.flash("the runbook has no go/no-go poll (go_no_go: in the runbook)".into());
            return;
        };
        if poll.verdict == Verdict::NotOpen {
            let phase = poll.phase.to_string();
            self.flash(format!("the go/no-go poll opens with the {phase} phase"));
            return;
        }
        let voting: Vec<String> = poll.required.iter().map(|r| r.role.to_string()).collect();
        match self.my_role() {
            Some(r) if voting.iter().any(|v| v == r) => {
                self.ui.overlay = Overlay::Vote {
                    go: true,
                    text: String::new(),
                }
            }
            _ => self.flash(format!(
                "only voting roles vote ({}): take one with r or --role",
                voting.join(", ")
            )),
        }
    }

    /// Enter in the vote dialog: a NO-GO needs a reason.
    pub(super) fn submit_vote(&mut self) {
        let Overlay::Vote { go, text } = std::mem::take(&mut self.ui.overlay) else {
            return;
        };
        let reason = text.trim().to_string();
        if !go && reason.is_empty() {
            self.ui.overlay = Overlay::Vote { go, text };
            self.flash("a NO-GO needs a reason: say what has to change".into());
            return;
        }
        let Some(role) = self.my_role().map(str::to_string) else {
            return;
        };
        let vote = if go { Vote::Go } else { Vote::NoGo };
        if !self.act(Event::VoteCast { role, vote, reason }) {
            self.ui.overlay = Overlay::Vote { go, text };
        }
    }

    /// The current phase's status-update cadence, when it has one.
    pub fn update_due(&self) -> Option<UpdateDue> {
        let p = self.phase?;
        let phase = &self.runbook.phases[p];
        let every = phase.updates_every?;
        let phase_start = phase.from.at(self.t0);
        // From the phase's start, the last update, or when this war room first opened: a
        // room opened mid-phase is not already late.
        let since = match &self.last_update {
            Some((t, _)) if *t >= phase_start => *t,
            _ => phase_start.max(self.opened_at),
        };
        let due_at = crate::time::after(since, every);
        Some(UpdateDue {
            every,
            due_at,
            overdue: self.now >= due_at,
        })
    }

    /// Whether this operator is the one reminded to post updates: holds a role with
    /// `updates: true`, or anyone when no role has it.
    pub fn posts_updates(&self) -> bool {
        let roles: Vec<&str> = self
            .runbook
            .roles
            .iter()
            .filter(|r| r.updates)
            .map(|r| r.id.as_str())
            .collect();
        roles.is_empty() || self.my_role().is_some_and(|r| roles.contains(&r))
    }

    /// `u`: the structured status update dialog.
    pub(super) fn start_update(&mut self) {
        if !self.seat.can_act() {
            self.flash("watching: this seat is read-only".into());
            return;
        }
        self.ui.overlay = Overlay::StatusUpdate {
            field: 0,
            texts: Default::default(),
        };
    }

    pub(super) fn submit_update(&mut self) {
        let Overlay::StatusUpdate { field, texts } = std::mem::take(&mut self.ui.overlay) else {
            return;
        };
        let [conditions, actions, needs] = texts.clone().map(|t| t.trim().to_string());
        if conditions.is_empty() {
            self.ui.overlay = Overlay::StatusUpdate { field: 0, texts };
            self.flash("say the conditions first: how things stand".into());
            return;
        }
        let event = Event::StatusUpdate {
            conditions,
            actions: if actions.is_empty() {
                "none".into()
            } else {
                actions
            },
            needs: if needs.is_empty() {
                "nothing".into()
            } else {
                needs
            },
        };
        if !self.act(event) {
            self.ui.overlay = Overlay::StatusUpdate { field, texts };
        }
    }

    /// The whole ladder for `alert`: every level, who and how to reach them, and when the
    /// ones ahead are reached if nobody acknowledges.
    pub fn ladder<'a>(&'a self, alert: &Alert) -> Vec<Rung<'a>> {
        let levels = &self.runbook.escalation.levels;
        let (anchor_t, anchor_l) = match alert.escalated_at {
            Some((t, l)) => (t, Some(l)),
            None => (alert.opened_at, None),
        };
        levels
            .iter()
            .enumerate()
            .map(|(i, l)| {
                let reached = alert.level.is_some_and(|cur| i <= cur);
                let at = (!reached && alert.acked.is_none()).then(|| {
                    let from = anchor_l.map(|a| levels[a].after.secs()).unwrap_or(0);
                    anchor_t + chrono::Duration::seconds((l.after.secs() - from).max(0))
                });
                Rung {
                    level: i,
                    who: &l.who,
                    contact: &l.contact,
                    reached,
                    current: alert.level == Some(i),
                    at,
                }
            })
            .collect()
    }

    /// `e` / `E`: moves the banner's alert one level up or down the ladder by hand.
    pub(super) fn move_escalation(&mut self, up: bool) {
        let Some(alert) = self.top_alert() else {
            self.flash("no open alert to escalate".into());
            return;
        };
        let levels = &self.runbook.escalation.levels;
        if levels.is_empty() {
            self.flash("the runbook has no escalation levels".into());
            return;
        }
        let key: AlertKey = alert.key.clone();
        let target = match (alert.level, up) {
            (None, true) => 0,
            (Some(l), true) if l + 1 < levels.len() => l + 1,
            (Some(l), false) if l > 0 => l - 1,
            (_, true) => {
                self.flash("already at the top of the ladder".into());
                return;
            }
            (_, false) => {
                self.flash("already at the first level".into());
                return;
            }
        };
        let lvl = &levels[target];
        let (who, contact) = (lvl.who.clone(), lvl.contact.clone());
        self.act(Event::AlertLevelSet {
            key,
            level: target,
            who,
            contact,
        });
    }
}

/// Seconds on the escalation clock: from the open, or from the last move (plus that level's
/// `after`, so the next level comes as long after it as the runbook says).
pub fn escalation_elapsed(
    levels: &[crate::runbook::model::EscalationLevel],
    alert: &Alert,
    now: DateTime<Utc>,
) -> i64 {
    match alert.escalated_at {
        Some((t, l)) => {
            levels.get(l).map(|x| x.after.secs()).unwrap_or(0) + (now - t).num_seconds()
        }
        None => (now - alert.opened_at).num_seconds(),
    }
}
