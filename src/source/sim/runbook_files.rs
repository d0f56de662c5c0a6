//! The bundled runbooks parse and hang together. A stopgap until the runbook checker lands:
//! these are the mistakes that would make the demo or a real launch quietly wrong.

use std::collections::HashSet;
use std::path::PathBuf;

use crate::app::update::parse_verify;
use crate::runbook::expr::Expr;
use crate::runbook::model::{Direction, Runbook};

pub fn bundled() -> Vec<(PathBuf, Runbook)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("runbooks");
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
        .collect();
    paths.sort();
    paths
        .into_iter()
        .map(|p| {
            let text = std::fs::read_to_string(&p).unwrap();
            let rb = serde_yaml::from_str::<Runbook>(&text)
                .unwrap_or_else(|e| panic!("{}: {e}", p.display()));
            (p, rb)
        })
        .collect()
}

fn problems(rb: &Runbook) -> Vec<String> {
    let mut out = Vec::new();
    let ids: Vec<&str> = rb.metrics.iter().map(|m| m.id.as_str()).collect();
    let mut seen = HashSet::new();
    for m in &rb.metrics {
        let id = &m.id;
        if !seen.insert(id.as_str()) {
            out.push(format!("duplicate metric id {id}"));
        }
        let good_id = id.starts_with(|c: char| c.is_ascii_lowercase())
            && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !good_id {
            out.push(format!("metric id {id:?} is not a CloudWatch query id"));
        }
        if !(matches!(m.period, 1 | 5 | 10 | 20 | 30) || (m.period >= 60 && m.period % 60 == 0)) {
            out.push(format!(
                "{id}: period {} is not a CloudWatch period",
                m.period
            ));
        }
        match (&m.expression, &m.namespace, &m.metric) {
            (Some(e), None, None) => match Expr::parse(e) {
                Ok(expr) => {
                    for r in expr.refs() {
                        if r == id || !ids.contains(&r) {
                            out.push(format!("{id}: expression refers to unknown metric {r}"));
                        }
                    }
                }
                Err(err) => out.push(format!("{id}: expression: {err}")),
            },
            (None, Some(_), Some(_)) => {}
            _ => out.push(format!(
                "{id}: give either expression or namespace + metric"
            )),
        }
        if let (Some(w), Some(c)) = (m.warn, m.crit) {
            let ordered = match m.direction {
                Direction::Above => w < c,
                Direction::Below => w > c,
            };
            if !ordered {
                out.push(format!(
                    "{id}: warn {w} and crit {c} are the wrong way round"
                ));
            }
        }
        if let Some(s) = &m.sim
            && !(s.base.is_finite() && s.peak.is_finite() && s.base >= 0.0 && s.peak >= 0.0)
        {
            out.push(format!("{id}: sim levels must be finite and non-negative"));
        }
    }
    for w in rb.phases.windows(2) {
        if w[0].from >= w[1].from {
            out.push(format!(
                "phase {} does not start after {}",
                w[1].name, w[0].name
            ));
        }
    }
    for z in &rb.event.zones {
        if z.parse::<chrono_tz::Tz>().is_err() {
            out.push(format!("unknown time zone {z}"));
        }
    }
    let mut codes = HashSet::new();
    for q in &rb.quotas {
        if !codes.insert(q.code.as_str()) {
            out.push(format!("duplicate quota code {}", q.code));
        }
        let real_shape = q.code.len() == 10
            && q.code.starts_with("L-")
            && q.code[2..]
                .chars()
                .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_lowercase());
        if !real_shape {
            out.push(format!(
                "quota code {} is not shaped like L-XXXXXXXX",
                q.code
            ));
        }
        if q.warn_below <= q.crit_below {
            out.push(format!("{}: warn_below must exceed crit_below", q.code));
        }
        if let Some(u) = &q.usage_metric
            && !ids.contains(&u.as_str())
        {
            out.push(format!("{}: usage_metric {u} is not a metric", q.code));
        }
    }
    let phase_names: Vec<&str> = rb.phases.iter().map(|p| p.name.as_str()).collect();
    let mut items = HashSet::new();
    for c in &rb.checklists {
        if let Some(p) = &c.phase
            && !phase_names.contains(&p.as_str())
        {
            out.push(format!("checklist {} names unknown phase {p}", c.name));
        }
        for it in &c.items {
            if !items.insert(it.id.as_str()) {
                out.push(format!("duplicate item id {}", it.id));
            }
            if let Some(v) = &it.verify {
                match parse_verify(v) {
                    Some((metric, _, _)) if ids.contains(&metric.as_str()) => {}
                    Some((metric, _, _)) => out.push(format!(
                        "{}: verify refers to unknown metric {metric}",
                        it.id
                    )),
                    None => out.push(format!("{}: verify {v:?} does not parse", it.id)),
                }
            }
        }
    }
    for w in rb.escalation.levels.windows(2) {
        if w[0].after >= w[1].after {
            out.push(format!(
                "escalation level {} is not after {}",
                w[1].who, w[0].who
            ));
        }
    }
    if rb.event.ends_at.is_some_and(|e| e.secs() <= 0) {
        out.push("ends_at must be after T-0".into());
    }
    out
}

#[test]
fn bundled_runbooks_parse_and_are_consistent() {
    let all = bundled();
    let names: Vec<String> = all
        .iter()
        .filter_map(|(p, _)| p.file_name().map(|n| n.to_string_lossy().into_owned()))
        .collect();
    for want in ["demo.yaml", "launch.yaml", "genai.yaml"] {
        assert!(
            names.iter().any(|n| n == want),
            "runbooks/{want} missing: {names:?}"
        );
    }
    for (path, rb) in &all {
        let p = problems(rb);
        assert!(p.is_empty(), "{}:\n  {}", path.display(), p.join("\n  "));
    }
}

#[test]
fn the_checker_catches_what_it_claims_to() {
    let (_, demo) = bundled()
        .into_iter()
        .find(|(p, _)| p.ends_with("demo.yaml"))
        .unwrap();
    let mut bad = demo.clone();
    bad.metrics[1].expression = Some("requests / nope".into());
    bad.metrics[2].warn = Some(1e9);
    bad.phases.swap(0, 1);
    bad.checklists[0].items[0].verify = Some("ghost >= 1".into());
    let p = problems(&bad).join("\n");
    for want in [
        "unknown metric nope",
        "wrong way round",
        "does not start after",
        "unknown metric ghost",
    ] {
        assert!(p.contains(want), "missing {want:?} in:\n{p}");
    }
}

#[test]
fn every_named_alarm_follows_the_metric_its_name_says() {
    let squash = |s: &str| -> String {
        s.chars()
            .filter(char::is_ascii_alphanumeric)
            .map(|c| c.to_ascii_lowercase())
            .collect()
    };
    for (path, rb) in bundled() {
        let created = rb.event.starts_at;
        for a in super::alarms::trackers(&rb, created) {
            let m = &rb.metrics[a
                .metric
                .unwrap_or_else(|| panic!("{}: {}", path.display(), a.name))];
            let name = squash(&a.name);
            let named = name.contains(&squash(&m.id))
                || m.title
                    .as_deref()
                    .is_some_and(|t| name.contains(&squash(t)));
            assert!(
                named,
                "{}: alarm {} follows {} only by default",
                path.display(),
                a.name,
                m.id
            );
            assert!(a.threshold.is_finite());
        }
    }
}
