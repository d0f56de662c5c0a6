//! The review as one self-contained HTML file: inline CSS, inline SVG charts, no scripts, no
//! network, so it can be mailed, archived or opened on an air-gapped laptop. Built from the
//! report model with a small typed builder: every text goes through `escape`, every table has
//! a header row, and no section is preformatted text.

use super::{Report, offset, outcome_text, span, svg};
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

const STYLE: &str = "body{font:15px/1.45 system-ui,sans-serif;margin:2rem auto;max-width:62rem;padding:0 1rem;color:#222}\
h1{font-size:1.6rem}h2{margin-top:2rem;border-bottom:1px solid #ddd}\
table{border-collapse:collapse;margin:.5rem 0;max-width:100%}td,th{border:1px solid #ccc;padding:.25rem .5rem;text-align:left;vertical-align:top}\
th{background:#f3f3f3}td.num{text-align:right;font-variant-numeric:tabular-nums}.crit{color:#b00020;stroke:#b00020}.warn{color:#a05a00;stroke:#d08000}\
line.warn,line.crit{stroke-dasharray:6 4}line.t0{stroke:#3366cc;stroke-width:1.5}text.t0{fill:#3366cc}\
line.mark{stroke-width:1;opacity:.7}line.phase{stroke:#888;stroke-dasharray:2 3}line.opened{stroke:#b00020}\
line.acked{stroke:#d08000}line.resolved{stroke:#2a8a2a}line.note{stroke:#7744aa}line.request{stroke:#0077aa}line.fault{stroke:#000;stroke-dasharray:1 2}\
polyline.series{fill:none;stroke:#222;stroke-width:1.5}text{font-size:11px}text.axis{fill:#555}\
svg{max-width:100%;height:auto}figure{margin:1rem 0}figcaption{font-weight:600}.op{font-weight:600}\
dl.summary{display:grid;grid-template-columns:max-content 1fr;gap:.2rem 1rem}dl.summary dt{font-weight:600}\
ul.legend{list-style:none;padding:0;display:flex;flex-wrap:wrap;gap:.3rem 1rem;font-size:.85rem}\
ul.legend li::before{content:'';display:inline-block;width:1.2em;height:0;border-top:2px solid;margin-right:.3em;vertical-align:middle}\
ul.legend li.t0::before{border-color:#3366cc}ul.legend li.phase::before{border-color:#888;border-top-style:dashed}\
ul.legend li.opened::before{border-color:#b00020}ul.legend li.acked::before{border-color:#d08000}\
ul.legend li.resolved::before{border-color:#2a8a2a}ul.legend li.note::before{border-color:#7744aa}\
ul.legend li.request::before{border-color:#0077aa}ul.legend li.fault::before{border-color:#000;border-top-style:dotted}";

/// A table cell: escaped text, with a class for severity or alignment.
struct Cell {
    text: String,
    class: Option<&'static str>,
}

impl From<String> for Cell {
    fn from(text: String) -> Cell {
        Cell { text, class: None }
    }
}

impl From<&str> for Cell {
    fn from(text: &str) -> Cell {
        Cell {
            text: text.to_string(),
            class: None,
        }
    }
}

fn num(text: String) -> Cell {
    Cell {
        text,
        class: Some("num"),
    }
}

fn classed(text: String, class: &'static str) -> Cell {
    Cell {
        text,
        class: Some(class),
    }
}

/// The document being written.
#[derive(Default)]
struct Html {
    out: String,
}

