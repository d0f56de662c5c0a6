//! The review as Markdown: numbers people paste into a post-mortem.
//!
//! Every name, note and message comes from the runbook or the journal and goes through one
//! escaper: `text::markdown` (no line break, no `|` that ends a cell, no markup, no control
//! character).

use std::fmt::Write;

use super::{Report, offset, outcome_text, span};
use crate::format;
use crate::rehearsal::score::Outcome;
use crate::text;

fn opt_span(s: Option<i64>) -> String {
    s.map(span).unwrap_or_else(|| "—".into())
}

pub fn render(r: &Report) -> String {
    let e = text::markdown;
    let mut o = String::new();
    let kind = if r.rehearsal {
        "Game day review"
    } else {
        "Event review"
    };
    let _ = writeln!(o, "# {kind}: {}\n", e(&r.event_name));
    let _ = writeln!(
        o,
        "- T-0: {}\n- Mode: {}\n- Session: {} to {} ({} → {})\n- Operators: {}",
        r.t0.format("%Y-%m-%d %H:%M:%S UTC"),
        e(&r.mode),
        r.started.format("%H:%M:%S"),
        r.ended.format("%H:%M:%S"),
        offset(r, r.started),
        offset(r, r.ended),
        r.operators
            .iter()
            .map(|p| e(p))
            .collect::<Vec<_>>()
            .join(", ")
    );
    if !r.phases.is_empty() {
        let phases: Vec<String> = r
            .phases
            .iter()
            .map(|(p, at)| format!("{} at {}", e(p), offset(r, *at)))
            .collect();
        let _ = writeln!(o, "- Phases: {}", phases.join(", "));
    }

    let _ = writeln!(o, "\n## Alerts\n");
    if r.alerts.is_empty() {
        let _ = writeln!(o, "No alerts.");
    } else {
        let _ = writeln!(
            o,
            "| alert | worst | opened | acknowledged after | resolved after | escalation |\n|---|---|---|---|---|---|"
        );
        for a in &r.alerts {
            let ack = match (&a.acked_after, &a.acked_by) {
                (Some(s), Some(who)) => format!("{} by {}", span(*s), e(who)),
                _ => "never".into(),
            };
            let _ = writeln!(
                o,
                "| {} | {} | {} | {} | {} | {} |",
                e(&a.what),
                a.worst.label(),
                offset(r, a.opened),
                ack,
                a.closed_after
                    .map(span)
                    .unwrap_or_else(|| "still open".into()),
                a.level
                    .map(|l| format!("L{l}"))
                    .unwrap_or_else(|| "—".into())
            );
        }
    }

    let _ = writeln!(o, "\n## Metrics\n");
    let _ = writeln!(
        o,
        "| metric | peak | at | threshold breaches |\n|---|---|---|---|"
    );
    for m in &r.metrics {
        let (peak, at) = match m.peak {
            Some((t, v)) => (
                format!("{} {}", format::value(v), e(&m.unit))
                    .trim()
                    .to_string(),
                offset(r, t),
            ),
            None => ("no data recorded".into(), "—".into()),
        };
        let _ = writeln!(o, "| {} | {peak} | {at} | {} |", e(&m.title), m.breaches);
    }

    if !r.quotas.is_empty() {
        let _ = writeln!(o, "\n## Quotas\n");
        let _ = writeln!(
            o,
            "| quota | minimum headroom | at | alerts |\n|---|---|---|---|"
        );
        for q in &r.quotas {
            let (min, at) = match q.min_headroom {
                Some((t, h)) => (format!("{h:.1}%"), offset(r, t)),
                None => ("no data recorded".into(), "—".into()),
            };
            let _ = writeln!(
                o,
                "| {} ({}) | {min} | {at} | {} |",
                e(&q.title),
                e(&q.code),
                q.breaches
            );
        }
    }

    let _ = writeln!(o, "\n## Checklist\n");
    let count = |f: fn(&Outcome) -> bool| r.score.items.iter().filter(|i| f(&i.outcome)).count();
    let _ = writeln!(
        o,
        "{} items: {} on time, {} late, {} skipped, {} never done, {} not due yet.\n",
        r.score.items.len(),
        count(|o| matches!(o, Outcome::OnTime | Outcome::Done)),
        count(|o| matches!(o, Outcome::Late(_))),
        count(|o| matches!(o, Outcome::Skipped(_))),
        count(|o| matches!(o, Outcome::NeverDone)),
        count(|o| matches!(o, Outcome::NotDue)),
    );
    for i in &r.score.items {
        let what = e(&outcome_text(&i.outcome));
        let due = i.due.map(|d| format!(" (due {d})")).unwrap_or_default();
        let _ = writeln!(o, "- {}{due}: {what}", e(&i.title));
    }

    if r.rehearsal && !r.score.faults.is_empty() {
        let _ = writeln!(o, "\n## Game day score\n");
        let _ = writeln!(
            o,
            "| fault | detected after | acknowledged after | resolved after | escalation |\n|---|---|---|---|---|"
        );
        for f in &r.score.faults {
            let _ = writeln!(
                o,
                "| {}{} | {} | {} | {} | {} |",
                e(&f.description),
                if f.surprise { " (surprise)" } else { "" },
                f.detected
                    .as_ref()
                    .map(|(s, _)| span(*s))
                    .unwrap_or_else(|| "missed".into()),
                opt_span(f.acked),
                opt_span(f.resolved),
                f.level
                    .map(|l| format!("L{}", l + 1))
                    .unwrap_or_else(|| "—".into())
            );
        }
    }

    let sd = &r.scale_down;
    if !sd.requested.is_empty() || !sd.revert.is_empty() {
        let _ = writeln!(o, "\n## Scale-down\n");
        if !sd.requested.is_empty() {
            let _ = writeln!(
                o,
                "| quota | from | to | requested | by | status |\n|---|---|---|---|---|---|"
            );
            for q in &sd.requested {
                let _ = writeln!(
                    o,
                    "| {} ({}) | {} | {} | {} | {} | {} |",
                    e(&q.code),
                    e(&q.service),
                    q.current.map(format::value).unwrap_or_else(|| "—".into()),
                    format::value(q.desired),
                    offset(r, q.at),
                    e(&q.by),
                    e(q.status.as_deref().unwrap_or("sent"))
                );
            }
        }
        for i in &sd.revert {
            let _ = writeln!(
                o,
                "- {} (done {} by {}): {}",
                e(&i.title),
                offset(r, i.done_at),
                e(&i.by),
                e(&i.revert)
            );
        }
    }

    if let Some(verdict) = &r.team.verdict {
        let _ = writeln!(o, "\n## Go/no-go\n");
        let _ = writeln!(
            o,
            "Verdict at the end: **{}** ({} vote(s) cast, changes included).\n",
            e(verdict),
            r.team.votes_cast
        );
        let _ = writeln!(
            o,
            "| role | vote | reason | by | at |\n|---|---|---|---|---|"
        );
        for v in &r.team.votes {
            let _ = writeln!(
                o,
                "| {} | {} | {} | {} | {} |",
                e(&v.role),
                v.vote.map(|v| v.label()).unwrap_or("not voted"),
                e(&v.reason),
                e(&v.by),
                v.at.map(|t| offset(r, t)).unwrap_or_else(|| "—".into())
            );
        }
        if !r.team.blocking_left.is_empty() {
            let left: Vec<String> = r.team.blocking_left.iter().map(|t| e(t)).collect();
            let _ = writeln!(o, "\nBlocking items not done: {}.", left.join(", "));
        }
    }
    if !r.team.updates.is_empty() {
        let _ = writeln!(o, "\n## Status updates\n");
        let _ = writeln!(
            o,
            "| when | by | conditions | actions | needs |\n|---|---|---|---|---|"
        );
        for u in &r.team.updates {
            let _ = writeln!(
                o,
                "| {} | {} | {} | {} | {} |",
                offset(r, u.at),
                e(&u.by),
                e(&u.conditions),
                e(&u.actions),
                e(&u.needs)
            );
        }
    }

    let _ = writeln!(o, "\n## Notes\n");
    if r.score.notes.is_empty() {
        let _ = writeln!(o, "No notes.");
    }
    for (at, who, text) in &r.score.notes {
        let _ = writeln!(o, "- {} {}: {}", offset(r, *at), e(who), e(text));
    }

    let _ = writeln!(o, "\n## Timeline\n");
    for t in &r.timeline {
        let mark = if t.by_operator { "**" } else { "" };
        let _ = writeln!(
            o,
            "- `{}` {} {mark}{}{mark} — {}",
            offset(r, t.at),
            t.at.format("%H:%M:%S"),
            e(&t.text),
            e(&t.operator)
        );
    }
    o
}

