//! `tminus plan RUNBOOK`: the capacity review weeks before the event. Reads each quota's value
//! and the history of its usage and of every metric with thresholds (live from CloudWatch and
//! Service Quotas, or played by the simulator with `--simulate`), projects them to the
//! forecast peak (`capacity::plan`) and prints the table or JSON. Exit 0 when everything fits,
//! 1 when anything is projected critical, 2 when something could not be read.

use anyhow::{Context, Result};
use chrono::{DateTime, Utc};

use crate::capacity::{Plan, Settings, Status};
use crate::runbook::Runbook;
use crate::source::aws::{AwsSettings, budget};
use crate::source::history::{AWS_BUDGET, live, simulated};

/// What `tminus plan` was asked.
pub struct Request {
    pub t0: DateTime<Utc>,
    pub peak: Option<f64>,
    pub history_secs: Option<i64>,
    pub simulate: bool,
    pub json: bool,
}

pub fn run(rb: &Runbook, aws: AwsSettings, req: &Request) -> Result<u8> {
    let now = Utc::now();
    let settings = Settings::new(rb, req.peak, req.history_secs);
    let readings = if req.simulate {
        simulated(rb, req.t0, now, &settings)
    } else {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .context("starting the async runtime")?;
        rt.block_on(budget::with_budget(
            AWS_BUDGET,
            live(rb, aws, now, &settings),
        ))
    };
    let plan = crate::capacity::plan(rb, req.t0, now, &settings, &readings);
    if req.json {
        crate::out::print(&(crate::text::json(&serde_json::to_string_pretty(&plan)?) + "\n"))?;
    } else {
        crate::out::print(&table(&plan, req.simulate))?;
    }
    Ok(plan.exit_code())
}

/// The plan as two aligned tables (quotas, then metrics) under a line saying what it assumes;
/// every cell is cleaned and measured after cleaning (titles come from the runbook, notes from
/// AWS).
pub fn table(p: &Plan, simulated: bool) -> String {
    let num = |v: Option<f64>| v.map(crate::format::value).unwrap_or_else(|| "—".into());
    let day = |t: DateTime<Utc>| t.format("%Y-%m-%d").to_string();
    let mut out = String::new();
    let history = match (p.history_from, p.history_to) {
        (Some(a), Some(b)) => format!(
            "history {} to {} in {} buckets",
            day(a),
            day(b),
            crate::time::Span(i64::from(p.period_secs))
        ),
        _ => "no history".into(),
    };
    out.push_str(&format!(
        "Capacity plan: {} · T-0 {} · peak {}x normal · {}{}\n\n",
        crate::text::clean(&p.event),
        p.t0.format("%Y-%m-%d %H:%M UTC"),
        crate::format::value(p.forecast),
        history,
        if simulated { " · SIMULATED DATA" } else { "" }
    ));
    let mut rows = vec![
        [
            "QUOTA", "TITLE", "VALUE", "PEAK", "AT PEAK", "HEADROOM", "STATUS", "REQUEST", "BY",
        ]
        .map(String::from)
        .to_vec(),
    ];
    let mut notes = Vec::new();
    for q in &p.quotas {
        let value = match (q.value, q.is_default, q.adjustable) {
            (None, ..) => "—".to_string(),
            (Some(v), d, a) => format!(
                "{}{}{}",
                crate::format::value(v),
                if d { " (default)" } else { "" },
                if a == Some(false) { " fixed" } else { "" }
            ),
        };
        let by = match q.request {
            Some(_) if q.late => format!("{} PASSED", day(q.request_by)),
            Some(_) => day(q.request_by),
            None => String::new(),
        };
        rows.push(vec![
            q.code.clone(),
            q.title.clone(),
            value,
            num(q.peak.map(|p| p.value)),
            match q.projected {
                Some(v) => format!(
                    "{} ({}x)",
                    crate::format::value(v),
                    crate::format::value(q.forecast)
                ),
                None => "—".into(),
            },
            q.projected_headroom_pct
                .map(|h| format!("{h:.0}%"))
                .unwrap_or_else(|| "—".into()),
            q.status.label().into(),
            q.request.map(crate::format::value).unwrap_or_default(),
            by,
        ]);
        if let Some(n) = &q.note {
            notes.push(format!("{}: {n}", q.code));
        }
    }
    out.push_str(&crate::text::columns(&rows));
    if !p.metrics.is_empty() {
        out.push('\n');
        let mut rows = vec![
            [
                "METRIC", "PEAK", "AT PEAK", "WARN", "CRIT", "STATUS", "NOTE",
            ]
            .map(String::from)
            .to_vec(),
        ];
        for m in &p.metrics {
            let unit = m
                .unit
                .as_deref()
                .map(|u| format!(" {u}"))
                .unwrap_or_default();
            rows.push(vec![
                m.title.clone(),
                num(m.peak.map(|p| p.value)) + &unit,
                match (m.projected, m.forecast) {
                    (Some(v), Some(f)) => {
                        format!(
                            "{}{unit} ({}x)",
                            crate::format::value(v),
                            crate::format::value(f)
                        )
                    }
                    _ => "—".into(),
                },
                num(m.warn),
                num(m.crit),
                m.status.label().into(),
                m.note.clone().unwrap_or_default(),
            ]);
        }
        out.push_str(&crate::text::columns(&rows));
    }
    if p.period_secs > 60 && !simulated {
        out.push_str(&format!(
            "\nPeaks of counts are {} averages: a burst shorter than that reads lower.\n",
            crate::time::Span(i64::from(p.period_secs))
        ));
    }
    let mut seen = std::collections::BTreeSet::new();
    for n in notes {
        if seen.insert(n.clone()) {
            out.push_str(&format!("note: {}\n", crate::text::clean(&n)));
        }
    }
    if p.quotas
        .iter()
        .any(|q| q.status == Status::Crit || q.status == Status::Warn)
    {
        out.push_str("\nREQUEST: the value to ask for keeps the projected peak out of the warning band, plus the margin.\n");
    }
    out
}
