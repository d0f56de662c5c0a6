//! The role dialog: the runbook's roles, who holds each now, and which one to take.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};

use super::overlay::show;
use super::text;
use crate::app::App;
use crate::theme::Theme;

pub fn render(f: &mut Frame, area: Rect, app: &App, theme: &Theme, selected: usize) {
    let mut lines: Vec<Line> = app
        .runbook
        .roles
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let held = app.holders(&r.id).join(", ");
            let tags = match (r.votes, r.updates) {
                (true, true) => " · votes · posts updates",
                (true, false) => " · votes",
                (false, true) => " · posts updates",
                (false, false) => "",
            };
            let style = if i == selected {
                theme
                    .accent()
                    .add_modifier(ratatui::style::Modifier::REVERSED)
            } else {
                theme.base()
            };
            Line::from(vec![
                Span::styled(
                    format!(
                        " {} {}",
                        if i == selected { "›" } else { " " },
                        text::clean(&r.name)
                    ),
                    style,
                ),
                Span::styled(tags, theme.muted()),
                Span::styled(
                    if held.is_empty() {
                        "  (free)".to_string()
                    } else {
                        format!("  held by {}", text::clean(&held))
                    },
                    theme.muted(),
                ),
            ])
        })
        .collect();
    lines.push(Line::raw(""));
    lines.push(Line::from(Span::styled(
        " j k ↓ ↑: choose · Enter: take it (journalled, seen by the room) · Esc: cancel",
        theme.muted(),
    )));
    show(f, area, 78, "Take a role", lines, theme);
}
