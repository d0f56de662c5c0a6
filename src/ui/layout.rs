//! Where everything goes for a given terminal size. Shared by `draw` and by mouse hit-testing,
//! so a click always lands on what was drawn there.

use ratatui::layout::{Constraint, Layout, Rect};

use crate::app::{App, Pane};

/// Below this the war room cannot be read: a message says so instead of drawing garbage.
pub const MIN_WIDTH: u16 = 40;
pub const MIN_HEIGHT: u16 = 12;

/// How large the countdown digits are drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Digits {
    /// One line of plain text.
    Plain,
    /// 4 cells wide and 4 rows high per character (quadrant blocks).
    Quadrant,
    /// 8 wide, 4 high.
    HalfHeight,
    /// 8 wide, 8 high: readable from across a room on a wall screen.
    Full,
}

impl Digits {
    /// Rows the digits take (the header adds its title line).
    pub fn rows(self) -> u16 {
        match self {
            Digits::Plain => 1,
            Digits::Quadrant | Digits::HalfHeight => 4,
            Digits::Full => 8,
        }
    }
    /// Columns a countdown of `chars` characters takes.
    pub fn cols(self, chars: u16) -> u16 {
        match self {
            Digits::Plain => chars,
            Digits::Quadrant => chars * 4,
            Digits::HalfHeight | Digits::Full => chars * 8,
        }
    }
}

/// How the panes are arranged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Arrangement {
    /// Checklist | metrics | quotas over alarms, timeline along the bottom.
    Wide,
    /// Checklist | metrics on top, quotas | alarms, then the timeline.
    Medium,
    /// Every pane stacked, full width.
    Stacked,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Areas {
    pub header: Rect,
    pub digits: Digits,
    pub banner: Rect,
    pub body: Vec<(Pane, Rect)>,
    pub footer: Rect,
    pub arrangement: Arrangement,
}

impl Areas {
    pub fn pane(&self, pane: Pane) -> Option<Rect> {
        self.body.iter().find(|(p, _)| *p == pane).map(|(_, r)| *r)
    }
}

/// The largest digits the countdown (`clock_chars` long: "T-00:14:32", or "T-3d 04:12:00"
/// more than a day out) fits with the text beside it.
fn digits_for(area: Rect, clock_chars: u16) -> Digits {
    // What comes next and the zone clocks sit beside the digits and need about 24 columns.
    let room = area.width.saturating_sub(26);
    if area.height >= 60 && room >= Digits::Full.cols(clock_chars) {
        Digits::Full
    } else if area.height >= 36 && room >= Digits::HalfHeight.cols(clock_chars) {
        Digits::HalfHeight
    } else if area.height >= 28 && room >= Digits::Quadrant.cols(clock_chars) {
        Digits::Quadrant
    } else {
        Digits::Plain
    }
}

/// None when the terminal is below the minimum size.
pub fn areas(app: &App, area: Rect) -> Option<Areas> {
    if area.width < MIN_WIDTH || area.height < MIN_HEIGHT {
        return None;
    }
    let digits = digits_for(area, app.offset().clock().chars().count() as u16);
    // Title line plus the digits; plain digits share a second line with the zone clocks.
    let header_rows = 1 + digits.rows();
    let [header, banner, body, footer] = Layout::vertical([
        Constraint::Length(header_rows),
        Constraint::Length(1),
        Constraint::Min(0),
        Constraint::Length(1),
    ])
    .areas(area);

    let arrangement = if area.width >= 150 {
        Arrangement::Wide
    } else if area.width >= 100 {
        Arrangement::Medium
    } else {
        Arrangement::Stacked
    };

    let body_panes = if app.ui.zoomed {
        vec![(app.ui.focused(), body)]
    } else {
        arrange(app, arrangement, body)
    };
    Some(Areas {
        header,
        digits,
        banner,
        body: body_panes,
        footer,
        arrangement,
    })
}

/// Columns the metrics pane keeps in the wide layout: every column, thresholds included, and a
/// sparkline (its rows drop the thresholds below 56 inside).
pub const METRICS_MIN_COLS: u16 = 62;

/// Columns the checklist's longest line wants (mark, title, owner, due; the borders), so the
/// column is as wide as its titles and no wider.
fn checklist_cols(app: &App) -> u16 {
    let items = app.visible_items();
    let title = items
        .iter()
        .map(|r| crate::text::width(&super::checklist::title_text(r)))
        .max()
        .unwrap_or(0);
    let owner = items
        .iter()
        .filter_map(|r| super::checklist::owner_label(app, r))
        .map(|o| crate::text::width(&o))
        .max()
        .unwrap_or(0)
        .min(18);
    // As `checklist::item_line` lays a row out: "[ ]!", the title and a space, the owner and
    // a space, a 9-column due and one more, inside two borders.
    (4 + title + 1 + owner + 1 + 9 + 1 + 2).min(u16::MAX as usize) as u16
}

