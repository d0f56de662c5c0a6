//! The zoomed metric: a chart of the selected metric with time and value axes, the warn and
//! crit thresholds as lines and a T-0 marker. Time runs in seconds from T-0. Buckets that are
//! not settled yet are drawn apart, muted, as "provisional"; the title says how this metric is
//! judged (settle delay, "M of N", clear time).

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::symbols::Marker;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Axis, Chart, Dataset, GraphType, Paragraph};

use super::{format, pane_block, status_style, text};
use crate::app::{App, Mode, Pane};
use crate::journal::describe::{MarkerKind, marker_kind};
use crate::theme::Theme;
use crate::time::TOffset;

/// One kind of marked event on the chart: its legend word, style and dotted columns.
type MarkColumn<'a> = (&'a str, Style, Vec<(f64, f64)>);

/// What the chart plots, computed apart from drawing so it can be tested.
#[derive(Debug, Clone, PartialEq)]
pub struct ChartData {
    /// Settled points.
    pub points: Vec<(f64, f64)>,
    /// Provisional points, starting from the last settled one so the line continues.
    pub provisional: Vec<(f64, f64)>,
    pub x: [f64; 2],
    pub y: [f64; 2],
    pub warn: Option<f64>,
    pub crit: Option<f64>,
    /// Whether T-0 lies inside the time range.
    pub t0_visible: bool,
    /// Phase starts and the journal's marked events inside the time range, seconds from T-0.
    pub markers: Vec<(f64, MarkerKind)>,
}

pub fn chart_data(app: &App, index: usize) -> Option<ChartData> {
    let def = app.runbook.metrics.get(index)?;
    let st = app.metrics.get(index)?;
    let xy = |s: &crate::source::Sample| ((s.at - app.t0).num_seconds() as f64, s.value);
    let finite = st.series.iter().filter(|s| s.value.is_finite());
    let points: Vec<(f64, f64)> = finite
        .clone()
        .filter(|s| st.is_settled(s))
        .map(xy)
        .collect();
    let mut provisional: Vec<(f64, f64)> = finite.filter(|s| !st.is_settled(s)).map(xy).collect();
    if let (Some(last), false) = (points.last(), provisional.is_empty()) {
        provisional.insert(0, *last);
    }
    let all = points.iter().chain(&provisional);
    let now = (app.now - app.t0).num_seconds() as f64;
    let x0 = all
        .clone()
        .next()
        .map(|p| p.0)
        .unwrap_or(now - 1800.0)
        .min(now - 60.0);
    let x = [x0, now.max(x0 + 1.0)];
    let mut lo = all.clone().map(|p| p.1).fold(f64::INFINITY, f64::min);
    let mut hi = all.map(|p| p.1).fold(f64::NEG_INFINITY, f64::max);
    for t in [def.warn, def.crit]
        .into_iter()
        .flatten()
        .filter(|t| t.is_finite())
    {
        lo = lo.min(t);
        hi = hi.max(t);
    }
    if !lo.is_finite() || !hi.is_finite() {
        (lo, hi) = (0.0, 1.0);
    }
    lo = lo.clamp(-1e300, 0.0);
    hi = hi.min(1e300);
    let pad = ((hi - lo) * 0.08).max(hi.abs() * 0.01).max(1e-9);
    Some(ChartData {
        points,
        provisional,
        x,
        y: [lo, hi + pad],
        warn: def.warn,
        crit: def.crit,
        t0_visible: x[0] <= 0.0 && 0.0 <= x[1],
        markers: markers(app, x),
    })
}

/// Phase starts (from the runbook, so they show before they are reached too) and the
/// journal's marked events (`journal::describe::marker_kind`) within `x`. A game day does not
/// mark its injected faults: finding them is the exercise (the report marks them).
fn markers(app: &App, x: [f64; 2]) -> Vec<(f64, MarkerKind)> {
    let inside = |s: f64| x[0] <= s && s <= x[1];
    let mut out: Vec<(f64, MarkerKind)> = app
        .runbook
        .phases
        .iter()
        .map(|p| (p.from.secs() as f64, MarkerKind::Phase))
        .filter(|(s, _)| inside(*s))
        .collect();
    out.extend(app.timeline.iter().filter_map(|r| {
        let kind = marker_kind(&r.event)?;
        let hidden =
            kind == MarkerKind::Phase || (kind == MarkerKind::Fault && app.mode == Mode::Rehearsal);
        let s = (r.ts - app.t0).num_seconds() as f64;
        (!hidden && inside(s)).then_some((s, kind))
    }));
    out
}

