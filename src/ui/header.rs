//! The header: event, phase, the countdown (big digits where there is room), zone clocks and
//! readiness.

use chrono::{DateTime, Utc};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use tui_big_text::{BigText, PixelSize};

use super::layout::Digits;
use super::text;
use crate::app::{App, Mode};
use crate::theme::Theme;
use crate::time::TOffset;

pub fn render(f: &mut Frame, area: Rect, digits: Digits, app: &App, theme: &Theme) {
    let [title, rest] = Layout::vertical([Constraint::Length(1), Constraint::Min(0)]).areas(area);
    f.render_widget(Paragraph::new(title_line(app, theme, title.width)), title);

    let clock = app.offset().clock();
    let clock_style = countdown_style(app, theme);
    let zones = zone_clocks(&app.runbook.event.zones, app.now);
    if digits == Digits::Plain {
        // One line: what needs acting on in the team comes before what comes next.
        let mut spans = vec![Span::styled(format!(" {clock}"), clock_style)];
        spans.extend(team_compact(app, theme));
        spans.push(Span::raw(" "));
        spans.push(Span::styled(next_phase(app), theme.muted()));
        // As many zone clocks as fit whole; none cut in half.
        let mut used: usize = spans.iter().map(|s| text::width(&s.content)).sum();
        for (label, time) in zones {
            let w = 2 + text::width(&label) + 1 + text::width(&time);
            if used + w > rest.width as usize {
                break;
            }
            used += w;
            spans.push(Span::styled("  ", theme.muted()));
            spans.push(Span::styled(label, theme.muted()));
            spans.push(Span::raw(" "));
            spans.push(Span::styled(time, theme.base()));
        }
        f.render_widget(Paragraph::new(Line::from(spans)), rest);
        return;
    }

    let big_cols = digits.cols(text::width(&clock) as u16);
    // A column of margin each side of the digits (the last glyph's right edge was cut when
    // the margin came out of their own width).
    let [big, side] =
        Layout::horizontal([Constraint::Length(big_cols + 2), Constraint::Min(0)]).areas(rest);
    let pixel = match digits {
        Digits::Full => PixelSize::Full,
        Digits::HalfHeight => PixelSize::HalfHeight,
        _ => PixelSize::Quadrant,
    };
    let big_text = BigText::builder()
        .pixel_size(pixel)
        .style(clock_style)
        .lines(vec![Line::from(clock.clone())])
        .build();
    f.render_widget(&big_text, big.inner(ratatui::layout::Margin::new(1, 0)));

    // Beside the digits: the same countdown as text (for screen readers and copy-paste), what
    // comes next, and the zone clocks.
    let mut lines = vec![Line::from(vec![
        Span::styled(clock, clock_style.remove_modifier(Modifier::REVERSED)),
        Span::raw("  "),
        Span::styled(next_phase(app), theme.muted()),
    ])];
    lines.extend(team_lines(app, theme));
    let rows = (side.height as usize).saturating_sub(lines.len());
    lines.extend(zone_grid(&zones, side.width as usize, rows, theme));
    f.render_widget(Paragraph::new(lines), side);
}

/// The zone clocks in as many columns as the width takes and the rows left: every zone when
/// they fit, else all but the last cell and "+N more" there (never a clock cut in half).
fn zone_grid<'a>(
    zones: &[(String, String)],
    width: usize,
    rows: usize,
    theme: &Theme,
) -> Vec<Line<'a>> {
    if zones.is_empty() || rows == 0 {
        return Vec::new();
    }
    let label_w = zones.iter().map(|(l, _)| text::width(l)).max().unwrap_or(0);
    let time_w = zones.iter().map(|(_, t)| text::width(t)).max().unwrap_or(0);
    let cell = label_w + 1 + time_w;
    let gap = 3;
    let cols = ((width + gap) / (cell + gap)).max(1);
    let capacity = cols * rows;
    let (shown, more) = if zones.len() <= capacity {
        (zones.len(), 0)
    } else {
        (capacity - 1, zones.len() - (capacity - 1))
    };
    let mut cells: Vec<Vec<Span<'a>>> = zones[..shown]
        .iter()
        .map(|(label, time)| {
            vec![
                Span::styled(text::fit(label, label_w), theme.muted()),
                Span::raw(" "),
                Span::styled(text::fit(time, time_w), theme.base()),
            ]
        })
        .collect();
    if more > 0 {
        cells.push(vec![Span::styled(format!("+{more} more"), theme.muted())]);
    }
    cells
        .chunks(cols)
        .map(|row| {
            let mut spans = Vec::new();
            for (i, c) in row.iter().enumerate() {
                if i > 0 {
                    spans.push(Span::raw(" ".repeat(gap)));
                }
                spans.extend(c.iter().cloned());
            }
            Line::from(spans)
        })
        .collect()
}

