//! One test per rule: each breaks a valid runbook in one place and asserts the exact position
//! and the message. `BASE` must stay valid (first test).

use crate::diag::Diagnostic;
use crate::runbook::parse;

const BASE: &str = include_str!("testdata_base.yaml");

/// BASE with `from` replaced by `to` (which must occur exactly once), parsed; its problems.
fn problems(from: &str, to: &str) -> Vec<Diagnostic> {
    assert_eq!(
        BASE.matches(from).count(),
        1,
        "{from:?} must occur once in BASE"
    );
    let text = BASE.replace(from, to);
    match parse("t.yaml", &text) {
        Ok(_) => Vec::new(),
        Err(d) => d,
    }
}

/// Exactly one problem, at `line:col`, whose message contains `needle`.
fn one(from: &str, to: &str, line: usize, col: usize, needle: &str) -> Diagnostic {
    let ds = problems(from, to);
    assert_eq!(
        ds.len(),
        1,
        "expected one problem, got:\n{}",
        crate::diag::render(&ds)
    );
    let d = ds.into_iter().next().unwrap();
    assert_eq!((d.line, d.column), (line, col), "{d}");
    assert!(d.message.contains(needle), "{d}\n  wanted: {needle}");
    d
}

#[test]
fn base_is_valid() {
    let rb = parse("t.yaml", BASE).unwrap_or_else(|d| panic!("{}", crate::diag::render(&d)));
    assert_eq!(rb.metrics.len(), 4);
    assert_eq!(
        rb.escalation.notify.unwrap().command,
        ["./scripts/notify.sh", "--page"]
    );
}

#[test]
fn notify_command_accepts_a_list() {
    let ds = problems(
        "command: ./scripts/notify.sh --page",
        "command: [./notify.sh, \"#launch bridge\"]",
    );
    assert!(ds.is_empty(), "{}", crate::diag::render(&ds));
    one(
        "command: ./scripts/notify.sh --page",
        "command: \"  \"",
        53,
        22,
        "notify command is empty",
    );
}

#[test]
fn unknown_key_lists_allowed_keys() {
    let d = one(
        "    warn: 50\n",
        "    wran: 50\n",
        18,
        5,
        "unknown key `wran`",
    );
    assert!(d.message.starts_with("metrics[0]: "), "{d}");
    let hint = d.hint.unwrap();
    assert!(hint.starts_with("did you mean `warn`?"), "{hint}");
    assert!(hint.contains("expression"), "{hint}");
}

#[test]
fn bad_offset_hints_the_format() {
    let d = one(
        "T-15m",
        "T-3x",
        9,
        29,
        "phases[1].from: bad time offset \"T-3x\"",
    );
    assert!(!d.message.contains("write"), "{d}");
    assert!(d.hint.unwrap().contains("T-30m, T+2h, T-0, T-1h30m"));
}

#[test]
fn bad_duration_and_percent_and_time() {
    let d = one("after: 10m", "after: 10", 52, 16, "bad duration");
    assert!(d.hint.unwrap().contains("1h30m"));
    one(
        "crit_below: 10%",
        "crit_below: 110%",
        37,
        71,
        "bad percentage \"110%\"",
    );
    let d = one(
        "2026-12-01T17:00:00Z",
        "2026-12-01 17:00",
        3,
        14,
        "starts_at",
    );
    assert!(d.hint.unwrap().contains("RFC 3339"));
    let d = one(
        "  starts_at: 2026-12-01T17:00:00Z\n",
        "",
        2,
        3,
        "event: missing key `starts_at`",
    );
    assert!(d.hint.unwrap().contains("starts_at: 2026-12-01T17:00:00Z"));
}

#[test]
fn wrong_type_is_located() {
    let d = one("    crit: 200", "    crit: lots", 19, 11, "invalid type");
    assert!(d.hint.unwrap().contains("plain number"));
}

#[test]
fn yaml_syntax_errors_are_located() {
    let d = one(
        "    period: 60\n",
        "    period: 60\n   bad\n",
        18,
        4,
        "did not find expected",
    );
    assert!(!d.message.is_empty());
    let ds = problems("  - id: requests\n", "  - id: requests\n\tstat: Sum\n");
    assert_eq!(ds.len(), 1);
    assert_eq!(ds[0].line, 21, "{}", ds[0]);
    assert!(
        ds[0].hint.as_deref().unwrap_or("").contains("tab"),
        "{}",
        ds[0]
    );
}

#[test]
fn empty_and_non_mapping_files() {
    let d = parse("t.yaml", "  \n").unwrap_err();
    assert_eq!((d[0].line, d[0].column), (1, 1));
    assert!(d[0].message.contains("empty"));
    let d = parse("t.yaml", "- a\n- b\n").unwrap_err();
    assert_eq!(d.len(), 1);
    assert_eq!(d[0].line, 1);
}

