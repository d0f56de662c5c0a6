//! The alert card: the banner's alert in full, with every level of the escalation ladder, who
//! is on it, how to reach them and when the next one is called.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};

use super::overlay::show;
use super::text;
use crate::app::App;
use crate::theme::Theme;
use crate::time::{Span as Dur, age_label};

pub fn render(f: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    let Some(alert) = app.top_alert() else {
        return;
    };
    let mut lines = vec![
        Line::from(Span::styled(
            format!(
                " {} {}",
                alert.severity.label(),
                text::clean(&crate::journal::describe::key_label(
                    &app.runbook,
                    &alert.key
                ))
            ),
            theme.base().add_modifier(Modifier::BOLD),
        )),
        Line::from(Span::styled(
            format!(" {}", text::clean(&alert.message)),
            theme.base(),
        )),
        Line::from(Span::styled(
            match &alert.acked {
                Some((who, at)) => format!(
                    " acknowledged by {} {} ago{}",
                    text::clean(who),
                    age_label((app.now - *at).num_seconds()),
                    app.runbook
                        .escalation
                        .ack_expires
                        .map(|e| {
                            let left = e.secs() - (app.now - *at).num_seconds();
                            format!(" · lapses in {} unless resolved", Dur(left.max(0)))
                        })
                        .unwrap_or_default()
                ),
                None => format!(
                    " not acknowledged · open {}",
                    age_label((app.now - alert.opened_at).num_seconds())
                ),
            },
            if alert.acked.is_some() {
                theme.ok()
            } else {
                theme.warn()
            },
        )),
        Line::raw(""),
    ];
    let rungs = app.ladder(alert);
    if rungs.is_empty() {
        lines.push(Line::from(Span::styled(
            " no escalation levels in the runbook",
            theme.muted(),
        )));
    }
    for r in rungs {
        let (mark, style) = if r.current {
            ("▶", theme.crit().add_modifier(Modifier::BOLD))
        } else if r.reached {
            ("✓", theme.muted())
        } else {
            (" ", theme.base())
        };
        let when = match (r.reached, r.at) {
            (true, _) if r.current => "now".to_string(),
            (true, _) => "called".to_string(),
            (false, Some(at)) => format!("in {}", Dur((at - app.now).num_seconds().max(0))),
            (false, None) => "held (acknowledged)".to_string(),
        };
        lines.push(Line::from(vec![
            Span::styled(format!(" {mark} L{} ", r.level + 1), style),
            Span::styled(text::clean(r.who).into_owned(), style),
            Span::styled(format!("  {}", text::clean(r.contact)), theme.accent()),
            Span::styled(format!("  {when}"), theme.muted()),
        ]));
    }
    lines.push(Line::raw(""));
    lines.push(Line::from(Span::styled(
        " e: escalate · E: back one level · a: acknowledge · any other key closes",
        theme.muted(),
    )));
    show(f, area, 84, "Alert", lines, theme);
}