/// Game days side by side (`tminus report A B ...`).
pub fn render_comparison(c: &super::compare::Comparison) -> String {
    let e = text::markdown;
    let mut o = String::new();
    let name = c
        .runs
        .first()
        .map(|r| r.score.event_name.as_str())
        .unwrap_or("");
    let _ = writeln!(
        o,
        "# Game days compared: {} ({} runs)\n",
        e(name),
        c.runs.len()
    );
    let _ = writeln!(
        o,
        "| run | started | speed | faults detected | median detect | median ack | median resolve | items on time |\n|---|---|---|---|---|---|---|---|"
    );
    for (i, r) in c.runs.iter().enumerate() {
        let t = c.totals(i);
        let _ = writeln!(
            o,
            "| {} | {} | {} | {}/{} | {} | {} | {} | {}/{} |",
            e(&r.label),
            r.started.format("%Y-%m-%d %H:%M"),
            r.score
                .speed
                .map(|s| format!("×{}", format::value(s)))
                .unwrap_or_else(|| "—".into()),
            t.detected,
            t.injected,
            opt_span(t.detect),
            opt_span(t.ack),
            opt_span(t.resolve),
            t.on_time,
            t.items
        );
    }
    let header = |o: &mut String, first: &str| {
        let _ = write!(o, "| {first} |");
        for r in &c.runs {
            let _ = write!(o, " {} |", e(&r.label));
        }
        let _ = writeln!(o, "\n|---|{}", "---|".repeat(c.runs.len()));
    };
    if !c.fault_types.is_empty() {
        let _ = writeln!(o, "\n## Per fault type\n");
        header(&mut o, "fault");
        for f in &c.fault_types {
            let _ = write!(o, "| {} |", e(f));
            for i in 0..c.runs.len() {
                let _ = write!(o, " {} |", e(&c.fault_cell(i, f)));
            }
            o.push('\n');
        }
    }
    if !c.items.is_empty() {
        let _ = writeln!(o, "\n## Checklist timeliness\n");
        header(&mut o, "item");
        for t in &c.items {
            let _ = write!(o, "| {} |", e(t));
            for i in 0..c.runs.len() {
                let _ = write!(o, " {} |", e(&c.item_cell(i, t)));
            }
            o.push('\n');
        }
    }
    o
}
