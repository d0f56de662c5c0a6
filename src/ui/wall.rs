//! The wall view (`w`, or `--wall`): the war room for a projector or a TV, read from across
//! the room. The countdown in the largest digits that fit, the phase and what comes next, the
//! readiness figure, the open alert and who is being called, the few worst signals with their
//! values and the next checklist items due. The same state as the war room, drawn big.

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

/// The largest digits `chars` characters fit in `area` (columns per character, rows).
fn pixel_for(area: Rect, chars: u16) -> Option<(PixelSize, u16, u16)> {
    [
        (PixelSize::Full, 8, 8),
        (PixelSize::HalfHeight, 8, 4),
        (PixelSize::Quadrant, 4, 4),
    ]
    .into_iter()
    .find(|(_, w, h)| chars * w <= area.width && *h <= area.height)
}

/// Big text centred in `area`, or none when even the smallest digits do not fit.
fn big(f: &mut Frame, area: Rect, s: &str, style: Style) -> bool {
    let chars = text::width(s) as u16;
    let Some((pixel, w, _)) = pixel_for(area, chars) else {
        return false;
    };
    let cols = chars * w;
    let x = area.x + (area.width - cols) / 2;
    let big = BigText::builder()
        .pixel_size(pixel)
        .style(style)
        .lines(vec![Line::from(s.to_string())])
        .build();
    f.render_widget(
        &big,
        Rect {
            x,
            width: cols,
            ..area
        },
    );
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
    .map_or(1, |(_, _, h)| h);
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
    let [worst, due] =
        Layout::horizontal([Constraint::Percentage(50), Constraint::Percentage(50)]).areas(lists);
    let shown = (lists.height as usize).saturating_sub(1).clamp(1, LIST_MAX);
    f.render_widget(
        Paragraph::new(worst_lines(app, theme, worst.width, shown)),
        worst,
    );
    f.render_widget(Paragraph::new(due_lines(app, theme, due.width, shown)), due);
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

/// The worst signals first: critical, warning, stale, no data, then the rest; quotas by the
/// least headroom.
fn worst_lines<'a>(app: &App, theme: &Theme, width: u16, shown: usize) -> Vec<Line<'a>> {
    let rank = |s: Status| match s {
        Status::Crit => 0,
        Status::Warn => 1,
        Status::Stale => 2,
        Status::NoData => 3,
        Status::Ok => 4,
    };
    let mut rows: Vec<(u8, f64, String, String, Status)> = app
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
            (
                rank(status),
                0.0,
                def.display_title().to_string(),
                value,
                status,
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
            q.display_title().to_string(),
            used.map(|u| format!("{u:.0}% used"))
                .unwrap_or_else(|| "—".into()),
            status,
        ));
    }
    rows.sort_by(|a, b| {
        (a.0, a.1)
            .partial_cmp(&(b.0, b.1))
            .unwrap_or(std::cmp::Ordering::Equal)
    });
    let w = width as usize;
    let mut lines = vec![Line::from(Span::styled(
        " WORST SIGNALS",
        theme.muted().add_modifier(Modifier::BOLD),
    ))];
    for (_, _, title, value, status) in rows.into_iter().take(shown) {
        let style = match status {
            Status::Crit => theme.crit(),
            Status::Warn => theme.warn(),
            Status::Stale | Status::NoData => theme.stale(),
            Status::Ok => theme.ok(),
        };
        let tail = format!(" {value}  {} ", status.label());
        let title_w = w.saturating_sub(text::width(&tail) + 1);
        lines.push(Line::from(vec![
            Span::styled(format!(" {}", text::fit(&title, title_w)), theme.base()),
            Span::styled(tail, style.add_modifier(Modifier::BOLD)),
        ]));
    }
    lines
}

/// The next items due, in due order; overdue ones first and marked.
fn due_lines<'a>(app: &App, theme: &Theme, width: u16, shown: usize) -> Vec<Line<'a>> {
    let mut items: Vec<_> = app
        .visible_items()
        .into_iter()
        .filter(|r| matches!(r.state.status, ItemStatus::Todo | ItemStatus::InProgress))
        .filter_map(|r| r.item.due.map(|d| (d, r)))
        .collect();
    items.sort_by_key(|(d, _)| *d);
    let w = width as usize;
    let mut lines = vec![Line::from(Span::styled(
        " NEXT DUE",
        theme.muted().add_modifier(Modifier::BOLD),
    ))];
    if items.is_empty() {
        lines.push(Line::from(Span::styled(" nothing left to do", theme.ok())));
    }
    items.truncate(shown);
    // Owners in a column of their own, as wide as the longest shown (at most a third).
    let owner_w = items
        .iter()
        .filter_map(|(_, r)| r.item.owner.as_deref())
        .map(text::width)
        .max()
        .unwrap_or(0)
        .min(w / 3);
    for (d, r) in items {
        let (when, style) = if r.overdue {
            (
                format!(
                    "LATE {}",
                    crate::time::age_label((app.now - d.at(app.t0)).num_seconds())
                ),
                theme.warn().add_modifier(Modifier::BOLD),
            )
        } else {
            (d.to_string(), theme.base())
        };
        let head = format!(" {when:>9}  ");
        let owner = if owner_w > 0 {
            format!(
                "  {}",
                text::fit(r.item.owner.as_deref().unwrap_or(""), owner_w)
            )
        } else {
            String::new()
        };
        let title_w = w.saturating_sub(text::width(&head) + text::width(&owner));
        lines.push(Line::from(vec![
            Span::styled(head, style),
            Span::styled(
                text::fit(&r.item.title, title_w.saturating_sub(1)),
                theme.base(),
            ),
            Span::styled(owner, theme.muted()),
        ]));
    }
    lines
}
