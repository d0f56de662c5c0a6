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
    /// Under a zoomed list: its selected row in full.
    pub detail: Option<Rect>,
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

    let mut detail = None;
    let body_panes = if app.ui.zoomed {
        // A zoomed list keeps its selected row in full below it, up to half the body.
        let pane = app.ui.focused();
        let want = super::detail::rows(app, pane, body.width).min(body.height / 2);
        if want > 0 {
            let [list, below] = rows(body, [body.height - want, want]);
            detail = Some(below);
            vec![(pane, list)]
        } else {
            vec![(pane, body)]
        }
    } else {
        arrange(app, arrangement, body)
    };
    Some(Areas {
        header,
        digits,
        banner,
        body: body_panes,
        detail,
        footer,
        arrangement,
    })
}

/// Columns the metrics pane keeps beside other panes in the wide layout: every column,
/// thresholds included, and a sparkline (its rows drop the thresholds below 56 inside).
pub const METRICS_MIN_COLS: u16 = 62;
/// The same between 100 and 149 columns, where the checklist needs the width more.
const METRICS_MEDIUM_COLS: u16 = 50;
/// A pane keeps at least its borders and one row.
const PANE_MIN_ROWS: u16 = 3;
/// What the timeline keeps when the rest needs the rows.
const TIMELINE_MIN_ROWS: u16 = 5;

/// Columns (borders included) `pane` needs to show its rows whole in `arrangement`; for
/// metrics, which use any width, the least the layout keeps for them beside other panes.
pub fn want_cols(app: &App, pane: Pane, arrangement: Arrangement) -> u16 {
    let d = Demand::of(app);
    match (pane, arrangement) {
        (Pane::Metrics, Arrangement::Medium) => d.cols(pane).max(METRICS_MEDIUM_COLS),
        (Pane::Metrics, _) => d.cols(pane).max(METRICS_MIN_COLS),
        _ => d.cols(pane),
    }
}

/// What a pane would lose in a rectangle, by the same rules its rows are drawn with: texts
/// cut short, list lines that do not fit, and rows left empty.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Fit {
    pub cut: usize,
    pub hidden: usize,
    pub empty: usize,
}

impl std::ops::Add for Fit {
    type Output = Fit;
    fn add(self, o: Fit) -> Fit {
        Fit {
            cut: self.cut + o.cut,
            hidden: self.hidden + o.hidden,
            empty: self.empty + o.empty,
        }
    }
}

/// Empty rows a pane may keep before they count against its arrangement: what is left over
/// when rows cannot be split finer.
const FEW_EMPTY: usize = 3;

/// Live text unseen, timeline events unseen, spare rows: compared in that order.
type Cost = (usize, usize, usize);

/// What the layout minimises over an arrangement's panes, in order: the live panes' text the
/// reader cannot see (lines cut short or hidden), then the timeline's hidden events (history
/// scrolls, and only the newest third of the body is owed), then the rows panes keep empty
/// beyond a few each (what is left when rows cannot be split finer). Blank rows never buy a
/// hidden line: a pane beside a cut one may stay short when its rows could not have shown
/// the text anyway.
fn cost(fits: impl Iterator<Item = (Pane, Fit)>) -> Cost {
    fits.fold((0, 0, 0), |(live, history, spare), (pane, f)| {
        let unseen = f.cut + f.hidden;
        let (live, history) = if pane == Pane::Timeline {
            (live, history + unseen)
        } else {
            (live + unseen, history)
        };
        (live, history, spare + f.empty.saturating_sub(FEW_EMPTY))
    })
}

/// What the panes hold, measured once per layout.
struct Demand {
    checklist: super::checklist::Widths,
    checklist_lines: u16,
    metrics: super::metrics::Widths,
    quotas: u16,
    quota_cols: u16,
    alarm_names: Vec<usize>,
    events: u16,
    /// Events the timeline should show before its older ones count as hidden: a third of
    /// the body (history scrolls; the live panes come first).
    events_owed: usize,
}