fn arrange(app: &App, arrangement: Arrangement, body: Rect) -> Vec<(Pane, Rect)> {
    match arrangement {
        Arrangement::Wide => {
            // The timeline as tall as what it holds, between 5 rows and a third of the body.
            let events = u16::try_from(app.timeline.len()).unwrap_or(u16::MAX);
            let timeline_rows = events.saturating_add(2).clamp(5, (body.height / 3).max(5));
            let [top, timeline] =
                Layout::vertical([Constraint::Min(0), Constraint::Length(timeline_rows)])
                    .areas(body);
            // The checklist as wide as its titles (between 28 % and 45 % of the width, leaving
            // metrics their minimum); the quotas and alarms 26 % (a fifth when the runbook has
            // neither); metrics, whose sparklines and charts use any width, take what is left.
            let right_w = if app.runbook.quotas.is_empty() && app.alarms.is_empty() {
                top.width / 5
            } else {
                top.width * 26 / 100
            };
            // Metrics keep room for every column (thresholds included) and a sparkline.
            let min = top.width * 28 / 100;
            let max = (top.width * 45 / 100)
                .min(top.width.saturating_sub(right_w + METRICS_MIN_COLS))
                .max(min);
            let checklist_w = checklist_cols(app).clamp(min, max);
            let [checklist, metrics, right] = Layout::horizontal([
                Constraint::Length(checklist_w),
                Constraint::Min(0),
                Constraint::Length(right_w),
            ])
            .areas(top);
            // Quotas and alarms split by what each holds.
            let quota_rows = u16::try_from(app.runbook.quotas.len()).unwrap_or(u16::MAX);
            let alarm_rows = u16::try_from(app.alarms.len()).unwrap_or(u16::MAX);
            let [quotas, alarms] = Layout::vertical([
                Constraint::Fill(quota_rows.max(1) + 2),
                Constraint::Fill(alarm_rows.max(1) + 2),
            ])
            .areas(right);
            in_tab_order([checklist, metrics, quotas, alarms, timeline])
        }
        Arrangement::Medium => {
            let [top, middle, timeline] = Layout::vertical([
                Constraint::Fill(5),
                Constraint::Fill(2),
                Constraint::Fill(2),
            ])
            .areas(body);
            let [checklist, metrics] =
                Layout::horizontal([Constraint::Percentage(45), Constraint::Percentage(55)])
                    .areas(top);
            let [quotas, alarms] =
                Layout::horizontal([Constraint::Percentage(55), Constraint::Percentage(45)])
                    .areas(middle);
            in_tab_order([checklist, metrics, quotas, alarms, timeline])
        }
        // Short and narrow: quotas and alarms share a row so every pane keeps a few lines.
        Arrangement::Stacked if body.height < 25 => {
            let [checklist, metrics, middle, timeline] = Layout::vertical([
                Constraint::Fill(3),
                Constraint::Fill(3),
                Constraint::Fill(2),
                Constraint::Fill(2),
            ])
            .areas(body);
            let [quotas, alarms] =
                Layout::horizontal([Constraint::Percentage(60), Constraint::Percentage(40)])
                    .areas(middle);
            in_tab_order([checklist, metrics, quotas, alarms, timeline])
        }
        Arrangement::Stacked => {
            let rects: [Rect; 5] = Layout::vertical([
                Constraint::Fill(3),
                Constraint::Fill(3),
                Constraint::Fill(2),
                Constraint::Fill(1),
                Constraint::Fill(2),
            ])
            .areas(body);
            in_tab_order(rects)
        }
    }
}

/// Pairs pane rectangles, given in `Pane::ALL` order, with their panes.
fn in_tab_order(rects: [Rect; 5]) -> Vec<(Pane, Rect)> {
    Pane::ALL.into_iter().zip(rects).collect()
}

/// First list line to show so that `selected` stays visible in `height` rows, without any
/// remembered scroll state: the selection sits at the bottom once it would fall off.
pub fn scroll_offset(selected: usize, total: usize, height: usize) -> usize {
    if height == 0 || total <= height || selected < height {
        return 0;
    }
    (selected + 1 - height).min(total - height)
}

#[cfg(test)]
mod tests {
    use super::scroll_offset;

    #[test]
    fn scrolling_keeps_the_selection_in_view() {
        assert_eq!(scroll_offset(0, 100, 10), 0);
        assert_eq!(scroll_offset(9, 100, 10), 0);
        assert_eq!(scroll_offset(10, 100, 10), 1);
        assert_eq!(scroll_offset(99, 100, 10), 90);
        assert_eq!(scroll_offset(5, 3, 10), 0);
        assert_eq!(scroll_offset(5, 30, 0), 0);
    }
}
