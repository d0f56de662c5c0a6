use chrono::{DateTime, Duration, Utc};

use super::*;

fn t0() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-12-01T17:00:00Z")
        .unwrap()
        .to_utc()
}

fn runbook(extra: &str) -> Runbook {
    let text = format!(
        "event: {{ name: Sale, starts_at: 2026-12-01T17:00:00Z, forecast: 22x }}
metrics:
  - {{ id: conc, namespace: AWS/Lambda, metric: ClaimedAccountConcurrency, stat: Maximum, warn: 800, crit: 950 }}
  - {{ id: p99, namespace: AWS/ApplicationELB, metric: TargetResponseTime, stat: p99, unit: ms, warn: 900, crit: 1200 }}
  - {{ id: orders, namespace: Shop, metric: Orders, stat: Sum, warn: 50, crit: 10, direction: below }}
  - {{ id: req, namespace: AWS/ApplicationELB, metric: RequestCount, stat: Sum, warn: 100000, crit: 200000 }}
quotas:
  - {{ service: lambda, code: L-B99A9384, title: Lambda concurrency }}
  - {{ service: ec2, code: L-1216C47A, title: EC2 vCPU, lead_time: 10d }}
  - {{ service: dynamodb, code: L-AB614373, title: Table WCU, forecast: 2x }}
{extra}"
    );
    crate::runbook::parse("t.yaml", &text).unwrap()
}

fn peak(v: f64) -> Option<Peak> {
    Some(Peak {
        value: v,
        at: t0() - Duration::days(30),
    })
}

fn readings() -> Readings {
    Readings {
        quotas: vec![
            QuotaReading {
                value: Some(1_000.0),
                is_default: true,
                adjustable: Some(true),
                peak: peak(180.0),
                error: None,
            },
            QuotaReading {
                value: Some(512.0),
                is_default: false,
                adjustable: Some(true),
                peak: peak(10.0),
                error: None,
            },
            QuotaReading {
                value: Some(40_000.0),
                is_default: false,
                adjustable: Some(false),
                peak: peak(15_000.0),
                error: None,
            },
        ],
        metrics: vec![
            MetricReading {
                peak: peak(30.0),
                error: None,
            },
            MetricReading {
                peak: peak(250.0),
                error: None,
            },
            MetricReading {
                peak: peak(120.0),
                error: None,
            },
            MetricReading {
                peak: None,
                error: Some("AccessDenied: cloudwatch:GetMetricData".into()),
            },
        ],
        metric_series: Default::default(),
        from: Some(t0() - Duration::days(44)),
        to: Some(t0() - Duration::days(30)),
        period_secs: 600,
    }
}

#[test]
fn at_22x_lambda_breaks_and_asks_for_a_round_number_by_the_lead_time() {
    let rb = runbook("");
    let now = t0() - Duration::days(30);
    let s = Settings::new(&rb, None, None);
    assert_eq!(s.forecast, 22.0);
    let p = plan(&rb, t0(), now, &s, &readings());
    let lambda = &p.quotas[0];
    // 180 at peak, 22 times: 3,960 of 1,000.
    assert_eq!(lambda.projected, Some(3_960.0));
    assert_eq!(lambda.projected_headroom_pct, Some(0.0));
    assert_eq!(lambda.status, Status::Crit);
    // Out of the 30 % warning band with a 10 % margin: 3,960 / 0.7 * 1.1 = 6,223 -> 8,000.
    assert_eq!(lambda.request, Some(8_000.0));
    assert_eq!(lambda.request_by, t0() - Duration::days(21));
    assert!(
        !lambda.late,
        "30 days out, three weeks of lead time is not late"
    );

    // EC2: 10 of 512 at 22x is 220: 57 % headroom, fits; nothing to request.
    let ec2 = &p.quotas[1];
    assert_eq!(ec2.status, Status::Fits);
    assert_eq!(ec2.request, None);
    assert_eq!(ec2.request_by, t0() - Duration::days(10));

    // The table's own forecast (2x): 30,000 of 40,000 is 25 % headroom, a warning; it cannot
    // be raised, so the plan says what to do instead of asking.
    let wcu = &p.quotas[2];
    assert_eq!(wcu.forecast, 2.0);
    assert_eq!(wcu.status, Status::Warn);
    assert_eq!(wcu.request, None);
    assert!(wcu.note.as_deref().unwrap().contains("not adjustable"));
    assert_eq!(p.exit_code(), 1);
}

