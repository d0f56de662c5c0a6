//! Semantic checks on a runbook that deserialized fine: references between sections, ids,
//! orderings and AWS naming rules. Every problem is reported (not just the first), each located
//! at the YAML node it is about, in file order, so one `tminus check` run lists all the fixes.

use std::collections::{HashMap, HashSet};

use super::expr::{Expr, find_cycle, is_insights_query, references};
use super::fault::Target;
use super::model::{Direction, Metric, Runbook};
use crate::diag::{Diagnostic, closest};
use crate::positions::Positions;
use crate::time::{Span, TOffset};

/// Offsets further than this from T-0 are surely typos ("T-30d" meant "T-30m" is fine; a year
/// and more is not an event).
const MAX_OFFSET_SECS: i64 = 366 * 86_400;

/// The most of each list a runbook may hold: far above any real event (the shipped runbooks
/// hold tens), low enough that loading, validating and drawing stay instant.
pub const MAX_METRICS: usize = 2_000;
pub const MAX_QUOTAS: usize = 200;
pub const MAX_PHASES: usize = 100;
pub const MAX_CHECKLISTS: usize = 100;
pub const MAX_ITEMS: usize = 1_000;
pub const MAX_LEVELS: usize = 20;
/// DescribeAlarms takes at most 100 names.
pub const MAX_ALARM_NAMES: usize = 100;
pub const MAX_INJECTS: usize = 200;
pub const MAX_ZONES: usize = 12;
pub const MAX_ROLES: usize = 100;
/// CloudWatch's own limit.
pub const MAX_DIMENSIONS: usize = 30;
pub const MAX_COMMAND_WORDS: usize = 100;
/// Names and titles shown on screen (event, phases, checklists, items, metrics, quotas,
/// escalation levels).
pub const MAX_NAME_CHARS: usize = 200;
/// CloudWatch's limit on a metric math expression or Metrics Insights query.
pub const MAX_EXPRESSION_CHARS: usize = 2_048;
/// Item ids are written to the journal with every tick (role ids with every vote).
pub const MAX_ITEM_ID_CHARS: usize = 64;
/// Bounds on how often a status update is due (`phases[].updates_every`) and on how long an
/// acknowledgement holds (`escalation.ack_expires`): a minute to a day.
pub const MIN_REMINDER_SECS: i64 = 60;
pub const MAX_REMINDER_SECS: i64 = 86_400;
/// Problems reported for one file: past these, fixing the first ones comes first.
pub const MAX_PROBLEMS: usize = 100;
/// Work on "did you mean" suggestions for one file, in characters compared (see
/// `closest_within`): hundreds of suggestions among tens of names, a fraction of a second at
/// worst.
const SUGGESTION_BUDGET: usize = 2_000_000;

const BASIC_STATS: &[&str] = &["Average", "Sum", "Minimum", "Maximum", "SampleCount", "IQM"];

/// Runs every check; an empty result means the runbook is valid.
pub fn validate(label: &str, text: &str, rb: &Runbook) -> Vec<Diagnostic> {
    let mut v = Checker::new(label, text);
    // Past a count limit nothing else is checked: it would only cost time.
    if !v.counts(rb) {
        return v.finish();
    }
    v.lengths(rb);
    v.event(rb);
    v.aws(rb);
    v.phases(rb);
    v.metrics(rb);
    v.quotas(rb);
    v.checklists(rb);
    v.escalation(rb);
    v.rehearsal(rb);
    v.plan(rb);
    v.polling(rb);
    v.roles(rb);
    v.go_no_go(rb);
    v.repeated_keys();
    v.finish()
}

/// What a simulated session (demo, `run --simulate`, rehearse) cannot play: expressions over
/// the whole window or live AWS (RATE, SEARCH, SERVICE_QUOTA...) and Metrics Insights queries.
/// Errors for those sessions, which refuse such a runbook rather than show a metric with no
/// data; `tminus check` prints them as warnings.
pub fn simulation_problems(label: &str, text: &str, rb: &Runbook) -> Vec<Diagnostic> {
    let mut v = Checker::new(label, text);
    for (i, m) in rb.metrics.iter().enumerate() {
        let Some(expr) = &m.expression else { continue };
        let path = format!("metrics[{i}].expression");
        if is_insights_query(expr) {
            v.err(
                &path,
                format!("the simulator cannot run the Metrics Insights query of `{}`", m.id),
                "use it live (tminus run); for demo and rehearsal, write the metric as namespace/metric or metric math",
            );
            continue;
        }
        if let Some((func, at)) = Expr::parse(expr).ok().and_then(|e| e.unsimulated()) {
            v.err_in_expression(
                &path,
                expr,
                at,
                format!(
                    "the simulator cannot evaluate {} in `{}`: it needs {}",
                    func.name(),
                    m.id,
                    match func {
                        crate::runbook::expr::Func::Search
                        | crate::runbook::expr::Func::ServiceQuota
                        | crate::runbook::expr::Func::InsightRuleMetric
                        | crate::runbook::expr::Func::Lambda
                        | crate::runbook::expr::Func::AnomalyDetectionBand
                        | crate::runbook::expr::Func::DbPerfInsights
                        | crate::runbook::expr::Func::Metrics
                        | crate::runbook::expr::Func::MetricCount => "live AWS",
                        _ => "the whole time window, not one bucket",
                    }
                ),
                "the simulator evaluates arithmetic, comparisons, ABS, CEIL, FLOOR, LOG, LOG10, FILL(x, number), IF, SUM/AVG/MIN/MAX/STDDEV over [arrays], PERIOD and the time functions".into(),
            );
        }
    }
    v.finish()
}

