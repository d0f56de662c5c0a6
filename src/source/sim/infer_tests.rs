//! Runbooks without `sim:` hints rehearse a healthy launch: no threshold breaks unless a fault
//! is injected. A seeded generator of random valid runbooks, specific relations, and the bundled
//! runbooks with their hints stripped.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use rand::{Rng, SeedableRng};
use rand_pcg::Pcg32;

use super::runbook_files::bundled;
use super::*;
use crate::clock::ManualClock;
use crate::runbook::model::{Direction, Metric, Runbook};
use crate::source::AlarmState;

fn t0() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-12-01T17:00:00Z")
        .unwrap()
        .to_utc()
}

fn at(offset_secs: i64) -> DateTime<Utc> {
    t0() + Duration::seconds(offset_secs)
}

fn sim(rb: &Runbook, seed: u64) -> Simulator {
    Simulator::new(rb, t0(), seed, Arc::new(ManualClock::new(t0())))
}

/// The simulated window: an hour around T-0.
const FROM: i64 = -30 * 60;
const TO: i64 = 30 * 60;

fn step_of(m: &Metric) -> i64 {
    i64::from(m.period.clamp(1, 10))
}

/// Every bucket of metric `i` from T-30m to T+30m: (offset, value).
fn series(s: &Simulator, rb: &Runbook, i: usize) -> Vec<(i64, f64)> {
    let step = step_of(&rb.metrics[i]);
    (FROM / step..=TO / step)
        .filter_map(|k| s.value_at(i, at(k * step)).map(|v| (k * step, v)))
        .collect()
}

fn is_percent(m: &Metric) -> bool {
    let name = m.metric.as_deref().unwrap_or("");
    m.unit.as_deref() == Some("%") || name.ends_with("Utilization") || name.contains("Percent")
}

fn beyond(v: f64, t: f64, dir: Direction) -> bool {
    match dir {
        Direction::Above => v >= t,
        Direction::Below => v <= t,
    }
}

/// Everything that would alert in an hour around T-0 without faults: metric values at every
/// bucket beyond warn or crit (or outside 0-100 for a percentage), quota headroom at or under
/// warn_below, and simulated alarms in ALARM.
fn breaches(rb: &Runbook, seed: u64) -> Vec<String> {
    let mut out = Vec::new();
    let s = sim(rb, seed);
    for (i, m) in rb.metrics.iter().enumerate() {
        for (off, v) in series(&s, rb, i) {
            for (word, t) in [("warn", m.warn), ("crit", m.crit)] {
                if let Some(t) = t
                    && beyond(v, t, m.direction)
                {
                    out.push(format!("{} = {v} at T{off:+}s: {word} {t}", m.id));
                }
            }
            if is_percent(m) && !(0.0..=100.0).contains(&v) {
                out.push(format!("{} = {v} % at T{off:+}s", m.id));
            }
        }
    }
    // Quota headroom from the simulated value and usage at every tick.
    for (q, quota) in rb.quotas.iter().enumerate() {
        let value = s.quotas[q].value;
        for k in FROM / 10..=TO / 10 {
            let t = at(k * 10).timestamp();
            let Some(used) = s.usage_at(q, t) else {
                out.push(format!(
                    "quota {} has no usage at T{:+}s",
                    quota.code,
                    k * 10
                ));
                continue;
            };
            let headroom = 100.0 - used / value * 100.0;
            if !headroom.is_finite() || headroom <= quota.warn_below.0 {
                out.push(format!(
                    "quota {} headroom {headroom:.1} % at T{:+}s: warn_below {}",
                    quota.code,
                    k * 10,
                    quota.warn_below.0
                ));
            }
        }
    }
    // Alarms as the app sees them: a backfill, then a step every 10 s.
    let mut s = sim(rb, seed);
    let mut updates = s.backfill(at(FROM));
    let mut t = FROM;
    while t < TO {
        t += 10;
        updates.extend(s.step(at(t)));
    }
    for u in updates {
        if let Update::Alarm {
            name,
            state: AlarmState::Alarm,
            changed_at,
            reason,
        } = u
        {
            out.push(format!(
                "alarm {name} in ALARM since {changed_at}: {reason}"
            ));
        }
    }
    out
}

fn parse(yaml: &str) -> Runbook {
    crate::runbook::parse("gen.yaml", yaml)
        .unwrap_or_else(|ds| panic!("not a valid runbook:\n{}\n{yaml}", crate::diag::render(&ds)))
}

fn strip_hints(rb: &Runbook) -> Runbook {
    let mut rb = rb.clone();
    for m in &mut rb.metrics {
        m.sim = None;
    }
    for q in &mut rb.quotas {
        q.sim = None;
    }
    rb
}

// ---- a generator of random valid runbooks ----

/// What a generated metric is, for the expressions built on it.
#[derive(Clone, Copy, PartialEq)]
enum Role {
    Requests,
    Errors,
    Latency,
    Other,
}

struct Kind {
    ns: &'static str,
    name: &'static str,
    stats: &'static [&'static str],
    unit: Option<&'static str>,
    /// Typical thresholds span this range (log-uniform).
    scale: (f64, f64),
    below: bool,
    role: Role,
}