fn count(n: usize) -> u16 {
    u16::try_from(n).unwrap_or(u16::MAX)
}

impl Demand {
    fn of(app: &App) -> Demand {
        let checklist = super::checklist::Widths::of(app);
        Demand {
            checklist_lines: count(super::checklist::lines(app).len()).max(1),
            checklist,
            metrics: super::metrics::Widths::of(app),
            quotas: count(app.runbook.quotas.len()),
            quota_cols: count(super::quotas::want_cols(app)),
            alarm_names: app
                .alarms
                .values()
                .map(|a| crate::text::width(&a.name))
                .collect(),
            events: count(app.timeline.len()),
            events_owed: usize::MAX,
        }
    }

    fn metric_count(&self) -> u16 {
        count(self.metrics.titles.len())
    }

    /// Rows (borders included) a pane wants: its list whole; for metrics, a line and a
    /// three-row chart each (they take more when there is more).
    fn rows(&self, pane: Pane) -> u16 {
        let lines = match pane {
            Pane::Checklist => self.checklist_lines,
            Pane::Metrics => self.metric_count().saturating_mul(4),
            Pane::Quotas => self.quotas,
            Pane::Alarms => count(self.alarm_names.len()),
            Pane::Timeline => self.events,
        };
        lines.max(1).saturating_add(2)
    }

    /// Of `height` rows, those a metrics pane draws on: a whole chart per metric, or its
    /// one-line form (the rest would stay empty).
    fn metric_rows(&self, height: u16) -> u16 {
        let n = self.metric_count();
        match super::metrics::chart_rows(usize::from(n), height.saturating_sub(2)) {
            Some(h) => n * h + 2,
            None => height.min(n.max(1) + 2),
        }
    }

    /// A pane's claim on the rows of its column.
    fn claim(&self, pane: Pane) -> Claim {
        match pane {
            Pane::Timeline => Claim {
                least: TIMELINE_MIN_ROWS,
                want: self.rows(pane),
                tier: 1,
            },
            _ => claim(PANE_MIN_ROWS, self.rows(pane)),
        }
    }

    /// Columns (borders included) a pane wants to show its rows whole.
    fn cols(&self, pane: Pane) -> u16 {
        match pane {
            Pane::Checklist => count(super::checklist::want_cols(&self.checklist)),
            Pane::Metrics => count(super::metrics::want_cols(&self.metrics)),
            Pane::Quotas => self.quota_cols,
            Pane::Alarms => count(self.alarm_names.iter().copied().max().unwrap_or(0) + 18),
            Pane::Timeline => u16::MAX,
        }
    }

    /// What `pane` would lose drawn in `r`.
    fn fit(&self, app: &App, pane: Pane, r: Rect) -> Fit {
        let (w, h) = (
            usize::from(r.width.saturating_sub(2)),
            usize::from(r.height.saturating_sub(2)),
        );
        let over = |widths: &[usize], col: usize| widths.iter().filter(|t| **t > col).count();
        let list = |lines: usize, cut: usize| Fit {
            cut,
            hidden: lines.saturating_sub(h),
            empty: h.saturating_sub(lines.max(1)),
        };
        match pane {
            Pane::Checklist => {
                let c = &self.checklist;
                let (title_w, _) = super::checklist::columns(w, c.title_max(), c.owner_max);
                list(usize::from(self.checklist_lines), over(&c.titles, title_w))
            }
            Pane::Metrics => {
                let n = self.metrics.titles.len();
                let charts = super::metrics::chart_rows(n, r.height.saturating_sub(2));
                let cols = super::metrics::columns(w, &self.metrics, charts.is_some());
                let cut = over(&self.metrics.titles, cols.title);
                match charts {
                    Some(rows) => Fit {
                        cut,
                        hidden: 0,
                        empty: h.saturating_sub(n * usize::from(rows)),
                    },
                    None => list(n, cut),
                }
            }
            Pane::Quotas => {
                let (title_max, detail_max) = super::quotas::widths(app, w);
                let (title_w, _) = super::quotas::columns(w, title_max, detail_max);
                let titles: Vec<usize> = app
                    .runbook
                    .quotas
                    .iter()
                    .map(|q| crate::text::width(&q.display_title()))
                    .collect();
                list(usize::from(self.quotas), over(&titles, title_w))
            }
            Pane::Alarms => list(
                self.alarm_names.len(),
                over(&self.alarm_names, super::alarms::name_cols(w)),
            ),
            // Always as wide as the body: only its rows are the layout's to give.
            Pane::Timeline => {
                let mut fit = list(usize::from(self.events), 0);
                fit.hidden = fit.hidden.min(
                    usize::from(self.events)
                        .min(self.events_owed)
                        .saturating_sub(h),
                );
                fit
            }
        }
    }

