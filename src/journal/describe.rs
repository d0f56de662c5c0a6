//! Journal records in words, as the timeline, the report and the score show them: what
//! happened, named by the runbook's titles. Plain text; callers sanitise when they print.

use crate::journal::Event;
use crate::runbook::Runbook;
use crate::vocab::AlertKey;

/// The kinds of event drawn across time charts (the zoom view and the report's charts).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MarkerKind {
    T0,
    Phase,
    AlertOpened,
    AlertAcknowledged,
    AlertResolved,
    Note,
    QuotaRequest,
    Fault,
}

impl MarkerKind {
    /// The CSS class, and the word in a legend.
    pub fn class(self) -> &'static str {
        match self {
            MarkerKind::T0 => "t0",
            MarkerKind::Phase => "phase",
            MarkerKind::AlertOpened => "opened",
            MarkerKind::AlertAcknowledged => "acked",
            MarkerKind::AlertResolved => "resolved",
            MarkerKind::Note => "note",
            MarkerKind::QuotaRequest => "request",
            MarkerKind::Fault => "fault",
        }
    }
}

/// Whether a journal record is marked on time charts, and as what: the one rule the war room's
/// zoom view and the report's charts share.
pub fn marker_kind(e: &Event) -> Option<MarkerKind> {
    Some(match e {
        Event::PhaseEntered { .. } => MarkerKind::Phase,
        Event::AlertOpened { .. } => MarkerKind::AlertOpened,
        Event::AlertAcknowledged { .. } => MarkerKind::AlertAcknowledged,
        Event::AlertClosed { .. } => MarkerKind::AlertResolved,
        Event::Note { .. } => MarkerKind::Note,
        Event::QuotaIncreaseRequested { .. } => MarkerKind::QuotaRequest,
        Event::FaultInjected { .. } => MarkerKind::Fault,
        _ => return None,
    })
}

fn item_title<'a>(runbook: &'a Runbook, id: &'a str) -> &'a str {
    runbook
        .checklists
        .iter()
        .flat_map(|c| &c.items)
        .find(|i| i.id == id)
        .map(|i| i.title.as_str())
        .unwrap_or(id)
}

/// A role by the name the runbook gives it (its id when the runbook has no such role).
pub fn role_name(runbook: &Runbook, id: &str) -> String {
    runbook
        .roles
        .iter()
        .find(|r| r.id == id)
        .map(|r| r.name.clone())
        .unwrap_or_else(|| id.to_string())
}

/// What an alert is about, by the names the runbook gives it.
pub fn key_label(runbook: &Runbook, key: &AlertKey) -> String {
    match key {
        AlertKey::Metric(id) => runbook
            .metrics
            .iter()
            .find(|m| &m.id == id)
            .map(|m| m.display_title().to_string())
            .unwrap_or_else(|| id.clone()),
        AlertKey::Quota(code) => runbook
            .quotas
            .iter()
            .find(|q| &q.code == code)
            .map(|q| format!("{} quota", q.display_title()))
            .unwrap_or_else(|| format!("quota {code}")),
        AlertKey::Alarm(name) => format!("alarm {name}"),
        AlertKey::Overdue(item) => format!("overdue \"{}\"", item_title(runbook, item)),
        AlertKey::Checklist(name) => format!("overdue items in {name}"),
        AlertKey::Source(name) => format!("source {name}"),
    }
}

/// What happened, in a sentence an operator reads at a glance.
pub fn describe(runbook: &Runbook, e: &Event) -> String {
    match e {
        Event::SessionStarted { mode, t0, .. } => {
            format!(
                "opened the war room ({mode}, T-0 {})",
                t0.format("%Y-%m-%d %H:%M:%S UTC")
            )
        }
        Event::PhaseEntered { phase } => format!("phase: {phase}"),
        Event::SessionEnded {} => "closed the war room".into(),
        Event::FaultInjected { description, .. } => format!("fault injected: {description}"),
        Event::FaultRecovered { fault, .. } => format!("fault {fault} recovered"),
        Event::ItemDone { item, auto: false } => {
            format!("ticked \"{}\"", item_title(runbook, item))
        }
        Event::ItemDone { item, auto: true } => {
            format!("verified by data: \"{}\"", item_title(runbook, item))
        }
        Event::ItemInProgress { item } => format!("started \"{}\"", item_title(runbook, item)),
        Event::ItemAdded { checklist, item } => {
            format!("added \"{}\" to {checklist}", item.title)
        }
        Event::ItemReopened { item } => format!("reopened \"{}\"", item_title(runbook, item)),
        Event::ItemSkipped { item, reason } => {
            format!("skipped \"{}\": {reason}", item_title(runbook, item))
        }
        Event::Note { text } => format!("note: {text}"),
        Event::AlertOpened {
            severity, message, ..
        } => format!("{} {message}", severity.label()),
        Event::AlertSeverity {
            severity, message, ..
        } => format!("now {} {message}", severity.label()),
        Event::AlertEscalated {
            key,
            level,
            who,
            contact,
        } => format!(
            "escalated {} to L{}: call {who} ({contact})",
            key_label(runbook, key),
            level + 1
        ),
        Event::AlertFlapping { key, flaps } => format!(
            "{} is flapping: breached again {flaps} times while clearing; kept as one alert",
            key_label(runbook, key)
        ),
        Event::AlertAcknowledged { key } => format!("acknowledged {}", key_label(runbook, key)),
        Event::AlertLevelSet {
            key,
            level,
            who,
            contact,
        } => format!(
            "moved {} to L{} by hand: call {who} ({contact})",
            key_label(runbook, key),
            level + 1
        ),
        Event::AlertAckExpired { key } => format!(
            "acknowledgement of {} lapsed (not resolved in time): escalating again",
            key_label(runbook, key)
        ),
        Event::RoleTaken { role } => format!("took the role {}", role_name(runbook, role)),
        Event::VoteCast { role, vote, reason } => {
            let reason = if reason.is_empty() {
                String::new()
            } else {
                format!(": {reason}")
            };
            format!(
                "voted {} as {}{reason}",
                vote.label(),
                role_name(runbook, role)
            )
        }
        Event::StatusUpdate {
            conditions,
            actions,
            needs,
        } => format!(
            "status update · conditions: {conditions} · actions: {actions} · needs: {needs}"
        ),
        Event::RoomSynced { id, seq } => format!("room took {id} at #{seq}"),
        Event::AlertClosed { key } => format!("resolved {}", key_label(runbook, key)),
        Event::QuotaIncreaseRequested {
            service,
            code,
            current,
            desired,
        } => format!(
            "requested quota increase {service} {code}: {} → {}",
            current
                .map(crate::format::value)
                .unwrap_or_else(|| "?".into()),
            crate::format::value(*desired)
        ),
        Event::QuotaRequestStatus {
            code,
            status,
            request_id,
        } => format!(
            "quota {code} increase request: {status}{}",
            request_id
                .as_deref()
                .map(|i| format!(" (id {i})"))
                .unwrap_or_default()
        ),
    }
}