const fn kind(
    ns: &'static str,
    name: &'static str,
    stats: &'static [&'static str],
    unit: Option<&'static str>,
    scale: (f64, f64),
    below: bool,
    role: Role,
) -> Kind {
    Kind {
        ns,
        name,
        stats,
        unit,
        scale,
        below,
        role,
    }
}

const PCT: &[&str] = &["p50", "p90", "p95", "p99", "p99.9", "Average", "Maximum"];
const SUM: &[&str] = &["Sum"];

const KINDS: &[Kind] = &[
    kind(
        "AWS/ApplicationELB",
        "RequestCount",
        SUM,
        None,
        (50.0, 1e6),
        true,
        Role::Requests,
    ),
    kind(
        "AWS/ApplicationELB",
        "HTTPCode_ELB_5XX_Count",
        SUM,
        None,
        (1.0, 500.0),
        false,
        Role::Errors,
    ),
    kind(
        "AWS/ApplicationELB",
        "HTTPCode_Target_5XX_Count",
        SUM,
        None,
        (1.0, 500.0),
        false,
        Role::Errors,
    ),
    kind(
        "AWS/ApplicationELB",
        "HTTPCode_Target_4XX_Count",
        SUM,
        None,
        (1.0, 2000.0),
        false,
        Role::Errors,
    ),
    kind(
        "AWS/ApplicationELB",
        "TargetResponseTime",
        PCT,
        Some("s"),
        (0.05, 5.0),
        false,
        Role::Latency,
    ),
    kind(
        "AWS/ApplicationELB",
        "HealthyHostCount",
        &["Minimum", "Average"],
        Some("Count"),
        (1.0, 50.0),
        true,
        Role::Other,
    ),
    kind(
        "AWS/Lambda",
        "Invocations",
        SUM,
        None,
        (10.0, 1e5),
        true,
        Role::Requests,
    ),
    kind(
        "AWS/Lambda",
        "Errors",
        SUM,
        None,
        (1.0, 100.0),
        false,
        Role::Errors,
    ),
    kind(
        "AWS/Lambda",
        "Throttles",
        SUM,
        None,
        (1.0, 100.0),
        false,
        Role::Errors,
    ),
    kind(
        "AWS/Lambda",
        "Duration",
        &["p50", "p99", "Average", "Maximum"],
        Some("ms"),
        (50.0, 30000.0),
        false,
        Role::Latency,
    ),
    kind(
        "AWS/Lambda",
        "ConcurrentExecutions",
        &["Maximum"],
        None,
        (10.0, 5000.0),
        false,
        Role::Other,
    ),
    kind(
        "AWS/ApiGateway",
        "Count",
        &["Sum", "SampleCount"],
        None,
        (10.0, 1e5),
        true,
        Role::Requests,
    ),
    kind(
        "AWS/ApiGateway",
        "5XXError",
        SUM,
        None,
        (1.0, 100.0),
        false,
        Role::Errors,
    ),
    kind(
        "AWS/ApiGateway",
        "4XXError",
        SUM,
        None,
        (1.0, 500.0),
        false,
        Role::Errors,
    ),
    kind(
        "AWS/ApiGateway",
        "Latency",
        &["p50", "p95", "p99"],
        Some("ms"),
        (50.0, 29000.0),
        false,
        Role::Latency,
    ),
    kind(
        "AWS/Bedrock",
        "Invocations",
        SUM,
        None,
        (10.0, 1e4),
        true,
        Role::Requests,
    ),
    kind(
        "AWS/Bedrock",
        "InvocationThrottles",
        SUM,
        None,
        (1.0, 100.0),
        false,
        Role::Errors,
    ),
    kind(
        "AWS/Bedrock",
        "InvocationServerErrors",
        SUM,
        None,
        (1.0, 50.0),
        false,
        Role::Errors,
    ),
    kind(
        "AWS/Bedrock",
        "InvocationClientErrors",
        SUM,
        None,
        (1.0, 50.0),
        false,
        Role::Errors,
    ),
    kind(
        "AWS/Bedrock",
        "InvocationLatency",
        &["p50", "p99", "Average"],
        Some("ms"),
        (500.0, 60000.0),
        false,
        Role::Latency,
    ),
    kind(
        "AWS/Bedrock",
        "InputTokenCount",
        SUM,
        None,
        (1e4, 1e7),
        false,
        Role::Other,
    ),
    kind(
        "AWS/EC2",
        "CPUUtilization",
        &["Average", "Maximum"],
        Some("%"),
        (30.0, 99.0),
        false,
        Role::Other,
    ),
    kind(
        "AWS/DynamoDB",
        "ConsumedWriteCapacityUnits",
        SUM,
        None,
        (1e3, 1e7),
        false,
        Role::Other,
    ),
    kind(
        "AWS/DynamoDB",
        "ThrottledRequests",
        SUM,
        None,
        (1.0, 100.0),
        false,
        Role::Errors,
    ),
    kind(
        "AWS/DynamoDB",
        "SuccessfulRequestLatency",
        &["Average", "p99"],
        Some("ms"),
        (5.0, 200.0),
        false,
        Role::Latency,
    ),
    kind(
        "Shop",
        "OrdersPlaced",
        SUM,
        None,
        (1.0, 5000.0),
        true,
        Role::Requests,
    ),
    kind(
        "Shop",
        "OrdersFailed",
        SUM,
        None,
        (1.0, 100.0),
        false,
        Role::Errors,
    ),
    kind(
        "Shop",
        "CheckoutLatency",
        &["p50", "p99"],
        Some("ms"),
        (100.0, 10000.0),
        false,
        Role::Latency,
    ),
    kind(
        "Shop",
        "CartConversionPercent",
        &["Average"],
        Some("%"),
        (1.0, 99.5),
        true,
        Role::Other,
    ),
    kind(
        "AWS/SQS",
        "ApproximateAgeOfOldestMessage",
        &["Maximum"],
        Some("Seconds"),
        (10.0, 3600.0),
        false,
        Role::Other,
    ),
];

