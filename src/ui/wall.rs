//! The wall view (`w`, or `--wall`): the war room for a projector or a TV, read from across
//! the room. The countdown in the largest digits that fit, the phase and what comes next, the
//! readiness figure, the open alert and who is being called, the few worst signals with their
//! values and the next checklist items due, the two lists sharing the width by what each
//! holds. The same state as the war room, drawn big: full-size digits scale up by whole cells
//! on a TV-sized terminal.

use ratatui::Frame;
use ratatui::layout::{Alignment, Constraint, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use tui_big_text::{BigText, PixelSize};

use super::text;
use crate::app::alerts::Severity;
use crate::app::{App, ItemStatus, Mode, Status};
use crate::theme::Theme;

/// Signals and items listed at most: a wall is read at a glance, not scrolled (fewer when the
/// screen has fewer rows).
const LIST_MAX: usize = 10;

/// How the countdown's digits are drawn: a tui-big-text pixel size, the columns and rows one
/// character takes, and a whole-cell scale for full-size digits on screens with room for it.
#[derive(Clone, Copy)]
struct Glyphs {
    pixel: PixelSize,
    cols: u16,
    rows: u16,
    scale: u16,
}

/// Full-size digits are drawn up to this many times larger (a TV across the room).
const SCALE_MAX: u16 = 4;

/// The largest digits `chars` characters fit in `area`.
fn pixel_for(area: Rect, chars: u16) -> Option<Glyphs> {
    let scale = (1..=SCALE_MAX)
        .rev()
        .find(|s| chars * 8 * s <= area.width && 8 * s <= area.height);
    if let Some(scale) = scale {
        return Some(Glyphs {
            pixel: PixelSize::Full,
            cols: 8 * scale,
            rows: 8 * scale,
            scale,
        });
    }
    [(PixelSize::HalfHeight, 8, 4), (PixelSize::Quadrant, 4, 4)]
        .into_iter()
        .find(|(_, w, h)| chars * w <= area.width && *h <= area.height)
        .map(|(pixel, cols, rows)| Glyphs {
            pixel,
            cols,
            rows,
            scale: 1,
        })
}

/// Big text centred in `area`, or none when even the smallest digits do not fit.
fn big(f: &mut Frame, area: Rect, s: &str, style: Style) -> bool {
    let chars = text::width(s) as u16;
    let Some(g) = pixel_for(area, chars) else {
        return false;
    };
    let cols = chars * g.cols;
    let x = area.x + (area.width - cols) / 2;
    let big = BigText::builder()
        .pixel_size(g.pixel)
        .style(style)
        .lines(vec![Line::from(s.to_string())])
        .build();
    if g.scale == 1 {
        f.render_widget(
            &big,
            Rect {
                x,
                width: cols,
                ..area
            },
        );
        return true;
    }
    // Full-size glyphs are whole blocks or blanks: each cell becomes a scale-by-scale square.
    let glyph_area = Rect::new(0, 0, chars * 8, 8);
    let mut glyphs = ratatui::buffer::Buffer::empty(glyph_area);
    ratatui::widgets::Widget::render(&big, glyph_area, &mut glyphs);
    let buf = f.buffer_mut();
    for gy in 0..8 {
        for gx in 0..glyph_area.width {
            let cell = glyphs[(gx, gy)].clone();
            for dy in 0..g.scale {
                for dx in 0..g.scale {
                    let (cx, cy) = (x + gx * g.scale + dx, area.y + gy * g.scale + dy);
                    if cx < area.right() && cy < area.bottom() {
                        buf[(cx, cy)] = cell.clone();
                    }
                }
            }
        }
    }
    true
}

pub fn render(f: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    let clock = app.offset().clock();
    // Rows for the digits: as many as the largest size that fits leaves for the rest (the
    // lists want at least a few rows).
    let digit_rows = pixel_for(
        Rect {
            height: area.height.saturating_sub(10),
            ..area
        },
        text::width(&clock) as u16,
    )
    .map_or(1, |g| g.rows);
    let [title, digits, phase, alert, lists, footer] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(digit_rows + 1),
        Constraint::Length(2),
        Constraint::Length(2),
        Constraint::Min(0),
        Constraint::Length(1),
    ])
    .areas(area);

    f.render_widget(Paragraph::new(title_line(app, theme)), title);
    let clock_style = if app.offset().secs() >= 0 {
        theme.ok().add_modifier(Modifier::BOLD)
    } else {
        theme.accent().add_modifier(Modifier::BOLD)
    };
    let digits_area = Rect {
        y: digits.y + 1,
        height: digits.height.saturating_sub(1),
        ..digits
    };
    if !big(f, digits_area, &clock, clock_style) {
        f.render_widget(
            Paragraph::new(Span::styled(clock.clone(), clock_style)).alignment(Alignment::Center),
            digits_area,
        );
    }
    f.render_widget(
        Paragraph::new(vec![
            Line::from(vec![
                Span::styled(
                    format!("{}  ", text::clean(&app.phase_name().to_uppercase())),
                    theme.base().add_modifier(Modifier::BOLD),
                ),
                Span::styled(super::header::next_phase(app), theme.muted()),
            ]),
            readiness_line(app, theme),
        ])
        .alignment(Alignment::Center),
        phase,
    );
    f.render_widget(
        Paragraph::new(alert_lines(app, theme)).alignment(Alignment::Center),
        alert,
    );
    let shown = (lists.height as usize).saturating_sub(1).clamp(1, LIST_MAX);
    let (worst_rows, due_rows) = (worst_rows(app, shown), due_rows(app, shown));
    // The two lists share the width by what each needs, a third each at least.
    let w = lists.width;
    let (a, b) = (worst_cols(&worst_rows), due_cols(&due_rows));
    let widths = super::layout::allot(
        w,
        [
            super::layout::Claim {
                least: a.min(w / 3),
                want: a,
                tier: 0,
            },
            super::layout::Claim {
                least: b.min(w / 3),
                want: b,
                tier: 0,
            },
        ],
        1,
    );
    // Width neither needs is shared, so the lists sit apart rather than one stretched.
    let spare = widths[1].saturating_sub(b);
    let [worst, due] = Layout::horizontal([
        Constraint::Length(widths[0] + spare / 2),
        Constraint::Min(0),
    ])
    .areas(lists);
    f.render_widget(
        Paragraph::new(worst_lines(&worst_rows, theme, worst.width)),
        worst,
    );
    f.render_widget(Paragraph::new(due_lines(&due_rows, theme, due.width)), due);
    f.render_widget(
        Paragraph::new(Span::styled(
            " w: back to the war room · ? help · q quit",
            theme.muted(),
        )),
        footer,
    );
}