/// Warnings: a runbook that is valid but will mislead on real data. Metric math over a counter
/// CloudWatch publishes only when non-zero has no datapoint whenever the counter had none,
/// unless the counter is wrapped in FILL.
pub fn advice(label: &str, text: &str, rb: &Runbook) -> Vec<Diagnostic> {
    let mut v = Checker::new(label, text);
    for (i, m) in rb.metrics.iter().enumerate() {
        let Some(expr) = m.expression.as_deref().filter(|e| !is_insights_query(e)) else {
            continue;
        };
        let Ok(parsed) = Expr::parse(expr) else {
            continue;
        };
        if parsed.refs().len() < 2 {
            continue;
        }
        for id in parsed.unfilled_refs() {
            let Some(counter) = rb.metrics.iter().find(|c| c.id == id) else {
                continue;
            };
            if !crate::signal::is_sparse_counter(counter) {
                continue;
            }
            v.err(
                &format!("metrics[{i}].expression"),
                format!(
                    "`{id}` ({}) is published only when non-zero: `{}` has no datapoint whenever it was zero",
                    counter.metric.as_deref().unwrap_or(""),
                    m.id
                ),
                format!("write FILL({id}, 0) in the expression, as CloudWatch documents for sparse metrics"),
            );
        }
    }
    v.finish().into_iter().map(Diagnostic::warning).collect()
}

struct Checker<'a> {
    label: &'a str,
    text: &'a str,
    pos: Positions,
    out: Vec<Diagnostic>,
    /// Work left for "did you mean" suggestions.
    suggestions: usize,
}

impl<'a> Checker<'a> {
    fn new(label: &'a str, text: &'a str) -> Self {
        Checker {
            label,
            text,
            pos: Positions::build(text),
            out: Vec::new(),
            suggestions: SUGGESTION_BUDGET,
        }
    }

    /// Every problem in file order; the sort is stable so problems on one node keep the order
    /// they were found in. At most `MAX_PROBLEMS`, then one line saying more were left out.
    fn finish(mut self) -> Vec<Diagnostic> {
        self.out.sort_by_key(|d| (d.line, d.column));
        if self.out.len() > MAX_PROBLEMS {
            let more = self.out.len() - MAX_PROBLEMS;
            self.out.truncate(MAX_PROBLEMS);
            let (line, column) = self.out.last().map_or((1, 1), |d| (d.line, d.column));
            self.out.push(
                Diagnostic::new(
                    self.label,
                    line,
                    column,
                    format!("{more} more problems not listed"),
                )
                .with_hint("fix these first, then check again"),
            );
        }
        self.out
    }

    /// Enough problems found: loops over long lists stop early.
    fn full(&self) -> bool {
        self.out.len() > MAX_PROBLEMS
    }

