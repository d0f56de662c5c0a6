//! The metrics pane: one row per metric with a sparkline, value, thresholds, status and age.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::{format, pane_block, render_list, row_style, status_style, text};
use crate::app::{App, Pane, Status};
use crate::runbook::model::{Direction, Metric};
use crate::theme::Theme;
use crate::time::age_label;

const BARS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];

/// The last `width` values as bar characters, scaled between the lowest and highest value but
/// over a span of at least a quarter of the highest, so a ramp fills the height while a quiet
/// series stays quiet rather than showing magnified noise. Non-finite values draw as gaps.
pub fn sparkline(values: impl Iterator<Item = f64>, width: usize) -> String {
    let all: Vec<f64> = values.collect();
    let tail = &all[all.len().saturating_sub(width)..];
    let finite = tail.iter().copied().filter(|v| v.is_finite());
    let hi = finite.clone().fold(f64::NEG_INFINITY, f64::max);
    let lo = finite
        .fold(f64::INFINITY, f64::min)
        .min(hi - hi.abs() * 0.25);
    let mut out: String = tail
        .iter()
        .map(|&v| {
            if !v.is_finite() {
                return ' ';
            }
            let span = hi - lo;
            let level = if span > 0.0 && span.is_finite() {
                ((v - lo) / span * 7.0).round().clamp(0.0, 7.0) as usize
            } else {
                0
            };
            BARS[level]
        })
        .collect();
    // Pad on the left so the newest point is always at the same column.
    let pad = width.saturating_sub(tail.len());
    out.insert_str(0, &" ".repeat(pad));
    out
}

/// "≥500/900" (warn/crit) in the metric's direction.
pub fn thresholds(m: &Metric) -> String {
    let cmp = match m.direction {
        Direction::Above => "≥",
        Direction::Below => "≤",
    };
    match (m.warn, m.crit) {
        (Some(w), Some(c)) => format!("{cmp}{}/{}", format::value(w), format::value(c)),
        (Some(w), None) => format!("{cmp}{}", format::value(w)),
        (None, Some(c)) => format!("{cmp}{}", format::value(c)),
        (None, None) => String::new(),
    }
}

/// "42 calls/h · 2.5k metrics/h ≈ $0.025/h": what live CloudWatch reads cost at the public
/// GetMetricData price.
pub fn cost_label(app: &App) -> Option<String> {
    let (calls, metrics) = app
        .sources
        .get(crate::source::aws::metrics::SOURCE)?
        .hourly(app.now)?;
    Some(format!(
        "{} calls/h · {} metrics/h ≈ ${:.3}/h",
        format::value(calls.round()),
        format::value(metrics.round()),
        metrics * crate::app::USD_PER_METRIC_REQUESTED
    ))
}

/// "every 1m (its period) near T-0, every 5m until T-1h · Go/no-go ≈ $0.002": how live
/// polling follows the event now, and what this phase costs under it (`tminus cost`).
pub fn polling_label(app: &App) -> String {
    let (from, until) = crate::signal::near_window(&app.runbook);
    let offset = app.offset().secs();
    let far = crate::signal::poll_every(&app.runbook, offset, 60);
    let now = if offset < from {
        format!(
            "every {} until {}, then each metric's period",
            crate::time::Span(far),
            crate::time::TOffset(from)
        )
    } else if offset > until {
        format!(
            "every {} since {}",
            crate::time::Span(far),
            crate::time::TOffset(until)
        )
    } else {
        format!("each metric's period until {}", crate::time::TOffset(until))
    };
    let phase = app
        .phase_costs
        .iter()
        .find(|p| p.from.secs() <= offset && offset < p.until.secs())
        .map(|p| format!(" · {} ≈ ${:.3}", text::clean(&p.phase), p.usd))
        .unwrap_or_default();
    format!("{now}{phase}")
}

