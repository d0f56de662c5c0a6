//! The alert banner: the most pressing open alert, how far it has escalated, whom to call and
//! how to acknowledge it. One line, always in the same place.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::text;
use crate::app::App;
use crate::app::alerts::Severity;
use crate::theme::Theme;
use crate::time::age_label;

pub fn render(f: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    f.render_widget(Paragraph::new(line(app, theme, area.width as usize)), area);
}

/// The banner for a terminal `width` wide: what to do (whom to call, how to acknowledge) comes
/// before details, and the alert's message is cut to leave room for it.
pub fn line<'a>(app: &App, theme: &Theme, width: usize) -> Line<'a> {
    let Some(alert) = app.top_alert() else {
        return Line::from(vec![
            Span::styled(" ✓ ALL CLEAR ", theme.ok().add_modifier(Modifier::BOLD)),
            Span::styled("no open alerts", theme.muted()),
        ]);
    };
    let open = app.open_alerts().count();
    let sev_style: Style = match alert.severity {
        Severity::Crit => theme.crit(),
        Severity::Warn => theme.warn(),
    };
    let tag_style = if alert.acked.is_none() {
        sev_style.add_modifier(Modifier::REVERSED)
    } else {
        sev_style
    };
    let mut tail = Vec::new();
    // The message says what opened the alert; a metric's value now says where it stands.
    if let crate::app::alerts::AlertKey::Metric(id) = &alert.key
        && let Some(i) = app.runbook.metrics.iter().position(|m| &m.id == id)
        && let Some(latest) = app.metrics[i].latest_settled()
    {
        tail.push(Span::styled(
            format!(" (now {})", crate::format::value(latest.value)),
            sev_style,
        ));
    }
    if !app.unsaved.is_empty() {
        tail.push(Span::styled(
            format!(" · NOT SAVED ({} waiting)", app.unsaved.len()),
            theme.crit().add_modifier(Modifier::BOLD),
        ));
    }
    if alert.flaps >= crate::app::alerts::FLAPPING_AFTER {
        tail.push(Span::styled(
            format!(" · flapping ({} returns)", alert.flaps),
            sev_style,
        ));
    }
    match &alert.acked {
        Some((who, at)) => tail.push(Span::styled(
            format!(
                " · acked by {} {} ago",
                text::clean(who),
                age_label((app.now - *at).num_seconds())
            ),
            theme.ok(),
        )),
        None => tail.push(Span::styled(" · a: ack", theme.accent())),
    }
    let levels = &app.runbook.escalation.levels;
    match alert.level.and_then(|l| levels.get(l).map(|lv| (l, lv))) {
        Some((l, lv)) => {
            tail.push(Span::styled(" · ", theme.muted()));
            tail.push(Span::styled(
                format!(
                    "L{}/{}: call {} ({})",
                    l + 1,
                    levels.len(),
                    text::clean(&lv.who),
                    text::clean(&lv.contact)
                ),
                theme.base().add_modifier(Modifier::BOLD),
            ));
        }
        None if levels.is_empty() => {
            tail.push(Span::styled(
                " · no escalation levels in the runbook",
                theme.muted(),
            ));
        }
        None => {}
    }
    // The next rung, and when it is reached if nobody acknowledges; c shows the whole ladder.
    if let Some(next) = app.ladder(alert).into_iter().find(|r| !r.reached)
        && let Some(at) = next.at
    {
        tail.push(Span::styled(
            format!(
                " · next L{} {} in {}",
                next.level + 1,
                text::clean(next.who),
                crate::time::Span((at - app.now).num_seconds().max(0))
            ),
            theme.muted(),
        ));
    }
    tail.push(Span::styled(
        format!(
            " · open {}",
            age_label((app.now - alert.opened_at).num_seconds())
        ),
        theme.muted(),
    ));
    if open > 1 {
        tail.push(Span::styled(
            format!(" · +{} more", open - 1),
            theme.muted(),
        ));
    }
    let tag = format!(" ▲ {} ", alert.severity.label());
    let tail_w: usize = tail.iter().map(|s| text::width(&s.content)).sum();
    let message_w = width.saturating_sub(text::width(&tag) + 1 + tail_w).max(24);
    // A checklist's roll-up says what is overdue now, not what was when it opened.
    let message = match &alert.key {
        crate::app::alerts::AlertKey::Checklist(name) => app
            .overdue_summary(name)
            .unwrap_or_else(|| alert.message.clone()),
        _ => alert.message.clone(),
    };
    let mut spans = vec![
        Span::styled(tag, tag_style),
        Span::raw(" "),
        Span::styled(text::truncate(&message, message_w), sev_style),
    ];
    spans.extend(tail);
    Line::from(spans)
}