impl Html {
    fn raw(&mut self, s: &str) {
        self.out.push_str(s);
    }
    fn h2(&mut self, title: &str) {
        self.raw(&format!("<h2>{}</h2>", escape(title)));
    }
    fn p(&mut self, text: &str) {
        self.raw(&format!("<p>{}</p>", escape(text)));
    }
    fn table(&mut self, headers: &[&str], rows: Vec<Vec<Cell>>) {
        self.raw("<table><thead><tr>");
        for h in headers {
            self.raw(&format!("<th>{}</th>", escape(h)));
        }
        self.raw("</tr></thead><tbody>");
        for row in rows {
            self.raw("<tr>");
            for c in row {
                match c.class {
                    Some(cls) => self.raw(&format!("<td class=\"{cls}\">{}</td>", escape(&c.text))),
                    None => self.raw(&format!("<td>{}</td>", escape(&c.text))),
                }
            }
            self.raw("</tr>");
        }
        self.raw("</tbody></table>");
    }
    fn figure(&mut self, caption: &str, detail: &str, chart: Option<String>) {
        self.raw(&format!(
            "<figure><figcaption>{}</figcaption><p>{}</p>",
            escape(caption),
            escape(detail)
        ));
        match chart {
            Some(svg) => self.raw(&svg),
            None => self.raw("<p class=\"nodata\">no data recorded</p>"),
        }
        self.raw("</figure>");
    }
}

pub fn render(r: &Report) -> String {
    let mut h = Html::default();
    let kind = if r.rehearsal {
        "Game day review"
    } else {
        "Event review"
    };
    h.raw(&format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>{kind}: {}</title><style>{STYLE}</style></head><body>",
        escape(&r.event_name)
    ));
    h.raw(&format!("<h1>{kind}: {}</h1>", escape(&r.event_name)));
    summary(&mut h, r);
    alerts(&mut h, r);
    charts(&mut h, r);
    quotas(&mut h, r);
    plan(&mut h, r);
    checklist(&mut h, r);
    scale_down(&mut h, r);
    game_day(&mut h, r);
    team(&mut h, r);
    notes(&mut h, r);
    timeline(&mut h, r);
    h.raw("</body></html>\n");
    h.out
}

fn summary(h: &mut Html, r: &Report) {
    let open = r.alerts.iter().filter(|a| a.closed_after.is_none()).count();
    let done = r
        .score
        .items
        .iter()
        .filter(|i| {
            !matches!(
                i.outcome,
                crate::rehearsal::score::Outcome::NeverDone
                    | crate::rehearsal::score::Outcome::NotDue
            )
        })
        .count();
    let rows = [
        ("T-0", r.t0.format("%Y-%m-%d %H:%M:%S UTC").to_string()),
        ("Mode", r.mode.clone()),
        (
            "Session",
            format!(
                "{} to {} ({} → {}, {})",
                r.started.format("%H:%M:%S"),
                r.ended.format("%H:%M:%S"),
                offset(r, r.started),
                offset(r, r.ended),
                span((r.ended - r.started).num_seconds())
            ),
        ),
        ("Operators", r.operators.join(", ")),
        (
            "Phases",
            r.phases
                .iter()
                .map(|(p, at)| format!("{p} at {}", offset(r, *at)))
                .collect::<Vec<_>>()
                .join(", "),
        ),
        (
            "Alerts",
            format!("{} ({} still open at the end)", r.alerts.len(), open),
        ),
        (
            "Checklist",
            format!("{done} of {} items done or skipped", r.score.items.len()),
        ),
        ("Notes", r.score.notes.len().to_string()),
    ];
    h.raw("<dl class=\"summary\">");
    for (k, v) in rows {
        h.raw(&format!("<dt>{}</dt><dd>{}</dd>", escape(k), escape(&v)));
    }
    h.raw("</dl>");
}

fn alerts(h: &mut Html, r: &Report) {
    h.h2("Alerts");
    if r.alerts.is_empty() {
        return h.p("No alerts.");
    }
    let rows = r
        .alerts
        .iter()
        .map(|a| {
            let cls = if a.worst == crate::vocab::Severity::Crit {
                "crit"
            } else {
                "warn"
            };
            vec![
                Cell::from(a.what.clone()),
                classed(a.worst.label().into(), cls),
                Cell::from(offset(r, a.opened)),
                Cell::from(
                    a.acked_after
                        .map(|s| format!("{} by {}", span(s), a.acked_by.as_deref().unwrap_or("")))
                        .unwrap_or_else(|| "never".into()),
                ),
                Cell::from(
                    a.closed_after
                        .map(span)
                        .unwrap_or_else(|| "still open".into()),
                ),
                Cell::from(
                    a.level
                        .map(|l| format!("L{l}"))
                        .unwrap_or_else(|| "—".into()),
                ),
            ]
        })
        .collect();
    h.table(
        &[
            "alert",
            "worst",
            "opened",
            "acknowledged after",
            "resolved after",
            "escalation",
        ],
        rows,
    );
}

