//! The detail under a zoomed list: the selected row in full, wrapped, with what its line has
//! no room for (an item's verify rule, link and revert; a quota's code and figures; an
//! alarm's reason; an event's whole text). Whatever a pane cuts with "…" is here, one key
//! (`z`) away.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph, Wrap};

use super::text;
use crate::app::{App, ItemStatus, Pane};
use crate::theme::Theme;

/// One labelled line: ("owner", "platform-oncall"). The text is cleaned when it is drawn.
type Field = (&'static str, String);

/// What the detail shows for the selected row of `pane`; nothing for metrics (their zoom is
/// the chart) or an empty list.
pub fn fields(app: &App, pane: Pane) -> Vec<Field> {
    let selected = app.ui.selected(pane);
    match pane {
        Pane::Checklist => app
            .visible_items()
            .get(selected)
            .map(|r| {
                let mut out = vec![("item", super::checklist::title_text(r))];
                let mut facts = Vec::new();
                if let Some(o) = &r.item.owner {
                    facts.push(format!("owner {o}"));
                }
                if let Some(d) = r.item.due {
                    facts.push(format!("due {d} ({})", d.at(app.t0).format("%H:%M UTC")));
                }
                if r.overdue {
                    facts.push("OVERDUE".into());
                }
                if r.item.blocking {
                    facts.push("blocks GO".into());
                }
                facts.push(format!("id {}", r.item.id));
                out.push(("", facts.join(" · ")));
                let state = match r.state.status {
                    ItemStatus::Todo => "to do".to_string(),
                    ItemStatus::InProgress => "in progress".into(),
                    ItemStatus::Done if r.state.auto => "verified by data".into(),
                    ItemStatus::Done => "done".into(),
                    ItemStatus::Skipped => {
                        format!("skipped: {}", r.state.skip_reason.as_deref().unwrap_or(""))
                    }
                };
                let by = r
                    .state
                    .changed
                    .as_ref()
                    .map(|(who, at)| format!(" by {who} at {}", at.format("%H:%M:%S")))
                    .unwrap_or_default();
                out.push(("state", format!("{state}{by}")));
                for (label, v) in [
                    ("verify", &r.item.verify),
                    ("link", &r.item.link),
                    ("revert", &r.item.revert),
                ] {
                    if let Some(v) = v {
                        out.push((label, v.clone()));
                    }
                }
                out
            })
            .unwrap_or_default(),
        Pane::Metrics => Vec::new(),
        Pane::Quotas => app
            .quota_rows()
            .get(selected)
            .map(|(def, st)| {
                let mut out = vec![
                    ("quota", def.display_title()),
                    (
                        "",
                        format!(
                            "{} {}{} · warn below {}% · crit below {}% headroom",
                            def.service,
                            def.code,
                            def.region
                                .as_deref()
                                .map(|r| format!(" in {r}"))
                                .unwrap_or_default(),
                            def.warn_below.0,
                            def.crit_below.0
                        ),
                    ),
                    ("figures", super::quotas::detail(app, def, st, usize::MAX)),
                ];
                if let Some(m) = &def.usage_metric {
                    out.push(("usage", m.clone()));
                }
                out
            })
            .unwrap_or_default(),
        Pane::Alarms => super::alarms::ordered(app)
            .get(selected)
            .map(|a| {
                vec![
                    ("alarm", a.name.clone()),
                    (
                        "state",
                        format!(
                            "{} since {}",
                            a.state.label(),
                            a.changed_at.format("%H:%M:%S UTC")
                        ),
                    ),
                    ("reason", a.reason.clone()),
                ]
            })
            .unwrap_or_default(),
        Pane::Timeline => super::timeline::ordered(app)
            .nth(selected)
            .map(|r| {
                let mut what = crate::journal::describe::describe(&app.runbook, &r.event);
                if let Some(note) = app.conflict_note(r) {
                    what.push_str(&format!(" · {note}"));
                }
                if app.is_queued(r) {
                    what.push_str(" · queued for the room");
                }
                vec![
                    (
                        "event",
                        format!(
                            "{} {} by {}",
                            r.ts.format("%Y-%m-%d %H:%M:%S UTC"),
                            super::header::short_offset(app.t0, r.ts),
                            r.operator
                        ),
                    ),
                    ("", what),
                ]
            })
            .unwrap_or_default(),
    }
}

fn paragraph<'a>(fields: &[Field], theme: &Theme) -> Paragraph<'a> {
    let lines: Vec<Line> = fields
        .iter()
        .map(|(label, v)| {
            let mut spans = Vec::new();
            if !label.is_empty() {
                spans.push(Span::styled(format!("{label}: "), theme.muted()));
            }
            spans.push(Span::styled(text::clean(v).into_owned(), theme.base()));
            Line::from(spans)
        })
        .collect();
    Paragraph::new(lines).wrap(Wrap { trim: false })
}

/// Rows (borders included) the detail takes in an area `width` wide: all of its wrapped text,
/// or none when there is nothing to show.
pub fn rows(app: &App, pane: Pane, width: u16) -> u16 {
    let fields = fields(app, pane);
    if fields.is_empty() {
        return 0;
    }
    let lines = paragraph(&fields, &Theme::default()).line_count(width.saturating_sub(2));
    u16::try_from(lines).unwrap_or(u16::MAX).saturating_add(2)
}

pub fn render(f: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    let pane = app.ui.focused();
    let block = Block::bordered()
        .border_style(theme.border(false))
        .title(Span::styled(" selected, in full ", theme.muted()));
    let inner = block.inner(area);
    f.render_widget(block, area);
    f.render_widget(paragraph(&fields(app, pane), theme), inner);
}
