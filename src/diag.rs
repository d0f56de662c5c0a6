//! Located problems in a user's file, printed like a linter (rustc, ruff): `file:line:col: error:
//! message`, then an optional `  hint: ...` line saying how to fix it.
//!
//! Runbook and theme loading both report through this type so `tminus check` and start-up errors
//! look the same, and editors can jump to the position.

use std::fmt;

/// How bad a problem is: an error refuses the file; a warning is printed and the file is used.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Level {
    #[default]
    Error,
    Warning,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub level: Level,
    /// The file as the user named it (a path or a label such as "<built-in dark>").
    pub file: String,
    /// 1-based line.
    pub line: usize,
    /// 1-based column, in characters.
    pub column: usize,
    pub message: String,
    /// How to fix it, when there is something more specific to say than the message.
    pub hint: Option<String>,
}

impl Diagnostic {
    /// A diagnostic at `line:column`; zeros are raised to 1 so every diagnostic points into the
    /// file even when a parser could not say where.
    pub fn new(file: &str, line: usize, column: usize, message: impl Into<String>) -> Self {
        Diagnostic {
            level: Level::Error,
            file: file.to_string(),
            line: line.max(1),
            column: column.max(1),
            message: message.into(),
            hint: None,
        }
    }

    pub fn warning(mut self) -> Self {
        self.level = Level::Warning;
        self
    }

    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        let hint = hint.into();
        self.hint = (!hint.is_empty()).then_some(hint);
        self
    }

    /// `file:line:column`, the part editors and terminals turn into a link.
    pub fn location(&self) -> String {
        format!("{}:{}:{}", self.file, self.line, self.column)
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let level = match self.level {
            Level::Error => "error",
            Level::Warning => "warning",
        };
        // Messages quote the file (unknown keys, ids, values) and the label may come from a
        // recording: whatever they hold prints as plain text on one line each.
        let clean = crate::text::clean;
        write!(
            f,
            "{}: {level}: {}",
            clean(&self.location()),
            clean(&self.message)
        )?;
        if let Some(hint) = &self.hint {
            write!(f, "\n  hint: {}", clean(hint))?;
        }
        Ok(())
    }
}

impl std::error::Error for Diagnostic {}

/// All diagnostics, one per paragraph, for error messages that carry a list (e.g. start-up).
pub fn render(diags: &[Diagnostic]) -> String {
    diags
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("\n")
}

/// The closest candidate to `word` by edit distance, if it is close enough to be a likely typo
/// ("wran" -> "warn", "Avrage" -> "Average"). Case differences count as half an edit.
pub fn closest<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let mut unlimited = usize::MAX;
    closest_within(word, candidates, &mut unlimited)
}

/// `closest` with bounded work: nobody mistypes a word longer than 64 characters, a candidate
/// whose length differs by more than the limit cannot be close, and each comparison spends
/// its size (characters × characters) from `budget`; when that runs out, the candidates left
/// are not compared. A file with thousands of long names and many unknown ones costs this
/// budget, not minutes.
pub fn closest_within<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
    budget: &mut usize,
) -> Option<&'a str> {
    const SUGGEST_MAX_CHARS: usize = 64;
    let len = word.chars().count();
    if len > SUGGEST_MAX_CHARS {
        return None;
    }
    let limit = (len / 3).max(1) as f64 + 0.5;
    // Same letters and digits, other case and punctuation ("GoNoGo" for "Go/no-go"): distance 0.
    let norm = |s: &str| -> String {
        s.chars()
            .filter(char::is_ascii_alphanumeric)
            .map(|c| c.to_ascii_lowercase())
            .collect()
    };
    let word_norm = norm(word);
    let mut best: Option<(f64, &'a str)> = None;
    for c in candidates {
        let n = c.chars().count();
        if n > SUGGEST_MAX_CHARS {
            continue;
        }
        let cost = (n + 1) * (len + 1);
        if *budget < cost {
            *budget = 0;
            break;
        }
        *budget -= cost;
        let d = if !word_norm.is_empty() && norm(c) == word_norm {
            0.0
        } else if (n.abs_diff(len) as f64) > limit {
            continue;
        } else {
            edit_distance(word, c)
        };
        if d <= limit && best.is_none_or(|(b, _)| d < b) {
            best = Some((d, c));
        }
    }
    best.map(|(_, c)| c)
}