    /// What drawing `panes` would cost (`cost`).
    fn cost(&self, app: &App, panes: &[(Pane, Rect)]) -> Cost {
        cost(panes.iter().map(|(p, r)| (*p, self.fit(app, *p, *r))))
    }
}

/// A pane's claim on rows (or columns): the least it keeps, what it wants, and its tier: a
/// lower tier's wants are met first (the timeline, history, comes after the live panes).
#[derive(Debug, Clone, Copy)]
pub struct Claim {
    pub least: u16,
    pub want: u16,
    pub tier: u8,
}

const fn claim(least: u16, want: u16) -> Claim {
    Claim {
        least,
        want,
        tier: 0,
    }
}

/// Shares `total` cells among claims: each gets its least (all of them shrunk alike when even
/// that does not fit), then, tier by tier, one cell at a time goes round to every claim still
/// short of what it wants, so none gets more than it wants while another goes short. What is
/// left after every want is met goes to claim `rest`.
pub fn allot<const N: usize>(total: u16, claims: [Claim; N], rest: usize) -> [u16; N] {
    let least: u32 = claims.iter().map(|c| u32::from(c.least)).sum();
    let mut out = [0u16; N];
    if least >= u32::from(total) {
        // Not even the least fits: each gets its proportional share, the remainder in order.
        let mut given = 0u16;
        for (o, c) in out.iter_mut().zip(&claims) {
            *o = (u32::from(c.least) * u32::from(total) / least.max(1)) as u16;
            given += *o;
        }
        for o in out.iter_mut().take(usize::from(total - given)) {
            *o += 1;
        }
        return out;
    }
    for (o, c) in out.iter_mut().zip(&claims) {
        *o = c.least;
    }
    let mut left = total - least as u16;
    let last_tier = claims.iter().map(|c| c.tier).max().unwrap_or(0);
    for tier in 0..=last_tier {
        while left > 0 {
            let mut gave = false;
            for (o, c) in out.iter_mut().zip(&claims) {
                if left > 0 && c.tier == tier && *o < c.want {
                    *o += 1;
                    left -= 1;
                    gave = true;
                }
            }
            if !gave {
                break;
            }
        }
    }
    if let Some(o) = out.get_mut(rest) {
        *o += left;
    }
    out
}

/// Splits `area` into columns of the given widths, left to right (the last takes what is left).
fn columns<const N: usize>(area: Rect, widths: [u16; N]) -> [Rect; N] {
    split(
        area,
        widths,
        |r| (r.x, r.width),
        |r, x, w| Rect { x, width: w, ..r },
    )
}

/// Splits `area` into rows of the given heights, top to bottom (the last takes what is left).
fn rows<const N: usize>(area: Rect, heights: [u16; N]) -> [Rect; N] {
    split(
        area,
        heights,
        |r| (r.y, r.height),
        |r, y, h| Rect { y, height: h, ..r },
    )
}