#[test]
fn duplicate_metric_id() {
    // `orders` disappears too, so the verify that names it is a second problem.
    let ds = problems("  - id: orders\n", "  - id: requests\n");
    let d = ds
        .iter()
        .find(|d| d.message == "duplicate metric id `requests`")
        .expect("duplicate reported");
    assert_eq!((d.line, d.column), (29, 9));
    assert!(d.hint.as_deref().unwrap().contains("line 20"));
    assert_eq!(ds.len(), 2, "{}", crate::diag::render(&ds));
}

/// serde keeps the last of two equal keys in a map without a word: the runbook would watch a
/// different dimension than the one read first. Refused, at the second.
#[test]
fn duplicate_dimension_key() {
    let d = one(
        "    dimensions: { LoadBalancer: app/web/50dc6c495c0c9188 }",
        "    dimensions: { LoadBalancer: app/web/50dc6c495c0c9188, LoadBalancer: app/other/1 }",
        15,
        59,
        "duplicate key `LoadBalancer` in metrics[0].dimensions",
    );
    assert!(d.hint.as_deref().unwrap().contains("line 15"), "{d}");
}

#[test]
fn metric_ids_follow_the_cloudwatch_rule() {
    // The verify naming `orders` stays valid: only the id itself changes in these cases.
    for bad in ["Orders", "\"9lives\"", "or-ders", "\"\""] {
        let ds = problems("  - id: orders\n", &format!("  - id: {bad}\n"));
        let d = &ds[0];
        assert_eq!((d.line, d.column), (29, 9), "{d}");
        assert!(d.message.contains("metric id"), "{d}");
        assert!(
            d.hint.as_deref().unwrap().contains("lowercase letter"),
            "{d}"
        );
    }
    // An item id may contain '-' but must start with a letter.
    one(
        "      - id: freeze\n",
        "      - id: -freeze\n",
        47,
        13,
        "not a valid item id",
    );
}

#[test]
fn duplicate_item_id_across_checklists() {
    let d = one(
        "      - id: freeze\n",
        "      - id: scale-web\n",
        47,
        13,
        "duplicate item id `scale-web`",
    );
    assert!(d.hint.unwrap().contains("line 43"));
}

#[test]
fn metric_needs_exactly_one_source() {
    one(
        "    expression: \"100 * FILL(alb_5xx, 0) / requests\"\n",
        "    expression: \"100 * FILL(alb_5xx, 0) / requests\"\n    namespace: X\n    metric: Y\n",
        26,
        17,
        "both an expression and namespace/metric",
    );
    one(
        "    expression: \"100 * FILL(alb_5xx, 0) / requests\"\n",
        "",
        25,
        5,
        "neither namespace/metric nor expression",
    );
    one(
        "    metric: Orders\n",
        "",
        30,
        16,
        "has `namespace` but no `metric`",
    );
}

#[test]
fn expression_references_known_ids_only() {
    let d = one(
        "/ requests\"",
        "/ reqests\"",
        26,
        17,
        "unknown metric `reqests`",
    );
    assert_eq!(d.hint.as_deref(), Some("did you mean `requests`?"));
    let d = one(
        "FILL(alb_5xx",
        "fill(alb_5xx",
        26,
        24,
        "unknown metric math function `fill`",
    );
    assert!(d.hint.unwrap().contains("FILL"));
    one("/ requests\"", "/ error_pct\"", 26, 17, "refers to itself");
    // Located at the character inside the expression: the end, where `)` is missing.
    one("/ requests\"", "/ (requests\"", 26, 52, "expected ')'");
    one(
        "/ requests\"",
        "/ 'requests\"",
        26,
        43,
        "unterminated string",
    );
    // Numbers, strings and CloudWatch functions are not references.
    let ds = problems(
        "/ requests\"",
        "/ requests + SUM(METRICS('x')) * 1e3 + RATE(requests) + IF(alb_5xx > 1 AND requests, 1, 0)\"",
    );
    assert!(ds.is_empty(), "{}", crate::diag::render(&ds));
}

#[test]
fn metrics_insights_queries_are_not_checked_for_ids() {
    let ds = problems(
        "\"100 * FILL(alb_5xx, 0) / requests\"",
        "\"SELECT AVG(CPUUtilization) FROM SCHEMA(\\\"AWS/EC2\\\", InstanceId)\"",
    );
    assert!(ds.is_empty(), "{}", crate::diag::render(&ds));
}