const DIMS: &[&[(&str, &str)]] = &[
    &[("LoadBalancer", "app/web/50dc6c495c0c9188")],
    &[
        ("LoadBalancer", "app/web/50dc6c495c0c9188"),
        ("TargetGroup", "targetgroup/web/6d0ecf831eec9f09"),
    ],
    &[("LoadBalancer", "app/api/1a2b3c4d5e6f7a8b")],
    &[("FunctionName", "checkout")],
    &[("FunctionName", "orders")],
    &[("ApiName", "shop"), ("Stage", "prod")],
    &[("ModelId", "us.anthropic.claude-sonnet-4-5-20250929-v1:0")],
    &[("AutoScalingGroupName", "web")],
    &[("TableName", "orders")],
    &[("Env", "prod")],
    &[("QueueName", "orders")],
    &[],
];

struct Generated {
    yaml: String,
}

fn log_uniform(rng: &mut Pcg32, (lo, hi): (f64, f64)) -> f64 {
    let u: f64 = rng.random();
    (lo.ln() + u * (hi.ln() - lo.ln())).exp()
}

/// A threshold value as written: sometimes rounded, as people write them.
fn written(rng: &mut Pcg32, v: f64) -> f64 {
    if v >= 2.0 && rng.random_bool(0.5) {
        v.round()
    } else {
        (v * 1000.0).round() / 1000.0
    }
}

/// `warn:`/`crit:`/`direction:` lines for a value of this scale, and whether they are for
/// `direction: below`; nothing sometimes.
fn thresholds(
    rng: &mut Pcg32,
    scale: (f64, f64),
    below: bool,
    pct: bool,
) -> (String, Option<bool>) {
    let mut out = String::new();
    let which = rng.random_range(0..10);
    if which < 3 {
        return (out, None);
    }
    let below = if rng.random_bool(0.8) { below } else { !below };
    let (warn, crit) = if below {
        let w = if pct {
            rng.random_range(1.0..99.5)
        } else {
            log_uniform(rng, scale)
        };
        let w = written(rng, w);
        let f = rng.random_range(0.1..0.9);
        let c = written(rng, w * f);
        (w, c.min(w * 0.95))
    } else {
        let w = if pct {
            rng.random_range(5.0..99.0)
        } else {
            log_uniform(rng, scale)
        };
        let w = written(rng, w).max(0.001);
        let f = rng.random_range(1.1..3.0);
        let c = written(rng, w * f);
        (w, c.max(w * 1.05))
    };
    if below {
        out.push_str("    direction: below\n");
    }
    match which {
        3..=5 => writeln!(out, "    warn: {warn}").unwrap(),
        6 => writeln!(out, "    crit: {crit}").unwrap(),
        _ => writeln!(out, "    warn: {warn}\n    crit: {crit}").unwrap(),
    }
    (out, Some(below))
}

