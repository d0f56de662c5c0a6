//! The alarms pane: CloudWatch alarm states, those in ALARM first.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};

use super::{pane_block, render_list, row_style, text};
use crate::app::{AlarmView, App, Pane};
use crate::source::AlarmState;
use crate::theme::Theme;
use crate::time::age_label;

/// Display order, shared with selection: ALARM, then INSUFFICIENT_DATA, then OK; by name.
pub fn ordered(app: &App) -> Vec<&AlarmView> {
    let rank = |s: AlarmState| match s {
        AlarmState::Alarm => 0,
        AlarmState::InsufficientData => 1,
        AlarmState::Ok => 2,
    };
    let mut v: Vec<&AlarmView> = app.alarms.values().collect();
    v.sort_by(|a, b| rank(a.state).cmp(&rank(b.state)).then(a.name.cmp(&b.name)));
    v
}

const STATE_W: usize = 9;
const AGE_W: usize = 5;

/// Columns an alarm's name gets in a pane `width` wide: all but its state and age.
pub fn name_cols(width: usize) -> usize {
    width.saturating_sub(STATE_W + AGE_W + 2)
}

pub fn render(f: &mut Frame, area: Rect, app: &App, theme: &Theme, focused: bool) {
    let alarms = ordered(app);
    let in_alarm = alarms
        .iter()
        .filter(|a| a.state == AlarmState::Alarm)
        .count();
    let newest = alarms.iter().map(|a| a.received_at).max();
    let mut summary = Vec::new();
    if in_alarm > 0 {
        summary.push(Span::styled(format!("{in_alarm} IN ALARM"), theme.crit()));
    }
    // A failing source before the age: a narrow pane cuts its title from the right.
    summary.extend(super::footer::source_errors(
        app,
        theme,
        &[crate::source::aws::alarms::SOURCE],
    ));
    summary.push(super::updated_span(app, theme, newest));
    let block = pane_block(Pane::Alarms, summary, focused, theme);
    let inner = block.inner(area);
    f.render_widget(block, area);
    if alarms.is_empty() {
        let sel = &app.runbook.alarms;
        let msg = if sel.prefix.is_none() && sel.names.is_empty() {
            "no alarms selected in the runbook".to_string()
        } else {
            "no alarm states received yet".to_string()
        };
        f.render_widget(
            ratatui::widgets::Paragraph::new(Span::styled(msg, theme.muted())),
            inner,
        );
        return;
    }
    let width = inner.width as usize;
    let selected = app.ui.selected(Pane::Alarms);
    let (state_w, age_w) = (STATE_W, AGE_W);
    let name_w = name_cols(width);
    let ids: Vec<Option<usize>> = (0..alarms.len()).map(Some).collect();
    render_list(f, inner, &ids, selected, |row| {
        let a = alarms[row];
        {
            let base = row_style(theme, row == selected, focused);
            let (label, sty) = match a.state {
                AlarmState::Alarm => ("● ALARM", theme.crit()),
                AlarmState::InsufficientData => ("◌ NODATA", theme.stale()),
                AlarmState::Ok => ("○ OK", theme.ok()),
            };
            Line::from(vec![
                Span::styled(text::fit(label, state_w), sty.patch(base)),
                Span::styled(
                    format!(" {} ", text::fit(&a.name, name_w)),
                    theme.base().patch(base),
                ),
                Span::styled(
                    text::fit_right(&age_label((app.now - a.changed_at).num_seconds()), age_w),
                    theme.muted().patch(base),
                ),
            ])
        }
    });
}