fn legend(h: &mut Html) {
    h.raw("<ul class=\"legend\">");
    for (cls, text) in [
        ("t0", "T-0"),
        ("phase", "phase"),
        ("opened", "alert opened"),
        ("acked", "acknowledged"),
        ("resolved", "resolved"),
        ("note", "note"),
        ("request", "quota request"),
        ("fault", "injected fault"),
    ] {
        h.raw(&format!("<li class=\"{cls}\">{text}</li>"));
    }
    h.raw("</ul>");
}

fn charts(h: &mut Html, r: &Report) {
    h.h2("Metrics");
    legend(h);
    for m in &r.metrics {
        let detail = match m.peak {
            Some((t, v)) => format!(
                "peak {} {} at {} · {} threshold breach(es)",
                format::value(v),
                m.unit,
                offset(r, t),
                m.breaches
            ),
            None => format!("{} threshold breach(es)", m.breaches),
        };
        let series = svg::Series {
            title: &m.title,
            warn: m.warn,
            crit: m.crit,
            points: &m.points,
        };
        h.figure(&m.title, &detail, svg::chart(&series, r.t0, &r.markers));
    }
}

fn quotas(h: &mut Html, r: &Report) {
    if r.quotas.is_empty() {
        return;
    }
    h.h2("Quota headroom");
    let rows = r
        .quotas
        .iter()
        .map(|q| {
            let (min, at) = match q.min_headroom {
                Some((t, v)) => (format!("{v:.1}%"), offset(r, t)),
                None => ("no data recorded".into(), "—".into()),
            };
            vec![
                Cell::from(format!("{} ({})", q.title, q.code)),
                num(min),
                Cell::from(at),
                num(q.breaches.to_string()),
            ]
        })
        .collect();
    h.table(&["quota", "minimum headroom", "at", "alerts"], rows);
    for q in &r.quotas {
        let series = svg::Series {
            title: &q.title,
            warn: Some(q.warn_below),
            crit: Some(q.crit_below),
            points: &q.headroom,
        };
        h.figure(
            &format!("{} ({}): headroom %", q.title, q.code),
            "",
            svg::chart(&series, r.t0, &r.markers),
        );
    }
}

fn plan(h: &mut Html, r: &Report) {
    if r.plan.is_empty() {
        return;
    }
    h.h2("Plan against reality");
    h.p("The capacity plan's projected peaks against the peaks this session reached: a ratio far from 1 says the next forecast should move.");
    let rows = r
        .plan
        .iter()
        .map(|p| {
            vec![
                Cell::from(p.what.clone()),
                num(format!("{}x", format::value(p.forecast))),
                num(format::value(p.projected)),
                num(p.observed.map(format::value).unwrap_or_else(|| "—".into())),
                num(p
                    .observed
                    .filter(|_| p.projected > 0.0)
                    .map(|o| format!("{:.2}", o / p.projected))
                    .unwrap_or_else(|| "—".into())),
            ]
        })
        .collect();
    h.table(
        &[
            "what",
            "forecast",
            "projected peak",
            "observed peak",
            "observed / projected",
        ],
        rows,
    );
}

