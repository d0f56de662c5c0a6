//! Alert rules over time: phases, the overdue roll-up per checklist, failing sources and
//! escalation, and keeping each alert in step with its signal's episode.

use super::alerts::{self, AlertKey, Severity};
use super::state::*;
use crate::journal::Event;

impl App {
    /// Phase changes, overdue items and escalation all depend on the clock alone.
    pub(super) fn evaluate_time_rules(&mut self) {
        let offset = self.offset();
        let phase = self.runbook.phases.iter().rposition(|p| p.from <= offset);
        if phase != self.phase {
            self.phase = phase;
            self.dirty = true;
            if let Some(p) = phase {
                let name = self.runbook.phases[p].name.clone();
                if self.last_phase_journalled.as_deref() != Some(name.as_str()) {
                    self.observe(Event::PhaseEntered { phase: name });
                }
            }
        }

        // Overdue items roll up into one alert per checklist: ten late items are one problem
        // to call someone about, not ten. Only changes are collected: this runs every tick.
        let mut overdue = Vec::new();
        for (c, list) in self.runbook.checklists.iter().enumerate() {
            let late = list
                .items
                .iter()
                .enumerate()
                .any(|(i, item)| self.is_overdue(item, &self.items[c][i]));
            let key = AlertKey::Checklist(list.name.clone());
            let open = self.alerts.iter().any(|a| a.is_open() && a.key == key);
            if late != open {
                let wanted = self
                    .overdue_summary(&list.name)
                    .map(|message| (Severity::Warn, message));
                overdue.push((key, wanted));
            }
        }
        // Alerts per overdue item from journals written before the roll-up: closed, once.
        for a in self.alerts.iter().filter(|a| a.is_open()) {
            if let AlertKey::Overdue(_) = a.key {
                overdue.push((a.key.clone(), None));
            }
        }
        for (key, wanted) in overdue {
            self.sync_alert(key, wanted);
        }

        let mut blind = Vec::new();
        for (name, h) in &self.sources {
            let key = AlertKey::Source(name.clone());
            let failing = h
                .failing_since
                .is_some_and(|t| (self.now - t).num_seconds() >= SOURCE_ALERT_AFTER_SECS);
            let open = self.alerts.iter().any(|a| a.is_open() && a.key == key);
            if failing != open {
                let wanted = h.error.as_ref().filter(|_| failing).map(|(e, _)| {
                    (
                        Severity::Warn,
                        format!("{name} failing for over a minute: {e}"),
                    )
                });
                blind.push((key, wanted));
            }
        }
        for (key, wanted) in blind {
            self.sync_alert(key, wanted);
        }

        // An acknowledgement that was not followed by a resolution in time lapses: the alert
        // climbs to the next level at once and keeps escalating.
        let mut lapsed = Vec::new();
        if let Some(expires) = self.runbook.escalation.ack_expires {
            for a in self.open_alerts() {
                if let Some((_, at)) = &a.acked
                    && (self.now - *at).num_seconds() >= expires.secs()
                {
                    lapsed.push((a.key.clone(), a.level));
                }
            }
        }
        for (key, level) in lapsed {
            self.observe(Event::AlertAckExpired { key: key.clone() });
            let next = level.map_or(0, |l| l + 1);
            if let Some(lvl) = self.runbook.escalation.levels.get(next) {
                let (who, contact) = (lvl.who.clone(), lvl.contact.clone());
                self.observe(Event::AlertEscalated {
                    key,
                    level: next,
                    who,
                    contact,
                });
            }
        }

        let levels = &self.runbook.escalation.levels;
        let mut escalations = Vec::new();
        for a in self
            .alerts
            .iter()
            .filter(|a| a.is_open() && a.acked.is_none())
        {
            let elapsed = super::team::escalation_elapsed(levels, a, self.now);
            let reached = alerts::escalation_level(levels, elapsed);
            if let Some(l) = reached
                && a.level.is_none_or(|cur| l > cur)
            {
                let lvl = &levels[l];
                escalations.push(Event::AlertEscalated {
                    key: a.key.clone(),
                    level: l,
                    who: lvl.who.clone(),
                    contact: lvl.contact.clone(),
                });
            }
        }
        for e in escalations {
            self.observe(e);
        }

        // The scribe is reminded once when the status update falls due.
        let due = self.update_due().filter(|d| d.overdue).map(|d| d.due_at);
        if due != self.update_reminded && due.is_some() {
            self.update_reminded = due;
            if self.posts_updates() && self.seat.can_act() {
                self.flash(
                    "status update due: press u to post conditions, actions and needs".into(),
                );
            }
        }
    }

    /// `sync_alert` for a signal folded into an episode, journalling when it starts flapping.
    pub(super) fn sync_episode(
        &mut self,
        key: AlertKey,
        episode: &alerts::Episode,
        wanted: Option<(Severity, String)>,
    ) {
        self.sync_alert(key.clone(), wanted);
        let newly_flapping = episode.is_flapping()
            && self
                .alerts
                .iter()
                .any(|a| a.is_open() && a.key == key && a.flaps < alerts::FLAPPING_AFTER);
        if newly_flapping {
            self.observe(Event::AlertFlapping {
                key,
                flaps: episode.flaps,
            });
        }
    }

    /// Opens, changes or closes the alert for `key` to match `wanted`, journalling each change.
    pub(super) fn sync_alert(&mut self, key: AlertKey, wanted: Option<(Severity, String)>) {
        let open = self.alerts.iter().find(|a| a.is_open() && a.key == key);
        let event = match (open, wanted) {
            (None, Some((severity, message))) => Some(Event::AlertOpened {
                key,
                severity,
                message,
            }),
            (Some(a), Some((severity, message))) if a.severity != severity => {
                Some(Event::AlertSeverity {
                    key,
                    severity,
                    message,
                })
            }
            (Some(_), None) => Some(Event::AlertClosed { key }),
            _ => None,
        };
        if let Some(e) = event {
            self.observe(e);
        }
    }
}
