//! Rendering: pure functions of `&App` and a theme. Nothing here changes state; the layout is
//! recomputed from the terminal size on every frame and shared with mouse hit-testing.

pub mod alarms;
pub mod alert_card;
pub mod banner;
pub mod chart;
pub mod checklist;
pub mod detail;
pub mod footer;
pub use crate::format;
pub mod header;
pub mod layout;
pub mod metrics;
pub mod overlay;
pub mod quotas;
pub mod role_pick;
pub mod status_update;
pub mod timeline;
pub mod vote;
pub mod wall;

/// The one sanitiser and column fitter, shared with the commands that print to stdout.
pub use crate::text;

#[cfg(test)]
mod tests;

use ratatui::Frame;
use ratatui::layout::{Alignment, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Paragraph, Wrap};

use crate::app::{App, Pane, Status};
use crate::theme::Theme;

/// Draws the whole war room.
pub fn draw(f: &mut Frame, app: &App, theme: &Theme) {
    let area = f.area();
    f.render_widget(Block::default().style(theme.base()), area);
    if app.ui.wall && area.width >= layout::MIN_WIDTH && area.height >= layout::MIN_HEIGHT {
        wall::render(f, area, app, theme);
        overlay::render(f, area, app, theme);
        return;
    }
    let Some(areas) = layout::areas(app, area) else {
        too_small(f, area, theme);
        return;
    };
    header::render(f, areas.header, areas.digits, app, theme);
    banner::render(f, areas.banner, app, theme);
    for (pane, rect) in &areas.body {
        let focused = *pane == app.ui.focused();
        match pane {
            Pane::Checklist => checklist::render(f, *rect, app, theme, focused),
            Pane::Metrics if app.ui.zoomed => chart::render(f, *rect, app, theme),
            Pane::Metrics => metrics::render(f, *rect, app, theme, focused),
            Pane::Quotas => quotas::render(f, *rect, app, theme, focused),
            Pane::Alarms => alarms::render(f, *rect, app, theme, focused),
            Pane::Timeline => timeline::render(f, *rect, app, theme, focused),
        }
    }
    if let Some(rect) = areas.detail {
        detail::render(f, rect, app, theme);
    }
    footer::render(f, areas.footer, app, theme);
    overlay::render(f, area, app, theme);
}

fn too_small(f: &mut Frame, area: Rect, theme: &Theme) {
    let text = format!(
        "Terminal too small ({}x{}): tminus needs at least {}x{}. Enlarge the window or zoom out.",
        area.width,
        area.height,
        layout::MIN_WIDTH,
        layout::MIN_HEIGHT
    );
    let y = area.height.saturating_sub(3) / 2;
    let rect = Rect {
        y: area.y + y,
        height: area.height - y,
        ..area
    };
    f.render_widget(
        Paragraph::new(text)
            .style(theme.warn())
            .alignment(Alignment::Center)
            .wrap(Wrap { trim: true }),
        rect,
    );
}

/// Which pane, and which row of its list, is at terminal cell (x, y), using the same layout
/// as `draw`. Used for mouse clicks.
/// A mouse event as the app takes it: a left click placed on the pane and row under the
/// pointer (nothing when it lands outside every pane), anything else as it is.
pub fn mouse_msg(app: &App, m: crossterm::event::MouseEvent) -> Option<crate::app::update::Msg> {
    use crate::app::update::Msg;
    use crossterm::event::{MouseButton, MouseEventKind};
    match m.kind {
        MouseEventKind::Down(MouseButton::Left) => {
            hit_test(app, m.column, m.row).map(|(pane, row)| Msg::Click { pane, row })
        }
        _ => Some(Msg::Mouse(m)),
    }
}

