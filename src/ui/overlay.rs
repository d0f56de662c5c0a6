//! Dialogs drawn over the war room: help, text input (skip reason, note) and quit confirmation.

use ratatui::Frame;
use ratatui::layout::{Constraint, Flex, Layout, Rect};
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Clear, Paragraph, Wrap};

use super::text;
use crate::app::{App, InputPurpose, Overlay};
use crate::theme::Theme;

/// Every key, in the order an operator needs them. The help overlay lists exactly these.
pub const KEYS: &[(&str, &str)] = &[
    ("?", "this help (any of ? Esc q Enter closes it)"),
    ("Tab / Shift-Tab", "next / previous pane"),
    ("h l  ← →", "previous / next pane"),
    ("1 … 5", "checklist, metrics, quotas, alarms, timeline"),
    ("j k  ↓ ↑", "move the selection"),
    ("PgDn PgUp", "move by ten"),
    ("g G  Home End", "first / last"),
    (
        "Space / Enter",
        "tick or untick the item (other panes: zoom)",
    ),
    ("p", "mark the item in progress (again: back to todo)"),
    ("s", "skip the item, with a reason"),
    ("n", "add a note to the timeline"),
    ("a", "acknowledge the top alert (stops its escalation)"),
    ("c", "the top alert's card: the whole escalation ladder"),
    ("e  E", "escalate the top alert one level / back one level"),
    (
        "r",
        "take a role from the runbook (incident commander, scribe...)",
    ),
    ("v", "vote GO or NO-GO in the go/no-go poll (voting roles)"),
    ("u", "post a status update: conditions, actions, needs"),
    (
        "i",
        "request a quota increase (quota pane; needs --allow-writes)",
    ),
    (
        "z",
        "zoom the pane, its selected row in full (metrics: full chart)",
    ),
    (
        "w",
        "wall view for a projector or TV (again: back); --wall on start",
    ),
    ("Esc", "leave zoom / close a dialog"),
    ("q  Ctrl-C", "quit (asks first while alerts are open)"),
    ("mouse", "click a pane or a row; wheel scrolls"),
];

pub fn render(f: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    match &app.ui.overlay {
        Overlay::None => {}
        Overlay::Help => help(f, area, app, theme),
        Overlay::Input { purpose, text } => input(f, area, app, theme, purpose, text),
        Overlay::ConfirmQuit => confirm_quit(f, area, app, theme),
        Overlay::IncreaseQuota { quota, text } => increase(f, area, app, theme, *quota, text),
        Overlay::Vote { go, text } => super::vote::render(f, area, app, theme, *go, text),
        Overlay::StatusUpdate { field, texts } => {
            super::status_update::render(f, area, theme, *field, texts)
        }
        Overlay::PickRole { selected } => super::role_pick::render(f, area, app, theme, *selected),
        Overlay::AlertCard => super::alert_card::render(f, area, app, theme),
    }
}

pub(super) fn centered(area: Rect, width: u16, height: u16) -> Rect {
    let [v] = Layout::vertical([Constraint::Length(height.min(area.height))])
        .flex(Flex::Center)
        .areas(area);
    let [r] = Layout::horizontal([Constraint::Length(width.min(area.width))])
        .flex(Flex::Center)
        .areas(v);
    r
}

pub(super) fn dialog<'a>(title: &'a str, theme: &Theme) -> Block<'a> {
    Block::bordered()
        .border_type(BorderType::Double)
        .border_style(theme.border(true))
        .title(Span::styled(format!(" {title} "), theme.accent()))
        .style(theme.base())
}

fn help(f: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    let key_w = KEYS
        .iter()
        .map(|(k, _)| k.chars().count())
        .max()
        .unwrap_or(0);
    let mut lines: Vec<Line> = KEYS
        .iter()
        .map(|(k, what)| {
            Line::from(vec![
                Span::styled(format!(" {k:<key_w$}  "), theme.accent()),
                Span::styled(*what, theme.base()),
            ])
        })
        .collect();
    lines.push(Line::raw(""));
    for (label, value) in [
        ("journal", app.journal_location()),
        ("runbook", app.runbook_path.clone()),
        ("operator", app.operator.clone()),
        (
            "room",
            match &app.room {
                Some(r) => format!("{} ({})", r.name, app.seat.label()),
                None => "none (solo)".into(),
            },
        ),
        ("T-0", app.t0.format("%Y-%m-%d %H:%M:%S UTC").to_string()),
        ("data", app.mode.label().to_lowercase()),
        (
            "polling",
            if app.mode == crate::app::Mode::Live {
                super::metrics::polling_label(app)
            } else {
                "simulated: no AWS calls".into()
            },
        ),
    ] {
        lines.push(Line::from(vec![
            Span::styled(format!(" {label:<9}"), theme.muted()),
            Span::styled(text::clean(&value).into_owned(), theme.base()),
        ]));
    }
    show(f, area, 78, "tminus keys", lines, theme);
}