#[test]
fn expression_cycles_are_reported_once() {
    let ds = problems(
        "    stat: Sum\n    hidden: true\n",
        "    hidden: true\n    expression: \"error_pct * 2\"\n",
    );
    // `requests` now has namespace/metric *and* an expression, plus the cycle.
    let cycle: Vec<_> = ds.iter().filter(|d| d.message.contains("cycle")).collect();
    assert_eq!(cycle.len(), 1, "{}", crate::diag::render(&ds));
    assert_eq!((cycle[0].line, cycle[0].column), (24, 17));
    assert!(
        cycle[0]
            .message
            .contains("requests -> error_pct -> requests"),
        "{}",
        cycle[0]
    );
}

#[test]
fn period_must_be_a_cloudwatch_period() {
    one(
        "period: 60",
        "period: 90",
        17,
        13,
        "period 90 is not a CloudWatch period",
    );
    one("period: 60", "period: 0", 17, 13, "period 0");
    assert!(problems("period: 60", "period: 20").is_empty());
    assert!(problems("period: 60", "period: 300").is_empty());
}

#[test]
fn thresholds_in_order_for_the_direction() {
    let d = one(
        "    crit: 200\n",
        "    crit: 40\n",
        19,
        11,
        "crit 40 must be above warn 50",
    );
    assert!(d.hint.unwrap().contains("direction: below"));
    one(
        "    crit: 20\n",
        "    crit: 100\n",
        35,
        11,
        "crit 100 must be below warn 100",
    );
    one(
        "    crit: 200\n",
        "    crit: .nan\n",
        19,
        11,
        "crit must be a finite number",
    );
}

#[test]
fn statistics_are_checked() {
    let d = one(
        "stat: p99.9",
        "stat: average",
        32,
        11,
        "unknown statistic `average`",
    );
    assert!(d.hint.unwrap().contains("write Average"));
    one("stat: p99.9", "stat: p101", 32, 11, "unknown statistic");
    for ok in ["tm99", "TM(10%:90%)", "SampleCount", "p50", "IQM", "wm90"] {
        assert!(
            problems("stat: p99.9", &format!("stat: \"{ok}\"")).is_empty(),
            "{ok}"
        );
    }
}

#[test]
fn phases_in_order_with_unique_names() {
    let d = one(
        "from: T-15m",
        "from: T-3h",
        9,
        29,
        "phase `Go/no-go` starts at T-3h, not after",
    );
    assert!(d.hint.unwrap().contains("time order"));
    one(
        "from: T-0",
        "from: T-15m",
        10,
        27,
        "not after the phase before it",
    );
    let d = one(
        "name: Launch, from: T-0",
        "name: Pre-flight, from: T-0",
        10,
        13,
        "duplicate phase name",
    );
    assert!(d.hint.unwrap().contains("line 8"));
}

#[test]
fn checklist_phase_must_exist() {
    let d = one(
        "phase: Go/no-go",
        "phase: Go/nogo",
        41,
        12,
        "unknown phase `Go/nogo`",
    );
    assert_eq!(d.hint.as_deref(), Some("did you mean `Go/no-go`?"));
    let d = one(
        "phase: Go/no-go",
        "phase: GoNoGo",
        41,
        12,
        "unknown phase `GoNoGo`",
    );
    assert_eq!(d.hint.as_deref(), Some("did you mean `Go/no-go`?"));
    let d = one(
        "phase: Go/no-go",
        "phase: Liftoff",
        41,
        12,
        "unknown phase `Liftoff`",
    );
    assert_eq!(
        d.hint.as_deref(),
        Some("phases: Pre-flight, Go/no-go, Launch")
    );
}

#[test]
fn verify_parses_and_names_a_metric() {
    let d = one("orders >= 40", "orders => 40", 46, 17, "cannot read verify");
    assert!(d.hint.unwrap().contains("web_instances >= 40"));
    let d = one(
        "orders >= 40",
        "order >= 40",
        46,
        17,
        "verify refers to unknown metric `order`",
    );
    assert_eq!(d.hint.as_deref(), Some("did you mean `orders`?"));
}

#[test]
fn quota_rules() {
    let d = one(
        "crit_below: 10%",
        "crit_below: 40%",
        37,
        71,
        "crit_below 40% must be lower than warn_below 30%",
    );
    assert!(d.hint.is_some());
    one(
        "usage_metric: requests",
        "usage_metric: reqs",
        38,
        53,
        "unknown metric `reqs`",
    );
    let d = one(
        "code: L-1216C47A",
        "code: l-1216c47a",
        38,
        27,
        "not a quota code",
    );
    assert_eq!(
        d.hint.as_deref(),
        Some("quota codes are upper case: write L-1216C47A")
    );
    one(
        "code: L-1216C47A",
        "code: 1216C47A",
        38,
        27,
        "not a quota code",
    );
    one(
        "service: ec2",
        "service: \"ec 2\"",
        38,
        16,
        "not a Service Quotas service code",
    );
    one(
        "service: ec2, code: L-1216C47A",
        "service: lambda, code: L-B99A9384",
        38,
        5,
        "duplicate quota",
    );
}