fn checklist(h: &mut Html, r: &Report) {
    h.h2("Checklist");
    if r.score.items.is_empty() {
        return h.p("No checklist items.");
    }
    let rows = r
        .score
        .items
        .iter()
        .map(|i| {
            let out = outcome_text(&i.outcome);
            let cell = if matches!(i.outcome, crate::rehearsal::score::Outcome::NeverDone) {
                classed(out, "crit")
            } else if matches!(i.outcome, crate::rehearsal::score::Outcome::Late(_)) {
                classed(out, "warn")
            } else {
                Cell::from(out)
            };
            vec![
                Cell::from(i.title.clone()),
                Cell::from(i.due.map(|d| d.to_string()).unwrap_or_else(|| "—".into())),
                cell,
            ]
        })
        .collect();
    h.table(&["item", "due", "outcome"], rows);
}

fn scale_down(h: &mut Html, r: &Report) {
    let sd = &r.scale_down;
    if sd.requested.is_empty() && sd.revert.is_empty() {
        return;
    }
    h.h2("Scale-down");
    if !sd.requested.is_empty() {
        let rows = sd
            .requested
            .iter()
            .map(|q| {
                vec![
                    Cell::from(format!("{} ({})", q.code, q.service)),
                    num(q.current.map(format::value).unwrap_or_else(|| "—".into())),
                    num(format::value(q.desired)),
                    Cell::from(offset(r, q.at)),
                    Cell::from(q.by.clone()),
                    Cell::from(q.status.clone().unwrap_or_else(|| "sent".into())),
                ]
            })
            .collect();
        h.table(
            &["quota increase", "from", "to", "requested", "by", "status"],
            rows,
        );
    }
    if !sd.revert.is_empty() {
        let rows = sd
            .revert
            .iter()
            .map(|i| {
                vec![
                    Cell::from(i.title.clone()),
                    Cell::from(format!("{} by {}", offset(r, i.done_at), i.by)),
                    Cell::from(i.revert.clone()),
                ]
            })
            .collect();
        h.table(&["done", "when", "to revert or keep"], rows);
    }
}

fn game_day(h: &mut Html, r: &Report) {
    if !r.rehearsal || r.score.faults.is_empty() {
        return;
    }
    h.h2("Game day score");
    let opt = |s: Option<i64>| s.map(span).unwrap_or_else(|| "—".into());
    let rows = r
        .score
        .faults
        .iter()
        .map(|f| {
            vec![
                Cell::from(format!(
                    "{}{}",
                    f.description,
                    if f.surprise { " (surprise)" } else { "" }
                )),
                Cell::from(
                    f.detected
                        .as_ref()
                        .map(|(s, _)| span(*s))
                        .unwrap_or_else(|| "missed".into()),
                ),
                Cell::from(opt(f.acked)),
                Cell::from(opt(f.resolved)),
                Cell::from(
                    f.level
                        .map(|l| format!("L{}", l + 1))
                        .unwrap_or_else(|| "—".into()),
                ),
            ]
        })
        .collect();
    h.table(
        &[
            "fault",
            "detected after",
            "acknowledged after",
            "resolved after",
            "escalation",
        ],
        rows,
    );
}

fn team(h: &mut Html, r: &Report) {
    if let Some(verdict) = &r.team.verdict {
        h.h2("Go/no-go");
        h.p(&format!(
            "Verdict at the end: {verdict} ({} vote(s) cast, changes included).",
            r.team.votes_cast
        ));
        let rows = r
            .team
            .votes
            .iter()
            .map(|v| {
                vec![
                    Cell::from(v.role.clone()),
                    Cell::from(v.vote.map(|v| v.label()).unwrap_or("not voted")),
                    Cell::from(v.reason.clone()),
                    Cell::from(v.by.clone()),
                    Cell::from(v.at.map(|t| offset(r, t)).unwrap_or_else(|| "—".into())),
                ]
            })
            .collect();
        h.table(&["role", "vote", "reason", "by", "at"], rows);
        if !r.team.blocking_left.is_empty() {
            h.p(&format!(
                "Blocking items not done: {}.",
                r.team.blocking_left.join(", ")
            ));
        }
    }
    if !r.team.updates.is_empty() {
        h.h2("Status updates");
        let rows = r
            .team
            .updates
            .iter()
            .map(|u| {
                vec![
                    Cell::from(offset(r, u.at)),
                    Cell::from(u.by.clone()),
                    Cell::from(u.conditions.clone()),
                    Cell::from(u.actions.clone()),
                    Cell::from(u.needs.clone()),
                ]
            })
            .collect();
        h.table(&["when", "who", "conditions", "actions", "needs"], rows);
    }
}