/// Edit distance (Levenshtein plus adjacent swaps) where a change of letter case costs 0.5.
fn edit_distance(a: &str, b: &str) -> f64 {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<f64> = (0..=b.len()).map(|j| j as f64).collect();
    let mut prev2 = prev.clone();
    for i in 1..=a.len() {
        let mut cur = vec![i as f64; b.len() + 1];
        for j in 1..=b.len() {
            let sub = if a[i - 1] == b[j - 1] {
                0.0
            } else if a[i - 1].eq_ignore_ascii_case(&b[j - 1]) {
                0.5
            } else {
                1.0
            };
            cur[j] = (prev[j - 1] + sub).min(prev[j] + 1.0).min(cur[j - 1] + 1.0);
            // Swapped neighbours ("wran" for "warn") are one typo, not two.
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                cur[j] = cur[j].min(prev2[j - 2] + 1.0);
            }
        }
        prev2 = std::mem::replace(&mut prev, cur);
    }
    prev[b.len()]
}

/// Turns a serde_yaml error (syntax, type, unknown key, bad value) into a located diagnostic
/// with a hint. serde_yaml stops at the first such error, so this is always a single one.
pub fn from_yaml_error(file: &str, text: &str, err: &serde_yaml::Error) -> Diagnostic {
    let raw = strip_marks(&err.to_string());
    let (line, column) = repeated_key(text, &raw)
        .or_else(|| err.location().map(|l| (l.line(), l.column())))
        .unwrap_or((1, 1));
    let (line, column) = crate::positions::within((line, column), crate::positions::end_of(text));
    let (message, hint) = explain(&raw, text.lines().nth(line.saturating_sub(1)).unwrap_or(""));
    Diagnostic::new(file, line, column, message).with_hint(hint.unwrap_or_default())
}

/// serde_yaml appends " at line L column C" (sometimes twice, with a context): the location is
/// already in the diagnostic's prefix.
fn strip_marks(msg: &str) -> String {
    let mut out = msg.to_string();
    for marker in [" at line ", " at position "] {
        while let Some(start) = out.find(marker) {
            let rest = &out[start + marker.len()..];
            // Skip "N column M" or "N".
            let mut end = rest
                .find(|c: char| !c.is_ascii_digit())
                .unwrap_or(rest.len());
            if let Some(col) = rest[end..].strip_prefix(" column ") {
                end +=
                    " column ".len() + col.find(|c: char| !c.is_ascii_digit()).unwrap_or(col.len());
            }
            out.replace_range(start..start + marker.len() + end, "");
        }
    }
    out
}

/// Where the key named in a "metrics[0]: duplicate field `warn`" message appears the second
/// time. serde_yaml locates the error at the start of the mapping, which is the first key, not
/// the duplicate; the second occurrence is the one to remove.
fn repeated_key(text: &str, raw: &str) -> Option<(usize, usize)> {
    let at = raw.find("duplicate field `")?;
    let name = quoted(&raw[at..]).first().copied()?;
    let path = match raw[..at].strip_suffix(": ") {
        Some(mapping) => format!("{mapping}.{name}"),
        None => name.to_string(),
    };
    crate::positions::Positions::build(text).repeated_key(&path)
}

/// Backtick-quoted names in a serde message: "expected one of `a`, `b`" -> [a, b].
fn quoted(s: &str) -> Vec<&str> {
    s.split('`').skip(1).step_by(2).collect()
}

