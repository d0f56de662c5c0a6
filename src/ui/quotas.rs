//! The quota headroom pane: usage against the quota as a gauge with the warn and crit marks,
//! the percentage, and how long until it runs out at the current growth rate.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};

use super::{format, pane_block, render_list, row_style, status_style, text};
use crate::app::{App, Pane, QuotaState, Status};
use crate::runbook::model::Quota;
use crate::theme::Theme;
use crate::time::Span as Dur;

/// A `width`-cell bar: filled up to `used_pct`, with '│' where usage would cross into warn and
/// crit territory (100% minus each headroom threshold), and '◆' where the capacity plan puts
/// usage at the event's peak ('»' in the last cell when that is past the quota).
pub fn gauge(
    used_pct: Option<f64>,
    projected_pct: Option<f64>,
    warn_below: f64,
    crit_below: f64,
    width: usize,
) -> String {
    let cell = |pct: f64| ((pct.clamp(0.0, 100.0) / 100.0) * width as f64).round() as usize;
    let filled = used_pct.filter(|p| p.is_finite()).map(cell).unwrap_or(0);
    let warn_at = cell(100.0 - warn_below);
    let crit_at = cell(100.0 - crit_below);
    let projected = projected_pct
        .filter(|p| p.is_finite())
        .map(|p| (cell(p).min(width.saturating_sub(1)), p > 100.0));
    (0..width)
        .map(|i| {
            if let Some((at, past)) = projected
                && i == at
            {
                if past { '»' } else { '◆' }
            } else if i < filled {
                '█'
            } else if used_pct.is_none() {
                '·'
            } else if (i == warn_at || i == crit_at) && i > 0 {
                '│'
            } else {
                '░'
            }
        })
        .collect()
}

pub fn status(app: &App, st: &QuotaState) -> Status {
    match st.at {
        None => Status::NoData,
        // Quota usage comes from hourly-ish metrics; an hour without news is stale.
        Some(at) if (app.now - at).num_seconds() > 3_600 => Status::Stale,
        Some(_) if st.headroom_pct().is_none() => Status::NoData,
        Some(_) => Status::from_severity(st.severity),
    }
}

pub fn render(f: &mut Frame, area: Rect, app: &App, theme: &Theme, focused: bool) {
    let rows_data = app.quota_rows();
    let newest = rows_data.iter().filter_map(|(_, s)| s.at).max();
    // A failing source first: a narrow pane cuts its title from the right.
    let mut summary = super::footer::source_errors(
        app,
        theme,
        &[
            crate::source::aws::quotas::SOURCE,
            crate::source::aws::metrics::SOURCE,
        ],
    );
    summary.push(super::updated_span(app, theme, newest));
    let block = pane_block(Pane::Quotas, summary, focused, theme);
    let inner = block.inner(area);
    f.render_widget(block, area);
    if rows_data.is_empty() {
        f.render_widget(
            ratatui::widgets::Paragraph::new(Span::styled(
                "no quotas in this runbook",
                theme.muted(),
            )),
            inner,
        );
        return;
    }
    let width = inner.width as usize;
    let selected = app.ui.selected(Pane::Quotas);
    let ids: Vec<Option<usize>> = (0..rows_data.len()).map(Some).collect();
    let (title_max, detail_max) = widths(app, width);
    render_list(f, inner, &ids, selected, |row| {
        let (def, st) = rows_data[row];
        let line = QuotaLine {
            width,
            title_max,
            detail_max,
        };
        quota_line(app, theme, def, st, line, row == selected, focused)
    });
}

/// How wide a row is and what its columns are sized to.
#[derive(Clone, Copy)]
struct QuotaLine {
    width: usize,
    title_max: usize,
    detail_max: usize,
}

fn quota_line<'a>(
    app: &App,
    theme: &Theme,
    def: &Quota,
    st: &QuotaState,
    line: QuotaLine,
    selected: bool,
    focused: bool,
) -> Line<'a> {
    let QuotaLine {
        width,
        title_max,
        detail_max,
    } = line;
    let base = row_style(theme, selected, focused);
    let status = status(app, st);
    let sty = status_style(theme, status);
    let detail = detail(app, def, st, width);
    let (title_w, detail_w) = columns(width, title_max, detail_max);
    let projected = app.quota_projection(def);
    let gauge_w = width.saturating_sub(title_w + detail_w + STATUS_W + 4);
    Line::from(vec![
        Span::styled(
            format!("{} ", text::fit(&def.display_title(), title_w)),
            theme.base().patch(base),
        ),
        Span::styled(
            gauge(
                st.headroom_pct().map(|h| 100.0 - h),
                projected.map(|(p, _)| p),
                def.warn_below.0,
                def.crit_below.0,
                gauge_w,
            ),
            sty.patch(base),
        ),
        Span::styled(
            format!(" {} ", text::fit(&detail, detail_w)),
            theme.base().patch(base),
        ),
        Span::styled(text::fit(status.label(), STATUS_W), sty.patch(base)),
    ])
}

