//! `tminus quotas RUNBOOK`: every quota's value, usage, headroom and status, as a table or
//! JSON, without the interactive screen. Exit 1 if any quota is critical, 2 if one could not be
//! read, so it can gate a pipeline.

use std::collections::HashMap;

use anyhow::{Context, Result};
use chrono::{DateTime, Duration, Utc};
use serde::Serialize;

use crate::app::alerts::{Severity, quota_severity};
use crate::runbook::Runbook;
use crate::source::Update;
use crate::source::aws::errors::{Then, explain_for};
use crate::source::aws::plan::{self, Group, Target};
use crate::source::aws::quotas::{ValueSource, read_all};
use crate::source::aws::{Aws, AwsSettings, budget, metrics};

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Row {
    pub service: String,
    pub code: String,
    pub title: String,
    pub value: Option<f64>,
    /// "applied" or "default" (no value applied to the account: the AWS default holds).
    pub value_source: Option<String>,
    pub usage: Option<f64>,
    pub used_pct: Option<f64>,
    pub headroom_pct: Option<f64>,
    /// ok, WARN, CRIT, "usage unknown" or "error".
    pub status: String,
    pub error: Option<String>,
}

/// Exit status for a pipeline: 1 if any quota is critical, else 2 if any could not be read.
pub fn exit_code(rows: &[Row]) -> u8 {
    if rows.iter().any(|r| r.status == "CRIT") {
        1
    } else if rows.iter().any(|r| r.status == "error") {
        2
    } else {
        0
    }
}

pub fn row(
    runbook: &Runbook,
    quota: usize,
    value: Option<f64>,
    value_source: Option<ValueSource>,
    usage: Option<f64>,
    error: Option<String>,
) -> Row {
    let q = &runbook.quotas[quota];
    let used_pct = crate::app::alerts::quota_used_pct(value, usage);
    let headroom_pct = crate::app::alerts::quota_headroom_pct(value, usage);
    let status = if error.is_some() {
        "error".to_string()
    } else {
        match headroom_pct {
            None => "usage unknown".to_string(),
            Some(h) => match quota_severity(h, q.warn_below.0, q.crit_below.0, None) {
                None => "ok".into(),
                Some(Severity::Warn) => "WARN".into(),
                Some(Severity::Crit) => "CRIT".into(),
            },
        }
    };
    Row {
        service: q.service.clone(),
        code: q.code.clone(),
        title: q.display_title(),
        value,
        value_source: value_source.map(|s| match s {
            ValueSource::Applied => "applied".to_string(),
            ValueSource::Default => "default".to_string(),
        }),
        usage,
        used_pct,
        headroom_pct,
        status,
        error,
    }
}

/// The rows as aligned columns. Every cell goes through `text` (cleaned, measured after
/// cleaning), as does each error message: titles come from the runbook and errors from AWS.
pub fn table(rows: &[Row]) -> String {
    let num = |v: Option<f64>| v.map(crate::format::value).unwrap_or_else(|| "—".into());
    let pct = |v: Option<f64>| v.map(|p| format!("{p:.1}%")).unwrap_or_else(|| "—".into());
    let mut lines = vec![
        [
            "SERVICE", "QUOTA", "TITLE", "VALUE", "USAGE", "USED", "HEADROOM", "STATUS",
        ]
        .map(String::from)
        .to_vec(),
    ];
    for r in rows {
        let value = match (&r.value_source, r.value) {
            (Some(s), Some(_)) if s == "default" => format!("{} (default)", num(r.value)),
            _ => num(r.value),
        };
        lines.push(vec![
            r.service.clone(),
            r.code.clone(),
            r.title.clone(),
            value,
            num(r.usage),
            pct(r.used_pct),
            pct(r.headroom_pct),
            r.status.clone(),
        ]);
    }
    let mut out = crate::text::columns(&lines);
    // Errors once each, below the table: one missing credential fails every row the same way.
    let mut errors: Vec<&str> = rows.iter().filter_map(|r| r.error.as_deref()).collect();
    errors.dedup();
    for e in errors {
        out.push_str(&format!("error: {}\n", crate::text::clean(e)));
    }
    out
}

/// The rows as pretty JSON: the same values, with what would act on a terminal (DEL, C1
/// controls, bidi overrides...) written as \u escapes; serde_json escapes only C0 itself.
pub fn json_text(rows: &[Row]) -> Result<String> {
    Ok(crate::text::json(&serde_json::to_string_pretty(rows)?))
}

/// How long AWS has, in all, to answer one `tminus quotas`: a command gating a pipeline ends
/// in about this long even when the endpoint never answers (each call waiting its own timeout
/// took 101 s), and says so plainly.
pub const AWS_BUDGET: std::time::Duration = std::time::Duration::from_secs(20);

/// Where the calls go, for messages: the endpoint URL, else AWS in the region given.
pub fn endpoint_label(settings: &AwsSettings) -> String {
    let env_url = std::env::var("AWS_ENDPOINT_URL")
        .ok()
        .filter(|u| !u.trim().is_empty());
    match (&settings.endpoint_url, env_url, &settings.region) {
        (Some(u), _, _) => u.clone(),
        (None, Some(u), _) => u,
        (None, None, Some(r)) => format!("AWS ({r})"),
        (None, None, None) => "AWS".to_string(),
    }
}

