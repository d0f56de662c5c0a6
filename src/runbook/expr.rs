//! CloudWatch metric math as far as validation needs it: which identifiers an expression uses,
//! and whether expressions depend on each other in a loop.

/// CloudWatch metric math functions and keywords: identifiers in an expression that are not
/// metric ids. Functions are upper case in CloudWatch.
pub(super) const MATH_WORDS: &[&str] = &[
    "ABS",
    "ANOMALY_DETECTION_BAND",
    "AVG",
    "CEIL",
    "DATAPOINT_COUNT",
    "DATE",
    "DAY",
    "DB_PERF_INSIGHTS",
    "DIFF",
    "DIFF_TIME",
    "EPOCH",
    "FILL",
    "FIRST",
    "FLOOR",
    "HOUR",
    "IF",
    "INSIGHT_RULE_METRIC",
    "LAMBDA",
    "LAST",
    "LOG",
    "LOG10",
    "MAX",
    "METRIC_COUNT",
    "METRICS",
    "MIN",
    "MINUTE",
    "MONTH",
    "PERIOD",
    "RATE",
    "REMOVE_EMPTY",
    "RUNNING_SUM",
    "SEARCH",
    "SERVICE_QUOTA",
    "SLICE",
    "SORT",
    "STDDEV",
    "SUM",
    "TIME_SERIES",
    "YEAR",
    // Keywords: logical operators and FILL/SORT arguments.
    "AND",
    "OR",
    "NOT",
    "REPEAT",
    "LINEAR",
    "ASC",
    "DESC",
];

/// A CloudWatch Metrics Insights query ("SELECT AVG(CPUUtilization) FROM SCHEMA(...)") is also
/// a valid expression; its words are metric and dimension names, not ids, so it is not checked.
pub fn is_insights_query(expr: &str) -> bool {
    expr.trim_start()
        .get(..7)
        .is_some_and(|w| w.eq_ignore_ascii_case("SELECT "))
}

/// An identifier in an expression; `call` when it is followed by "(".
#[derive(Debug, PartialEq)]
pub(super) struct Token {
    pub word: String,
    pub call: bool,
}

/// The identifiers of a metric math expression, skipping numbers and string literals (SEARCH
/// and METRICS take quoted arguments). Errors on unterminated strings and unbalanced brackets.
pub(super) fn tokenize(expr: &str) -> Result<Vec<Token>, String> {
    let chars: Vec<char> = expr.chars().collect();
    let mut out = Vec::new();
    let mut depth: i64 = 0;
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '\'' || c == '"' {
            let close = chars[i + 1..].iter().position(|&d| d == c);
            match close {
                Some(n) => i += n + 2,
                None => return Err(format!("unterminated string in expression: missing {c}")),
            }
            continue;
        }
        if c.is_ascii_digit() || (c == '.' && chars.get(i + 1).is_some_and(|d| d.is_ascii_digit()))
        {
            // A number, including 1e3 and 0.5: its letters are not identifiers.
            while i < chars.len() && (chars[i].is_ascii_alphanumeric() || chars[i] == '.') {
                i += 1;
            }
            continue;
        }
        if c.is_ascii_alphabetic() || c == '_' {
            let start = i;
            while i < chars.len() && (chars[i].is_ascii_alphanumeric() || chars[i] == '_') {
                i += 1;
            }
            let word: String = chars[start..i].iter().collect();
            let call = chars[i..]
                .iter()
                .find(|c| !c.is_whitespace())
                .is_some_and(|&c| c == '(');
            out.push(Token { word, call });
            continue;
        }
        match c {
            '(' | '[' => depth += 1,
            ')' | ']' => {
                depth -= 1;
                if depth < 0 {
                    return Err(format!("unbalanced `{c}` in expression"));
                }
            }
            _ => {}
        }
        i += 1;
    }
    if depth != 0 {
        return Err("unbalanced brackets in expression: a `(` is never closed".into());
    }
    Ok(out)
}

/// A path from `start` back to itself through `deps`, as the list of nodes starting at `start`.
/// Iterative DFS: metric lists are user input and must not overflow the stack.
pub(super) fn find_cycle(start: usize, deps: &[Vec<usize>]) -> Option<Vec<usize>> {
    let mut visited = vec![false; deps.len()];
    // (node, next edge to try)
    let mut stack: Vec<(usize, usize)> = vec![(start, 0)];
    visited[start] = true;
    while let Some(&mut (node, ref mut edge)) = stack.last_mut() {
        if let Some(&next) = deps[node].get(*edge) {
            *edge += 1;
            if next == start {
                return Some(stack.iter().map(|(n, _)| *n).collect());
            }
            if !visited[next] {
                visited[next] = true;
                stack.push((next, 0));
            }
        } else {
            stack.pop();
        }
    }
    None
}

/// The metric ids an expression refers to (nothing for Metrics Insights queries, and nothing
/// for an expression that does not tokenize: validation reports those).
pub fn references(expr: &str) -> Vec<String> {
    if is_insights_query(expr) {
        return Vec::new();
    }
    tokenize(expr)
        .unwrap_or_default()
        .into_iter()
        .filter(|t| !t.call && !MATH_WORDS.contains(&t.word.as_str()))
        .map(|t| t.word)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(e: &str) -> Vec<(String, bool)> {
        tokenize(e)
            .unwrap()
            .into_iter()
            .map(|t| (t.word, t.call))
            .collect()
    }

    #[test]
    fn finds_identifiers_and_calls() {
        assert_eq!(
            words("100*a_1/ SUM (b) + 1e3 + .5 + SEARCH('{AWS/EC2} x=\"y\"', 'Average', 300)"),
            [
                ("a_1".to_string(), false),
                ("SUM".to_string(), true),
                ("b".to_string(), false),
                ("SEARCH".to_string(), true),
            ]
        );
        assert!(tokenize("(a").is_err());
        assert!(tokenize("a)").is_err());
        assert!(tokenize("'a").is_err());
        assert_eq!(words(""), []);
    }

    #[test]
    fn cycles() {
        // 0 -> 1 -> 2 -> 0, 3 -> 0
        let deps = vec![vec![1], vec![2], vec![0], vec![0]];
        assert_eq!(find_cycle(0, &deps), Some(vec![0, 1, 2]));
        assert_eq!(find_cycle(3, &deps), None);
        assert_eq!(find_cycle(0, &[vec![]]), None);
    }

    #[test]
    fn insights_queries() {
        assert!(is_insights_query(
            "  select AVG(x) FROM SCHEMA(\"AWS/EC2\")"
        ));
        assert!(!is_insights_query("selected_total * 2"));
        assert!(!is_insights_query("é"));
    }
}