    /// `closest`, within this file's budget of suggestions.
    fn suggest<'b>(
        &mut self,
        word: &str,
        candidates: impl IntoIterator<Item = &'b str>,
    ) -> Option<&'b str> {
        crate::diag::closest_within(word, candidates, &mut self.suggestions)
    }

    /// Every list within its limit; false (with each excess reported at its list) if not.
    fn counts(&mut self, rb: &Runbook) -> bool {
        let before = self.out.len();
        let items: usize = rb.checklists.iter().map(|c| c.items.len()).sum();
        let lists = [
            ("metrics", rb.metrics.len(), MAX_METRICS, "metrics"),
            ("quotas", rb.quotas.len(), MAX_QUOTAS, "quotas"),
            ("phases", rb.phases.len(), MAX_PHASES, "phases"),
            (
                "checklists",
                rb.checklists.len(),
                MAX_CHECKLISTS,
                "checklists",
            ),
            ("checklists", items, MAX_ITEMS, "checklist items in all"),
            (
                "escalation.levels",
                rb.escalation.levels.len(),
                MAX_LEVELS,
                "escalation levels",
            ),
            (
                "alarms.names",
                rb.alarms.names.len(),
                MAX_ALARM_NAMES,
                "alarm names",
            ),
            (
                "rehearsal.inject",
                rb.rehearsal.as_ref().map_or(0, |r| r.inject.len()),
                MAX_INJECTS,
                "injected faults",
            ),
            ("event.zones", rb.event.zones.len(), MAX_ZONES, "time zones"),
            ("roles", rb.roles.len(), MAX_ROLES, "roles"),
            (
                "escalation.notify.command",
                rb.escalation.notify.as_ref().map_or(0, |n| n.command.len()),
                MAX_COMMAND_WORDS,
                "words in the notify command",
            ),
        ];
        for (path, n, max, what) in lists {
            if n > max {
                self.err(
                    path,
                    format!("{n} {what}: at most {max} are allowed"),
                    "split the event into several runbooks",
                );
            }
        }
        for (i, m) in rb.metrics.iter().enumerate() {
            if m.dimensions.len() > MAX_DIMENSIONS {
                self.err(
                    &format!("metrics[{i}].dimensions"),
                    format!(
                        "{} dimensions: CloudWatch allows at most {MAX_DIMENSIONS}",
                        m.dimensions.len()
                    ),
                    "",
                );
            }
        }
        self.out.len() == before
    }

    /// A string value of at most `max` characters.
    fn max_chars(&mut self, path: &str, value: &str, max: usize, what: &str) {
        let n = value.chars().count();
        if n > max {
            self.err(
                path,
                format!("{what} is {n} characters long: at most {max} are allowed"),
                "",
            );
        }
    }

    /// Names and titles short enough to show, ids short enough to journal, and AWS names
    /// within AWS's own limits.
    fn lengths(&mut self, rb: &Runbook) {
        const NAME: usize = MAX_NAME_CHARS;
        self.max_chars("event.name", &rb.event.name, NAME, "the event name");
        for (i, p) in rb.phases.iter().enumerate() {
            self.max_chars(&format!("phases[{i}].name"), &p.name, NAME, "a phase name");
        }
        for (i, m) in rb.metrics.iter().enumerate() {
            let path = format!("metrics[{i}]");
            let texts = [
                ("title", m.title.as_deref(), NAME, "a metric title"),
                ("unit", m.unit.as_deref(), 32, "a unit"),
                ("namespace", m.namespace.as_deref(), 255, "a namespace"),
                ("metric", m.metric.as_deref(), 255, "a metric name"),
                ("stat", m.stat.as_deref(), 64, "a statistic"),
                ("region", m.region.as_deref(), 64, "a region"),
                (
                    "expression",
                    m.expression.as_deref(),
                    MAX_EXPRESSION_CHARS,
                    "an expression",
                ),
            ];
            for (key, value, max, what) in texts {
                if let Some(v) = value {
                    self.max_chars(&format!("{path}.{key}"), v, max, what);
                }
            }
            for (k, v) in &m.dimensions {
                self.max_chars(
                    &format!("{path}.dimensions.{k}"),
                    k,
                    255,
                    "a dimension name",
                );
                self.max_chars(
                    &format!("{path}.dimensions.{k}"),
                    v,
                    1024,
                    "a dimension value",
                );
            }
        }
        for (i, q) in rb.quotas.iter().enumerate() {
            let path = format!("quotas[{i}]");
            if let Some(t) = &q.title {
                self.max_chars(&format!("{path}.title"), t, NAME, "a quota title");
            }
            self.max_chars(&format!("{path}.service"), &q.service, 64, "a service code");
            self.max_chars(&format!("{path}.code"), &q.code, 64, "a quota code");
        }
        for (c, list) in rb.checklists.iter().enumerate() {
            let path = format!("checklists[{c}]");
            self.max_chars(
                &format!("{path}.name"),
                &list.name,
                NAME,
                "a checklist name",
            );
            for (i, item) in list.items.iter().enumerate() {
                let ipath = format!("{path}.items[{i}]");
                self.max_chars(
                    &format!("{ipath}.id"),
                    &item.id,
                    MAX_ITEM_ID_CHARS,
                    "an item id",
                );
                self.max_chars(
                    &format!("{ipath}.title"),
                    &item.title,
                    NAME,
                    "an item title",
                );
                if let Some(o) = &item.owner {
                    self.max_chars(&format!("{ipath}.owner"), o, NAME, "an owner");
                }
                if let Some(l) = &item.link {
                    self.max_chars(&format!("{ipath}.link"), l, 2_048, "a link");
                }
                if let Some(v) = &item.verify {
                    self.max_chars(&format!("{ipath}.verify"), v, 512, "a verify rule");
                }
            }
        }
        for (i, l) in rb.escalation.levels.iter().enumerate() {
            let path = format!("escalation.levels[{i}]");
            self.max_chars(&format!("{path}.who"), &l.who, NAME, "who");
            self.max_chars(&format!("{path}.contact"), &l.contact, NAME, "a contact");
        }
        for (i, r) in rb.roles.iter().enumerate() {
            let path = format!("roles[{i}]");
            self.max_chars(&format!("{path}.id"), &r.id, MAX_ITEM_ID_CHARS, "a role id");
            self.max_chars(&format!("{path}.name"), &r.name, NAME, "a role name");
            if let Some(w) = &r.who {
                self.max_chars(&format!("{path}.who"), w, NAME, "who");
            }
            if let Some(c) = &r.contact {
                self.max_chars(&format!("{path}.contact"), c, NAME, "a contact");
            }
        }
        for (i, n) in rb.alarms.names.iter().enumerate() {
            self.max_chars(&format!("alarms.names[{i}]"), n, 255, "an alarm name");
        }
        if let Some(p) = &rb.alarms.prefix {
            self.max_chars("alarms.prefix", p, 255, "an alarm prefix");
        }
    }

    /// A problem with the value at `path`.
    fn err(&mut self, path: &str, message: impl Into<String>, hint: impl Into<String>) {
        let (line, col) = self.pos.value(path);
        self.out
            .push(Diagnostic::new(self.label, line, col, message).with_hint(hint));
    }

    /// Keys given twice in a map serde accepts silently, keeping the last (dimensions): located
    /// at the second. A struct's repeated field never gets here; serde refuses it first.
    fn repeated_keys(&mut self) {
        let found: Vec<Diagnostic> = self
            .pos
            .repeated_keys()
            .into_iter()
            .map(|(mapping, key, (line, col))| {
                let (path, within) = if mapping.is_empty() {
                    (key.to_string(), String::new())
                } else {
                    (format!("{mapping}.{key}"), format!(" in {mapping}"))
                };
                let first = self.pos.key(&path).0;
                let message = format!("duplicate key `{key}`{within}");
                Diagnostic::new(self.label, line, col, message).with_hint(format!(
                    "first given on line {first}; only the last would count: give each key once"
                ))
            })
            .collect();
        self.out.extend(found);
    }

    fn line_of(&self, path: &str) -> usize {
        self.pos.value(path).0
    }

    fn offset(&mut self, path: &str, t: TOffset) {
        if t.secs().abs() > MAX_OFFSET_SECS {
            self.err(
                path,
                format!("{t} is more than 366 days from T-0"),
                "offsets are relative to event.starts_at; check the unit (m is minutes, d is days)",
            );
        }
    }

    fn non_empty(&mut self, path: &str, value: &str, what: &str) {
        if value.trim().is_empty() {
            self.err(path, format!("{what} is empty"), "");
        }
    }

    fn region(&mut self, path: &str, region: Option<&str>) {
        if let Some(r) = region
            && !is_region(r)
        {
            self.err(
                path,
                format!("`{r}` is not an AWS region name"),
                "write a region code such as us-east-1, eu-west-2, ap-southeast-1",
            );
        }
    }

    fn event(&mut self, rb: &Runbook) {
        let e = &rb.event;
        self.non_empty("event.name", &e.name, "event name");
        if let Some(end) = e.ends_at {
            self.offset("event.ends_at", end);
            if end.secs() <= 0 {
                self.err(
                    "event.ends_at",
                    format!("ends_at {end} is not after T-0"),
                    "ends_at is when the war room's event ends, e.g. T+4h",
                );
            }
        }
        for (i, z) in e.zones.iter().enumerate() {
            if let Err(hint) = check_zone(z) {
                self.err(
                    &format!("event.zones[{i}]"),
                    format!("unknown time zone `{z}`"),
                    hint,
                );
            }
        }
    }

    fn aws(&mut self, rb: &Runbook) {
        self.region("aws.region", rb.aws.region.as_deref());
        if let Some(p) = &rb.aws.profile {
            self.non_empty("aws.profile", p, "aws.profile");
        }
    }

    fn phases(&mut self, rb: &Runbook) {
        let mut seen: HashMap<&str, usize> = HashMap::new();
        for (i, p) in rb.phases.iter().enumerate() {
            let path = format!("phases[{i}]");
            self.non_empty(&format!("{path}.name"), &p.name, "phase name");
            if let Some(first) = seen.get(p.name.as_str()) {
                let line = self.line_of(&format!("phases[{first}].name"));
                self.err(
                    &format!("{path}.name"),
                    format!("duplicate phase name `{}`", p.name),
                    format!("first defined on line {line}; phase names must be unique"),
                );
            } else {
                seen.insert(&p.name, i);
            }
            self.offset(&format!("{path}.from"), p.from);
            if let Some(every) = p.updates_every {
                self.reminder(
                    &format!("{path}.updates_every"),
                    "updates_every",
                    every,
                    "how often a status update is due during this phase, e.g. updates_every: 15m",
                );
            }
            if i > 0 {
                let prev = &rb.phases[i - 1];
                if p.from <= prev.from {
                    self.err(
                        &format!("{path}.from"),
                        format!(
                            "phase `{}` starts at {}, not after the phase before it (`{}` at {})",
                            p.name, p.from, prev.name, prev.from
                        ),
                        "list phases in time order, each `from` later than the one before",
                    );
                }
            }
        }
    }

    fn metrics(&mut self, rb: &Runbook) {
        let ids: Vec<&str> = rb.metrics.iter().map(|m| m.id.as_str()).collect();
        let known: HashSet<&str> = ids.iter().copied().collect();
        let mut seen: HashMap<&str, usize> = HashMap::new();
        for (i, m) in rb.metrics.iter().enumerate() {
            if self.full() {
                break;
            }
            let path = format!("metrics[{i}]");
            if let Err((msg, hint)) = check_metric_id(&m.id) {
                self.err(&format!("{path}.id"), msg, hint);
            }
            if let Some(first) = seen.get(m.id.as_str()) {
                let line = self.line_of(&format!("metrics[{first}].id"));
                self.err(
                    &format!("{path}.id"),
                    format!("duplicate metric id `{}`", m.id),
                    format!("first defined on line {line}; metric ids must be unique"),
                );
            } else {
                seen.insert(&m.id, i);
            }
            self.metric_source(&path, m);
            self.metric_thresholds(&path, m);
            self.region(&format!("{path}.region"), m.region.as_deref());
            if let Some(sim) = &m.sim {
                for (key, v) in [("base", sim.base), ("peak", sim.peak), ("noise", sim.noise)] {
                    if !v.is_finite() || v < 0.0 {
                        self.err(
                            &format!("{path}.sim.{key}"),
                            format!("sim.{key} must be a finite number ≥ 0"),
                            "",
                        );
                    }
                }
            }
            if let Some(expr) = &m.expression {
                self.expression(&format!("{path}.expression"), m, expr, &ids, &known);
            }
        }
        self.expression_cycles(rb);
    }

    fn metric_source(&mut self, path: &str, m: &Metric) {
        let query = m.namespace.is_some() || m.metric.is_some();
        match (&m.expression, query) {
            (Some(_), true) => self.err(
                &format!("{path}.expression"),
                format!("metric `{}` has both an expression and namespace/metric", m.id),
                "a metric is either a CloudWatch metric (namespace + metric) or metric math (expression); split it into two ids",
            ),
            (None, false) => self.err(
                path,
                format!("metric `{}` has neither namespace/metric nor expression", m.id),
                "add `namespace:` and `metric:` (e.g. AWS/ApplicationELB, RequestCount), or `expression:` over other metric ids",
            ),
            (None, true) => {
                if m.namespace.is_none() {
                    self.err(
                        &format!("{path}.metric"),
                        format!("metric `{}` has `metric` but no `namespace`", m.id),
                        "add the namespace, e.g. namespace: AWS/ApplicationELB",
                    );
                }
                if m.metric.is_none() {
                    self.err(
                        &format!("{path}.namespace"),
                        format!("metric `{}` has `namespace` but no `metric`", m.id),
                        "add the CloudWatch metric name, e.g. metric: RequestCount",
                    );
                }
                if let Some(ns) = &m.namespace {
                    self.non_empty(&format!("{path}.namespace"), ns, "namespace");
                }
                if let Some(name) = &m.metric {
                    self.non_empty(&format!("{path}.metric"), name, "metric name");
                }
            }
            (Some(_), false) => {
                if !m.dimensions.is_empty() {
                    self.err(
                        &format!("{path}.dimensions"),
                        "dimensions have no effect on an expression",
                        "put dimensions on the metrics the expression uses",
                    );
                }
                if m.stat.is_some() {
                    self.err(
                        &format!("{path}.stat"),
                        "stat has no effect on an expression",
                        "put the statistic on the metrics the expression uses",
                    );
                }
            }
        }
        if let Some(stat) = &m.stat
            && let Err(hint) = check_stat(stat)
        {
            self.err(
                &format!("{path}.stat"),
                format!("unknown statistic `{stat}`"),
                hint,
            );
        }
        if !valid_period(m.period) {
            self.err(
                &format!("{path}.period"),
                format!("period {} is not a CloudWatch period", m.period),
                "write 1, 5, 10, 20 or 30 (high-resolution metrics) or a multiple of 60 seconds",
            );
        }
    }

    fn metric_thresholds(&mut self, path: &str, m: &Metric) {
        for (key, v) in [("warn", m.warn), ("crit", m.crit)] {
            if let Some(v) = v
                && !v.is_finite()
            {
                self.err(
                    &format!("{path}.{key}"),
                    format!("{key} must be a finite number"),
                    "",
                );
            }
        }
        if let (Some(w), Some(c)) = (m.warn, m.crit)
            && w.is_finite()
            && c.is_finite()
        {
            match m.direction {
                Direction::Above if w >= c => self.err(
                    &format!("{path}.crit"),
                    format!("crit {c} must be above warn {w} (higher is worse for this metric)"),
                    "swap them, or add `direction: below` if lower values are the bad ones",
                ),
                Direction::Below if w <= c => self.err(
                    &format!("{path}.crit"),
                    format!("crit {c} must be below warn {w} (direction: below)"),
                    "with direction: below, lower is worse, so crit is the smaller number",
                ),
                _ => {}
            }
        }
    }

    fn expression(
        &mut self,
        path: &str,
        m: &Metric,
        expr: &str,
        ids: &[&str],
        known: &HashSet<&str>,
    ) {
        if is_insights_query(expr) {
            return;
        }
        if expr.trim().is_empty() {
            self.err(
                path,
                "expression is empty",
                "write metric math over other ids, e.g. \"100 * errors / requests\"",
            );
            return;
        }
        let parsed = match Expr::parse(expr) {
            Ok(e) => e,
            Err(e) => {
                self.err_in_expression(path, expr, e.at, e.message, e.hint);
                return;
            }
        };
        for id in parsed.refs() {
            if id == m.id {
                self.err(
                    path,
                    format!("expression of `{}` refers to itself", m.id),
                    "an expression can only use other metric ids",
                );
            } else if !known.contains(id) {
                let hint = match self.suggest(id, ids.iter().copied()) {
                    Some(c) => format!("did you mean `{c}`?"),
                    None if ids.len() <= 12 => format!("known metric ids: {}", ids.join(", ")),
                    None => "define it under `metrics:` (it can be `hidden: true`)".into(),
                };
                self.err(
                    path,
                    format!("expression refers to unknown metric `{id}`"),
                    hint,
                );
            }
        }
    }

    /// A problem at byte `offset` of the expression at `path`: located at the character when
    /// the YAML value is the expression as written on one line, else at the value.
    fn err_in_expression(
        &mut self,
        path: &str,
        expr: &str,
        offset: usize,
        message: String,
        hint: String,
    ) {
        let (line, col) = self.pos.value(path);
        let column = expression_column(self.text, line, col, expr, offset).unwrap_or(col);
        let message = format!("{message} (column {} of the expression)", offset + 1);
        self.out
            .push(Diagnostic::new(self.label, line, column, message).with_hint(hint));
    }

    /// Expressions that depend on each other in a loop can never be computed. Each cycle is
    /// reported once, at the first of its members in the file.
    fn expression_cycles(&mut self, rb: &Runbook) {
        let index: HashMap<&str, usize> = rb
            .metrics
            .iter()
            .enumerate()
            .map(|(i, m)| (m.id.as_str(), i))
            .collect();
        let deps: Vec<Vec<usize>> = rb
            .metrics
            .iter()
            .enumerate()
            .map(|(i, m)| {
                let words = m.expression.as_deref().map(references).unwrap_or_default();
                let mut d: Vec<usize> = words
                    .iter()
                    .filter_map(|w| index.get(w.as_str()).copied())
                    .filter(|&j| j != i) // self references are reported on their own
                    .collect();
                d.sort_unstable();
                d.dedup();
                d
            })
            .collect();
        let mut in_reported_cycle = vec![false; deps.len()];
        for start in 0..deps.len() {
            if in_reported_cycle[start] {
                continue;
            }
            if let Some(cycle) = find_cycle(start, &deps) {
                for &c in &cycle {
                    in_reported_cycle[c] = true;
                }
                let names: Vec<&str> = cycle
                    .iter()
                    .chain(std::iter::once(&start))
                    .map(|&i| rb.metrics[i].id.as_str())
                    .collect();
                self.err(
                    &format!("metrics[{start}].expression"),
                    format!("expressions form a cycle: {}", names.join(" -> ")),
                    "break the loop: one of these must be a CloudWatch metric, not an expression",
                );
            }
        }
    }

    /// `polling:`: a window that opens before it closes, and a slow rate that is a rate.
    fn polling(&mut self, rb: &Runbook) {
        let Some(p) = &rb.polling else { return };
        let (from, until) = crate::signal::near_window(rb);
        if from >= until {
            self.err(
                "polling.near_until",
                format!(
                    "polling.near_until {} is not after near_from {}",
                    crate::time::TOffset(until),
                    crate::time::TOffset(from)
                ),
                "metrics are read at their own period from near_from to near_until, e.g. T-1h to T+4h",
            );
        }
        if let Some(f) = p.far_every
            && f.secs() < crate::signal::MIN_POLL_SECS
        {
            self.err(
                "polling.far_every",
                format!("far_every {f} is faster than tminus reads (every 10s at most)"),
                "far from T-0 a read every few minutes is plenty, e.g. far_every: 5m",
            );
        }
    }

    /// `plan:` and the lead times `tminus plan` uses.
    fn plan(&mut self, rb: &Runbook) {
        let history = crate::limits::MIN_HISTORY_SECS..=crate::limits::MAX_HISTORY_SECS;
        let plan = rb.plan.clone().unwrap_or_default();
        if let Some(h) = plan.history
            && !history.contains(&h.secs())
        {
            self.err(
                "plan.history",
                format!("history {h} is outside 1h to 90d"),
                "CloudWatch keeps 1-minute data 15 days and 5-minute data 63: 14d covers two weekly peaks",
            );
        }
        let lead_times = std::iter::once(("plan.lead_time".to_string(), plan.lead_time)).chain(
            rb.quotas
                .iter()
                .enumerate()
                .map(|(i, q)| (format!("quotas[{i}].lead_time"), q.lead_time)),
        );
        for (path, lead) in lead_times {
            if let Some(l) = lead
                && l.secs() > 366 * 86_400
            {
                self.err(
                    &path,
                    format!("lead time {l} is more than a year"),
                    "how long before T-0 to ask AWS, e.g. 3w: large increases take days, support cases longer",
                );
            }
        }
    }

    fn quotas(&mut self, rb: &Runbook) {
        let ids: Vec<&str> = rb.metrics.iter().map(|m| m.id.as_str()).collect();
        let mut seen: HashMap<(&str, &str, Option<&str>), usize> = HashMap::new();
        for (i, q) in rb.quotas.iter().enumerate() {
            if self.full() {
                break;
            }
            let path = format!("quotas[{i}]");
            if !is_service_code(&q.service) {
                self.err(
                    &format!("{path}.service"),
                    format!("`{}` is not a Service Quotas service code", q.service),
                    "service codes are short names such as lambda, ec2, dynamodb, elasticloadbalancing (aws service-quotas list-services)",
                );
            }
            if let Err(hint) = check_quota_code(&q.code) {
                self.err(
                    &format!("{path}.code"),
                    format!("`{}` is not a quota code", q.code),
                    hint,
                );
            }
            let key = (q.service.as_str(), q.code.as_str(), q.region.as_deref());
            if let Some(first) = seen.get(&key) {
                let line = self.line_of(&format!("quotas[{first}]"));
                self.err(
                    &path,
                    format!("duplicate quota {} {}", q.service, q.code),
                    format!("first listed on line {line}"),
                );
            } else {
                seen.insert(key, i);
            }
            if q.crit_below >= q.warn_below {
                self.err(
                    &format!("{path}.crit_below"),
                    format!(
                        "crit_below {}% must be lower than warn_below {}%",
                        q.crit_below.0, q.warn_below.0
                    ),
                    "headroom falls over time: warn first (e.g. warn_below: 30%), then crit (crit_below: 10%)",
                );
            }
            if let Some(u) = &q.usage_metric
                && !ids.contains(&u.as_str())
            {
                let hint = match self.suggest(u, ids.iter().copied()) {
                    Some(c) => format!("did you mean `{c}`?"),
                    None => "usage_metric names a metric id defined under `metrics:`".into(),
                };
                self.err(
                    &format!("{path}.usage_metric"),
                    format!("usage_metric refers to unknown metric `{u}`"),
                    hint,
                );
            }
            self.region(&format!("{path}.region"), q.region.as_deref());
            if let Some(sim) = &q.sim {
                if !(sim.value.is_finite() && sim.value > 0.0) {
                    self.err(
                        &format!("{path}.sim.value"),
                        "sim.value (the quota) must be a number above 0",
                        "",
                    );
                }
                for (key, v) in [("base", sim.base), ("peak", sim.peak)] {
                    if !v.is_finite() || v < 0.0 {
                        self.err(
                            &format!("{path}.sim.{key}"),
                            format!("sim.{key} must be a finite number ≥ 0"),
                            "",
                        );
                    }
                }
            }
        }
    }

    fn checklists(&mut self, rb: &Runbook) {
        let phases: Vec<&str> = rb.phases.iter().map(|p| p.name.as_str()).collect();
        let ids: Vec<&str> = rb.metrics.iter().map(|m| m.id.as_str()).collect();
        let mut seen: HashMap<&str, String> = HashMap::new();
        for (c, list) in rb.checklists.iter().enumerate() {
            let path = format!("checklists[{c}]");
            self.non_empty(&format!("{path}.name"), &list.name, "checklist name");
            if let Some(ph) = &list.phase
                && !phases.contains(&ph.as_str())
            {
                let hint = match self.suggest(ph, phases.iter().copied()) {
                    Some(p) => format!("did you mean `{p}`?"),
                    None if phases.is_empty() => "no phases are defined under `phases:`".into(),
                    None => format!("phases: {}", phases.join(", ")),
                };
                self.err(
                    &format!("{path}.phase"),
                    format!("checklist refers to unknown phase `{ph}`"),
                    hint,
                );
            }
            for (i, item) in list.items.iter().enumerate() {
                if self.full() {
                    break;
                }
                let ipath = format!("{path}.items[{i}]");
                if let Err((msg, hint)) = check_item_id(&item.id) {
                    self.err(&format!("{ipath}.id"), msg, hint);
                }
                if let Some(first) = seen.get(item.id.as_str()) {
                    let line = self.line_of(first);
                    self.err(
                        &format!("{ipath}.id"),
                        format!("duplicate item id `{}`", item.id),
                        format!(
                            "first defined on line {line}; item ids must be unique across all checklists (the journal refers to them)"
                        ),
                    );
                } else {
                    seen.insert(&item.id, format!("{ipath}.id"));
                }
                self.non_empty(&format!("{ipath}.title"), &item.title, "item title");
                if let Some(due) = item.due {
                    self.offset(&format!("{ipath}.due"), due);
                }
                if let Some(v) = &item.verify {
                    self.verify(&format!("{ipath}.verify"), v, &ids);
                }
            }
        }
    }

    fn verify(&mut self, path: &str, v: &str, ids: &[&str]) {
        match crate::app::update::parse_verify(v) {
            None => self.err(
                path,
                format!("cannot read verify `{v}`"),
                "write `<metric id> <op> <number>` with op one of >=, <=, >, <, ==, e.g. web_instances >= 40",
            ),
            Some((id, _, _)) if !ids.contains(&id.as_str()) => {
                let hint = match self.suggest(&id, ids.iter().copied()) {
                    Some(c) => format!("did you mean `{c}`?"),
                    None => "verify compares a metric id defined under `metrics:`".into(),
                };
                self.err(
                    path,
                    format!("verify refers to unknown metric `{id}`"),
                    hint,
                );
            }
            Some(_) => {}
        }
    }

    fn escalation(&mut self, rb: &Runbook) {
        let levels = &rb.escalation.levels;
        for (i, l) in levels.iter().enumerate() {
            let path = format!("escalation.levels[{i}]");
            self.non_empty(&format!("{path}.who"), &l.who, "who");
            self.non_empty(&format!("{path}.contact"), &l.contact, "contact");
            if l.after.secs() > MAX_OFFSET_SECS {
                self.err(
                    &format!("{path}.after"),
                    format!("after {} is more than 366 days", l.after),
                    "after is the time since the alert opened, e.g. 10m",
                );
            }
            if i > 0 && l.after <= levels[i - 1].after {
                self.err(
                    &format!("{path}.after"),
                    format!(
                        "level {} `after: {}` must be longer than level {}'s `after: {}`",
                        i + 1,
                        l.after,
                        i,
                        levels[i - 1].after
                    ),
                    "list levels in order, each `after` longer than the one before",
                );
            }
        }
        if let Some(ack) = rb.escalation.ack_expires {
            self.reminder(
                "escalation.ack_expires",
                "ack_expires",
                ack,
                "an acknowledged alert not resolved within this long escalates again, e.g. ack_expires: 30m",
            );
        }
        if let Some(n) = &rb.escalation.notify
            && n.command.is_empty()
        {
            self.err(
                "escalation.notify.command",
                "notify command is empty",
                "name a program, e.g. command: [./scripts/notify.sh]; the alert arrives on its stdin as JSON",
            );
        }
    }

    /// A reminder interval (`updates_every`, `ack_expires`) from a minute to a day.
    fn reminder(&mut self, path: &str, key: &str, span: Span, hint: &str) {
        if !(MIN_REMINDER_SECS..=MAX_REMINDER_SECS).contains(&span.secs()) {
            self.err(path, format!("{key} {span} is outside 1m to 24h"), hint);
        }
    }

    /// `roles:`: valid, unique ids, and names to show.
    fn roles(&mut self, rb: &Runbook) {
        let mut seen: HashMap<&str, usize> = HashMap::new();
        for (i, r) in rb.roles.iter().enumerate() {
            if self.full() {
                break;
            }
            let path = format!("roles[{i}]");
            if let Err((msg, hint)) = check_role_id(&r.id) {
                self.err(&format!("{path}.id"), msg, hint);
            }
            if let Some(first) = seen.get(r.id.as_str()) {
                let line = self.line_of(&format!("roles[{first}].id"));
                self.err(
                    &format!("{path}.id"),
                    format!("duplicate role id `{}`", r.id),
                    format!("first defined on line {line}; role ids must be unique"),
                );
            } else {
                seen.insert(&r.id, i);
            }
            self.non_empty(&format!("{path}.name"), &r.name, "role name");
            if let Some(w) = &r.who {
                self.non_empty(&format!("{path}.who"), w, "who");
            }
            if let Some(c) = &r.contact {
                self.non_empty(&format!("{path}.contact"), c, "contact");
            }
        }
    }

    /// `go_no_go:`: a phase that exists, and someone to vote.
    fn go_no_go(&mut self, rb: &Runbook) {
        let Some(g) = &rb.go_no_go else { return };
        let phases: Vec<&str> = rb.phases.iter().map(|p| p.name.as_str()).collect();
        if !phases.contains(&g.phase.as_str()) {
            let hint = if phases.is_empty() {
                "no phases are defined under `phases:`".to_string()
            } else {
                let list = format!("phases: {}", phases.join(", "));
                match self.suggest(&g.phase, phases.iter().copied()) {
                    Some(p) => format!("did you mean `{p}`? {list}"),
                    None => list,
                }
            };
            self.err(
                "go_no_go.phase",
                format!("go_no_go refers to unknown phase `{}`", g.phase),
                hint,
            );
        }
        if !rb.roles.iter().any(|r| r.votes) {
            let hint = if rb.roles.is_empty() {
                "list the war room's roles under `roles:` and add `votes: true` to the roles that must vote"
            } else {
                "add `votes: true` to the roles that must vote"
            };
            self.err(
                "go_no_go",
                "go_no_go needs at least one role with `votes: true`",
                hint,
            );
        }
    }

    fn rehearsal(&mut self, rb: &Runbook) {
        let Some(r) = &rb.rehearsal else { return };
        let ids: Vec<&str> = rb.metrics.iter().map(|m| m.id.as_str()).collect();
        let codes: Vec<&str> = rb.quotas.iter().map(|q| q.code.as_str()).collect();
        let alarms = crate::source::sim::alarm_names(rb);
        // An ends_at at or before T-0 is reported on its own; faults are not blamed for it.
        let ends = rb.event.ends_at.filter(|e| e.secs() > 0);
        for (i, inj) in r.inject.iter().enumerate() {
            if self.full() {
                break;
            }
            let path = format!("rehearsal.inject[{i}]");
            self.offset(&format!("{path}.at"), inj.at);
            if let Some(end) = ends
                && inj.at >= end
            {
                self.err(
                    &format!("{path}.at"),
                    format!("fault at {} starts after the event ends ({end})", inj.at),
                    "a rehearsal ends with the event; move the fault earlier or event.ends_at later",
                );
            }
            if let Some(d) = inj.duration
                && d.secs() > MAX_OFFSET_SECS
            {
                self.err(
                    &format!("{path}.for"),
                    format!("for {d} is more than 366 days"),
                    "for is how long the fault lasts, e.g. 3m",
                );
            }
            let fault = match inj.fault() {
                Ok(f) => f,
                Err(problems) => {
                    for p in problems {
                        let at = if p.field.is_empty() {
                            path.clone()
                        } else {
                            format!("{path}.{}", p.field)
                        };
                        self.err(&at, p.message, p.hint);
                    }
                    continue;
                }
            };
            let hint = |found: Option<&str>, known: &[&str], none: &str| -> String {
                match found {
                    Some(c) => format!("did you mean `{c}`?"),
                    None if known.is_empty() => none.to_string(),
                    None if known.len() <= 12 => format!("one of: {}", known.join(", ")),
                    None => format!("it is none of the {} defined", known.len()),
                }
            };
            match &fault.target {
                Target::Metric { id, .. } if !ids.contains(&id.as_str()) => {
                    let found = self.suggest(id, ids.iter().copied());
                    let hint = hint(found, &ids, "no metrics are defined under `metrics:`");
                    self.err(
                        &format!("{path}.metric"),
                        format!("fault refers to unknown metric `{id}`"),
                        hint,
                    );
                }
                Target::Quota { code, .. } if !codes.contains(&code.as_str()) => {
                    let found = self.suggest(code, codes.iter().copied());
                    let hint = hint(found, &codes, "no quotas are defined under `quotas:`");
                    self.err(
                        &format!("{path}.quota"),
                        format!("fault refers to unknown quota code `{code}`"),
                        hint,
                    );
                }
                Target::Alarm { name, .. } if !alarms.contains(name) => {
                    let known: Vec<&str> = alarms.iter().map(String::as_str).collect();
                    let found = self.suggest(name, known.iter().copied());
                    let hint = hint(
                        found,
                        &known,
                        "the runbook shows no alarms: list them under `alarms:` (names or prefix)",
                    );
                    self.err(
                        &format!("{path}.alarm"),
                        format!("fault refers to alarm `{name}`, which the war room does not show"),
                        hint,
                    );
                }
                Target::SourceDown { name } if name != crate::source::sim::SOURCE_NAME => {
                    self.err(
                        &format!("{path}.source"),
                        format!("unknown source `{name}`"),
                        format!(
                            "a rehearsal has one source, `{}`",
                            crate::source::sim::SOURCE_NAME
                        ),
                    );
                }
                _ => {}
            }
        }
    }
}