pub fn hit_test(app: &App, x: u16, y: u16) -> Option<(Pane, Option<usize>)> {
    // The wall view has no panes to click.
    if app.ui.wall {
        return None;
    }
    let (w, h) = app.ui.size;
    let areas = layout::areas(app, Rect::new(0, 0, w, h))?;
    let (pane, rect) = areas
        .body
        .iter()
        .find(|(_, r)| r.contains(ratatui::layout::Position { x, y }))?;
    let inner = pane_block(*pane, Vec::new(), false, &Theme::default()).inner(*rect);
    if !inner.contains(ratatui::layout::Position { x, y })
        || (app.ui.zoomed && *pane == Pane::Metrics)
    {
        return Some((*pane, None));
    }
    if *pane == Pane::Metrics
        && let Some(h) = metrics::chart_rows(app.visible_metrics().len(), inner.height)
    {
        let row = ((y - inner.y) / h) as usize;
        return Some((*pane, (row < app.visible_metrics().len()).then_some(row)));
    }
    let lines = row_lines(app, *pane);
    let selected_line = selected_line(&lines, app.ui.selected(*pane));
    let offset = layout::scroll_offset(selected_line, lines.len(), inner.height as usize);
    let line = offset + (y - inner.y) as usize;
    Some((*pane, lines.get(line).copied().flatten()))
}

/// For each line a pane's list shows, the selectable row it belongs to (None for headings).
pub fn row_lines(app: &App, pane: Pane) -> Vec<Option<usize>> {
    match pane {
        Pane::Checklist => checklist::lines(app)
            .into_iter()
            .map(|l| match l {
                checklist::ListLine::Heading(_) => None,
                checklist::ListLine::Item(i) => Some(i),
            })
            .collect(),
        _ => (0..app.row_count(pane)).map(Some).collect(),
    }
}

fn selected_line(lines: &[Option<usize>], selected: usize) -> usize {
    lines.iter().position(|l| *l == Some(selected)).unwrap_or(0)
}

/// The frame around a pane: its number (the key that focuses it), its name and a summary.
pub fn pane_block<'a>(
    pane: Pane,
    summary: Vec<Span<'a>>,
    focused: bool,
    theme: &Theme,
) -> Block<'a> {
    let mut title = vec![Span::styled(
        format!(" {} {} ", pane.index() + 1, pane.title()),
        if focused {
            theme.accent()
        } else {
            theme.base()
        },
    )];
    for s in summary {
        title.push(Span::styled("· ", theme.muted()));
        title.push(s);
        title.push(Span::raw(" "));
    }
    Block::bordered()
        .border_type(if focused {
            BorderType::Thick
        } else {
            BorderType::Plain
        })
        .border_style(theme.border(focused))
        .title(Line::from(title))
}

/// "updated 10s ago" for a pane title, or "waiting for data" before anything arrived.
pub fn updated_span<'a>(
    app: &App,
    theme: &Theme,
    newest: Option<chrono::DateTime<chrono::Utc>>,
) -> Span<'a> {
    Span::styled(
        match app.age_secs(newest) {
            Some(a) => format!("updated {}", crate::time::ago(a)),
            None => "waiting for data".into(),
        },
        theme.muted(),
    )
}

pub fn status_style(theme: &Theme, status: Status) -> Style {
    match status {
        Status::Ok => theme.ok(),
        Status::Warn => theme.warn(),
        Status::Crit => theme.crit(),
        Status::Stale => theme.stale(),
        Status::NoData => theme.muted(),
    }
}

/// Style of a selected row: highlighted in the focused pane, underlined elsewhere so the
/// selection that `z` would zoom into is still visible.
pub fn row_style(theme: &Theme, selected: bool, focused: bool) -> Style {
    match (selected, focused) {
        (true, true) => theme.selection(),
        (true, false) => Style::default().add_modifier(ratatui::style::Modifier::UNDERLINED),
        _ => Style::default(),
    }
}

/// Renders the lines of a list into `inner`, scrolled so the selection stays visible (the
/// same scroll `hit_test` assumes). `row_ids` has one entry per line; `make` builds line `i`
/// and is only called for the lines that are on screen, so long lists cost what is visible.
pub fn render_list<'a>(
    f: &mut Frame,
    inner: Rect,
    row_ids: &[Option<usize>],
    selected: usize,
    make: impl FnMut(usize) -> Line<'a>,
) {
    let selected_line = selected_line(row_ids, selected);
    let height = inner.height as usize;
    let offset = layout::scroll_offset(selected_line, row_ids.len(), height);
    let end = (offset + height).min(row_ids.len());
    let visible: Vec<Line> = (offset..end).map(make).collect();
    f.render_widget(Paragraph::new(visible), inner);
}