const STATUS_W: usize = 7;
/// The gauge keeps at least this many cells before a title takes more than its share.
const GAUGE_MIN: usize = 10;

/// "42% used 420/1k/s full in 3h · not adjustable": a quota's figures, as many as a pane
/// `width` wide has room for.
pub fn detail(app: &App, def: &Quota, st: &QuotaState, width: usize) -> String {
    // A rate quota says its period: usage is compared per second or per minute.
    let per = match st.period_secs {
        Some(1) => "/s",
        Some(60) => "/min",
        Some(3600) => "/h",
        Some(86_400) => "/day",
        _ => "",
    };
    let detail = match (st.value, st.usage, st.used_pct()) {
        (Some(0.0), _, _) => "quota is 0".into(),
        (_, _, Some(p)) => {
            let mut d = format!("{:>3.0}% used", p.min(999.0));
            if width >= 56
                && let (Some(u), Some(v)) = (st.usage, st.value)
            {
                d.push_str(&format!(" {}/{}{per}", format::value(u), format::value(v)));
            }
            if width >= 80
                && let Some(secs) = st.seconds_to_exhaustion()
            {
                d.push_str(&format!(" full in {}", Dur(secs)));
            }
            d
        }
        (None, _, _) => "quota unknown".into(),
        (Some(_), None, _) => "usage unknown".into(),
        _ => "no data".into(),
    };
    let mut detail = match &st.request {
        Some((desired, req)) => format!("{detail} · →{} {req}", format::value(*desired)),
        None => detail,
    };
    if st.adjustable == Some(false) && width >= 56 {
        detail.push_str(" · not adjustable");
    }
    if width >= 100
        && let Some((pct, forecast)) = app.quota_projection(def)
    {
        detail.push_str(&format!(
            " · at {}x {:.0}%",
            format::value(forecast),
            pct.min(9_999.0)
        ));
    }
    detail
}

/// The title's and the figures' columns in a pane `width` wide: the figures up to half the
/// pane, the title whole while the gauge keeps 10 cells, and never less than a third of the
/// pane (8 to 28 columns). The one rule for drawing and for the layout that sizes the pane.
pub fn columns(width: usize, title_max: usize, detail_max: usize) -> (usize, usize) {
    let detail_w = detail_max.min(width / 2);
    let share = (width / 3).clamp(8, 28);
    let title_w = title_max.min(
        width
            .saturating_sub(detail_w + STATUS_W + 4 + GAUGE_MIN)
            .max(share),
    );
    (title_w, detail_w)
}

/// The widest title, and the widest figures at `width`, of the quotas shown.
pub fn widths(app: &App, width: usize) -> (usize, usize) {
    let rows = app.quota_rows();
    let title = rows
        .iter()
        .map(|(d, _)| text::width(&d.display_title()))
        .max()
        .unwrap_or(0);
    let detail = rows
        .iter()
        .map(|(d, s)| text::width(&detail(app, d, s, width)))
        .max()
        .unwrap_or(0);
    (title, detail)
}

/// Columns (borders included) the pane needs to show every title and figure whole.
pub fn want_cols(app: &App) -> usize {
    // Figures as a pane of 80 to 99 columns shows them: usage, quota and when it runs out.
    let (title, detail) = widths(app, 99);
    title + detail + STATUS_W + 4 + GAUGE_MIN + 2
}

#[cfg(test)]
mod tests {
    use super::gauge;

    #[test]
    fn gauge_marks_thresholds_and_never_overflows() {
        assert_eq!(gauge(Some(50.0), None, 30.0, 10.0, 10), "█████░░│░│");
        assert_eq!(gauge(Some(100.0), None, 30.0, 10.0, 4), "████");
        assert_eq!(gauge(Some(250.0), None, 30.0, 10.0, 4), "████");
        assert_eq!(
            gauge(Some(f64::NAN), None, 30.0, 10.0, 4).chars().count(),
            4
        );
        assert_eq!(gauge(None, None, 30.0, 10.0, 3), "···");
        assert_eq!(gauge(Some(10.0), None, 30.0, 10.0, 0), "");
    }

    #[test]
    fn gauge_marks_the_plans_projected_peak() {
        assert_eq!(gauge(Some(20.0), Some(60.0), 30.0, 10.0, 10), "██░░░░◆│░│");
        // Past the quota: the last cell says so.
        assert_eq!(gauge(Some(20.0), Some(396.0), 30.0, 10.0, 10), "██░░░░░│░»");
        assert_eq!(
            gauge(Some(20.0), Some(f64::INFINITY), 30.0, 10.0, 4),
            "█░░│"
        );
        assert_eq!(gauge(Some(20.0), Some(50.0), 30.0, 10.0, 0), "");
    }
}