/// A clearer message and a hint for the serde_yaml errors people actually hit.
fn explain(raw: &str, source_line: &str) -> (String, Option<String>) {
    // "metrics[0]: unknown field `wran`, expected one of `id`, `title`"
    if let Some(at) = raw.find("unknown field `") {
        let names = quoted(&raw[at..]);
        let (bad, allowed) = names.split_first().map_or(("", &[][..]), |(b, a)| (*b, a));
        let message = format!("{}unknown key `{bad}`", &raw[..at]);
        let list = allowed.join(", ");
        let hint = match closest(bad, allowed.iter().copied()) {
            Some(c) => format!("did you mean `{c}`? allowed keys here: {list}"),
            None if allowed.is_empty() => "no keys are allowed here".to_string(),
            None => format!("allowed keys here: {list}"),
        };
        return (message, Some(hint));
    }
    if let Some(at) = raw.find("unknown variant `") {
        let names = quoted(&raw[at..]);
        let (bad, allowed) = names.split_first().map_or(("", &[][..]), |(b, a)| (*b, a));
        let hint = match closest(bad, allowed.iter().copied()) {
            Some(c) => format!("did you mean `{c}`? write one of: {}", allowed.join(", ")),
            None => format!("write one of: {}", allowed.join(", ")),
        };
        return (format!("{}unknown value `{bad}`", &raw[..at]), Some(hint));
    }
    if let Some(at) = raw.find("missing field `") {
        let name = quoted(&raw[at..]).first().copied().unwrap_or("");
        let example = match name {
            "starts_at" => "starts_at: 2026-12-01T17:00:00Z   # T-0, RFC 3339".to_string(),
            "from" => "from: T-15m".to_string(),
            "after" => "after: 10m".to_string(),
            other => format!("{other}: ..."),
        };
        return (
            format!("{}missing key `{name}`", &raw[..at]),
            Some(format!("add `{example}` to this mapping")),
        );
    }
    if raw.contains("duplicate field `") || raw.contains("duplicate entry") {
        return (
            raw.to_string(),
            Some("each key may appear only once in a mapping; remove or merge one".into()),
        );
    }
    // These messages (from time.rs and the model) carry their own short advice after ": write";
    // the hint below says it better, so the message keeps only what was wrong.
    let raw = match raw.find(": write ") {
        Some(at) if raw.contains("bad ") => &raw[..at],
        _ => raw,
    };
    let hint = if raw.contains("bad time offset") {
        Some(
            "write T-30m, T+2h, T-0, T-1h30m: T, a sign, then amounts with units w, d, h, m, s, largest first",
        )
    } else if raw.contains("bad duration") {
        Some(
            "write 90s, 10m, 1h30m: amounts with units w, d, h, m, s, largest first (a bare number only for 0)",
        )
    } else if raw.contains("bad percentage") {
        Some("write a share of the quota from 0 to 100, e.g. warn_below: 30%")
    } else if raw.contains("bad colour") {
        Some("write \"#rrggbb\", an ANSI name (red, light-blue, dark-gray...), reset, or 0-255")
    } else if raw.contains("starts_at") {
        Some(
            "write T-0 as an RFC 3339 time with a zone, e.g. 2026-12-01T17:00:00Z or 2026-12-01T12:00:00-05:00",
        )
    } else if raw.contains("expected f64") || raw.contains("expected u32") {
        Some("write a plain number without quotes or units, e.g. 250")
    } else if raw.contains("expected a boolean") {
        Some("write true or false")
    } else if raw.contains("expected a sequence") {
        Some("write a list: one `- item` per line, or [a, b]")
    } else if raw.contains("expected struct") || raw.contains("expected a map") {
        Some("write a mapping of `key: value` lines indented under this key")
    } else if source_line.contains('\t') {
        Some("YAML indentation must use spaces; this line contains a tab")
    } else if raw.contains("mapping values are not allowed") {
        Some("a value containing \": \" must be quoted, e.g. title: \"Go: launch\"")
    } else if raw.contains("did not find expected key") || raw.contains("did not find expected '-'")
    {
        Some("check the indentation of this line against the lines above it")
    } else if raw.contains("EOF while parsing") {
        Some("the file is empty or ends too early")
    } else if raw.contains("more than one document") {
        Some("put one runbook or theme per file; remove the extra `---`")
    } else {
        None
    };
    (raw.to_string(), hint.map(str::to_string))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn displays_like_a_linter() {
        let d = Diagnostic::new("runbooks/a.yaml", 3, 7, "unknown key `wran`");
        assert_eq!(
            d.to_string(),
            "runbooks/a.yaml:3:7: error: unknown key `wran`"
        );
        let d = d.with_hint("did you mean `warn`?");
        assert_eq!(
            d.to_string(),
            "runbooks/a.yaml:3:7: error: unknown key `wran`\n  hint: did you mean `warn`?"
        );
    }

    #[test]
    fn positions_are_at_least_one() {
        let d = Diagnostic::new("f", 0, 0, "m");
        assert_eq!((d.line, d.column), (1, 1));
        assert_eq!(Diagnostic::new("f", 1, 1, "m").with_hint("").hint, None);
    }

    #[test]
    fn render_joins_all() {
        let a = Diagnostic::new("f", 1, 2, "a");
        let b = Diagnostic::new("f", 3, 4, "b").with_hint("h");
        assert_eq!(
            render(&[a, b]),
            "f:1:2: error: a\nf:3:4: error: b\n  hint: h"
        );
    }

    #[test]
    fn suggests_close_names_only() {
        assert_eq!(closest("wran", ["warn", "crit", "id"]), Some("warn"));
        assert_eq!(closest("average", ["Average", "Sum"]), Some("Average"));
        assert_eq!(closest("zzzzzz", ["warn", "crit"]), None);
        // Bounded: words too long to be typos, and candidates too long or short to be close.
        let long = "a".repeat(65);
        assert_eq!(closest(&long, [long.as_str()]), None);
        assert_eq!(closest("warn", ["warnings_total"]), None);
        let mut budget = 100;
        assert_eq!(closest_within("wran", ["warn"], &mut budget), Some("warn"));
        assert_eq!(budget, 75);
        // 5 × 5 characters each: "crit" is compared, "warn" no longer fits.
        let mut budget = 30;
        assert_eq!(closest_within("wran", ["crit", "warn"], &mut budget), None);
        assert_eq!(budget, 0);
        assert_eq!(closest("GoNoGo", ["Launch", "Go/no-go"]), Some("Go/no-go"));
    }

    #[test]
    fn strips_serde_locations() {
        assert_eq!(
            strip_marks("x: bad at line 3 column 7, while parsing at line 2 column 1"),
            "x: bad, while parsing"
        );
        assert_eq!(strip_marks("EOF at position 0"), "EOF");
    }

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct T {
        warn: f64,
        crit: f64,
    }

    #[test]
    fn unknown_keys_get_a_did_you_mean() {
        let text = "warn: 1\nwran: 2\n";
        let err = serde_yaml::from_str::<T>(text).unwrap_err();
        let d = from_yaml_error("f.yaml", text, &err);
        assert_eq!((d.line, d.column), (2, 1), "{d}");
        assert_eq!(d.message, "unknown key `wran`");
        assert_eq!(
            d.hint.as_deref(),
            Some("did you mean `warn`? allowed keys here: warn, crit")
        );
    }

    #[test]
    fn type_errors_are_located_with_a_hint() {
        let text = "warn: 1\ncrit: lots\n";
        let err = serde_yaml::from_str::<T>(text).unwrap_err();
        let d = from_yaml_error("f.yaml", text, &err);
        assert_eq!((d.line, d.column), (2, 7), "{d}");
        assert!(d.message.contains("crit: invalid type"), "{d}");
        assert!(!d.message.contains("line"), "{d}");
        assert!(d.hint.unwrap().contains("plain number"));
    }

    /// The duplicate is the second occurrence: that is the line to delete.
    #[test]
    fn duplicate_keys_are_located_at_the_second_occurrence() {
        let text = "warn: 1\ncrit: 2\nwarn: 3\n";
        let err = serde_yaml::from_str::<T>(text).unwrap_err();
        let d = from_yaml_error("f.yaml", text, &err);
        assert_eq!((d.line, d.column), (3, 1), "{d}");
        assert_eq!(d.message, "duplicate field `warn`");

        #[derive(Debug, serde::Deserialize)]
        #[allow(dead_code)]
        struct Outer {
            items: Vec<T>,
        }
        let text = "items:\n  - warn: 1\n    crit: 2\n  - crit: 1\n    warn: 2\n    crit: 3\n";
        let err = serde_yaml::from_str::<Outer>(text).unwrap_err();
        let d = from_yaml_error("f.yaml", text, &err);
        assert_eq!((d.line, d.column), (6, 5), "{d}");
        assert_eq!(d.message, "items[1]: duplicate field `crit`");
    }

    #[test]
    fn tabs_are_explained() {
        let text = "warn: 1\n\tcrit: 2\n";
        let err = serde_yaml::from_str::<T>(text).unwrap_err();
        let d = from_yaml_error("f.yaml", text, &err);
        assert_eq!(d.line, 2, "{d}");
        assert!(d.hint.unwrap().contains("tab"));
    }
}
