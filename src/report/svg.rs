//! A series as an inline SVG chart: the line, its warn and crit lines, and the event's
//! markers (T-0 labelled; phases, alerts, notes, requests and faults as thin lines whose
//! tooltip says what happened).
//! Hand-written because it is one polyline and a few lines of text: a plotting crate would
//! bring a font stack and an image pipeline for that.

use chrono::{DateTime, Utc};

use super::html::escape;
use super::{Marker, MarkerKind};
use crate::format;
use crate::vocab::Sample;

/// What one chart draws.
pub struct Series<'a> {
    pub title: &'a str,
    pub warn: Option<f64>,
    pub crit: Option<f64>,
    pub points: &'a [Sample],
}

const W: f64 = 640.0;
const H: f64 = 180.0;
const LEFT: f64 = 56.0;
const BOTTOM: f64 = 22.0;

pub fn chart(m: &Series<'_>, t0: DateTime<Utc>, markers: &[Marker]) -> Option<String> {
    let first = m.points.first()?;
    let last = m.points.last()?;
    let (x0, x1) = (
        first.at.timestamp() as f64,
        last.at.timestamp().max(first.at.timestamp() + 1) as f64,
    );
    let mut lo = m
        .points
        .iter()
        .map(|p| p.value)
        .fold(f64::INFINITY, f64::min)
        .min(0.0);
    let mut hi = m
        .points
        .iter()
        .map(|p| p.value)
        .fold(f64::NEG_INFINITY, f64::max);
    for t in [m.warn, m.crit]
        .into_iter()
        .flatten()
        .filter(|t| t.is_finite())
    {
        lo = lo.min(t);
        hi = hi.max(t);
    }
    if hi <= lo {
        hi = lo + 1.0;
    }
    hi += (hi - lo) * 0.05;
    let x = |t: f64| LEFT + (t - x0) / (x1 - x0) * (W - LEFT - 8.0);
    let y = |v: f64| 8.0 + (hi - v) / (hi - lo) * (H - BOTTOM - 8.0);
    let mut out = format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {W} {H}" width="{W}" height="{H}" role="img" aria-label="{}">"#,
        escape(m.title)
    );
    out.push_str(&format!(
        r##"<rect x="{LEFT}" y="8" width="{}" height="{}" fill="none" stroke="#999"/>"##,
        W - LEFT - 8.0,
        H - BOTTOM - 8.0
    ));
    for (v, cls) in [(m.warn, "warn"), (m.crit, "crit")] {
        if let Some(v) = v.filter(|v| v.is_finite()) {
            out.push_str(&format!(
                r#"<line class="{cls}" x1="{LEFT}" x2="{}" y1="{:.1}" y2="{:.1}"/><text class="{cls}" x="{}" y="{:.1}">{cls} {}</text>"#,
                W - 8.0,
                y(v),
                y(v),
                W - 60.0,
                y(v) - 3.0,
                escape(&format::value(v))
            ));
        }
    }
    for mk in markers {
        let at = mk.at.timestamp() as f64;
        if !(x0..=x1).contains(&at) {
            continue;
        }
        let cls = mk.kind.class();
        out.push_str(&format!(
            r#"<line class="mark {cls}" x1="{:.1}" x2="{:.1}" y1="8" y2="{}"><title>{} {}</title></line>"#,
            x(at),
            x(at),
            H - BOTTOM,
            escape(&crate::time::TOffset::between(t0, mk.at).to_string()),
            escape(&mk.label)
        ));
        if mk.kind == MarkerKind::T0 {
            out.push_str(&format!(
                r#"<text class="t0" x="{:.1}" y="{}">T-0</text>"#,
                x(at) + 3.0,
                H - BOTTOM - 4.0
            ));
        }
    }
    let pts: Vec<String> = m
        .points
        .iter()
        .map(|p| format!("{:.1},{:.1}", x(p.at.timestamp() as f64), y(p.value)))
        .collect();
    out.push_str(&format!(
        r#"<polyline class="series" points="{}"/>"#,
        pts.join(" ")
    ));
    for (v, yy) in [(hi, 16.0), (lo, H - BOTTOM)] {
        out.push_str(&format!(
            r#"<text class="axis" x="4" y="{yy:.1}">{}</text>"#,
            escape(&format::value(v))
        ));
    }
    let label = |t: DateTime<Utc>| crate::time::TOffset::between(t0, t).to_string();
    out.push_str(&format!(
        r#"<text class="axis" x="{LEFT}" y="{}">{}</text><text class="axis" x="{}" y="{}" text-anchor="end">{}</text></svg>"#,
        H - 6.0,
        escape(&label(first.at)),
        W - 8.0,
        H - 6.0,
        escape(&label(last.at))
    ));
    Some(out)
}