fn generate(case: u64) -> Generated {
    let mut rng = Pcg32::seed_from_u64(0x5eed_0000 + case);
    let mut y = String::from(
        "event:\n  name: Generated launch\n  starts_at: 2026-12-01T17:00:00Z\nmetrics:\n",
    );
    // A few services with one or two dimension sets each, shared by their metrics or not.
    let n = rng.random_range(2..=12);
    let mut raw: Vec<(String, Role)> = Vec::new();
    // Which side each raw metric's thresholds are on (Some(true): below), and the raw metrics
    // each expression reads.
    let mut sides: HashMap<String, Option<bool>> = HashMap::new();
    let mut reads: HashMap<String, Vec<String>> = HashMap::new();
    for i in 0..n {
        let k = &KINDS[rng.random_range(0..KINDS.len())];
        let dims = DIMS[rng.random_range(0..DIMS.len())];
        let stat = k.stats[rng.random_range(0..k.stats.len())];
        let period = [60, 60, 60, 60, 300, 10, 1, 5, 30][rng.random_range(0..9)];
        let id = format!("m{i}");
        writeln!(
            y,
            "  - id: {id}\n    namespace: {}\n    metric: {}",
            k.ns, k.name
        )
        .unwrap();
        if !dims.is_empty() || rng.random_bool(0.5) {
            let d: Vec<String> = dims.iter().map(|(k, v)| format!("{k}: \"{v}\"")).collect();
            writeln!(y, "    dimensions: {{{}}}", d.join(", ")).unwrap();
        }
        writeln!(y, "    stat: {stat}\n    period: {period}").unwrap();
        if let Some(u) = k.unit
            && rng.random_bool(0.8)
        {
            writeln!(y, "    unit: \"{u}\"").unwrap();
        }
        let pct = k.unit == Some("%");
        let (lines, dir) = thresholds(&mut rng, k.scale, k.below, pct);
        y.push_str(&lines);
        sides.insert(id.clone(), dir);
        raw.push((id, k.role));
        // Other statistics of a latency metric, on the same dimensions.
        if k.role == Role::Latency && rng.random_bool(0.5) {
            for (j, other) in k.stats.iter().filter(|s| **s != stat).enumerate() {
                if rng.random_bool(0.5) {
                    continue;
                }
                let id = format!("m{i}s{j}");
                writeln!(
                    y,
                    "  - id: {id}\n    namespace: {}\n    metric: {}",
                    k.ns, k.name
                )
                .unwrap();
                let d: Vec<String> = dims.iter().map(|(k, v)| format!("{k}: \"{v}\"")).collect();
                writeln!(
                    y,
                    "    dimensions: {{{}}}\n    stat: {other}\n    period: {period}",
                    d.join(", ")
                )
                .unwrap();
                if rng.random_bool(0.5) {
                    let (lines, dir) = thresholds(&mut rng, k.scale, false, false);
                    y.push_str(&lines);
                    sides.insert(id.clone(), dir);
                }
                raw.push((id, k.role));
            }
        }
    }
    let pick = |rng: &mut Pcg32, role: Option<Role>| -> Option<String> {
        let c: Vec<&String> = raw
            .iter()
            .filter(|(_, r)| role.is_none_or(|w| *r == w))
            .map(|(id, _)| id)
            .collect();
        (!c.is_empty()).then(|| c[rng.random_range(0..c.len())].clone())
    };
    let mut ids: Vec<String> = raw.iter().map(|(id, _)| id.clone()).collect();
    for e in 0..rng.random_range(0..=3) {
        let id = format!("x{e}");
        let (expr, unit, below, scale) = match rng.random_range(0..6) {
            0 | 1 => {
                let (Some(err), Some(req)) = (
                    pick(&mut rng, Some(Role::Errors)),
                    pick(&mut rng, Some(Role::Requests)),
                ) else {
                    continue;
                };
                let f = if rng.random_bool(0.5) {
                    format!("100 * {err} / {req}")
                } else {
                    format!("FILL({err}, 0) / {req} * 100")
                };
                (f, "%", false, (0.5, 10.0))
            }
            2 => {
                let Some(x) = pick(&mut rng, Some(Role::Latency)) else {
                    continue;
                };
                (format!("1000 * {x}"), "ms", false, (100.0, 1e5))
            }
            3 => {
                let Some(r) = pick(&mut rng, Some(Role::Requests)) else {
                    continue;
                };
                (format!("{r} / 60"), "req/s", true, (0.1, 50.0))
            }
            4 => {
                let (Some(a), Some(b)) = (pick(&mut rng, None), pick(&mut rng, None)) else {
                    continue;
                };
                (format!("{a} + {b}"), "", false, (10.0, 1e7))
            }
            _ => {
                // An expression over an expression.
                let Some(prev) = ids.iter().rfind(|i| i.starts_with('x')).cloned() else {
                    continue;
                };
                (format!("2 * {prev}"), "", false, (10.0, 1e7))
            }
        };
        writeln!(y, "  - id: {id}\n    expression: \"{expr}\"").unwrap();
        if !unit.is_empty() {
            writeln!(y, "    unit: \"{unit}\"").unwrap();
        }
        let inputs: Vec<String> = crate::runbook::expr::Expr::parse(&expr)
            .unwrap()
            .refs()
            .into_iter()
            .flat_map(|r| reads.get(r).cloned().unwrap_or_else(|| vec![r.to_string()]))
            .collect();
        // Thresholds on an expression whose inputs have thresholds on the other side could
        // contradict them (`1000 * x` under 100 with x over 5): such a runbook cannot be kept
        // healthy, and `contradictions_are_reported` covers it.
        let contradicts = inputs
            .iter()
            .any(|i| sides.get(i).copied().flatten().is_some_and(|b| b != below));
        reads.insert(id.clone(), inputs);
        if !contradicts && rng.random_bool(0.8) {
            let w = log_uniform(&mut rng, scale);
            let w = written(&mut rng, w);
            if below {
                writeln!(y, "    direction: below\n    warn: {w}").unwrap();
            } else {
                writeln!(y, "    warn: {w}\n    crit: {}", written(&mut rng, w * 2.0)).unwrap();
            }
        }
        ids.push(id);
    }
    // Alarms: one per metric with a crit, or a few by name.
    if rng.random_bool(0.5) {
        y.push_str("alarms:\n  prefix: \"gen-\"\n");
    } else {
        let names: Vec<String> = (0..rng.random_range(1..=3))
            .map(|_| format!("gen-{}-high", ids[rng.random_range(0..ids.len())]))
            .chain(["gen-unmatched".to_string()])
            .collect();
        writeln!(y, "alarms:\n  names: [{}]", names.join(", ")).unwrap();
    }
    let nq = rng.random_range(0..=3);
    if nq > 0 {
        y.push_str("quotas:\n");
    }
    for q in 0..nq {
        let service = ["lambda", "ec2", "bedrock", "dynamodb"][rng.random_range(0..4)];
        let warn = rng.random_range(10..=85);
        let crit = rng.random_range(1..warn);
        writeln!(
            y,
            "  - service: {service}\n    code: L-{:08X}\n    warn_below: {warn}%\n    crit_below: {crit}%",
            0xA000_0000u32 + q
        )
        .unwrap();
        if rng.random_bool(0.6) {
            writeln!(
                y,
                "    usage_metric: {}",
                ids[rng.random_range(0..ids.len())]
            )
            .unwrap();
        }
    }
    Generated { yaml: y }
}