#[test]
fn escalation_levels_increase() {
    let d = one(
        "after: 10m",
        "after: 0m",
        52,
        16,
        "level 2 `after: 0` must be longer than level 1's `after: 0`",
    );
    assert!(d.hint.unwrap().contains("in order"));
    one("who: Service owner", "who: \"\"", 52, 26, "who is empty");
}

#[test]
fn zones_must_be_iana_names() {
    let d = one(
        "America/New_York",
        "america/new_york",
        5,
        16,
        "unknown time zone `america/new_york`",
    );
    assert_eq!(
        d.hint.as_deref(),
        Some("zone names are case-sensitive: write America/New_York")
    );
    let d = one(
        "America/New_York",
        "America/NewYork",
        5,
        16,
        "unknown time zone",
    );
    assert_eq!(d.hint.as_deref(), Some("did you mean America/New_York?"));
    let d = one(
        "America/New_York",
        "Mars/Olympus",
        5,
        16,
        "unknown time zone",
    );
    assert!(d.hint.unwrap().contains("Europe/Berlin"));
}

#[test]
fn offsets_within_a_year() {
    one("due: T-60m", "due: T-400d", 45, 14, "more than 366 days");
    one(
        "ends_at: T+4h",
        "ends_at: T-1h",
        4,
        12,
        "ends_at T-1h is not after T-0",
    );
}

#[test]
fn region_names() {
    one(
        "region: us-east-1",
        "region: US East",
        6,
        16,
        "not an AWS region name",
    );
}

#[test]
fn rehearsal_references() {
    one(
        "metric: alb_5xx, shape",
        "metric: alb5xx, shape",
        56,
        27,
        "fault refers to unknown metric `alb5xx`",
    );
    one(
        "quota: L-B99A9384, usage",
        "quota: L-XXXX, usage",
        57,
        27,
        "unknown quota code",
    );
    // A typed field: serde_yaml's own error, located at the value.
    one("at: T+12m", "at: soon", 57, 13, "bad time offset \"soon\"");
    one(
        "at: T+12m",
        "at: T+5h",
        57,
        13,
        "fault at T+5h starts after the event ends (T+4h)",
    );
    one(
        "quota: L-B99A9384, usage: 95%, for: 5m",
        "alarm: web-alb-5xx, for: 5m",
        57,
        27,
        "fault refers to alarm `web-alb-5xx`, which the war room does not show",
    );
    // With a prefix the simulator plays `<prefix><metric id>` for each metric with a crit.
    let text = BASE
        .replace(
            "aws: { region: us-east-1, profile: prod-readonly }",
            "aws: { region: us-east-1, profile: prod-readonly }\nalarms: { prefix: web- }",
        )
        .replace(
            "quota: L-B99A9384, usage: 95%, for: 5m",
            "alarm: web-alb-5xx, for: 5m",
        );
    let ds = parse("t.yaml", &text).unwrap_err();
    assert_eq!(ds.len(), 1, "{}", crate::diag::render(&ds));
    assert_eq!((ds[0].line, ds[0].column), (58, 27));
    assert_eq!(ds[0].hint.as_deref(), Some("did you mean `web-alb_5xx`?"));
    let fixed = text.replace("alarm: web-alb-5xx", "alarm: web-alb_5xx");
    assert!(parse("t.yaml", &fixed).is_ok());
    one(
        "quota: L-B99A9384, usage: 95%, for: 5m",
        "source: cloudwatch, for: 5m",
        57,
        28,
        "unknown source `cloudwatch`",
    );
}

#[test]
fn rehearsal_fault_shapes() {
    one(
        "usage: 95%, for: 5m",
        "usage: 95% ",
        57,
        7,
        "fault has no `for`",
    );
    one(
        "shape: spike, to: 400",
        "shape: spike",
        56,
        7,
        "a spike needs `to`",
    );
    one(
        "shape: spike, to: 400",
        "shape: gap, to: 400",
        56,
        52,
        "a gap takes no `to`",
    );
    one(
        "shape: spike, to: 400",
        "shape: wobble, to: 400",
        56,
        43,
        "unknown value `wobble`",
    );
    one(
        "usage: 95%, for",
        "usage: 195%, for",
        57,
        46,
        "usage 195% is not between 0% and 100%",
    );
    one(
        "metric: alb_5xx, shape: spike, to: 400,",
        "metric: alb_5xx, quota: L-B99A9384, shape: spike, to: 400,",
        56,
        43,
        "has both `metric` and `quota`",
    );
    one("for: 3m", "for: 0", 56, 64, "`for` must be longer than 0");
}