/// CloudWatch's rule for GetMetricData query ids: a lowercase letter first, then letters,
/// digits and underscores, at most 255 characters.
fn check_metric_id(id: &str) -> Result<(), (String, String)> {
    let hint = "metric ids are CloudWatch query ids: start with a lowercase letter, then letters, digits and _ (e.g. alb_5xx)";
    let mut chars = id.chars();
    let ok = match chars.next() {
        Some(c) => c.is_ascii_lowercase() && chars.all(|c| c.is_ascii_alphanumeric() || c == '_'),
        None => false,
    };
    if id.is_empty() {
        Err(("metric id is empty".into(), hint.into()))
    } else if !ok {
        Err((format!("`{id}` is not a valid metric id"), hint.into()))
    } else if id.len() > 255 {
        Err((
            "metric id is longer than 255 characters".into(),
            hint.into(),
        ))
    } else {
        Ok(())
    }
}

fn check_item_id(id: &str) -> Result<(), (String, String)> {
    check_word_id(
        id,
        "item id",
        "item ids start with a letter, then letters, digits, _ or - (e.g. scale-web)",
    )
}

/// Role ids follow the item id rule.
fn check_role_id(id: &str) -> Result<(), (String, String)> {
    check_word_id(
        id,
        "role id",
        "role ids start with a letter, then letters, digits, _ or - (e.g. web-owner)",
    )
}