fn notes(h: &mut Html, r: &Report) {
    h.h2("Notes");
    if r.score.notes.is_empty() {
        return h.p("No notes.");
    }
    let rows = r
        .score
        .notes
        .iter()
        .map(|(at, who, text)| {
            vec![
                Cell::from(offset(r, *at)),
                Cell::from(who.clone()),
                Cell::from(text.clone()),
            ]
        })
        .collect();
    h.table(&["when", "who", "note"], rows);
}

fn timeline(h: &mut Html, r: &Report) {
    h.h2("Timeline");
    let rows = r
        .timeline
        .iter()
        .map(|t| {
            let text = if t.by_operator {
                classed(t.text.clone(), "op")
            } else {
                Cell::from(t.text.clone())
            };
            vec![
                Cell::from(offset(r, t.at)),
                Cell::from(t.at.format("%H:%M:%S").to_string()),
                text,
                Cell::from(t.operator.clone()),
            ]
        })
        .collect();
    h.table(&["T", "time", "what", "who"], rows);
}

/// Game days side by side (`tminus report A B ... --format html`).
pub fn render_comparison(c: &super::compare::Comparison) -> String {
    let mut h = Html::default();
    let name = c
        .runs
        .first()
        .map(|r| r.score.event_name.as_str())
        .unwrap_or("");
    h.raw(&format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>Game days compared: {}</title><style>{STYLE}</style></head><body>",
        escape(name)
    ));
    h.raw(&format!(
        "<h1>Game days compared: {} ({} runs)</h1>",
        escape(name),
        c.runs.len()
    ));
    let opt = |s: Option<i64>| s.map(span).unwrap_or_else(|| "—".into());
    let rows = c
        .runs
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let t = c.totals(i);
            vec![
                Cell::from(r.label.clone()),
                Cell::from(r.started.format("%Y-%m-%d %H:%M").to_string()),
                num(r
                    .score
                    .speed
                    .map(|s| format!("×{}", format::value(s)))
                    .unwrap_or_else(|| "—".into())),
                num(format!("{}/{}", t.detected, t.injected)),
                num(opt(t.detect)),
                num(opt(t.ack)),
                num(opt(t.resolve)),
                num(format!("{}/{}", t.on_time, t.items)),
            ]
        })
        .collect();
    h.table(
        &[
            "run",
            "started",
            "speed",
            "faults detected",
            "median detect",
            "median ack",
            "median resolve",
            "items on time",
        ],
        rows,
    );
    let labels: Vec<&str> = c.runs.iter().map(|r| r.label.as_str()).collect();
    if !c.fault_types.is_empty() {
        h.h2("Per fault type");
        let mut headers = vec!["fault"];
        headers.extend(&labels);
        let rows = c
            .fault_types
            .iter()
            .map(|f| {
                let mut row = vec![Cell::from(f.clone())];
                row.extend((0..c.runs.len()).map(|i| Cell::from(c.fault_cell(i, f))));
                row
            })
            .collect();
        h.table(&headers, rows);
    }
    if !c.items.is_empty() {
        h.h2("Checklist timeliness");
        let mut headers = vec!["item"];
        headers.extend(&labels);
        let rows = c
            .items
            .iter()
            .map(|t| {
                let mut row = vec![Cell::from(t.clone())];
                row.extend((0..c.runs.len()).map(|i| Cell::from(c.item_cell(i, t))));
                row
            })
            .collect();
        h.table(&headers, rows);
    }
    h.raw("</body></html>\n");
    h.out
}