fn title_line<'a>(app: &App, theme: &Theme, width: u16) -> Line<'a> {
    let mut left = Vec::new();
    // First on the line, so no width can cut it off: nobody may mistake a game day for the
    // real launch.
    if app.mode == Mode::Replay {
        left.push(Span::styled(
            format!(
                " {} ",
                rehearsal_marker(app.speed).replace("REHEARSAL", "REPLAY")
            ),
            theme
                .warn()
                .add_modifier(Modifier::REVERSED | Modifier::BOLD),
        ));
    }
    if app.mode == Mode::Rehearsal {
        left.push(Span::styled(
            format!(" {} ", rehearsal_marker(app.speed)),
            theme
                .warn()
                .add_modifier(Modifier::REVERSED | Modifier::BOLD),
        ));
    }
    left.extend([
        Span::styled(
            format!(" {} ", text::clean(&app.runbook.event.name)),
            theme.accent(),
        ),
        Span::styled("· phase ", theme.muted()),
        Span::styled(
            text::clean(&app.phase_name().to_uppercase()).into_owned(),
            theme.base().add_modifier(Modifier::BOLD),
        ),
        Span::raw(" "),
    ]);
    match app.mode {
        Mode::Simulated => left.push(Span::styled("· SIMULATED DATA ", theme.stale())),
        Mode::Rehearsal => left.push(Span::styled("· SIMULATED DATA ", theme.stale())),
        Mode::Replay => left.push(Span::styled(
            "· RECORDED DATA (] +5m, } +30m) ",
            theme.stale(),
        )),
        Mode::Live => left.push(Span::styled(
            format!(
                "· LIVE AWS {}",
                app.data_label
                    .as_deref()
                    .map(|l| format!("{} ", text::clean(l)))
                    .unwrap_or_default()
            ),
            theme.ok(),
        )),
    }
    let readiness = app
        .readiness_pct()
        .map(|p| format!("readiness {p:.0}%"))
        .unwrap_or_else(|| "no checklist".into());
    let overdue = app.overdue_count();
    let mut right = vec![Span::styled(
        readiness,
        theme.base().add_modifier(Modifier::BOLD),
    )];
    if overdue > 0 {
        right.push(Span::styled(" · ", theme.muted()));
        right.push(Span::styled(format!("{overdue} overdue"), theme.warn()));
    }
    right.push(Span::raw(" "));
    let used: usize = left
        .iter()
        .chain(&right)
        .map(|s| text::width(&s.content))
        .sum();
    let gap = (width as usize).saturating_sub(used);
    left.push(Span::raw(" ".repeat(gap)));
    left.extend(right);
    Line::from(left)
}

/// The go/no-go poll in a few words (`compact`: for one 80-column line; `None` there when
/// there is nothing to act on yet).
fn poll_label(app: &App, theme: &Theme, compact: bool) -> Option<(String, Style)> {
    use crate::app::team::Verdict;
    let poll = app.poll()?;
    let n = poll.required.len();
    Some(match poll.verdict {
        Verdict::NotOpen if compact => return None,
        Verdict::NotOpen => (
            format!("go/no-go opens with {}", text::clean(poll.phase)),
            theme.muted(),
        ),
        Verdict::Waiting => (
            format!(
                "go/no-go {}/{n} GO{}",
                poll.go_votes(),
                if compact { "" } else { " · waiting" }
            ),
            theme.warn(),
        ),
        Verdict::NoGo => {
            let why = poll
                .no_go()
                .filter(|_| !compact)
                .map(|r| {
                    let reason = r.vote.map(|v| v.reason.as_str()).unwrap_or_default();
                    format!(" ({}: {})", text::clean(r.name), text::clean(reason))
                })
                .unwrap_or_default();
            (
                format!("NO-GO{why}"),
                theme.crit().add_modifier(Modifier::BOLD),
            )
        }
        Verdict::Blocked => (
            format!(
                "{n}/{n} GO · {} blocking item(s) not done",
                poll.blocking_left.len()
            ),
            theme.warn(),
        ),
        Verdict::Go if compact => ("GO ✓".into(), theme.ok().add_modifier(Modifier::BOLD)),
        Verdict::Go => (
            format!("GO ✓ {n}/{n} and every blocking item done"),
            theme.ok().add_modifier(Modifier::BOLD),
        ),
    })
}