/// A letter first, then letters, digits, _ or -: ids written to the journal.
fn check_word_id(id: &str, what: &str, hint: &str) -> Result<(), (String, String)> {
    let mut chars = id.chars();
    let ok = match chars.next() {
        Some(c) => {
            c.is_ascii_alphabetic()
                && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        }
        None => false,
    };
    if id.is_empty() {
        Err((format!("{what} is empty"), hint.into()))
    } else if !ok {
        Err((format!("`{id}` is not a valid {what}"), hint.into()))
    } else {
        Ok(())
    }
}

/// GetMetricData periods: 1, 5, 10, 20, 30 for high-resolution metrics, else whole minutes.
fn valid_period(p: u32) -> bool {
    matches!(p, 1 | 5 | 10 | 20 | 30) || (p > 0 && p.is_multiple_of(60))
}

/// Basic statistics, percentiles (p99, p99.9) and the extended forms (tm99, TM(10%:90%), PR(:300),
/// wm90, tc90, ts90).
fn check_stat(stat: &str) -> Result<(), String> {
    if BASIC_STATS.contains(&stat) {
        return Ok(());
    }
    if let Some(c) = BASIC_STATS.iter().find(|s| s.eq_ignore_ascii_case(stat)) {
        return Err(format!("statistics are case-sensitive: write {c}"));
    }
    let lower = stat.to_ascii_lowercase();
    for prefix in ["p", "tm", "tc", "ts", "wm", "pr"] {
        if let Some(rest) = lower.strip_prefix(prefix) {
            let number_ok = rest
                .parse::<f64>()
                .is_ok_and(|n| (0.0..=100.0).contains(&n) && !rest.starts_with('+'));
            let range_ok = rest.starts_with('(') && rest.ends_with(')') && rest.len() > 2;
            if (number_ok && prefix != "pr") || range_ok {
                return Ok(());
            }
        }
    }
    let hint = "write Average, Sum, Minimum, Maximum, SampleCount, or a percentile such as p99, p99.9, tm99";
    Err(match closest(stat, BASIC_STATS.iter().copied()) {
        Some(c) => format!("did you mean {c}? {hint}"),
        None => hint.into(),
    })
}

