//! The go/no-go vote dialog: GO or NO-GO for the role this operator holds, with a reason.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph};

use super::overlay::{centered, dialog};
use super::text;
use crate::app::App;
use crate::theme::Theme;

pub fn render(f: &mut Frame, area: Rect, app: &App, theme: &Theme, go: bool, typed: &str) {
    let role = app
        .my_role()
        .map(|r| crate::journal::describe::role_name(&app.runbook, r))
        .unwrap_or_default();
    let title = format!("Go/no-go vote as {}", text::clean(&role));
    let rect = centered(area, 72, 6);
    let width = rect.width.saturating_sub(4) as usize;
    let pick = |label: &'static str, on: bool, style: ratatui::style::Style| {
        if on {
            Span::styled(
                format!(" [{label}] "),
                style.add_modifier(Modifier::REVERSED),
            )
        } else {
            Span::styled(format!("  {label}  "), theme.muted())
        }
    };
    let shown = text::tail(typed, width.saturating_sub(9));
    let lines = vec![
        Line::from(vec![
            pick("GO", go, theme.ok()),
            pick("NO-GO", !go, theme.crit()),
        ]),
        Line::from(vec![
            Span::styled(" reason: ", theme.muted()),
            Span::styled(shown.to_string(), theme.base()),
            Span::styled("█", theme.accent().add_modifier(Modifier::SLOW_BLINK)),
        ]),
        Line::raw(""),
        Line::from(Span::styled(
            " Tab: GO / NO-GO · Enter: cast (NO-GO needs a reason) · Esc: cancel",
            theme.muted(),
        )),
    ];
    f.render_widget(Clear, rect);
    f.render_widget(Paragraph::new(lines).block(dialog(&title, theme)), rect);
}