/// Reads every quota and its usage once, within `AWS_BUDGET`.
pub async fn collect(runbook: &Runbook, settings: AwsSettings, now: DateTime<Utc>) -> Vec<Row> {
    budget::with_budget(AWS_BUDGET, collect_unbounded(runbook, settings, now)).await
}

async fn collect_unbounded(
    runbook: &Runbook,
    settings: AwsSettings,
    now: DateTime<Utc>,
) -> Vec<Row> {
    let endpoint = endpoint_label(&settings);
    let then = Then::Stop {
        endpoint: &endpoint,
        within: AWS_BUDGET,
    };
    let profile = settings.profile.clone();
    let explain = |e: &str| explain_for(e, profile.as_deref(), then);
    let mut aws = Aws::new(settings);
    let (_, usage_metrics, infos, failed) = read_all(&mut aws, runbook, now).await;
    let info_by_quota: HashMap<usize, _> = infos.into_iter().collect();
    let failed: HashMap<usize, String> = failed.iter().map(|(i, e)| (*i, explain(e))).collect();

    // Usage: AWS/Usage metrics Service Quotas named, and the runbook's own usage metrics.
    let groups = plan::groups(runbook, &usage_metrics);
    let wanted_metric = |i: usize| {
        runbook
            .quotas
            .iter()
            .any(|q| q.usage_metric.as_deref() == Some(runbook.metrics[i].id.as_str()))
    };
    let needed: Vec<&Group> = groups
        .iter()
        .filter(|g| {
            g.queries.iter().flat_map(|q| &q.targets).any(|t| match t {
                Target::QuotaUsage(_) => true,
                Target::Metric(i) => wanted_metric(*i),
            })
        })
        .collect();
    let mut usage: HashMap<usize, f64> = HashMap::new();
    let mut usage_error: Option<String> = None;
    let mut by_region: HashMap<Option<String>, Vec<&Group>> = HashMap::new();
    for g in needed {
        by_region.entry(g.region.clone()).or_default().push(g);
    }
    for (region, gs) in by_region {
        let client = aws.cloudwatch(region.as_deref()).await;
        for call in plan::pack(&gs) {
            // Three hours back, on the grid of the call's periods (as the war room does).
            let start = metrics::window_start(
                std::iter::once((Some(now - Duration::hours(3)), None)),
                call.iter().flat_map(|g| g.queries.iter().map(|q| q.period)),
                now,
            );
            match metrics::fetch(&client, &call, start, now).await {
                Ok(f) => {
                    for u in metrics::to_updates(&call, &f, now) {
                        match u {
                            Update::Quota {
                                quota,
                                usage: Some(v),
                                ..
                            } => {
                                usage.insert(quota, v);
                            }
                            Update::Samples {
                                metric,
                                points,
                                settled_to,
                            } => {
                                // Usage is judged on settled buckets only.
                                let settled = points
                                    .iter()
                                    .rev()
                                    .find(|p| settled_to.is_none_or(|t| p.at < t));
                                if let Some(last) = settled {
                                    for (qi, q) in runbook.quotas.iter().enumerate() {
                                        if q.usage_metric.as_deref()
                                            == Some(runbook.metrics[metric].id.as_str())
                                        {
                                            usage.insert(qi, last.value);
                                        }
                                    }
                                }
                            }
                            _ => {}
                        }
                    }
                }
                Err(e) => usage_error = Some(explain(&e)),
            }
        }
    }

    (0..runbook.quotas.len())
        .map(|i| match info_by_quota.get(&i) {
            // A quota whose value was read but whose usage metric failed shows the reason.
            Some(info) => {
                let mut r = row(
                    runbook,
                    i,
                    info.value,
                    Some(info.source),
                    usage.get(&i).copied(),
                    None,
                );
                if r.usage.is_none()
                    && let Some(e) = &usage_error
                {
                    r.error = Some(format!("usage: {e}"));
                }
                r
            }
            None => row(
                runbook,
                i,
                None,
                None,
                None,
                Some(
                    failed
                        .get(&i)
                        .cloned()
                        .unwrap_or_else(|| "could not read the quota".into()),
                ),
            ),
        })
        .collect()
}