/// "1m buckets settle after 1m · alert on 2 of 3 · clear after 5m": how this metric's data
/// is judged, from the one set of rules in `crate::signal`.
pub fn judged_label(def: &crate::runbook::model::Metric) -> String {
    let breach = crate::signal::breach_rule(def);
    let fill = crate::signal::fill(def)
        .map(|v| format!(" · no datapoint = {}", format::value(v)))
        .unwrap_or_default();
    format!(
        "{} buckets settle after {} · alert on {} of {} · clear after {}{fill}",
        crate::time::Span(i64::from(def.period)),
        crate::time::Span(crate::signal::settle_secs(def)),
        breach.datapoints,
        breach.of,
        crate::time::Span(crate::signal::clear_after_secs(def)),
    )
}

/// A metric's small chart in the metrics pane: its settled points, the provisional ones
/// muted, the warn and crit lines and T-0; no axes (the line above it says the value).
pub fn mini(f: &mut Frame, area: Rect, app: &App, theme: &Theme, index: usize, style: Style) {
    let Some(data) = chart_data(app, index) else {
        return;
    };
    if area.height == 0 || (data.points.is_empty() && data.provisional.is_empty()) {
        return;
    }
    // Scaled to the points, so a trend far below its thresholds still shows its shape (the
    // zoom view keeps the thresholds in range); a threshold is drawn when it is in view.
    let values = data.points.iter().chain(&data.provisional).map(|p| p.1);
    let lo = values.clone().fold(f64::INFINITY, f64::min);
    let hi = values.fold(f64::NEG_INFINITY, f64::max);
    let pad = ((hi - lo) * 0.1).max(hi.abs() * 0.01).max(1e-9);
    let y = [(lo - pad).max(data.y[0]), (hi + pad).min(data.y[1])];
    let y = if y[0] < y[1] { y } else { data.y };
    let in_view = |v: &f64| y[0] <= *v && *v <= y[1];
    let line = |v: f64| vec![(data.x[0], v), (data.x[1], v)];
    let warn_line = data.warn.filter(in_view).map(line);
    let crit_line = data.crit.filter(in_view).map(line);
    let t0_line = vec![(0.0, y[0]), (0.0, y[1])];
    let dataset = |pts, marker, style| {
        Dataset::default()
            .marker(marker)
            .graph_type(GraphType::Line)
            .style(style)
            .data(pts)
    };
    let mut datasets = Vec::new();
    if let Some(w) = &warn_line {
        datasets.push(dataset(w, Marker::Dot, theme.warn()));
    }
    if let Some(c) = &crit_line {
        datasets.push(dataset(c, Marker::Dot, theme.crit()));
    }
    if data.t0_visible {
        datasets.push(dataset(&t0_line, Marker::Dot, theme.accent()));
    }
    datasets.push(dataset(&data.points, Marker::Braille, style));
    if !data.provisional.is_empty() {
        datasets.push(dataset(&data.provisional, Marker::Braille, theme.muted()));
    }
    let chart = Chart::new(datasets)
        .x_axis(Axis::default().bounds(data.x))
        .y_axis(Axis::default().bounds(y));
    f.render_widget(chart, area);
}

fn offset_label(secs: f64) -> String {
    TOffset(secs as i64).to_string()
}