#[test]
fn every_problem_is_reported_in_file_order() {
    let mut text = BASE.replace("period: 60", "period: 7");
    text = text.replace("from: T-0", "from: T-1h");
    text = text.replace("orders >= 40", "nope >= 40");
    text = text.replace("America/New_York", "Nowhere/City");
    let ds = parse("t.yaml", &text).unwrap_err();
    let lines: Vec<usize> = ds.iter().map(|d| d.line).collect();
    assert_eq!(lines, [5, 10, 17, 46], "{}", crate::diag::render(&ds));
}

#[test]
fn crlf_files_are_located_the_same() {
    let text = BASE
        .replace("period: 60", "period: 7")
        .replace('\n', "\r\n");
    let ds = parse("t.yaml", &text).unwrap_err();
    assert_eq!(ds.len(), 1, "{}", crate::diag::render(&ds));
    assert_eq!((ds[0].line, ds[0].column), (17, 13));
}

#[test]
fn load_reports_unreadable_files_at_1_1() {
    let ds = crate::runbook::load(std::path::Path::new("/nonexistent/x.yaml")).unwrap_err();
    assert_eq!(ds.len(), 1);
    assert_eq!((ds[0].line, ds[0].column), (1, 1));
    assert!(ds[0].message.contains("cannot read"), "{}", ds[0]);
    assert_eq!(ds[0].file, "/nonexistent/x.yaml");
}

/// Mutations of a valid runbook, deterministic and bounded: truncations at every line and at
/// many byte offsets, each line deleted, duplicated or mangled. None may panic, and every
/// problem must point into the file.
#[test]
fn never_panics_on_mutated_input() {
    let lines: Vec<&str> = BASE.lines().collect();
    let mut inputs: Vec<String> = Vec::new();
    for cut in (0..BASE.len()).step_by(7) {
        if BASE.is_char_boundary(cut) {
            inputs.push(BASE[..cut].to_string());
        }
    }
    let junk = [
        "",
        "  x",
        ": :",
        "- ",
        "{",
        "]",
        "\t",
        "&a *a",
        "!!binary x",
        "? [1]",
        "'",
        "T-3x",
    ];
    for i in 0..lines.len() {
        let mut without = lines.clone();
        without.remove(i);
        inputs.push(without.join("\n"));
        let mut dup = lines.clone();
        dup.insert(i, lines[i]);
        inputs.push(dup.join("\n"));
        let mut mangled = lines.clone();
        let j = junk[i % junk.len()];
        let m = format!("{}{j}", lines[i]);
        mangled[i] = &m;
        inputs.push(mangled.join("\n"));
        let mut deindented = lines.clone();
        deindented[i] = lines[i].trim_start();
        inputs.push(deindented.join("\n"));
    }
    const PUNCT: &[u8] = b" :-[]{}#'\"\t\n0aZ%&*!|>";
    // A simple xorshift so the byte flips are the same on every run.
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    for _ in 0..300 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let mut bytes = BASE.as_bytes().to_vec();
        let at = (x as usize) % bytes.len();
        bytes[at] = PUNCT[(x >> 32) as usize % PUNCT.len()];
        inputs.push(String::from_utf8_lossy(&bytes).into_owned());
    }
    assert!(inputs.len() > 500);
    let mut failures = 0;
    for input in &inputs {
        if let Err(ds) = parse("m.yaml", input) {
            failures += 1;
            assert!(!ds.is_empty());
            let line_count = input.lines().count().max(1) + 1;
            for d in &ds {
                assert!(d.line >= 1 && d.column >= 1, "{d}");
                assert!(d.line <= line_count, "{d} in a {line_count}-line input");
            }
        }
    }
    assert!(
        failures > inputs.len() / 4,
        "mutations should mostly break the runbook"
    );
}

#[test]
fn names_titles_and_ids_have_length_limits() {
    let long = "x".repeat(201);
    let d = one(
        "name: Spring Sale Launch",
        &format!("name: {long}"),
        2,
        9,
        "the event name is 201 characters long: at most 200 are allowed",
    );
    assert!(d.to_string().starts_with("t.yaml:2:9: error: "), "{d}");
    one(
        "title: Freeze deploys",
        &format!("title: {long}"),
        48,
        16,
        "an item title is 201 characters long",
    );
    one(
        "id: freeze",
        &format!("id: f{}", "x".repeat(64)),
        47,
        13,
        "an item id is 65 characters long: at most 64",
    );
    one(
        "who: Platform on-call",
        &format!("who: {long}"),
        51,
        25,
        "who is 201 characters long",
    );
    one(
        "LoadBalancer: app/web/50dc6c495c0c9188",
        &format!("LoadBalancer: {}", "v".repeat(1025)),
        15,
        33,
        "a dimension value is 1025 characters long: at most 1024",
    );
    // Exactly at the limit is fine.
    assert!(
        problems(
            "name: Spring Sale Launch",
            &format!("name: {}", "x".repeat(200))
        )
        .is_empty()
    );
}