#[test]
fn random_runbooks_without_hints_never_breach() {
    const CASES: u64 = 240;
    let mut guessed = 0;
    for case in 0..CASES {
        let g = generate(case);
        let rb = parse(&g.yaml);
        assert!(rb.metrics.iter().all(|m| m.sim.is_none()));
        let unkept = cannot_keep(&rb);
        assert!(
            unkept.is_empty(),
            "case {case}: {:?}\n{}",
            unkept.iter().map(|g| &g.reason).collect::<Vec<_>>(),
            g.yaml
        );
        let guesses = guesses(&rb);
        guessed += guesses.len();
        let b = breaches(&rb, case);
        if !b.is_empty() {
            let why: Vec<String> = guesses
                .into_iter()
                .map(|g| format!("  {}: {}", rb.metrics[g.metric].id, g.reason))
                .collect();
            panic!(
                "case {case}: {} breaches without a fault, first:\n  {}\n\nguesses:\n{}\n\n{}",
                b.len(),
                b.iter().take(8).cloned().collect::<Vec<_>>().join("\n  "),
                why.join("\n"),
                g.yaml
            );
        }
    }
    assert!(guessed > CASES as usize * 4, "{guessed} guesses");
}

// ---- specific relations ----

fn runbook_with(metrics: &str) -> Runbook {
    parse(&format!(
        "event: {{name: t, starts_at: 2026-12-01T17:00:00Z}}\nmetrics:\n{metrics}"
    ))
}

fn index(rb: &Runbook, id: &str) -> usize {
    rb.metrics.iter().position(|m| m.id == id).unwrap()
}

fn reason(rb: &Runbook, id: &str) -> String {
    let i = index(rb, id);
    guesses(rb)
        .into_iter()
        .find(|g| g.metric == i)
        .map(|g| g.reason)
        .unwrap_or_else(|| panic!("no guess for {id}"))
}

#[test]
fn errors_are_a_small_fraction_of_requests_on_the_same_dimensions() {
    let rb = runbook_with(
        "
  - {id: requests, namespace: AWS/ApplicationELB, metric: RequestCount, stat: Sum,
     dimensions: {LoadBalancer: app/web/1}, direction: below, warn: 2000}
  - {id: elb_5xx, namespace: AWS/ApplicationELB, metric: HTTPCode_ELB_5XX_Count, stat: Sum,
     dimensions: {LoadBalancer: app/web/1}, warn: 500}
  - {id: target_5xx, namespace: AWS/ApplicationELB, metric: HTTPCode_Target_5XX_Count,
     stat: Sum, dimensions: {LoadBalancer: app/web/1, TargetGroup: targetgroup/web/2}}
  - {id: invocations, namespace: AWS/Lambda, metric: Invocations, stat: Sum,
     dimensions: {FunctionName: checkout}, direction: below, warn: 100}
  - {id: errors, namespace: AWS/Lambda, metric: Errors, stat: Sum,
     dimensions: {FunctionName: checkout}, warn: 50}
  - {id: throttles, namespace: AWS/Lambda, metric: Throttles, stat: Sum,
     dimensions: {FunctionName: checkout}}
  - {id: api_count, namespace: AWS/ApiGateway, metric: Count, stat: Sum,
     dimensions: {ApiName: shop, Stage: prod}, direction: below, warn: 500}
  - {id: api_5xx, namespace: AWS/ApiGateway, metric: 5XXError, stat: Sum,
     dimensions: {ApiName: shop, Stage: prod}}
  - {id: sonnet, namespace: AWS/Bedrock, metric: Invocations, stat: Sum,
     dimensions: {ModelId: m}, direction: below, warn: 50}
  - {id: sonnet_throttles, namespace: AWS/Bedrock, metric: InvocationThrottles, stat: Sum,
     dimensions: {ModelId: m}}
  - {id: sonnet_server, namespace: AWS/Bedrock, metric: InvocationServerErrors, stat: Sum,
     dimensions: {ModelId: m}}
  - {id: sonnet_client, namespace: AWS/Bedrock, metric: InvocationClientErrors, stat: Sum,
     dimensions: {ModelId: m}}
  - {id: ddb_throttles, namespace: AWS/DynamoDB, metric: ThrottledRequests, stat: Sum,
     dimensions: {TableName: orders}, warn: 10}
",
    );
    let pairs = [
        ("elb_5xx", "requests", "same LoadBalancer"),
        ("target_5xx", "requests", "same LoadBalancer"),
        ("errors", "invocations", "same FunctionName"),
        ("throttles", "invocations", "same FunctionName"),
        ("api_5xx", "api_count", "same ApiName, Stage"),
        ("sonnet_throttles", "sonnet", "same ModelId"),
        ("sonnet_server", "sonnet", "same ModelId"),
        ("sonnet_client", "sonnet", "same ModelId"),
    ];
    for seed in [1, 42, 7] {
        let s = sim(&rb, seed);
        for (e, r, how) in pairs {
            let (ei, ri) = (index(&rb, e), index(&rb, r));
            let errors = series(&s, &rb, ei);
            let requests = series(&s, &rb, ri);
            let (mut e_sum, mut r_sum) = (0.0, 0.0);
            for ((t, ev), (_, rv)) in errors.iter().zip(&requests) {
                assert_eq!(ev.fract(), 0.0, "{e} is a count: {ev}");
                if *rv >= 1000.0 {
                    assert!(ev / rv < 0.01, "{e} {ev} of {r} {rv} at T{t:+}s");
                }
                e_sum += ev;
                r_sum += rv;
            }
            assert!(e_sum / r_sum < 0.005, "{e}: {e_sum} of {r_sum}");
            // Not simply zero: the busy peak shows a few errors.
            assert!(e_sum > 0.0, "{e} never errs");
            let why = reason(&rb, e);
            assert!(
                why.starts_with(&format!("0.1 % of `{r}` ({how})")),
                "{e}: {why}"
            );
        }
        // No request count on its dimensions: on its own, far under its warn.
        assert!(reason(&rb, "ddb_throttles").starts_with("under warn 10"));
        assert!(breaches(&rb, seed).is_empty(), "{:?}", breaches(&rb, seed));
    }
}