pub fn render(f: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    let metrics = app.visible_metrics();
    let Some(&(index, def, st)) = metrics.get(app.ui.selected(Pane::Metrics)) else {
        let block = pane_block(Pane::Metrics, vec![], true, theme);
        let inner = block.inner(area);
        f.render_widget(block, area);
        f.render_widget(Paragraph::new("no metric selected"), inner);
        return;
    };
    let status = app.metric_status(index);
    let latest = st.latest_settled();
    let mut summary = vec![
        Span::styled(
            text::clean(def.display_title()).into_owned(),
            theme.accent(),
        ),
        Span::styled(
            format!(
                "{} {}",
                latest.map(|s| format::value(s.value)).unwrap_or("—".into()),
                text::clean(def.unit.as_deref().unwrap_or(""))
            ),
            theme.base(),
        ),
        Span::styled(status.label().to_string(), status_style(theme, status)),
    ];
    if let Some(s) = latest {
        summary.push(Span::styled(
            format!("data {}", crate::time::ago((app.now - s.at).num_seconds())),
            theme.muted(),
        ));
    }
    summary.push(Span::styled(judged_label(def), theme.muted()));
    if let Some(note) = &st.note {
        // CloudWatch's own words about partial data.
        summary.push(Span::styled(text::clean(note).into_owned(), theme.warn()));
    }
    summary.push(Span::styled(
        "Esc/z: back · j/k: other metric",
        theme.muted(),
    ));
    let block = pane_block(Pane::Metrics, summary, true, theme);
    let inner = block.inner(area);
    f.render_widget(block, area);
    let Some(data) = chart_data(app, index) else {
        return;
    };
    if data.points.is_empty() && data.provisional.is_empty() {
        f.render_widget(
            Paragraph::new(Span::styled("no data yet", theme.muted())),
            inner,
        );
        return;
    }
    let line = |v: f64| vec![(data.x[0], v), (data.x[1], v)];
    let warn_line = data.warn.map(line);
    let crit_line = data.crit.map(line);
    let t0_line = vec![(0.0, data.y[0]), (0.0, data.y[1])];
    let mut datasets = vec![
        Dataset::default()
            .name(text::clean(def.display_title()).into_owned())
            .marker(Marker::Braille)
            .graph_type(GraphType::Line)
            .style(status_style(theme, status))
            .data(&data.points),
    ];
    if !data.provisional.is_empty() {
        datasets.push(
            Dataset::default()
                .name("provisional")
                .marker(Marker::Braille)
                .graph_type(GraphType::Line)
                .style(theme.muted())
                .data(&data.provisional),
        );
    }
    if let Some(w) = &warn_line {
        datasets.push(
            Dataset::default()
                .name(format!(
                    "warn {}",
                    format::value(data.warn.unwrap_or_default())
                ))
                .marker(Marker::Dot)
                .graph_type(GraphType::Line)
                .style(theme.warn())
                .data(w),
        );
    }
    if let Some(c) = &crit_line {
        datasets.push(
            Dataset::default()
                .name(format!(
                    "crit {}",
                    format::value(data.crit.unwrap_or_default())
                ))
                .marker(Marker::Dot)
                .graph_type(GraphType::Line)
                .style(theme.crit())
                .data(c),
        );
    }
    // Each marked event a dotted column, one dataset (and legend entry) per kind.
    let kinds = [
        (MarkerKind::Phase, "phase", theme.muted()),
        (MarkerKind::AlertOpened, "alert", theme.crit()),
        (MarkerKind::AlertAcknowledged, "ack", theme.warn()),
        (MarkerKind::AlertResolved, "resolved", theme.ok()),
        (MarkerKind::Note, "note", theme.accent()),
        (MarkerKind::QuotaRequest, "request", theme.accent()),
        (MarkerKind::Fault, "fault", theme.muted()),
    ];
    let columns: Vec<MarkColumn<'_>> = kinds
        .iter()
        .filter_map(|(kind, name, style)| {
            let pts: Vec<(f64, f64)> = data
                .markers
                .iter()
                .filter(|(_, k)| k == kind)
                .flat_map(|(x, _)| {
                    (0..=8).map(move |i| {
                        (*x, data.y[0] + (data.y[1] - data.y[0]) * f64::from(i) / 8.0)
                    })
                })
                .collect();
            (!pts.is_empty()).then_some((*name, *style, pts))
        })
        .collect();
    for (name, style, pts) in &columns {
        datasets.push(
            Dataset::default()
                .name(*name)
                .marker(Marker::Dot)
                .graph_type(GraphType::Scatter)
                .style(*style)
                .data(pts),
        );
    }
    if data.t0_visible {
        datasets.push(
            Dataset::default()
                .name("T-0")
                .marker(Marker::Dot)
                .graph_type(GraphType::Line)
                .style(theme.accent())
                .data(&t0_line),
        );
    }
    // Axis labels are evenly spaced, so the middle one is the midpoint; T-0 is the marked line.
    let mid_x = (data.x[0] + data.x[1]) / 2.0;
    let x_labels = vec![
        Span::styled(offset_label(data.x[0]), theme.muted()),
        Span::styled(offset_label(mid_x), theme.muted()),
        Span::styled(format!("now {}", offset_label(data.x[1])), theme.muted()),
    ];
    let y_labels = vec![
        Span::styled(format::value(data.y[0]), theme.muted()),
        Span::styled(format::value((data.y[0] + data.y[1]) / 2.0), theme.muted()),
        Span::styled(format::value(data.y[1]), theme.muted()),
    ];
    // The legend names the thresholds and the marker kinds: room for it, up to half the height.
    let chart = Chart::new(datasets)
        .style(Style::default())
        .hidden_legend_constraints((
            ratatui::layout::Constraint::Ratio(1, 3),
            ratatui::layout::Constraint::Ratio(1, 2),
        ))
        .x_axis(
            Axis::default()
                .title(Line::from("time from T-0").style(theme.muted()))
                .bounds(data.x)
                .labels(x_labels),
        )
        .y_axis(
            Axis::default()
                .title(
                    Line::from(text::clean(def.unit.as_deref().unwrap_or("")).into_owned())
                        .style(theme.muted()),
                )
                .bounds(data.y)
                .labels(y_labels),
        );
    f.render_widget(chart, inner);
}
