//! The review as one self-contained HTML file: inline CSS, inline SVG charts, no scripts, no
//! network, so it can be mailed, archived or opened on an air-gapped laptop.

use super::{Report, markdown, offset, span, svg};
use crate::format;

/// `s` cleaned (`text::clean_lines`: no control or bidi character, even when the HTML is printed
/// on a terminal) and escaped for HTML text and attribute values.
pub fn escape(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in crate::text::clean_lines(s).chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&#39;"),
            c => o.push(c),
        }
    }
    o
}

const STYLE: &str = "body{font:15px/1.45 system-ui,sans-serif;margin:2rem auto;max-width:60rem;color:#222}\
table{border-collapse:collapse;margin:.5rem 0}td,th{border:1px solid #ccc;padding:.25rem .5rem;text-align:left}\
th{background:#f3f3f3}.crit{color:#b00020;stroke:#b00020}.warn{color:#a05a00;stroke:#d08000}\
line.warn,line.crit{stroke-dasharray:6 4}line.t0{stroke:#3366cc}text.t0{fill:#3366cc}\
polyline.series{fill:none;stroke:#222;stroke-width:1.5}text{font-size:11px}text.axis{fill:#555}\
figure{margin:1rem 0}figcaption{font-weight:600}.op{font-weight:600}";

pub fn render(r: &Report) -> String {
    let mut o = String::new();
    let kind = if r.rehearsal {
        "Game day review"
    } else {
        "Event review"
    };
    o.push_str(&format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{kind}: {}</title><style>{STYLE}</style></head><body>",
        escape(&r.event_name)
    ));
    o.push_str(&format!("<h1>{kind}: {}</h1>", escape(&r.event_name)));
    o.push_str(&format!(
        "<ul><li>T-0: {}</li><li>Mode: {}</li><li>Session: {} → {}</li><li>Operators: {}</li></ul>",
        r.t0.format("%Y-%m-%d %H:%M:%S UTC"),
        escape(&r.mode),
        escape(&offset(r, r.started)),
        escape(&offset(r, r.ended)),
        escape(&r.operators.join(", "))
    ));

    o.push_str("<h2>Alerts</h2>");
    if r.alerts.is_empty() {
        o.push_str("<p>No alerts.</p>");
    } else {
        o.push_str("<table><tr><th>alert</th><th>worst</th><th>opened</th><th>acknowledged after</th><th>resolved after</th><th>escalation</th></tr>");
        for a in &r.alerts {
            let cls = a.worst.label().to_lowercase();
            o.push_str(&format!(
                "<tr><td>{}</td><td class=\"{cls}\">{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                escape(&a.what),
                a.worst.label(),
                escape(&offset(r, a.opened)),
                a.acked_after
                    .map(|s| format!("{} by {}", span(s), escape(a.acked_by.as_deref().unwrap_or(""))))
                    .unwrap_or_else(|| "never".into()),
                a.closed_after.map(span).unwrap_or_else(|| "still open".into()),
                a.level.map(|l| format!("L{l}")).unwrap_or_else(|| "—".into())
            ));
        }
        o.push_str("</table>");
    }

    o.push_str("<h2>Metrics</h2>");
    for m in &r.metrics {
        let peak = m
            .peak
            .map(|(t, v)| format!("peak {} {} at {}", format::value(v), m.unit, offset(r, t)))
            .unwrap_or_else(|| "no data recorded".into());
        o.push_str(&format!(
            "<figure><figcaption>{}</figcaption><p>{} · {} threshold breach(es)</p>",
            escape(&m.title),
            escape(&peak),
            m.breaches
        ));
        if let Some(chart) = svg::chart(m, r.t0) {
            o.push_str(&chart);
        }
        o.push_str("</figure>");
    }

    // The rest reads as well as text: the Markdown renderer's sections, preformatted.
    let md = markdown::render_plain(r);
    let rest = md
        .split("\n## ")
        .filter(|s| {
            ["Quotas", "Checklist", "Game day score", "Notes", "Timeline"]
                .iter()
                .any(|h| s.starts_with(h))
        })
        .map(|s| {
            let (title, body) = s.split_once('\n').unwrap_or((s, ""));
            format!(
                "<h2>{}</h2><pre>{}</pre>",
                escape(title),
                escape(body.trim())
            )
        })
        .collect::<String>();
    o.push_str(&rest);
    o.push_str("</body></html>\n");
    o
}