/// Cuts `area` along one axis (`axis` reads its start and length, `with` sets them) into
/// pieces of the given sizes, clipped to the area; the last piece takes what is left.
fn split<const N: usize>(
    area: Rect,
    sizes: [u16; N],
    axis: impl Fn(Rect) -> (u16, u16),
    with: impl Fn(Rect, u16, u16) -> Rect,
) -> [Rect; N] {
    let (start, len) = axis(area);
    let end = start.saturating_add(len);
    let mut at = start;
    let mut out = [Rect::default(); N];
    for (i, (o, size)) in out.iter_mut().zip(sizes).enumerate() {
        let size = if i + 1 == N {
            end.saturating_sub(at)
        } else {
            size.min(end.saturating_sub(at))
        };
        *o = with(area, at, size);
        at += size;
    }
    out
}

/// Rows for a stack of panes in a column: each as tall as it wants when the rows allow,
/// what is left to metrics when they are in the stack (their charts grow), else to the first.
/// Metrics keep only rows they can use: their one-line form, or a whole chart per metric;
/// rows between the two go to the other panes.
fn stack<const N: usize>(d: &Demand, area: Rect, panes: [Pane; N]) -> [Rect; N] {
    let metrics = panes.iter().position(|p| *p == Pane::Metrics);
    let claims = panes.map(|p| d.claim(p));
    rows(area, allot_rows(d, area.height, claims, metrics))
}

/// `allot` for rows, where claim `metrics` (if any) is the metrics pane: it takes what is
/// left over, but only rows it can use (a whole chart per metric, or its one-line form);
/// rows between the two go to the other panes.
fn allot_rows<const N: usize>(
    d: &Demand,
    height: u16,
    mut claims: [Claim; N],
    metrics: Option<usize>,
) -> [u16; N] {
    let heights = allot(height, claims, metrics.unwrap_or(0));
    match metrics {
        Some(m) if d.metric_rows(heights[m]) < heights[m] => {
            let usable = d.metric_rows(heights[m]);
            claims[m] = claim(usable, usable);
            allot(height, claims, m)
        }
        _ => heights,
    }
}

/// Widths for panes side by side: each as wide as it wants when the width allows (metrics
/// take what is left), short of that each keeps its least and the rest is shared.
fn side_by_side<const N: usize>(area: Rect, claims: [Claim; N], rest: usize) -> [Rect; N] {
    columns(area, allot(area.width, claims, rest))
}

/// The body's arrangements for a terminal of this width: each candidate places every pane,
/// for each height of the band above the timeline worth trying, and the one that hides the
/// least text and keeps the fewest rows empty (`cost`) is drawn.
fn arrange(app: &App, arrangement: Arrangement, body: Rect) -> Vec<(Pane, Rect)> {
    let d = Demand {
        events_owed: usize::from(body.height / 3).saturating_sub(2),
        ..Demand::of(app)
    };
    if arrangement == Arrangement::Stacked {
        return stacked(&d, body);
    }
    let metrics_least = if arrangement == Arrangement::Wide {
        METRICS_MIN_COLS
    } else {
        METRICS_MEDIUM_COLS
    };
    let mut best: Option<(Cost, Vec<(Pane, Rect)>)> = None;
    for band in band_heights(&d, body) {
        let candidates = [
            if arrangement == Arrangement::Wide {
                three_columns(&d, body, band)
            } else {
                two_rows(&d, body, band)
            },
            left_stack(&d, body, band, metrics_least),
            right_stack(&d, body, band, metrics_least),
        ];
        for c in candidates {
            let cost = d.cost(app, &c);
            if best.as_ref().is_none_or(|(b, _)| cost < *b) {
                best = Some((cost, c));
            }
        }
    }
    best.map(|(_, c)| c).unwrap_or_default()
}