#[test]
fn statistics_of_one_metric_are_ordered_at_every_bucket() {
    let rb = runbook_with(
        "
  - {id: p50, namespace: AWS/ApplicationELB, metric: TargetResponseTime, stat: p50,
     dimensions: {LoadBalancer: app/web/1}, unit: s}
  - {id: p95, namespace: AWS/ApplicationELB, metric: TargetResponseTime, stat: p95,
     dimensions: {LoadBalancer: app/web/1}, unit: s}
  - {id: p99, namespace: AWS/ApplicationELB, metric: TargetResponseTime, stat: p99,
     dimensions: {LoadBalancer: app/web/1}, unit: s, warn: 1.5, crit: 3}
  - {id: p999, namespace: AWS/ApplicationELB, metric: TargetResponseTime, stat: p99.9,
     dimensions: {LoadBalancer: app/web/1}, unit: s}
  - {id: avg, namespace: AWS/ApplicationELB, metric: TargetResponseTime, stat: Average,
     dimensions: {LoadBalancer: app/web/1}, unit: s}
  - {id: max, namespace: AWS/ApplicationELB, metric: TargetResponseTime, stat: Maximum,
     dimensions: {LoadBalancer: app/web/1}, unit: s, warn: 5}
  - {id: other_p50, namespace: AWS/ApplicationELB, metric: TargetResponseTime, stat: p50,
     dimensions: {LoadBalancer: app/api/2}, unit: s, warn: 0.2}
",
    );
    let order = ["p50", "avg", "p95", "p99", "p999", "max"];
    for seed in [1, 2, 3, 42] {
        let s = sim(&rb, seed);
        let all: Vec<Vec<(i64, f64)>> = order
            .iter()
            .map(|id| series(&s, &rb, index(&rb, id)))
            .collect();
        for (w, pair) in all.windows(2).enumerate() {
            for (lo, hi) in pair[0].iter().zip(&pair[1]) {
                assert!(
                    lo.1 < hi.1,
                    "seed {seed}: {} {} >= {} {} at T{:+}s",
                    order[w],
                    lo.1,
                    order[w + 1],
                    hi.1,
                    lo.0
                );
            }
        }
        assert!(breaches(&rb, seed).is_empty(), "{:?}", breaches(&rb, seed));
    }
    assert!(reason(&rb, "p50").starts_with("p50 < Average < p95 < p99 < p99.9 < Maximum"));
    // A different load balancer is a different metric: on its own, under its warn.
    assert!(reason(&rb, "other_p50").starts_with("under warn 0.2"));
}

#[test]
fn inferred_statistics_follow_one_with_hints_without_changing_it() {
    let with_hint = "
  - {id: p99, namespace: AWS/ApplicationELB, metric: TargetResponseTime, stat: p99,
     dimensions: {LoadBalancer: app/web/1}, warn: 0.8, sim: {base: 0.14, peak: 0.62}}
";
    let alone = runbook_with(with_hint);
    let rb = runbook_with(&format!(
        "{with_hint}
  - {{id: p50, namespace: AWS/ApplicationELB, metric: TargetResponseTime, stat: p50,
     dimensions: {{LoadBalancer: app/web/1}}}}
  - {{id: avg, namespace: AWS/ApplicationELB, metric: TargetResponseTime, stat: Average,
     dimensions: {{LoadBalancer: app/web/1}}}}
"
    ));
    let s = sim(&rb, 42);
    let p99 = series(&s, &rb, 0);
    assert_eq!(
        p99,
        series(&sim(&alone, 42), &alone, 0),
        "hints kept exactly"
    );
    for id in ["p50", "avg"] {
        for ((t, v), (_, top)) in series(&s, &rb, index(&rb, id)).iter().zip(&p99) {
            assert!(v < top, "{id} {v} >= p99 {top} at T{t:+}s");
        }
    }
    assert!(reason(&rb, "p50").contains("in order with `p99`"));
}

