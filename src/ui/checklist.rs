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
    let widths = Widths::of(app);
    let (title_w, owner_w) = columns(width, widths.title_max(), widths.owner_max);
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
            title_w,
            owner_w,
            row_style(theme, i == selected, focused),
        ),
    });
}

/// The widths the layout sizes the pane by: each visible item's title (as its row shows it),
/// and the widest owner.
pub struct Widths {
    pub titles: Vec<usize>,
    pub owner_max: usize,
}

impl Widths {
    pub fn of(app: &App) -> Widths {
        let items = app.visible_items();
        Widths {
            titles: items.iter().map(|r| text::width(&title_text(r))).collect(),
            owner_max: items
                .iter()
                .filter_map(|r| owner_label(app, r))
                .map(|o| text::width(&o))
                .max()
                .unwrap_or(0),
        }
    }
    pub fn title_max(&self) -> usize {
        self.titles.iter().copied().max().unwrap_or(0)
    }
}

const OWNER_MAX: usize = 18;
const DUE_W: usize = 9;
/// "[ ]" and the overdue flag; the spaces after the title and the owner; the due column.
const FIXED_W: usize = 3 + 1 + 1 + 1 + DUE_W;

/// The title's and the owner's columns in a pane `width` wide: the owner column when there is
/// room for it (a wide pane, or one whose titles all fit beside it; 18 columns at most unless
/// the titles leave it more), the title the rest. The
/// one rule for drawing a row and for the layout that sizes the pane.
pub fn columns(width: usize, title_max: usize, owner_max: usize) -> (usize, usize) {
    let capped = owner_max.min(OWNER_MAX);
    let owner_w = if width >= 56 || width > title_max + capped + FIXED_W {
        // Whole when the titles fit beside it, else at most 18 columns.
        owner_max.min(OWNER_MAX.max(width.saturating_sub(title_max + FIXED_W + 1)))
    } else {
        0
    };
    let fixed = FIXED_W + if owner_w > 0 { owner_w + 1 } else { 0 };
    (width.saturating_sub(fixed), owner_w)
}

/// Columns (borders included) the pane needs to show every row whole.
pub fn want_cols(w: &Widths) -> usize {
    w.title_max() + w.owner_max + FIXED_W + 1 + 2
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
    title_w: usize,
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
    let flag = if r.overdue { "!" } else { " " };
    let title = title_text(r);
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
        text::fit_right(&due, DUE_W),
        due_style.patch(base),
    ));
    Line::from(spans)
}
