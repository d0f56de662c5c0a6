//! The checklist pane: every runbook item with its state, owner and due time in T-minus terms,
//! grouped by list, the current phase's list first.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};

use super::{pane_block, render_list, row_style, text};
use crate::app::{App, ItemRef, ItemStatus, Pane};
use crate::theme::Theme;
use crate::time::age_label;

/// One line of the pane: a list's heading, or an item (its index in `App::visible_items`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListLine {
    Heading(usize),
    Item(usize),
}

pub fn lines(app: &App) -> Vec<ListLine> {
    let mut out = Vec::new();
    let mut last = None;
    for (i, r) in app.visible_items().iter().enumerate() {
        if last != Some(r.checklist) {
            out.push(ListLine::Heading(r.checklist));
            last = Some(r.checklist);
        }
        out.push(ListLine::Item(i));
    }
    out
}

pub fn mark(status: ItemStatus) -> &'static str {
    match status {
        ItemStatus::Todo => "[ ]",
        ItemStatus::InProgress => "[~]",
        ItemStatus::Done => "[x]",
        ItemStatus::Skipped => "[-]",
    }
}

pub fn render(f: &mut Frame, area: Rect, app: &App, theme: &Theme, focused: bool) {
    let items = app.visible_items();
    let done = items
        .iter()
        .filter(|r| matches!(r.state.status, ItemStatus::Done | ItemStatus::Skipped))
        .count();
    let overdue = items.iter().filter(|r| r.overdue).count();
    let mut summary = vec![Span::styled(
        format!("{done}/{} done", items.len()),
        theme.base(),
    )];
    if overdue > 0 {
        summary.push(Span::styled(format!("{overdue} OVERDUE"), theme.warn()));
    }
    let block = pane_block(Pane::Checklist, summary, focused, theme);
    let inner = block.inner(area);
    f.render_widget(block, area);
    if items.is_empty() {
        f.render_widget(
            ratatui::widgets::Paragraph::new(Span::styled(
                "no checklists in this runbook",
                theme.muted(),
            )),
            inner,
        );
        return;
    }

    let width = inner.width as usize;
    let owner_max = items
        .iter()
        .filter_map(|r| owner_label(app, r))
        .map(|o| text::width(&o))
        .max()
        .unwrap_or(0)
        .min(18);
    let title_max = items
        .iter()
        .map(|r| text::width(&title_text(r)))
        .max()
        .unwrap_or(0);
    // The owner column when there is room for it: a wide pane, or one whose titles all fit
    // beside it (the pane is sized to its content).
    let owner_w = if width >= 56 || width >= title_max + owner_max + 16 {
        owner_max
    } else {
        0
    };
    let current = app.checklist_order().first().copied();
    let selected = app.ui.selected(Pane::Checklist);
    let list = lines(app);
    let ids: Vec<Option<usize>> = list
        .iter()
        .map(|l| match l {
            ListLine::Heading(_) => None,
            ListLine::Item(i) => Some(*i),
        })
        .collect();
    render_list(f, inner, &ids, selected, |line| match list[line] {
        ListLine::Heading(c) => heading(app, theme, c, current == Some(c), width),
        ListLine::Item(i) => item_line(
            app,
            theme,
            &items[i],
            width,
            owner_w,
            row_style(theme, i == selected, focused),
        ),
    });
}

fn heading<'a>(app: &App, theme: &Theme, c: usize, current: bool, width: usize) -> Line<'a> {
    let list = &app.runbook.checklists[c];
    let done = app.items[c]
        .iter()
        .filter(|s| matches!(s.status, ItemStatus::Done | ItemStatus::Skipped))
        .count();
    let mut label = format!("{} {}/{}", list.name, done, list.items.len());
    if current && app.phase.is_some() {
        label.push_str(" · current phase");
    }
    let style = if current {
        theme.accent()
    } else {
        theme.muted().add_modifier(Modifier::BOLD)
    };
    Line::from(Span::styled(
        text::fit(&format!("─ {label} "), width),
        style,
    ))
}

/// An item's title as its row shows it: with the reason when skipped, "(verified)" when data
/// ticked it.
pub fn title_text(r: &ItemRef<'_>) -> String {
    match r.state.status {
        ItemStatus::Skipped => format!(
            "{} (skipped: {})",
            r.item.title,
            r.state.skip_reason.as_deref().unwrap_or("")
        ),
        ItemStatus::Done if r.state.auto => format!("{} (verified)", r.item.title),
        _ => r.item.title.clone(),
    }
}

/// The owner column: the runbook's owner, or in a room, once the item is under way, who did
/// it (several people work the same list).
pub fn owner_label(app: &App, r: &ItemRef<'_>) -> Option<String> {
    let by = (app.room.is_some() && r.state.status != ItemStatus::Todo && !r.state.auto)
        .then(|| r.state.changed.as_ref().map(|(who, _)| format!("by {who}")))
        .flatten();
    by.or_else(|| r.item.owner.clone())
}

fn item_line<'a>(
    app: &App,
    theme: &Theme,
    r: &ItemRef<'_>,
    width: usize,
    owner_w: usize,
    base: Style,
) -> Line<'a> {
    let status = r.state.status;
    let mark_style = match status {
        ItemStatus::Done => theme.ok(),
        ItemStatus::Skipped => theme.muted(),
        ItemStatus::InProgress => theme.accent(),
        ItemStatus::Todo if r.overdue => theme.warn(),
        ItemStatus::Todo => theme.base(),
    };
    // Due column: the T-minus due time, or how late it is once overdue.
    let due = match r.item.due {
        Some(d) if r.overdue => {
            format!("late {}", age_label((app.now - d.at(app.t0)).num_seconds()))
        }
        Some(d) => d.to_string(),
        None => String::new(),
    };
    let due_w = 9;
    let flag = if r.overdue { "!" } else { " " };
    let title = title_text(r);

    let fixed = 3 + 1 + 1 + 1 + due_w + if owner_w > 0 { owner_w + 1 } else { 0 };
    let title_w = width.saturating_sub(fixed);
    let title_style = match status {
        ItemStatus::Skipped => theme.muted().add_modifier(Modifier::CROSSED_OUT),
        ItemStatus::Done => theme.muted(),
        _ if r.overdue => theme.warn(),
        _ => theme.base(),
    };
    let mut spans = vec![
        Span::styled(mark(status), mark_style.patch(base)),
        Span::styled(flag, theme.warn().patch(base)),
        Span::styled(
            format!("{} ", text::fit(&title, title_w)),
            title_style.patch(base),
        ),
    ];
    if owner_w > 0 {
        let owner = owner_label(app, r).unwrap_or_else(|| "—".into());
        spans.push(Span::styled(
            format!("{} ", text::fit(&owner, owner_w)),
            theme.muted().patch(base),
        ));
    }
    let due_style = if r.overdue {
        theme.warn()
    } else {
        theme.muted()
    };
    spans.push(Span::styled(
        text::fit_right(&due, due_w),
        due_style.patch(base),
    ));
    Line::from(spans)
}