pub fn render(f: &mut Frame, area: Rect, app: &App, theme: &Theme, focused: bool) {
    let metrics = app.visible_metrics();
    let newest = metrics.iter().filter_map(|(_, _, s)| s.received_at).max();
    // A failing source first: a narrow pane cuts its title from the right.
    let mut summary = super::footer::source_errors(
        app,
        theme,
        &["simulator", crate::source::aws::metrics::SOURCE],
    );
    summary.push(super::updated_span(app, theme, newest));
    let partial = metrics.iter().filter(|(_, _, s)| s.note.is_some()).count();
    if partial > 0 {
        summary.push(Span::styled(format!("{partial} PARTIAL (~)"), theme.warn()));
    }
    if let Some(cost) = cost_label(app) {
        summary.push(Span::styled(cost, theme.muted()));
    }

    let block = pane_block(Pane::Metrics, summary, focused, theme);
    let inner = block.inner(area);
    f.render_widget(block, area);
    if metrics.is_empty() {
        f.render_widget(
            ratatui::widgets::Paragraph::new(Span::styled(
                "no metrics in this runbook",
                theme.muted(),
            )),
            inner,
        );
        return;
    }

    let width = inner.width as usize;
    let charts = chart_rows(metrics.len(), inner.height);
    let cols = columns(width, &Widths::of(app), charts.is_some());
    let (title_w, unit_w, thr_w, spark_w) = (cols.title, cols.unit, cols.thr, cols.spark);
    let (value_w, status_w, age_w) = (VALUE_W, STATUS_W, AGE_W);
    let selected = app.ui.selected(Pane::Metrics);
    let ids: Vec<Option<usize>> = (0..metrics.len()).map(Some).collect();
    let mut make = |row: usize| {
        let (i, def, st) = &metrics[row];
        {
            let status = app.metric_status(*i);
            let sty = status_style(theme, status);
            let base = row_style(theme, row == selected, focused);
            // The value is the newest settled bucket's: a bucket still filling is only drawn.
            let latest = st.latest_settled();
            // "~": CloudWatch said the data is partial (the zoom view shows its message).
            let value = match (latest, &st.note) {
                (Some(s), Some(_)) => format!("~{}", format::value(s.value)),
                (Some(s), None) => format::value(s.value),
                (None, _) => "—".into(),
            };
            let age = latest
                .map(|s| age_label((app.now - s.at).num_seconds()))
                .unwrap_or_default();
            let spark_style = if status == Status::Stale {
                theme.stale()
            } else {
                sty
            };
            // Provisional buckets end the sparkline, muted; a bucket still filling is a dot
            // (its partial sum would read as a fall), visible without colour too.
            let period = chrono::Duration::seconds(i64::from(def.period.max(1)));
            let filling = usize::from(
                spark_w > 0
                    && st
                        .latest()
                        .is_some_and(|s| s.at + period > app.now && !st.is_settled(&s)),
            );
            let closed = st.series.len() - filling;
            let mut spark = sparkline(
                st.series.iter().take(closed).map(|s| s.value),
                spark_w - filling,
            );
            spark.push_str(&"·".repeat(filling));
            let provisional = st.provisional().count().min(spark_w);
            let split = spark
                .char_indices()
                .nth(spark.chars().count() - provisional)
                .map_or(spark.len(), |(i, _)| i);
            let mut spans = vec![
                Span::styled(
                    format!("{} ", text::fit(def.display_title(), title_w)),
                    theme.base().patch(base),
                ),
                Span::styled(spark[..split].to_string(), spark_style.patch(base)),
                Span::styled(spark[split..].to_string(), theme.muted().patch(base)),
                Span::styled(
                    format!(" {}", text::fit_right(&value, value_w)),
                    theme.base().patch(base),
                ),
                Span::styled(
                    format!(
                        " {}",
                        text::fit(def.unit.as_deref().unwrap_or(""), unit_w - 1)
                    ),
                    theme.muted().patch(base),
                ),
            ];
            if thr_w > 0 {
                spans.push(Span::styled(
                    format!(" {}", text::fit(&thresholds(def), thr_w - 1)),
                    theme.muted().patch(base),
                ));
            }
            spans.push(Span::styled(
                format!(" {}", text::fit(status.label(), status_w)),
                sty.patch(base),
            ));
            spans.push(Span::styled(
                text::fit_right(&age, age_w),
                theme.muted().patch(base),
            ));
            Line::from(spans)
        }
    };
    match charts {
        // Room to spare: each metric's line, and under it a chart of its recent points with
        // its thresholds and T-0 (a tall terminal shows trends, not empty rows).
        Some(h) => {
            for (row, (i, _, _)) in metrics.iter().enumerate() {
                let y = inner.y + row as u16 * h;
                f.render_widget(
                    Paragraph::new(make(row)),
                    Rect {
                        y,
                        height: 1,
                        ..inner
                    },
                );
                let status = app.metric_status(*i);
                super::chart::mini(
                    f,
                    Rect {
                        x: inner.x + 1,
                        y: y + 1,
                        width: inner.width.saturating_sub(2),
                        height: h - 1,
                    },
                    app,
                    theme,
                    *i,
                    status_style(theme, status),
                );
            }
        }
        None => render_list(f, inner, &ids, selected, &mut make),
    }
}