/// A dialog `width` wide and as tall as its `lines` once wrapped (so the last line, the keys,
/// is never cut), centred over `area`.
pub(super) fn show(
    f: &mut Frame,
    area: Rect,
    width: u16,
    title: &str,
    lines: Vec<Line>,
    theme: &Theme,
) {
    let width = width.min(area.width);
    let paragraph = Paragraph::new(lines)
        .block(dialog(title, theme))
        .wrap(Wrap { trim: false });
    // Measured as the renderer wraps, borders included.
    let height = paragraph.line_count(width.saturating_sub(2)) as u16;
    let rect = centered(area, width, height);
    f.render_widget(Clear, rect);
    f.render_widget(paragraph, rect);
}

fn input(f: &mut Frame, area: Rect, app: &App, theme: &Theme, purpose: &InputPurpose, typed: &str) {
    let title = match purpose {
        InputPurpose::SkipReason(id) => {
            let name = app
                .runbook
                .checklists
                .iter()
                .flat_map(|c| &c.items)
                .find(|i| &i.id == id)
                .map(|i| i.title.as_str())
                .unwrap_or(id);
            format!("Skip \"{}\": why?", text::clean(name))
        }
        InputPurpose::Note => "Note for the timeline".to_string(),
    };
    let rect = centered(area, 72, 6);
    let width = rect.width.saturating_sub(4) as usize;
    // Show the end of a long entry: that is where the cursor is.
    let shown = text::tail(typed, width.saturating_sub(1));
    let lines = vec![
        Line::from(vec![
            Span::styled(format!(" {shown}"), theme.base()),
            Span::styled("█", theme.accent().add_modifier(Modifier::SLOW_BLINK)),
        ]),
        Line::raw(""),
        Line::from(Span::styled(
            " Enter: save to the journal · Esc: cancel · Ctrl-U: clear",
            theme.muted(),
        )),
    ];
    f.render_widget(Clear, rect);
    f.render_widget(Paragraph::new(lines).block(dialog(&title, theme)), rect);
}

fn increase(f: &mut Frame, area: Rect, app: &App, theme: &Theme, quota: usize, typed: &str) {
    let (Some(def), Some(st)) = (app.runbook.quotas.get(quota), app.quotas.get(quota)) else {
        return;
    };
    let num = |v: Option<f64>| v.map(crate::format::value).unwrap_or_else(|| "?".into());
    let lines = vec![
        Line::from(Span::styled(
            format!(
                " {} ({} {})",
                text::clean(&def.display_title()),
                text::clean(&def.service),
                text::clean(&def.code)
            ),
            theme.base().add_modifier(Modifier::BOLD),
        )),
        Line::from(Span::styled(
            format!(
                " current value {} · usage {}{}",
                num(st.value),
                num(st.usage),
                st.used_pct()
                    .map(|p| format!(" ({p:.0}% used)"))
                    .unwrap_or_default()
            ),
            theme.base(),
        )),
        Line::from(vec![
            Span::styled(" request a new value: ", theme.base()),
            Span::styled(text::clean(typed).into_owned(), theme.accent()),
            Span::styled("█", theme.accent()),
        ]),
        Line::raw(""),
        Line::from(Span::styled(
            " Enter: SEND the request to AWS Service Quotas · Esc: cancel",
            theme.warn(),
        )),
    ];
    let rect = centered(area, 74, 7);
    f.render_widget(Clear, rect);
    f.render_widget(
        Paragraph::new(lines).block(dialog("Request a quota increase (writes to AWS)", theme)),
        rect,
    );
}

fn confirm_quit(f: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    let open = app.open_alerts().count();
    let lines = vec![
        Line::from(Span::styled(
            format!(" {open} alert(s) still open. Quit anyway?"),
            theme.warn(),
        )),
        Line::raw(""),
        Line::from(Span::styled(
            " y: quit · any other key: stay",
            theme.muted(),
        )),
    ];
    let rect = centered(area, 50, 5);
    f.render_widget(Clear, rect);
    f.render_widget(Paragraph::new(lines).block(dialog("Quit?", theme)), rect);
}