#[test]
fn lists_have_count_limits_and_past_them_nothing_else_is_checked() {
    let many: String = (0..super::MAX_QUOTAS + 1)
        .map(|i| {
            format!(
                "  - {{ service: lambda, code: L-{i:08}, title: {} }}\n",
                "x".repeat(300)
            )
        })
        .collect();
    let ds = problems(
        "quotas:\n  - { service: lambda, code: L-B99A9384, warn_below: 30%, crit_below: 10% }\n  - { service: ec2, code: L-1216C47A, usage_metric: requests }\n",
        &format!("quotas:\n{many}"),
    );
    assert_eq!(ds.len(), 1, "{}", crate::diag::render(&ds));
    assert_eq!((ds[0].line, ds[0].column), (37, 3), "{}", ds[0]);
    assert!(
        ds[0]
            .message
            .contains("201 quotas: at most 200 are allowed"),
        "{}",
        ds[0]
    );
    let dims: String = (0..31).map(|i| format!("D{i}: v, ")).collect();
    one(
        "dimensions: { LoadBalancer: app/web/50dc6c495c0c9188 }",
        &format!("dimensions: {{ {dims} }}"),
        15,
        17,
        "31 dimensions: CloudWatch allows at most 30",
    );
}

#[test]
fn a_flood_of_problems_is_cut_short_and_costs_little() {
    // 1,000 items whose verify names an unknown 60-character metric, among 1,000 metrics with
    // 60-character ids: "did you mean" would compare every pair.
    let id = |i: usize, c: char| format!("{c}{}{i:05}", "q".repeat(54));
    let metrics: String = (0..1000)
        .map(|i| format!("  - {{ id: {}, namespace: N, metric: M }}\n", id(i, 'm')))
        .collect();
    let items: String = (0..1000)
        .map(|i| {
            format!(
                "      - {{ id: i{i}, title: t, verify: \"{} > 1\" }}\n",
                id(i, 'z')
            )
        })
        .collect();
    let text = format!(
        "event: {{ name: x, starts_at: 2026-12-01T17:00:00Z }}\nmetrics:\n{metrics}checklists:\n  - name: c\n    items:\n{items}"
    );
    let start = std::time::Instant::now();
    let ds = parse("t.yaml", &text).unwrap_err();
    assert!(
        start.elapsed() < std::time::Duration::from_secs(2),
        "{:?}",
        start.elapsed()
    );
    assert_eq!(ds.len(), super::MAX_PROBLEMS + 1);
    let last = ds.last().unwrap();
    assert!(last.message.ends_with("more problems not listed"), "{last}");
    assert!(
        ds[0].message.contains("verify refers to unknown metric"),
        "{}",
        ds[0]
    );
}

#[test]
fn polling_and_plan_sections_are_checked_where_they_are_written() {
    one(
        "  zones: [UTC, America/New_York, local]\n",
        "  zones: [UTC, America/New_York, local]\npolling: { near_from: T+1h, near_until: T-1h }\n",
        6,
        41,
        "is not after near_from",
    );
    one(
        "  zones: [UTC, America/New_York, local]\n",
        "  zones: [UTC, America/New_York, local]\npolling: { far_every: 5s }\n",
        6,
        23,
        "faster than tminus reads",
    );
    one(
        "  zones: [UTC, America/New_York, local]\n",
        "  zones: [UTC, America/New_York, local]\nplan: { history: 120d }\n",
        6,
        18,
        "outside 1h to 90d",
    );
    one(
        "  zones: [UTC, America/New_York, local]\n",
        "  zones: [UTC, America/New_York, local]\n  forecast: 0x\n",
        6,
        13,
        "bad multiplier",
    );
}

/// BASE's last line (57): the war room's sections below are appended after it, from line 58.
const LAST: &str = "    - { at: T+12m, quota: L-B99A9384, usage: 95%, for: 5m }\n";

/// BASE with `tail` appended: exactly one problem, at `line:col`, with exactly this message.
fn one_after(tail: &str, line: usize, col: usize, message: &str) -> Diagnostic {
    let d = one(LAST, &format!("{LAST}{tail}"), line, col, message);
    assert_eq!(d.message, message, "{d}");
    d
}