/// Heights of the band above the timeline worth trying: where a pane or a stack of panes
/// is whole, where metrics switch form or grow a row per chart, and where the timeline has
/// all its events or its least; each leaving the timeline its least.
fn band_heights(d: &Demand, body: Rect) -> Vec<u16> {
    let n = d.metric_count().max(1);
    let (checklist, quotas, alarms) = (
        d.rows(Pane::Checklist),
        d.rows(Pane::Quotas),
        d.rows(Pane::Alarms),
    );
    // Quotas beside alarms (the medium layout's middle row) or over them.
    let (beside, over) = (quotas.max(alarms), quotas + alarms);
    let metrics = std::iter::once(n + 2).chain((3..=8).map(|h| n.saturating_mul(h) + 2));
    let most = body.height.saturating_sub(TIMELINE_MIN_ROWS);
    let least = (PANE_MIN_ROWS * 2).min(most);
    let mut heights: Vec<u16> = metrics
        .flat_map(|m| [m, m + over, m.max(over), m + beside])
        .chain([
            checklist,
            checklist + over,
            checklist + beside,
            over,
            body.height.saturating_sub(d.rows(Pane::Timeline)),
            most,
        ])
        .map(|h| h.clamp(least, most))
        .collect();
    // Tallest first: where two heights cost the same, the band keeps the rows (metrics
    // charts grow into them; the timeline fills only as events come).
    heights.sort_unstable_by(|a, b| b.cmp(a));
    heights.dedup();
    heights
}

/// A checklist's claim on columns: its titles whole, a quarter of the width at least.
fn checklist_cols(d: &Demand, w: u16) -> Claim {
    let want = d.cols(Pane::Checklist);
    claim(want.min(w / 4), want)
}

/// Metrics' claim on columns: their least, then (after the panes beside them have their
/// text whole) every title whole above a chart; any width left is theirs too.
fn metrics_cols(d: &Demand, least: u16) -> Claim {
    Claim {
        least,
        want: d.cols(Pane::Metrics).max(least),
        tier: 1,
    }
}

/// Wide: checklist | metrics | quotas over alarms, the timeline along the bottom.
fn three_columns(d: &Demand, body: Rect, band: u16) -> Vec<(Pane, Rect)> {
    let w = body.width;
    let [band, timeline] = rows(body, [band, 0]);
    let right_want = d.cols(Pane::Quotas).max(d.cols(Pane::Alarms));
    let [checklist, metrics, right] = side_by_side(
        band,
        [
            checklist_cols(d, w),
            metrics_cols(d, METRICS_MIN_COLS),
            claim(right_want.min(w / 5), right_want),
        ],
        1,
    );
    let [quotas, alarms] = stack(d, right, [Pane::Quotas, Pane::Alarms]);
    in_tab_order([checklist, metrics, quotas, alarms, timeline])
}

/// Medium: checklist | metrics, then quotas | alarms, then the timeline.
fn two_rows(d: &Demand, body: Rect, band: u16) -> Vec<(Pane, Rect)> {
    let w = body.width;
    // The band holds both rows: quotas and alarms as tall as they want (half the band at
    // most), the checklist and metrics the rest.
    let middle_want = d.rows(Pane::Quotas).max(d.rows(Pane::Alarms));
    let middle = middle_want.min(band / 2).max(PANE_MIN_ROWS.min(band));
    let [top, middle, timeline] = rows(body, [band - middle, middle, 0]);
    let [checklist, metrics] = side_by_side(
        top,
        [checklist_cols(d, w), metrics_cols(d, METRICS_MEDIUM_COLS)],
        1,
    );
    let [quotas, alarms] = quotas_beside_alarms(d, middle);
    in_tab_order([checklist, metrics, quotas, alarms, timeline])
}

/// Quotas and alarms sharing a row by what each needs; quotas take any width left.
fn quotas_beside_alarms(d: &Demand, row: Rect) -> [Rect; 2] {
    let w = row.width;
    let (q, a) = (d.cols(Pane::Quotas), d.cols(Pane::Alarms));
    side_by_side(row, [claim(q.min(w / 3), q), claim(a.min(w / 4), a)], 0)
}