const VALUE_W: usize = 7;
const STATUS_W: usize = 7;
const AGE_W: usize = 4;

/// The widths the layout sizes the pane by: the visible metrics' titles, the widest unit and
/// threshold label.
pub struct Widths {
    pub titles: Vec<usize>,
    pub unit_max: usize,
    pub thr_max: usize,
}

impl Widths {
    pub fn of(app: &App) -> Widths {
        let metrics = app.visible_metrics();
        let max = |f: &dyn Fn(&Metric) -> usize| metrics.iter().map(|(_, m, _)| f(m)).max();
        Widths {
            titles: metrics
                .iter()
                .map(|(_, m, _)| text::width(m.display_title()))
                .collect(),
            unit_max: max(&|m| text::width(m.unit.as_deref().unwrap_or(""))).unwrap_or(0),
            thr_max: max(&|m| text::width(&thresholds(m))).unwrap_or(0),
        }
    }
}

/// Where a metric's line puts its columns.
pub struct Columns {
    pub title: usize,
    pub unit: usize,
    /// 0 when the pane is too narrow for the thresholds (the chart still draws them).
    pub thr: usize,
    pub spark: usize,
}

/// The columns of a metric's line in a pane `width` wide, sized to what this runbook needs.
/// The title is whole unless the sparkline would keep fewer than 16 columns (8 above a
/// chart, which shows the trend); then it gets a quarter of the pane (8 to 20 columns). The
/// one rule for drawing and for the layout that sizes the pane.
pub fn columns(width: usize, w: &Widths, charts: bool) -> Columns {
    let unit = 1 + w.unit_max.min(5);
    let thr = if width >= 56 {
        1 + w.thr_max.min(12)
    } else {
        0
    };
    let others = VALUE_W + unit + STATUS_W + AGE_W + thr + 3;
    let title_max = w.titles.iter().copied().max().unwrap_or(0);
    let spark_min = if charts { 8 } else { 16 };
    let title = title_max.min(
        width
            .saturating_sub(others + spark_min)
            .max((width / 4).clamp(8, 20)),
    );
    Columns {
        title,
        unit,
        thr,
        spark: width.saturating_sub(title + others),
    }
}

/// Columns (borders included) the pane needs for every title whole above a chart, with
/// thresholds.
pub fn want_cols(w: &Widths) -> usize {
    let title_max = w.titles.iter().copied().max().unwrap_or(0);
    let others = VALUE_W + 1 + w.unit_max.min(5) + STATUS_W + AGE_W + 1 + w.thr_max.min(12) + 3;
    title_max + others + 8 + 2
}

/// Rows each metric gets when every one fits with a chart under its line (at least two rows
/// of chart, at most seven), or `None` for the one-line sparkline form. The one rule for
/// drawing and for placing clicks.
pub fn chart_rows(metrics: usize, height: u16) -> Option<u16> {
    let n = u16::try_from(metrics).ok().filter(|n| *n > 0)?;
    let h = (height / n).min(8);
    (h >= 3).then_some(h)
}

#[cfg(test)]
mod tests {
    use super::sparkline;

    #[test]
    fn sparkline_scales_and_survives_bad_values() {
        let s = sparkline([0.0, 1.0, 2.0, 7.0].into_iter(), 4);
        assert_eq!(s, "▁▂▃█");
        assert_eq!(sparkline([5.0, 5.0].into_iter(), 4), "  ██");
        // 5% noise on a steady 1000 stays low; it is not blown up to full height.
        assert_eq!(sparkline([1000.0, 950.0, 1000.0].into_iter(), 3), "█▇█");
        assert_eq!(sparkline([-4.0, -2.0].into_iter(), 2), "▁█");
        assert_eq!(
            sparkline([f64::NAN, 1.0, f64::INFINITY].into_iter(), 3),
            " █ "
        );
        assert_eq!(sparkline([].into_iter(), 3), "   ");
        assert_eq!(sparkline([1e308, -1e308].into_iter(), 2).chars().count(), 2);
        // Only the newest `width` points are drawn.
        assert_eq!(sparkline((0..100).map(f64::from), 2), "██");
        assert_eq!(sparkline((0..100).map(f64::from), 8).chars().count(), 8);
    }
}