#[test]
fn a_request_date_already_behind_us_is_flagged() {
    let rb = runbook("");
    let now = t0() - Duration::days(5);
    let p = plan(&rb, t0(), now, &Settings::new(&rb, None, None), &readings());
    assert!(p.quotas[0].late, "21 days of lead time, 5 days left");
    assert!(!p.quotas[1].late, "nothing to request is never late");
}

#[test]
fn only_metrics_that_grow_with_traffic_are_multiplied() {
    let rb = runbook("");
    let p = plan(
        &rb,
        t0(),
        t0() - Duration::days(30),
        &Settings::new(&rb, Some(10.0), None),
        &readings(),
    );
    let by_id = |id: &str| p.metrics.iter().find(|m| m.id == id).unwrap();
    // --peak wins over the runbook's 22x: concurrency 30 -> 300, fits under 800.
    assert_eq!(by_id("conc").projected, Some(300.0));
    assert_eq!(by_id("conc").status, Status::Fits);
    // A p99 is not ten times higher at ten times the traffic.
    assert_eq!(by_id("p99").status, Status::NotProjected);
    assert!(by_id("p99").note.as_deref().unwrap().contains("latency"));
    // Lower is worse: more traffic only helps.
    assert_eq!(by_id("orders").status, Status::NotProjected);
    // Could not be read: said, and exit 2 when nothing is critical.
    assert_eq!(by_id("req").status, Status::Error);
}

#[test]
fn nothing_critical_but_something_unread_exits_2_and_all_fitting_exits_0() {
    let rb = runbook("");
    let mut r = readings();
    for q in &mut r.quotas {
        q.peak = peak(1.0);
    }
    r.metrics[0].peak = peak(1.0);
    let now = t0() - Duration::days(30);
    let p = plan(&rb, t0(), now, &Settings::new(&rb, None, None), &r);
    assert_eq!(p.exit_code(), 2, "{:#?}", p.metrics);
    r.metrics[3] = MetricReading {
        peak: peak(10.0),
        error: None,
    };
    let p = plan(&rb, t0(), now, &Settings::new(&rb, None, None), &r);
    assert_eq!(p.exit_code(), 0, "{:#?}", p.quotas);
}

#[test]
fn a_quota_of_zero_has_no_headroom_at_any_forecast() {
    let rb = runbook("");
    let mut r = readings();
    r.quotas[1].value = Some(0.0);
    let p = plan(
        &rb,
        t0(),
        t0() - Duration::days(30),
        &Settings::new(&rb, None, None),
        &r,
    );
    assert_eq!(p.quotas[1].status, Status::Crit);
    assert_eq!(
        p.quotas[1].request,
        Some(400.0),
        "10 x 22 / 0.7 x 1.1 = 345.7 -> 400"
    );
}

#[test]
fn the_runbooks_plan_section_sets_history_margin_and_lead_time() {
    let rb = runbook("plan: { history: 30d, margin: 25%, lead_time: 6w }\n");
    let s = Settings::new(&rb, None, None);
    assert_eq!(s.history_secs, 30 * 86_400);
    assert_eq!(s.margin, 0.25);
    assert_eq!(s.lead_time_secs, 42 * 86_400);
    assert_eq!(Settings::new(&rb, None, Some(86_400)).history_secs, 86_400);
}

#[test]
fn requests_are_rounded_as_people_round() {
    for (v, want) in [
        (4_752.0, 5_000.0),
        (37.0, 40.0),
        (1_000.0, 1_000.0),
        (1_001.0, 1_200.0),
        (6_223.0, 8_000.0),
        (8_001.0, 10_000.0),
        (0.42, 0.5),
        (1_234_567.0, 1_500_000.0),
    ] {
        assert_eq!(round_up(v), want, "{v}");
    }
    assert_eq!(round_up(0.0), 0.0);
    assert!(round_up(f64::NAN).is_nan());
}

#[test]
fn a_peak_is_the_worst_finite_point() {
    let at = |m: i64| t0() + Duration::minutes(m);
    let pts = vec![
        (at(0), 3.0),
        (at(1), f64::NAN),
        (at(2), 9.0),
        (at(3), 9.0),
        (at(4), 1.0),
    ];
    let p = Peak::of(pts.clone(), Direction::Above).unwrap();
    assert_eq!(
        (p.value, p.at),
        (9.0, at(2)),
        "the first time it was reached"
    );
    let p = Peak::of(pts, Direction::Below).unwrap();
    assert_eq!(p.value, 1.0);
    assert_eq!(Peak::of(Vec::new(), Direction::Above), None);
}