/// "UTC", "local", or an IANA zone name known to chrono-tz.
fn check_zone(z: &str) -> Result<(), String> {
    if z == "UTC" || z == "local" || z.parse::<chrono_tz::Tz>().is_ok() {
        return Ok(());
    }
    if let Some(tz) = chrono_tz::TZ_VARIANTS
        .iter()
        .find(|tz| tz.name().eq_ignore_ascii_case(z))
    {
        return Err(format!(
            "zone names are case-sensitive: write {}",
            tz.name()
        ));
    }
    if z.eq_ignore_ascii_case("local") || z.eq_ignore_ascii_case("utc") {
        return Err("write UTC or local".into());
    }
    if let Some(c) = closest(z, chrono_tz::TZ_VARIANTS.iter().map(|tz| tz.name())) {
        return Err(format!("did you mean {c}?"));
    }
    Err("write an IANA zone name such as America/New_York, Europe/Berlin, Asia/Tokyo, or UTC, or local".into())
}

/// "us-east-1", "eu-central-2", "us-gov-west-1", "cn-north-1": lowercase words and a number.
fn is_region(r: &str) -> bool {
    let parts: Vec<&str> = r.split('-').collect();
    parts.len() >= 3
        && parts[..parts.len() - 1]
            .iter()
            .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_lowercase()))
        && parts[parts.len() - 1].chars().all(|c| c.is_ascii_digit())
        && !parts[parts.len() - 1].is_empty()
}