#[test]
fn percentages_stay_within_0_and_100() {
    let rb = runbook_with(
        "
  - {id: cpu, namespace: AWS/EC2, metric: CPUUtilization, stat: Maximum, unit: \"%\"}
  - {id: cpu_warn, namespace: AWS/EC2, metric: CPUUtilization, stat: Average, unit: \"%\",
     dimensions: {AutoScalingGroupName: web}, warn: 95, crit: 150}
  - {id: memory, namespace: CWAgent, metric: MemoryUtilization, stat: Average}
  - {id: availability, namespace: Shop, metric: AvailabilityPercent, stat: Average,
     direction: below, warn: 99.5, crit: 99}
  - {id: conversion, namespace: Shop, metric: CartConversionPercent, stat: Average,
     direction: below, warn: 1}
  - {id: success_pct, expression: \"100 * cpu / memory\", unit: \"%\"}
",
    );
    for seed in [1, 9, 42] {
        let s = sim(&rb, seed);
        for (i, m) in rb.metrics.iter().enumerate() {
            for (t, v) in series(&s, &rb, i) {
                assert!((0.0..=100.0).contains(&v), "{} = {v} at T{t:+}s", m.id);
            }
        }
        assert!(breaches(&rb, seed).is_empty(), "{:?}", breaches(&rb, seed));
    }
    // The narrow band over 99.5 still moves a little.
    let s = sim(&rb, 1);
    let avail: Vec<f64> = series(&s, &rb, index(&rb, "availability"))
        .into_iter()
        .map(|p| p.1)
        .collect();
    let (lo, hi) = avail
        .iter()
        .fold((f64::MAX, f64::MIN), |(a, b), v| (a.min(*v), b.max(*v)));
    assert!(lo > 99.5 && hi <= 100.0 && hi > lo, "{lo}..{hi}");
}

#[test]
fn below_metrics_stay_over_warn_and_traffic_still_rises() {
    let rb = runbook_with(
        "
  - {id: hosts, namespace: AWS/ApplicationELB, metric: HealthyHostCount, stat: Minimum,
     unit: Count, dimensions: {LoadBalancer: app/web/1, TargetGroup: tg/web/2},
     direction: below, warn: 2, crit: 1}
  - {id: instances, namespace: AWS/AutoScaling, metric: GroupInServiceInstances,
     stat: Minimum, direction: below, warn: 32, crit: 24}
  - {id: orders, namespace: Shop, metric: OrdersPlaced, stat: Sum, direction: below,
     warn: 20, crit: 5}
  - {id: zero_ok, namespace: Shop, metric: Signups, stat: Sum, direction: below, warn: 0}
",
    );
    for seed in [1, 5, 42] {
        let s = sim(&rb, seed);
        for (i, m) in rb.metrics.iter().enumerate() {
            let warn = m.warn.unwrap();
            for (t, v) in series(&s, &rb, i) {
                assert!(v > warn, "{} = {v} <= warn {warn} at T{t:+}s", m.id);
            }
        }
        let orders = index(&rb, "orders");
        let before = s.value_at(orders, at(-20 * 60)).unwrap();
        let after = s.value_at(orders, at(5 * 60)).unwrap();
        assert!(after > 2.0 * before, "orders {before} -> {after}");
        assert!(breaches(&rb, seed).is_empty(), "{:?}", breaches(&rb, seed));
    }
    assert!(reason(&rb, "orders").starts_with("stays over warn 20 (direction: below)"));
}

#[test]
fn expressions_pull_their_inferred_inputs_back() {
    let rb = runbook_with(
        "
  - {id: requests, namespace: AWS/ApplicationELB, metric: RequestCount, stat: Sum,
     dimensions: {LoadBalancer: app/web/1}}
  - {id: failures, namespace: Shop, metric: CheckoutErrors, stat: Sum}
  - {id: error_pct, expression: \"100 * FILL(failures, 0) / requests\", unit: \"%\",
     warn: 0.05, crit: 1}
  - {id: latency, namespace: AWS/ApplicationELB, metric: TargetResponseTime, stat: p99,
     dimensions: {LoadBalancer: app/web/1}}
  - {id: latency_ms, expression: \"1000 * latency\", unit: ms, warn: 100, crit: 200}
  - {id: rps, expression: \"requests / 60\", direction: below, warn: 50}
  - {id: tokens, namespace: AWS/Bedrock, metric: InputTokenCount, stat: Sum}
  - {id: cost, expression: \"60 * 3 * tokens / 1000000\", warn: 0.001}
",
    );
    assert!(cannot_keep(&rb).is_empty(), "{:?}", cannot_keep(&rb));
    for seed in [1, 42, 77] {
        let b = breaches(&rb, seed);
        assert!(b.is_empty(), "seed {seed}: {b:?}");
    }
    assert!(
        reason(&rb, "failures").contains("scaled down so `error_pct` stays under"),
        "{}",
        reason(&rb, "failures")
    );
    assert!(reason(&rb, "latency").contains("scaled down so `latency_ms`"));
    assert!(reason(&rb, "requests").contains("scaled up so `rps` stays over"));
    assert!(reason(&rb, "tokens").contains("scaled down so `cost`"));
}

#[test]
fn quotas_without_hints_keep_their_headroom() {
    let rb = parse(
        "event: {name: t, starts_at: 2026-12-01T17:00:00Z}
metrics:
  - {id: concurrency, namespace: AWS/Lambda, metric: ClaimedAccountConcurrency, stat: Maximum}
  - {id: invocations, namespace: AWS/Bedrock, metric: Invocations, stat: Sum,
     dimensions: {ModelId: m}, direction: below, warn: 100}
  - {id: input, namespace: AWS/Bedrock, metric: InputTokenCount, stat: Sum,
     dimensions: {ModelId: m}}
  - {id: output, namespace: AWS/Bedrock, metric: OutputTokenCount, stat: Sum,
     dimensions: {ModelId: m}}
  - {id: quota_tpm, expression: \"input + 5 * output\"}
quotas:
  - {service: lambda, code: L-B99A9384, usage_metric: concurrency, warn_below: 50%,
     crit_below: 20%}
  - {service: bedrock, code: L-4A6BFAB1, usage_metric: invocations}
  - {service: bedrock, code: L-F4DDD3EB, usage_metric: quota_tpm, warn_below: 70%,
     crit_below: 40%}
  - {service: ec2, code: L-1216C47A, warn_below: 60%, crit_below: 30%}
  - {service: ec2, code: L-34B43A08, warn_below: 85%, crit_below: 50%}
",
    );
    for seed in [1, 42, 3] {
        assert!(breaches(&rb, seed).is_empty(), "{:?}", breaches(&rb, seed));
        // Used, not idle: at the peak each quota is a good part used.
        let s = sim(&rb, seed);
        for (q, quota) in rb.quotas.iter().enumerate() {
            let used = s.usage_at(q, at(150).timestamp()).unwrap();
            let headroom = 100.0 - used / s.quotas[q].value * 100.0;
            let wb = quota.warn_below.0;
            assert!(
                headroom > wb && headroom < wb + 45.0,
                "{}: headroom {headroom} (warn_below {wb})",
                quota.code
            );
        }
    }
}

#[test]
fn guesses_name_each_raw_metric_without_hints() {
    let demo = bundled()
        .into_iter()
        .find(|(p, _)| p.ends_with("demo.yaml"))
        .unwrap()
        .1;
    assert_eq!(guesses(&demo), Vec::new(), "every demo metric has hints");
    let bare = strip_hints(&demo);
    let g = guesses(&bare);
    let raw: Vec<usize> = (0..bare.metrics.len())
        .filter(|&i| bare.metrics[i].expression.is_none())
        .collect();
    assert_eq!(g.iter().map(|g| g.metric).collect::<Vec<_>>(), raw);
    assert!(g.iter().all(|g| !g.reason.is_empty()));
    assert!(
        reason(&bare, "alb_5xx").starts_with("0.1 % of `requests` (same LoadBalancer)"),
        "{}",
        reason(&bare, "alb_5xx")
    );
    // The same runbook gives the same guesses; the seed plays no part in them.
    assert_eq!(guesses(&bare), g);
    assert_eq!(
        series(&sim(&bare, 5), &bare, 0),
        series(&sim(&bare, 5), &bare, 0)
    );
}

#[test]
fn contradictions_are_reported_not_hidden() {
    let rb = runbook_with(
        "
  - {id: latency, namespace: Shop, metric: CheckoutLatency, stat: p99, direction: below,
     warn: 5}
  - {id: latency_ms, expression: \"1000 * latency\", warn: 100}
  - {id: never, namespace: Shop, metric: Retries, stat: Sum, warn: 0}
",
    );
    let reported: Vec<String> = cannot_keep(&rb)
        .into_iter()
        .map(|g| rb.metrics[g.metric].id.clone())
        .collect();
    assert_eq!(reported, ["never", "latency_ms"]);
    // Everything else is still kept: the raw latency stays over its warn.
    let s = sim(&rb, 1);
    assert!(series(&s, &rb, 0).iter().all(|(_, v)| *v > 5.0));
}

// ---- the bundled runbooks, stripped of their hints ----

#[test]
fn bundled_runbooks_without_hints_rehearse_an_hour_without_a_breach() {
    for (path, rb) in bundled() {
        let bare = strip_hints(&rb);
        assert!(
            cannot_keep(&bare).is_empty(),
            "{}: {:?}",
            path.display(),
            cannot_keep(&bare)
        );
        for seed in [1, 42, 2026] {
            let b = breaches(&bare, seed);
            assert!(
                b.is_empty(),
                "{} seed {seed}: {} breaches, first {:?}",
                path.display(),
                b.len(),
                &b[..b.len().min(8)]
            );
        }
    }
}
