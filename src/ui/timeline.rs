//! The timeline pane: the journal, newest first, in words.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};

use super::{pane_block, render_list, row_style, text};
use crate::app::alerts::{AlertKey, Severity};
use crate::app::{App, Pane};
use crate::journal::{Event, Record};
use crate::runbook::Runbook;
use crate::theme::Theme;

fn item_title<'a>(runbook: &'a Runbook, id: &'a str) -> &'a str {
    runbook
        .checklists
        .iter()
        .flat_map(|c| &c.items)
        .find(|i| i.id == id)
        .map(|i| i.title.as_str())
        .unwrap_or(id)
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
        Event::AlertClosed { key } => format!("resolved {}", key_label(runbook, key)),
        Event::QuotaIncreaseRequested {
            service,
            code,
            current,
            desired,
        } => format!(
            "requested quota increase {service} {code}: {} → {}",
            current
                .map(crate::ui::format::value)
                .unwrap_or_else(|| "?".into()),
            crate::ui::format::value(*desired)
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

fn event_style(theme: &Theme, e: &Event) -> Style {
    match e {
        Event::AlertOpened { severity, .. } | Event::AlertSeverity { severity, .. } => {
            match severity {
                Severity::Crit => theme.crit(),
                Severity::Warn => theme.warn(),
            }
        }
        Event::AlertEscalated { .. } => theme.warn(),
        Event::AlertClosed { .. } | Event::ItemDone { .. } | Event::AlertAcknowledged { .. } => {
            theme.ok()
        }
        Event::Note { .. } | Event::PhaseEntered { .. } => theme.accent(),
        _ => theme.base(),
    }
}

/// Newest first, so the latest event is always in view.
pub fn ordered(app: &App) -> impl Iterator<Item = &Record> {
    app.timeline.iter().rev()
}

pub fn render(f: &mut Frame, area: Rect, app: &App, theme: &Theme, focused: bool) {
    let summary = vec![Span::styled(
        format!("{} events, newest first", app.timeline.len()),
        theme.muted(),
    )];
    let block = pane_block(Pane::Timeline, summary, focused, theme);
    let inner = block.inner(area);
    f.render_widget(block, area);
    let width = inner.width as usize;
    let selected = app.ui.selected(Pane::Timeline);
    let op_w = app
        .timeline
        .iter()
        .map(|r| text::width(&r.operator))
        .max()
        .unwrap_or(0)
        .min(12);
    let records: Vec<&Record> = ordered(app).collect();
    let ids: Vec<Option<usize>> = (0..records.len()).map(Some).collect();
    render_list(f, inner, &ids, selected, |row| {
        let r = records[row];
        {
            let base = row_style(theme, row == selected, focused);
            let when = format!(
                "{} {:>7} ",
                r.ts.format("%H:%M:%S"),
                super::header::short_offset(app.t0, r.ts)
            );
            let who = format!("{} ", text::fit(&r.operator, op_w));
            let what_w = width.saturating_sub(text::width(&when) + text::width(&who));
            Line::from(vec![
                Span::styled(when, theme.muted().patch(base)),
                Span::styled(who, theme.muted().patch(base)),
                Span::styled(
                    text::fit(&describe(&app.runbook, &r.event), what_w),
                    event_style(theme, &r.event).patch(base),
                ),
            ])
        }
    });
}