fn title_line<'a>(app: &App, theme: &Theme) -> Line<'a> {
    let mut spans = Vec::new();
    // As in the war room: nobody may mistake a game day or a replay for the launch.
    if matches!(app.mode, Mode::Rehearsal | Mode::Replay) {
        spans.push(Span::styled(
            format!(" {} ", app.mode.label()),
            theme
                .warn()
                .add_modifier(Modifier::REVERSED | Modifier::BOLD),
        ));
    }
    spans.push(Span::styled(
        format!(" {} ", text::clean(&app.runbook.event.name)),
        theme.accent().add_modifier(Modifier::BOLD),
    ));
    if app.mode != Mode::Live {
        spans.push(Span::styled("· SIMULATED DATA ", theme.stale()));
    }
    for line in super::header::team_lines(app, theme) {
        spans.push(Span::styled("· ", theme.muted()));
        spans.extend(line.spans);
        spans.push(Span::raw(" "));
    }
    Line::from(spans)
}

fn readiness_line<'a>(app: &App, theme: &Theme) -> Line<'a> {
    let mut spans = vec![Span::styled(
        app.readiness_pct()
            .map(|p| format!("READINESS {p:.0}%"))
            .unwrap_or_else(|| "no checklist".into()),
        theme.base().add_modifier(Modifier::BOLD),
    )];
    let overdue = app.overdue_count();
    if overdue > 0 {
        spans.push(Span::styled(
            format!("  ·  {overdue} OVERDUE"),
            theme.warn().add_modifier(Modifier::BOLD),
        ));
    }
    Line::from(spans)
}

