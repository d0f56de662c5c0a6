//! The timeline pane: the journal, newest first, in words.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};

use super::{pane_block, render_list, row_style, text};
use crate::app::alerts::Severity;
use crate::app::{App, Pane};
use crate::journal::describe::describe;
use crate::journal::{Event, Record};
use crate::theme::Theme;

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
            // How the room settled it, and whether it is still on its way there.
            let mut what = describe(&app.runbook, &r.event);
            let mut style = event_style(theme, &r.event);
            if let Some(note) = app.conflict_note(r) {
                what.push_str(&format!(" · {note}"));
                if note.starts_with("lost") {
                    style = theme
                        .muted()
                        .add_modifier(ratatui::style::Modifier::CROSSED_OUT);
                }
            }
            if app.is_queued(r) {
                what.push_str(" · queued for the room");
            }
            Line::from(vec![
                Span::styled(when, theme.muted().patch(base)),
                Span::styled(who, theme.muted().patch(base)),
                Span::styled(text::fit(&what, what_w), style.patch(base)),
            ])
        }
    });
}
