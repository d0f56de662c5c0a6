//! The status update dialog: conditions, actions and needs, the three parts every update to
//! the bridge and to chat has.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph};

use super::overlay::{centered, dialog};
use super::text;
use crate::theme::Theme;

pub const FIELDS: [&str; 3] = ["conditions", "actions", "needs"];

pub fn render(f: &mut Frame, area: Rect, theme: &Theme, field: usize, texts: &[String; 3]) {
    let rect = centered(area, 76, 7);
    let width = rect.width.saturating_sub(4) as usize;
    let mut lines: Vec<Line> = FIELDS
        .iter()
        .enumerate()
        .map(|(i, name)| {
            let label = format!(" {name:<10} ");
            let shown = text::tail(&texts[i], width.saturating_sub(label.len() + 1));
            let mut spans = vec![
                Span::styled(
                    label,
                    if i == field {
                        theme.accent()
                    } else {
                        theme.muted()
                    },
                ),
                Span::styled(shown.to_string(), theme.base()),
            ];
            if i == field {
                spans.push(Span::styled(
                    "█",
                    theme.accent().add_modifier(Modifier::SLOW_BLINK),
                ));
            }
            Line::from(spans)
        })
        .collect();
    lines.push(Line::raw(""));
    lines.push(Line::from(Span::styled(
        " Enter: next field, then post · Tab ↑ ↓: move · Esc: cancel",
        theme.muted(),
    )));
    f.render_widget(Clear, rect);
    f.render_widget(
        Paragraph::new(lines).block(dialog("Status update", theme)),
        rect,
    );
}