/// The alert the banner shows, and who is being called for it.
fn alert_lines<'a>(app: &App, theme: &Theme) -> Vec<Line<'a>> {
    let Some(a) = app.top_alert() else {
        return vec![Line::from(Span::styled(
            " ✓ ALL CLEAR ",
            theme.ok().add_modifier(Modifier::BOLD | Modifier::REVERSED),
        ))];
    };
    let style = match a.severity {
        Severity::Crit => theme.crit(),
        Severity::Warn => theme.warn(),
    };
    let open = app.open_alerts().count();
    let more = if open > 1 {
        format!("  (+{} more)", open - 1)
    } else {
        String::new()
    };
    let calling = match (
        &a.acked,
        a.level.and_then(|l| app.runbook.escalation.levels.get(l)),
    ) {
        (Some((who, _)), _) => format!("acknowledged by {}", text::clean(who)),
        (None, Some(l)) => format!(
            "calling {} · {}",
            text::clean(&l.who),
            text::clean(&l.contact)
        ),
        (None, None) => "not acknowledged: a to acknowledge".into(),
    };
    vec![
        Line::from(Span::styled(
            format!(
                " ▲ {} {}{more} ",
                a.severity.label(),
                text::clean(&crate::journal::describe::key_label(&app.runbook, &a.key))
            ),
            style.add_modifier(Modifier::BOLD | Modifier::REVERSED),
        )),
        Line::from(Span::styled(calling, style.add_modifier(Modifier::BOLD))),
    ]
}

/// One of the worst signals: its title, its value as shown, its status.
struct Worst {
    title: String,
    value: String,
    status: Status,
}

impl Worst {
    /// " 937 ms  CRIT ": what follows the title.
    fn tail(&self) -> String {
        format!(" {}  {} ", self.value, self.status.label())
    }
}

/// The worst signals first: critical, warning, stale, no data, then the rest; quotas by the
/// least headroom.
fn worst_rows(app: &App, shown: usize) -> Vec<Worst> {
    let rank = |s: Status| match s {
        Status::Crit => 0,
        Status::Warn => 1,
        Status::Stale => 2,
        Status::NoData => 3,
        Status::Ok => 4,
    };
    let mut rows: Vec<(u8, f64, Worst)> = app
        .visible_metrics()
        .into_iter()
        .map(|(i, def, st)| {
            let status = app.metric_status(i);
            let value = st
                .latest_settled()
                .map(|s| {
                    format!(
                        "{} {}",
                        crate::format::value(s.value),
                        def.unit.as_deref().unwrap_or("")
                    )
                    .trim_end()
                    .to_string()
                })
                .unwrap_or_else(|| "—".into());
            let title = def.display_title().to_string();
            (
                rank(status),
                0.0,
                Worst {
                    title,
                    value,
                    status,
                },
            )
        })
        .collect();
    for (q, st) in app.quota_rows() {
        let status = match st.severity {
            Some(Severity::Crit) => Status::Crit,
            Some(Severity::Warn) => Status::Warn,
            None if st.used_pct().is_none() => Status::NoData,
            None => Status::Ok,
        };
        let used = st.used_pct();
        rows.push((
            rank(status),
            -used.unwrap_or(0.0),
            Worst {
                title: q.display_title(),
                value: used
                    .map(|u| format!("{u:.0}% used"))
                    .unwrap_or_else(|| "—".into()),
                status,
            },
        ));
    }
    rows.sort_by(|a, b| {
        (a.0, a.1)
            .partial_cmp(&(b.0, b.1))
            .unwrap_or(std::cmp::Ordering::Equal)
    });
    rows.into_iter().take(shown).map(|(_, _, w)| w).collect()
}

/// Columns the worst signals want: every title whole beside its value.
fn worst_cols(rows: &[Worst]) -> u16 {
    let title = rows
        .iter()
        .map(|r| text::width(&r.title))
        .max()
        .unwrap_or(0);
    let tail = rows
        .iter()
        .map(|r| text::width(&r.tail()))
        .max()
        .unwrap_or(0);
    u16::try_from(1 + title + 1 + tail).unwrap_or(u16::MAX)
}