/// Service Quotas service codes: "lambda", "ec2", "elasticloadbalancing", "AWSCloudMap".
fn is_service_code(s: &str) -> bool {
    !s.is_empty() && s.len() <= 63 && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
}

/// Quota codes are "L-" and eight upper-case hex digits, e.g. L-B99A9384.
fn check_quota_code(code: &str) -> Result<(), String> {
    let valid = |c: &str| {
        c.len() == 10
            && c.starts_with("L-")
            && c[2..]
                .chars()
                .all(|ch| ch.is_ascii_digit() || ch.is_ascii_uppercase() && ch.is_ascii_hexdigit())
    };
    if valid(code) {
        return Ok(());
    }
    let upper = code.trim().to_ascii_uppercase();
    if valid(&upper) {
        return Err(format!("quota codes are upper case: write {upper}"));
    }
    Err("quota codes look like L-B99A9384 (aws service-quotas list-service-quotas --service-code ...)".into())
}

#[cfg(test)]
#[path = "validate_tests.rs"]
mod tests;

/// The 1-based column of byte `offset` of `expr` when the YAML value starting at `line:col` is
/// the expression written out on that line (plain or quoted, without escapes).
fn expression_column(
    text: &str,
    line: usize,
    col: usize,
    expr: &str,
    offset: usize,
) -> Option<usize> {
    let src = text.lines().nth(line.checked_sub(1)?)?;
    let rest: String = src.chars().skip(col.checked_sub(1)?).collect();
    let (skip, body) = match rest.chars().next() {
        Some(q @ ('"' | '\'')) => (1, rest.strip_prefix(q)?),
        _ => (0, rest.as_str()),
    };
    if !body.starts_with(expr) {
        return None;
    }
    Some(col + skip + expr.get(..offset)?.chars().count())
}