/// The status-update cadence: overdue (always said), or when the next is due (not in
/// `compact`).
fn update_label(app: &App, theme: &Theme, compact: bool) -> Option<(String, Style)> {
    let due = app.update_due()?;
    if due.overdue {
        return Some((
            format!(
                "UPDATE OVERDUE {} (u)",
                crate::time::Span((app.now - due.due_at).num_seconds().max(0))
            ),
            theme
                .warn()
                .add_modifier(Modifier::REVERSED | Modifier::BOLD),
        ));
    }
    (!compact).then(|| {
        (
            format!(
                "update due in {}",
                crate::time::Span((due.due_at - app.now).num_seconds().max(0))
            ),
            theme.muted(),
        )
    })
}

/// The link to the room: unreachable (since when, and how much is queued), queued, in sync.
/// The count comes before anything long, so the edge of the screen never cuts it.
fn link_span<'a>(app: &App, room: &crate::app::room::RoomState, theme: &Theme) -> Span<'a> {
    match (&room.link.error, room.queued.len()) {
        (Some((_, since)), q) => Span::styled(
            format!(
                "ROOM UNREACHABLE {} · {q} queued",
                match crate::time::age_label((app.now - *since).num_seconds()).as_str() {
                    "now" => "just now".to_string(),
                    a => format!("for {a}"),
                }
            ),
            theme.crit().add_modifier(Modifier::BOLD),
        ),
        (None, 0) if room.link.last_ok.is_some() => Span::styled("in sync", theme.ok()),
        (None, 0) => Span::styled("connecting", theme.muted()),
        (None, q) => Span::styled(format!("{q} queued"), theme.warn()),
    }
}

/// The team's state in one short run for an 80-column header line: what needs acting on.
fn team_compact<'a>(app: &App, theme: &Theme) -> Vec<Span<'a>> {
    let mut parts: Vec<Vec<Span<'a>>> =
        [poll_label(app, theme, true), update_label(app, theme, true)]
            .into_iter()
            .flatten()
            .map(|(t, st)| vec![Span::styled(t, st)])
            .collect();
    if let Some(room) = &app.room {
        let mut spans = vec![Span::styled(
            format!("room {} here · ", room.here().count()),
            theme.accent(),
        )];
        if app.seat == crate::app::room::Seat::Watcher {
            spans.push(Span::styled("WATCHING · ", theme.stale()));
        }
        spans.push(link_span(app, room, theme));
        parts.push(spans);
    }
    let mut out = Vec::new();
    for p in parts {
        out.push(Span::styled(" · ", theme.muted()));
        out.extend(p);
    }
    out
}

