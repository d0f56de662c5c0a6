//! The footer: a message for the operator when there is one, otherwise the keys; the health
//! of each data source on the right.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::text;
use crate::app::App;
use crate::theme::Theme;
use crate::time::age_label;

/// A source that has not reported for this long is shown as silent even without an error.
const SILENT_AFTER_SECS: i64 = 60;

pub fn render(f: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    let mut right = sources(app, theme);
    right.push(Span::raw(" "));
    let right_w: usize = right.iter().map(|s| text::width(&s.content)).sum();
    let left_w = (area.width as usize).saturating_sub(right_w);
    // A failing source's reason, in full, beats the key hints: `?` still lists the keys.
    let failing = app
        .sources
        .iter()
        .find_map(|(name, h)| h.error.as_ref().map(|(e, _)| format!(" {name}: {e}")));
    let left = match (&app.ui.flash, failing) {
        (Some((msg, _)), _) => Span::styled(text::fit(&format!(" {msg}"), left_w), theme.warn()),
        (None, Some(err)) => Span::styled(text::fit(&err, left_w), theme.crit()),
        (None, None) => Span::styled(
            text::fit(
                " ? help · Tab pane · j/k move · Space tick · p doing · s skip · n note · a ack · z zoom · q quit",
                left_w,
            ),
            theme.muted(),
        ),
    };
    let mut spans = vec![left];
    spans.extend(right);
    f.render_widget(Paragraph::new(Line::from(spans)), area);
}

/// "simulator ✓ 3s" per source: whether its last fetch worked and how long ago it reported.
pub fn sources<'a>(app: &App, theme: &Theme) -> Vec<Span<'a>> {
    let mut out = Vec::new();
    for (name, h) in &app.sources {
        let last = [h.last_ok, h.error.as_ref().map(|e| e.1)]
            .into_iter()
            .flatten()
            .max();
        let age = app.age_secs(last).unwrap_or(0);
        let (mark, style) = if h.error.is_some() {
            ("✗", theme.crit())
        } else if age > SILENT_AFTER_SECS {
            ("?", theme.stale())
        } else {
            ("✓", theme.ok())
        };
        out.push(Span::styled(
            format!(" {name} {mark} {}", age_label(age)),
            style,
        ));
    }
    if out.is_empty() {
        out.push(Span::styled(" no source has reported yet", theme.stale()));
    }
    out
}

/// Errors from the failing sources among `names`, for the titles of the panes they feed.
pub fn source_errors<'a>(app: &App, theme: &Theme, names: &[&str]) -> Vec<Span<'a>> {
    app.sources
        .iter()
        .filter(|(name, _)| names.contains(&name.as_str()))
        .filter_map(|(name, h)| {
            h.error.as_ref().map(|(e, at)| {
                Span::styled(
                    format!(
                        "{name} FAILING ({}): {}",
                        crate::time::ago((app.now - *at).num_seconds()),
                        text::truncate(e, 90)
                    ),
                    theme.crit(),
                )
            })
        })
        .collect()
}