fn worst_lines<'a>(rows: &[Worst], theme: &Theme, width: u16) -> Vec<Line<'a>> {
    let w = width as usize;
    let mut lines = vec![Line::from(Span::styled(
        " WORST SIGNALS",
        theme.muted().add_modifier(Modifier::BOLD),
    ))];
    for r in rows {
        let style = match r.status {
            Status::Crit => theme.crit(),
            Status::Warn => theme.warn(),
            Status::Stale | Status::NoData => theme.stale(),
            Status::Ok => theme.ok(),
        };
        let tail = r.tail();
        let title_w = w.saturating_sub(text::width(&tail) + 1);
        lines.push(Line::from(vec![
            Span::styled(format!(" {}", text::fit(&r.title, title_w)), theme.base()),
            Span::styled(tail, style.add_modifier(Modifier::BOLD)),
        ]));
    }
    lines
}

/// One of the next items due: when (or how late), its title and owner.
struct Due {
    when: String,
    overdue: bool,
    title: String,
    owner: Option<String>,
}

/// The next items due, in due order; overdue ones first and marked.
fn due_rows(app: &App, shown: usize) -> Vec<Due> {
    let mut items: Vec<_> = app
        .visible_items()
        .into_iter()
        .filter(|r| matches!(r.state.status, ItemStatus::Todo | ItemStatus::InProgress))
        .filter_map(|r| r.item.due.map(|d| (d, r)))
        .collect();
    items.sort_by_key(|(d, _)| *d);
    items
        .into_iter()
        .take(shown)
        .map(|(d, r)| Due {
            when: if r.overdue {
                format!(
                    "LATE {}",
                    crate::time::age_label((app.now - d.at(app.t0)).num_seconds())
                )
            } else {
                d.to_string()
            },
            overdue: r.overdue,
            title: r.item.title.clone(),
            owner: r.item.owner.clone(),
        })
        .collect()
}

/// " LATE 42m  ": the due column, right-aligned in 9.
fn due_head(d: &Due) -> String {
    format!(" {:>9}  ", d.when)
}

/// The widest due head, title and owner of `rows`.
fn due_widths(rows: &[Due]) -> (usize, usize, usize) {
    let max = |f: &dyn Fn(&Due) -> usize| rows.iter().map(f).max().unwrap_or(0);
    (
        max(&|r| text::width(&due_head(r))),
        max(&|r| text::width(&r.title)),
        max(&|r| r.owner.as_deref().map_or(0, text::width)),
    )
}

/// Columns the next items want: every title whole with its owner.
fn due_cols(rows: &[Due]) -> u16 {
    let (head, title, owner) = due_widths(rows);
    let owner = if owner > 0 { owner + 2 } else { 0 };
    u16::try_from(head + title + 1 + owner).unwrap_or(u16::MAX)
}

fn due_lines<'a>(rows: &[Due], theme: &Theme, width: u16) -> Vec<Line<'a>> {
    let w = width as usize;
    let mut lines = vec![Line::from(Span::styled(
        " NEXT DUE",
        theme.muted().add_modifier(Modifier::BOLD),
    ))];
    if rows.is_empty() {
        lines.push(Line::from(Span::styled(" nothing left to do", theme.ok())));
    }
    // Owners in a column of their own, as wide as the longest shown (at most a third), and
    // only when the titles keep room for themselves: from across the room the title is what
    // is read.
    let (head_w, title_max, owner_max) = due_widths(rows);
    let owner_w = owner_max.min(w / 3);
    let owner_w = if head_w + title_max + 1 + owner_w + 2 <= w {
        owner_w
    } else {
        0
    };
    for r in rows {
        let style = if r.overdue {
            theme.warn().add_modifier(Modifier::BOLD)
        } else {
            theme.base()
        };
        let head = due_head(r);
        let owner = if owner_w > 0 {
            format!("  {}", text::fit(r.owner.as_deref().unwrap_or(""), owner_w))
        } else {
            String::new()
        };
        let title_w = w.saturating_sub(text::width(&head) + text::width(&owner));
        lines.push(Line::from(vec![
            Span::styled(head, style),
            Span::styled(text::fit(&r.title, title_w.saturating_sub(1)), theme.base()),
            Span::styled(owner, theme.muted()),
        ]));
    }
    lines
}