/// The team's state, a line each when there is something to say: the go/no-go poll and the
/// status-update cadence; the room, who is in it and whether this seat's actions are queued.
pub fn team_lines<'a>(app: &App, theme: &Theme) -> Vec<Line<'a>> {
    let mut lines = Vec::new();
    let decisions: Vec<Span> = [
        poll_label(app, theme, false),
        update_label(app, theme, false),
    ]
    .into_iter()
    .flatten()
    .enumerate()
    .flat_map(|(i, (t, st))| {
        let sep = (i > 0).then(|| Span::styled(" · ", theme.muted()));
        sep.into_iter().chain([Span::styled(t, st)])
    })
    .collect();
    if !decisions.is_empty() {
        lines.push(Line::from(decisions));
    }
    if let Some(room) = &app.room {
        // What a seat must not miss comes first: watching, and whether its actions are
        // reaching the room; then who is here and who left; the failure's reason last.
        let mut spans = vec![Span::styled(
            format!("room {} · ", text::clean(&room.name)),
            theme.accent(),
        )];
        if app.seat == crate::app::room::Seat::Watcher {
            spans.push(Span::styled("WATCHING (read-only) · ", theme.stale()));
        }
        spans.push(link_span(app, room, theme));
        spans.push(Span::raw(" "));
        let here: Vec<String> = room
            .here()
            .map(|s| {
                let role = app
                    .roles_held
                    .get(&s.operator)
                    .map(|r| r.role.clone())
                    .or(s.role.clone());
                match (s.watcher, role) {
                    (true, _) => format!("{} (watching)", text::clean(&s.operator)),
                    (false, Some(r)) => {
                        format!("{} ({})", text::clean(&s.operator), text::clean(&r))
                    }
                    (false, None) => text::clean(&s.operator).into_owned(),
                }
            })
            .collect();
        if !here.is_empty() {
            spans.push(Span::styled(
                format!("· {} here: {} ", here.len(), here.join(", ")),
                theme.base(),
            ));
        }
        // Who left within the hour, and when they were last seen.
        let away: Vec<&crate::room::Presence> = room
            .away()
            .into_iter()
            .filter(|s| s.session != room.session)
            .collect();
        if !away.is_empty() {
            let list: Vec<String> = away
                .iter()
                .map(|s| {
                    format!(
                        "{} {} ago",
                        text::clean(&s.operator),
                        crate::time::age_label(room.silent_for(s))
                    )
                })
                .collect();
            spans.push(Span::styled(
                format!("· last seen: {} ", list.join(", ")),
                theme.muted(),
            ));
        }
        if let Some((e, _)) = &room.link.error {
            spans.push(Span::styled(format!("· {}", text::clean(e)), theme.muted()));
        }
        lines.push(Line::from(spans));
    }
    lines
}

/// "REHEARSAL ×10", "REHEARSAL ×2.5"; just "REHEARSAL" at real time.
pub fn rehearsal_marker(speed: f64) -> String {
    if (speed - 1.0).abs() < 1e-9 || !speed.is_finite() {
        "REHEARSAL".into()
    } else {
        format!("REHEARSAL ×{speed}")
    }
}

/// Calm until the last minutes before T-0, then it draws the eye.
fn countdown_style(app: &App, theme: &Theme) -> Style {
    let secs = app.offset().secs();
    if (-120..0).contains(&secs) {
        theme.warn()
    } else {
        theme.accent()
    }
}

/// "next: Launch in 2m10s"; after T-0 also the countdown to the end of hypercare
/// (`event.ends_at`): "next: Hypercare in 4m · ends in 3h55m", then "event over".
pub fn next_phase(app: &App) -> String {
    let offset = app.offset();
    let next = app
        .runbook
        .phases
        .iter()
        .find(|p| p.from > offset)
        .map(|p| {
            format!(
                "next: {} in {}",
                text::clean(&p.name),
                crate::time::Span(p.from.secs() - offset.secs())
            )
        });
    let end = app
        .runbook
        .event
        .ends_at
        .filter(|_| offset.secs() >= 0)
        .map(|end| {
            if end > offset {
                format!("ends in {}", crate::time::Span(end.secs() - offset.secs()))
            } else {
                "event over".into()
            }
        });
    match (next, end) {
        (Some(n), Some(e)) => format!("{n} · {e}"),
        (Some(s), None) | (None, Some(s)) => s,
        (None, None) => String::new(),
    }
}

/// (label, "Tue 17:45") for each configured zone (the countdown carries the seconds). Unknown names were rejected by `check`;
/// any that slip through show as UTC rather than break the header.
pub fn zone_clocks(zones: &[String], now: DateTime<Utc>) -> Vec<(String, String)> {
    zones
        .iter()
        .map(|z| {
            let time = if z.eq_ignore_ascii_case("local") {
                now.with_timezone(&chrono::Local)
                    .format("%a %H:%M")
                    .to_string()
            } else {
                match z.parse::<chrono_tz::Tz>() {
                    Ok(tz) => now.with_timezone(&tz).format("%a %H:%M").to_string(),
                    Err(_) => now.format("%a %H:%M UTC").to_string(),
                }
            };
            let label = text::clean(z.rsplit('/').next().unwrap_or(z)).replace('_', " ");
            (label, time)
        })
        .collect()
}

/// Offsets shown next to times elsewhere ("T-2m"), kept here so the header and timeline agree.
pub fn short_offset(t0: DateTime<Utc>, at: DateTime<Utc>) -> String {
    TOffset::between(t0, at).to_string()
}