pub fn run(runbook: &Runbook, settings: AwsSettings, json: bool) -> Result<u8> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let rows = rt.block_on(collect(runbook, settings, Utc::now()));
    if json {
        crate::out::print(&(json_text(&rows)? + "\n"))?;
    } else {
        crate::out::print(&table(&rows))?;
    }
    Ok(exit_code(&rows))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rb() -> Runbook {
        serde_yaml::from_str(
            "event: { name: t, starts_at: 2026-12-01T17:00:00Z }\nquotas:\n  - { service: lambda, code: L-B99A9384, title: Lambda concurrency }\n  - { service: ec2, code: L-1216C47A, crit_below: 15% }\n",
        )
        .unwrap()
    }

    #[test]
    fn rows_have_headroom_status_and_exit_codes() {
        let rb = rb();
        let ok = row(
            &rb,
            0,
            Some(1000.0),
            Some(ValueSource::Applied),
            Some(500.0),
            None,
        );
        assert_eq!(ok.headroom_pct, Some(50.0));
        assert_eq!(ok.status, "ok");
        let crit = row(
            &rb,
            1,
            Some(100.0),
            Some(ValueSource::Default),
            Some(90.0),
            None,
        );
        assert_eq!(crit.status, "CRIT");
        let unknown = row(&rb, 0, Some(1000.0), Some(ValueSource::Applied), None, None);
        assert_eq!(unknown.status, "usage unknown");
        // An applied value of 0 is a real 0 (Bedrock models on a new account): critical, with
        // or without usage, never "usage unknown".
        for usage in [None, Some(0.0), Some(3.0)] {
            let zero = row(&rb, 0, Some(0.0), Some(ValueSource::Applied), usage, None);
            assert_eq!(
                (zero.status.as_str(), zero.headroom_pct),
                ("CRIT", Some(0.0)),
                "{usage:?}"
            );
        }
        let err = row(&rb, 0, None, None, None, Some("access denied".into()));
        assert_eq!(exit_code(&[ok.clone(), unknown.clone()]), 0);
        assert_eq!(exit_code(&[ok.clone(), err.clone()]), 2);
        assert_eq!(exit_code(&[err.clone(), crit.clone()]), 1);
        let t = table(&[ok, crit, unknown, err]);
        let lines: Vec<&str> = t.lines().collect();
        assert!(lines[0].starts_with("SERVICE  QUOTA"), "{t}");
        assert!(
            lines[1].contains("Lambda concurrency") && lines[1].contains("50.0%"),
            "{t}"
        );
        assert!(
            lines[2].contains("100 (default)") && lines[2].ends_with("CRIT"),
            "{t}"
        );
        assert!(lines[3].ends_with("usage unknown"), "{t}");
        assert!(lines[4].ends_with("error"), "{t}");
        assert_eq!(lines[5], "error: access denied");
    }

    /// Runbook titles and AWS error messages holding terminal escapes, bidi overrides, a
    /// zero-width joiner before wide characters and long CJK: the table prints them inert, the
    /// STATUS column starts at the same display column on every line, and the JSON carries
    /// the same values with nothing a terminal would act on.
    #[test]
    fn hostile_titles_and_errors_print_inert_and_aligned() {
        use unicode_width::UnicodeWidthStr;
        let rb = rb();
        let mut rows = vec![
            row(
                &rb,
                0,
                Some(1000.0),
                Some(ValueSource::Applied),
                Some(500.0),
                None,
            ),
            row(
                &rb,
                1,
                Some(100.0),
                Some(ValueSource::Default),
                Some(90.0),
                None,
            ),
            row(
                &rb,
                0,
                None,
                None,
                None,
                Some("denied \u{1b}]52;c;cm0gLXJmIH4=\u{7}\u{9b}2J\n\u{202E}forged line".into()),
            ),
            row(&rb, 1, Some(10.0), Some(ValueSource::Applied), None, None),
        ];
        rows[0].title = "Lambda \u{1b}]0;pwned\u{7} \u{1b}[31mred".into();
        rows[1].title = "x\u{200D}日本語のとても長いクォータの名前".into();
        rows[2].service = "\u{202E}lambda\u{2066}".into();
        rows[3].code = "L-\u{9b}6n\u{7f}".into();
        let t = table(&rows);
        let bad: Vec<char> = t
            .chars()
            .filter(|&c| {
                (c.is_control() && c != '\n')
                    || matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200D}')
            })
            .collect();
        assert!(bad.is_empty(), "{bad:?} in:\n{t}");
        let lines: Vec<&str> = t.lines().collect();
        let status_at: Vec<usize> = lines[..5]
            .iter()
            .zip(["STATUS", "ok", "CRIT", "error", "usage unknown"])
            .map(|(l, s)| l.rfind(s).map(|i| l[..i].width()).unwrap_or(usize::MAX))
            .collect();
        assert!(
            status_at.iter().all(|x| *x == status_at[0]),
            "STATUS at {status_at:?}:\n{t}"
        );
        assert!(lines[1].contains("Lambda ?]0;pwned? ?[31mred"), "{t}");
        // The error is one line, however many it had.
        assert_eq!(lines.len(), 6, "{t}");
        assert_eq!(
            lines[5],
            "error: denied ?]52;c;cm0gLXJmIH4=??2J ?forged line"
        );

        let json = json_text(&rows).unwrap();
        assert!(
            !json.chars().any(|c| (c.is_control() && c != '\n')
                || matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')),
            "{json}"
        );
        let back: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(back[0]["title"], rows[0].title.as_str());
        assert_eq!(back[2]["service"], rows[2].service.as_str());
        assert_eq!(back[3]["code"], rows[3].code.as_str());
    }
}