#[test]
fn the_war_room_vocabulary_loads() {
    // Without any of it, nothing changes.
    let rb = parse("t.yaml", BASE).unwrap();
    assert!(rb.roles.is_empty() && rb.go_no_go.is_none() && rb.role("ic").is_none());
    assert!(rb.phases.iter().all(|p| p.updates_every.is_none()));
    assert!(rb.checklists[0].items.iter().all(|i| !i.blocking));
    assert_eq!(rb.escalation.ack_expires, None);

    let text = BASE
        .replace(
            "  - { name: Go/no-go, from: T-15m }",
            "  - { name: Go/no-go, from: T-15m, updates_every: 5m }",
        )
        .replace(
            "        title: Freeze deploys\n",
            "        title: Freeze deploys\n        blocking: true\n",
        )
        .replace(
            "  notify: { command: ./scripts/notify.sh --page }\n",
            "  notify: { command: ./scripts/notify.sh --page }\n  ack_expires: 30m\n",
        )
        .replace(
            LAST,
            &format!(
                "{LAST}roles:
  - {{ id: ic, name: Incident commander, who: Jane Doe, contact: \"#launch-bridge\", votes: true }}
  - {{ id: scribe, name: Scribe, updates: true }}
  - {{ id: web-owner, name: Web service owner, contact: \"+1 555 0101\", votes: true }}
go_no_go: {{ phase: Go/no-go }}
"
            ),
        );
    let rb = parse("t.yaml", &text).unwrap_or_else(|d| panic!("{}", crate::diag::render(&d)));
    let ic = rb.role("ic").unwrap();
    assert_eq!(ic.name, "Incident commander");
    assert_eq!(ic.who.as_deref(), Some("Jane Doe"));
    assert_eq!(ic.contact.as_deref(), Some("#launch-bridge"));
    assert!(ic.votes && !ic.updates);
    let scribe = rb.role("scribe").unwrap();
    assert!(!scribe.votes && scribe.updates);
    assert_eq!(
        (scribe.who.as_deref(), scribe.contact.as_deref()),
        (None, None)
    );
    let owner = rb.role("web-owner").unwrap();
    assert_eq!(owner.contact.as_deref(), Some("+1 555 0101"));
    assert!(owner.votes && !owner.updates);
    assert_eq!(rb.roles.len(), 3);
    assert!(rb.role("nobody").is_none());
    assert_eq!(rb.go_no_go.as_ref().unwrap().phase, "Go/no-go");
    let every: Vec<_> = rb.phases.iter().map(|p| p.updates_every).collect();
    assert_eq!(every, [None, Some(crate::time::Span(300)), None]);
    let blocking: Vec<_> = rb.checklists[0].items.iter().map(|i| i.blocking).collect();
    assert_eq!(blocking, [false, true]);
    assert_eq!(rb.escalation.ack_expires, Some(crate::time::Span(1800)));

    // Journals carry items (`ItemAdded`): one that is not blocking is written as before.
    let plain = serde_json::to_value(&rb.checklists[0].items[0]).unwrap();
    assert!(plain.get("blocking").is_none(), "{plain}");
    let flagged = serde_json::to_value(&rb.checklists[0].items[1]).unwrap();
    assert_eq!(flagged["blocking"], true);
    let back: crate::runbook::model::Item = serde_json::from_value(plain).unwrap();
    assert!(!back.blocking);
}

#[test]
fn duplicate_role_id() {
    let d = one_after(
        "roles:\n  - { id: ic, name: Incident commander }\n  - { id: ic, name: Scribe }\n",
        60,
        11,
        "duplicate role id `ic`",
    );
    assert_eq!(
        d.hint.as_deref(),
        Some("first defined on line 59; role ids must be unique")
    );
}

#[test]
fn role_ids_follow_the_item_id_rule() {
    let d = one_after(
        "roles:\n  - { id: \"1st\", name: First responder }\n",
        59,
        11,
        "`1st` is not a valid role id",
    );
    assert_eq!(
        d.hint.as_deref(),
        Some("role ids start with a letter, then letters, digits, _ or - (e.g. web-owner)")
    );
    one_after(
        "roles:\n  - { id: web owner, name: Web service owner }\n",
        59,
        11,
        "`web owner` is not a valid role id",
    );
    one_after(
        "roles:\n  - { id: \"\", name: Scribe }\n",
        59,
        11,
        "role id is empty",
    );
    one_after(
        &format!("roles:\n  - {{ id: r{}, name: Scribe }}\n", "x".repeat(64)),
        59,
        11,
        "a role id is 65 characters long: at most 64 are allowed",
    );
    // Letters, digits, _ and - are fine.
    assert!(
        problems(
            LAST,
            &format!("{LAST}roles:\n  - {{ id: Web_owner-2, name: W }}\n")
        )
        .is_empty()
    );
}

#[test]
fn role_name_is_required_and_not_empty() {
    one_after(
        "roles:\n  - { id: ic, name: \"  \" }\n",
        59,
        21,
        "role name is empty",
    );
    let d = one(
        LAST,
        &format!("{LAST}roles:\n  - {{ id: ic }}\n"),
        59,
        5,
        "missing key `name`",
    );
    assert!(d.message.starts_with("roles[0]: "), "{d}");
}

#[test]
fn unknown_key_in_a_role() {
    let d = one(
        LAST,
        &format!("{LAST}roles:\n  - {{ id: ic, name: Incident commander, vote: true }}\n"),
        59,
        41,
        "roles[0]: unknown key `vote`",
    );
    let hint = d.hint.unwrap();
    assert!(hint.starts_with("did you mean `votes`?"), "{hint}");
    assert!(hint.contains("contact"), "{hint}");
}

#[test]
fn go_no_go_names_a_phase() {
    let d = one_after(
        "roles:\n  - { id: ic, name: Incident commander, votes: true }\ngo_no_go: { phase: Go-no-go }\n",
        60,
        20,
        "go_no_go refers to unknown phase `Go-no-go`",
    );
    assert_eq!(
        d.hint.as_deref(),
        Some("did you mean `Go/no-go`? phases: Pre-flight, Go/no-go, Launch")
    );
    let d = one_after(
        "roles:\n  - { id: ic, name: Incident commander, votes: true }\ngo_no_go: { phase: Liftoff }\n",
        60,
        20,
        "go_no_go refers to unknown phase `Liftoff`",
    );
    assert_eq!(
        d.hint.as_deref(),
        Some("phases: Pre-flight, Go/no-go, Launch")
    );
}

#[test]
fn go_no_go_needs_a_voting_role() {
    let d = one_after(
        "roles:\n  - { id: scribe, name: Scribe, updates: true }\ngo_no_go: { phase: Go/no-go }\n",
        60,
        11,
        "go_no_go needs at least one role with `votes: true`",
    );
    assert_eq!(
        d.hint.as_deref(),
        Some("add `votes: true` to the roles that must vote")
    );
    let d = one_after(
        "go_no_go: { phase: Go/no-go }\n",
        58,
        11,
        "go_no_go needs at least one role with `votes: true`",
    );
    assert!(d.hint.unwrap().contains("under `roles:`"));
}

#[test]
fn updates_every_is_a_minute_to_a_day() {
    let d = one(
        "  - { name: Go/no-go, from: T-15m }",
        "  - { name: Go/no-go, from: T-15m, updates_every: 30s }",
        9,
        51,
        "updates_every 30s is outside 1m to 24h",
    );
    assert_eq!(d.message, "updates_every 30s is outside 1m to 24h");
    assert!(d.hint.unwrap().contains("updates_every: 15m"));
    one(
        "  - { name: Go/no-go, from: T-15m }",
        "  - { name: Go/no-go, from: T-15m, updates_every: 1d1s }",
        9,
        51,
        "updates_every 1d1s is outside 1m to 24h",
    );
    for ok in ["1m", "24h"] {
        let to = format!("  - {{ name: Go/no-go, from: T-15m, updates_every: {ok} }}");
        assert!(
            problems("  - { name: Go/no-go, from: T-15m }", &to).is_empty(),
            "{ok}"
        );
    }
    // A typed field: serde_yaml's own error, located at the value.
    one(
        "  - { name: Go/no-go, from: T-15m }",
        "  - { name: Go/no-go, from: T-15m, updates_every: often }",
        9,
        51,
        "bad duration \"often\"",
    );
}

#[test]
fn ack_expires_is_a_minute_to_a_day() {
    let d = one(
        "  notify: { command: ./scripts/notify.sh --page }\n",
        "  notify: { command: ./scripts/notify.sh --page }\n  ack_expires: 2d\n",
        54,
        16,
        "ack_expires 2d is outside 1m to 24h",
    );
    assert_eq!(d.message, "ack_expires 2d is outside 1m to 24h");
    assert!(d.hint.unwrap().contains("escalates again"));
    one(
        "  notify: { command: ./scripts/notify.sh --page }\n",
        "  notify: { command: ./scripts/notify.sh --page }\n  ack_expires: 0\n",
        54,
        16,
        "ack_expires 0 is outside 1m to 24h",
    );
}

#[test]
fn roles_have_a_count_limit() {
    let many: String = (0..=super::MAX_ROLES)
        .map(|i| format!("  - {{ id: r{i}, name: \"\" }}\n"))
        .collect();
    // Past the limit nothing else is checked: the empty names are not reported.
    one_after(
        &format!("roles:\n{many}"),
        59,
        3,
        "101 roles: at most 100 are allowed",
    );
}