/// Wide and medium when the checklist, quotas and alarms are short: the three stacked in one
/// column as wide as the widest of them, metrics beside them taking the rest of the width.
fn left_stack(d: &Demand, body: Rect, band: u16, metrics_least: u16) -> Vec<(Pane, Rect)> {
    let w = body.width;
    let [band, timeline] = rows(body, [band, 0]);
    let want = d
        .cols(Pane::Checklist)
        .max(d.cols(Pane::Quotas))
        .max(d.cols(Pane::Alarms));
    let [left, metrics] = side_by_side(
        band,
        [claim(want.min(w / 4), want), metrics_cols(d, metrics_least)],
        1,
    );
    let [checklist, quotas, alarms] = stack(d, left, [Pane::Checklist, Pane::Quotas, Pane::Alarms]);
    in_tab_order([checklist, metrics, quotas, alarms, timeline])
}

/// Wide and medium when the checklist is long and the rest short: the checklist down the
/// left, metrics over quotas over alarms beside it (metrics keep only the rows they draw on,
/// so quotas and alarms take the rest rather than leave it blank).
fn right_stack(d: &Demand, body: Rect, band: u16, metrics_least: u16) -> Vec<(Pane, Rect)> {
    let w = body.width;
    let [band, timeline] = rows(body, [band, 0]);
    let want = d
        .cols(Pane::Metrics)
        .max(d.cols(Pane::Quotas))
        .max(d.cols(Pane::Alarms));
    let [checklist, right] = side_by_side(
        band,
        [
            checklist_cols(d, w),
            Claim {
                least: metrics_least,
                want,
                tier: 1,
            },
        ],
        1,
    );
    let [metrics, quotas, alarms] = stack(d, right, [Pane::Metrics, Pane::Quotas, Pane::Alarms]);
    in_tab_order([checklist, metrics, quotas, alarms, timeline])
}

/// Narrow: every pane full width, each as tall as it wants when the rows allow, metrics
/// taking the rows left over for charts. Short terminals put quotas and alarms side by side
/// so every pane keeps a few lines, and keep the timeline to its newest two events first.
fn stacked(d: &Demand, body: Rect) -> Vec<(Pane, Rect)> {
    if body.height < 25 {
        let middle_want = d.rows(Pane::Quotas).max(d.rows(Pane::Alarms));
        let [checklist, metrics, middle, timeline] = rows(
            body,
            allot_rows(
                d,
                body.height,
                [
                    d.claim(Pane::Checklist),
                    d.claim(Pane::Metrics),
                    claim(PANE_MIN_ROWS, middle_want),
                    Claim {
                        least: 4,
                        ..d.claim(Pane::Timeline)
                    },
                ],
                Some(1),
            ),
        );
        let [quotas, alarms] = quotas_beside_alarms(d, middle);
        return in_tab_order([checklist, metrics, quotas, alarms, timeline]);
    }
    in_tab_order(stack(d, body, Pane::ALL))
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
    use super::{Claim, allot, claim, scroll_offset};

    #[test]
    fn allot_meets_wants_in_turn_and_gives_the_rest_away() {
        // Room for every want: each gets it, what is left goes to the rest claim.
        assert_eq!(allot(30, [claim(3, 8), claim(3, 5)], 1), [8, 22]);
        // Short: one row at a time round, so both go short alike and neither gets more
        // than it wants.
        assert_eq!(allot(12, [claim(3, 20), claim(3, 20)], 0), [6, 6]);
        assert_eq!(allot(12, [claim(3, 5), claim(3, 20)], 0), [5, 7]);
        // A later tier waits for the first tier's wants.
        let history = Claim {
            least: 5,
            want: 40,
            tier: 1,
        };
        assert_eq!(allot(30, [claim(6, 20), history], 0), [20, 10]);
        assert_eq!(allot(80, [claim(6, 20), history], 0), [40, 40]);
        // Not even the least fits: shares in proportion, every cell given out.
        assert_eq!(allot(6, [claim(3, 9), claim(6, 9)], 0), [2, 4]);
        assert_eq!(allot(0, [claim(3, 9), claim(3, 9)], 0), [0, 0]);
        let odd = allot(7, [claim(4, 9), claim(4, 9)], 0);
        assert_eq!(odd.iter().sum::<u16>(), 7);
    }

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
