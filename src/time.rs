//! Times relative to T-0 ("T-30m", "T+1h30m") and plain durations ("10m").
//!
//! Everything the runbook says about time is relative to the event's T-0 so that a runbook can be
//! reused and rehearsed; these types keep that meaning instead of passing bare integers around.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A signed offset from T-0 in whole seconds: negative before T-0 ("T-30m"), positive after.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TOffset(pub i64);

/// A non-negative duration in whole seconds, written like "90s", "10m", "1h30m", "2d".
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Span(pub i64);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct TimeParseError(String);

/// The furthest from T-0 (or from now) anything may be: a year and a day. Runbook offsets are
/// held to it, and so are `--in` and `--t0 +...`, so no arithmetic on times can overflow.
pub const MAX_AHEAD_SECS: i64 = 366 * 86_400;

/// A delay from now for the command line (`demo --in`, `run --t0 +...`): a duration of at most
/// 366 days. Anything longer is refused as a usage error rather than overflowing a date.
pub fn parse_lead(s: &str) -> Result<Span, TimeParseError> {
    let span: Span = s.parse()?;
    if span.secs() > MAX_AHEAD_SECS {
        return Err(TimeParseError(format!(
            "{s:?} is too far ahead: T-0 must be within 366 days of now"
        )));
    }
    Ok(span)
}

/// An offset from T-0 for the command line (`rehearse --start-at`): within 366 days of T-0, as
/// in a runbook.
pub fn parse_cli_offset(s: &str) -> Result<TOffset, TimeParseError> {
    let offset: TOffset = s.parse()?;
    if offset.secs().abs() > MAX_AHEAD_SECS {
        return Err(TimeParseError(format!(
            "{s:?} is too far from T-0: it must be within 366 days of it"
        )));
    }
    Ok(offset)
}

/// `now + span`, saturating at chrono's range instead of panicking.
pub fn after(now: DateTime<Utc>, span: Span) -> DateTime<Utc> {
    TOffset(span.secs()).at(now)
}

const OFFSET_HINT: &str =
    "write T-<duration> or T+<duration> with units w, d, h, m, s, e.g. T-30m, T+1h30m, T-0";
const SPAN_HINT: &str = "write a duration with units w, d, h, m, s, e.g. 90s, 10m, 1h30m, 3w";

/// Parses "1h30m", "90s", "0" into seconds. Units are required except for a bare 0.
fn parse_span_secs(s: &str) -> Option<i64> {
    let s = s.trim();
    if s == "0" {
        return Some(0);
    }
    if s.is_empty() {
        return None;
    }
    let mut total: i64 = 0;
    let mut num = String::new();
    let mut last_unit_rank = usize::MAX;
    for c in s.chars() {
        if c.is_ascii_digit() {
            num.push(c);
            continue;
        }
        let (mult, rank) = match c {
            // Weeks: how lead times for quota increases are talked about.
            'w' => (7 * 86_400, 4),
            'd' => (86_400, 3),
            'h' => (3_600, 2),
            'm' => (60, 1),
            's' => (1, 0),
            _ => return None,
        };
        // Units must be given largest first and at most once: "1h30m", not "30m1h".
        if num.is_empty() || rank >= last_unit_rank {
            return None;
        }
        last_unit_rank = rank;
        let n: i64 = num.parse().ok()?;
        total = total.checked_add(n.checked_mul(mult)?)?;
        num.clear();
    }
    if !num.is_empty() {
        return None;
    }
    Some(total)
}

fn fmt_span_compact(mut secs: i64, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    if secs == 0 {
        return f.write_str("0");
    }
    for (unit, size) in [("d", 86_400), ("h", 3_600), ("m", 60), ("s", 1)] {
        if secs >= size {
            write!(f, "{}{unit}", secs / size)?;
            secs %= size;
        }
    }
    Ok(())
}

impl FromStr for TOffset {
    type Err = TimeParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || TimeParseError(format!("bad time offset {s:?}: {OFFSET_HINT}"));
        let t = s.trim();
        let rest = t
            .strip_prefix('T')
            .or_else(|| t.strip_prefix('t'))
            .ok_or_else(bad)?;
        let (sign, body) = if let Some(b) = rest.strip_prefix('-') {
            (-1, b)
        } else if let Some(b) = rest.strip_prefix('+') {
            (1, b)
        } else {
            return Err(bad());
        };
        let secs = parse_span_secs(body).ok_or_else(bad)?;
        Ok(TOffset(sign * secs))
    }
}

impl fmt::Display for TOffset {
    /// Compact runbook form: "T-30m", "T+1h30m", "T-0".
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.0 < 0 { "T-" } else { "T+" })?;
        if self.0 == 0 {
            return f.write_str("0");
        }
        fmt_span_compact(self.0.abs(), f)
    }
}

impl TOffset {
    pub fn secs(self) -> i64 {
        self.0
    }

    /// The offset of `at` from `t0`, rounded towards minus infinity to whole seconds so the
    /// countdown ticks over exactly on the second.
    pub fn between(t0: DateTime<Utc>, at: DateTime<Utc>) -> TOffset {
        let ms = (at - t0).num_milliseconds();
        TOffset(ms.div_euclid(1000))
    }

    /// The instant of this offset for a given T-0, saturating at chrono's range instead of
    /// panicking on absurd offsets.
    pub fn at(self, t0: DateTime<Utc>) -> DateTime<Utc> {
        chrono::TimeDelta::try_seconds(self.0)
            .and_then(|d| t0.checked_add_signed(d))
            .unwrap_or(if self.0 < 0 {
                DateTime::<Utc>::MIN_UTC
            } else {
                DateTime::<Utc>::MAX_UTC
            })
    }

    /// Countdown clock form: "T-00:14:32", "T+01:02:03", "T-3d 04:05:06".
    pub fn clock(self) -> String {
        let sign = if self.0 < 0 { '-' } else { '+' };
        let s = self.0.unsigned_abs();
        let (d, h, m, sec) = (s / 86_400, (s / 3_600) % 24, (s / 60) % 60, s % 60);
        if d > 0 {
            format!("T{sign}{d}d {h:02}:{m:02}:{sec:02}")
        } else {
            format!("T{sign}{h:02}:{m:02}:{sec:02}")
        }
    }
}

impl FromStr for Span {
    type Err = TimeParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        parse_span_secs(s)
            .map(Span)
            .ok_or_else(|| TimeParseError(format!("bad duration {s:?}: {SPAN_HINT}")))
    }
}

impl fmt::Display for Span {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt_span_compact(self.0, f)
    }
}

impl Span {
    pub fn secs(self) -> i64 {
        self.0
    }
}

/// "updated 12s ago", or "updated just now": for panel titles.
pub fn ago(secs: i64) -> String {
    match age_label(secs).as_str() {
        "now" => "just now".to_string(),
        a => format!("{a} ago"),
    }
}

/// Human age of a piece of data: "now", "10s", "4m", "2h", "3d". Seconds move in steps of
/// five: data lands every 10 s or slower, and a label that changes every second would redraw
/// (and rewrite to the terminal) every age on screen every second for no information.
pub fn age_label(secs: i64) -> String {
    match secs {
        i64::MIN..=4 => "now".to_string(),
        5..=59 => format!("{}s", secs / 5 * 5),
        60..=3_599 => format!("{}m", secs / 60),
        3_600..=86_399 => format!("{}h", secs / 3_600),
        _ => format!("{}d", secs / 86_400),
    }
}

macro_rules! serde_via_str {
    ($t:ty, $what:literal) => {
        impl<'de> Deserialize<'de> for $t {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                // Accept YAML integers as seconds-free shorthand only for 0 ("after: 0").
                struct V;
                impl serde::de::Visitor<'_> for V {
                    type Value = $t;
                    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                        f.write_str($what)
                    }
                    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<$t, E> {
                        v.parse().map_err(E::custom)
                    }
                    fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<$t, E> {
                        v.to_string().parse().map_err(E::custom)
                    }
                    fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<$t, E> {
                        v.to_string().parse().map_err(E::custom)
                    }
                }
                d.deserialize_any(V)
            }
        }
        impl Serialize for $t {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.collect_str(self)
            }
        }
    };
}
serde_via_str!(TOffset, "a time offset like T-30m or T+1h");
serde_via_str!(Span, "a duration like 10m or 1h30m");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_offsets() {
        assert_eq!("T-30m".parse(), Ok(TOffset(-1800)));
        assert_eq!("T+1h30m".parse(), Ok(TOffset(5400)));
        assert_eq!("T-0".parse(), Ok(TOffset(0)));
        assert_eq!("T+2d".parse(), Ok(TOffset(172_800)));
        assert_eq!("T-90s".parse(), Ok(TOffset(-90)));
    }

    #[test]
    fn rejects_bad_offsets_with_a_hint() {
        for bad in ["T-3x", "30m", "T30m", "T-", "T-m", "T-30m1h", "T-1h1h", ""] {
            let err = bad.parse::<TOffset>().unwrap_err().to_string();
            assert!(err.contains("T-30m"), "{bad}: {err}");
        }
    }

    #[test]
    fn formats_offsets() {
        assert_eq!(TOffset(-1800).to_string(), "T-30m");
        assert_eq!(TOffset(5400).to_string(), "T+1h30m");
        assert_eq!(TOffset(0).to_string(), "T+0");
        assert_eq!(TOffset(-872).clock(), "T-00:14:32");
        assert_eq!(TOffset(3723).clock(), "T+01:02:03");
        assert_eq!(TOffset(-(3 * 86_400 + 3_600)).clock(), "T-3d 01:00:00");
        assert!(TOffset(i64::MIN + 1).clock().len() > 5);
    }

    #[test]
    fn between_floors_to_the_second() {
        let t0 = DateTime::parse_from_rfc3339("2026-12-01T17:00:00Z")
            .unwrap()
            .to_utc();
        let before = t0 - chrono::Duration::milliseconds(1);
        assert_eq!(TOffset::between(t0, before), TOffset(-1));
        assert_eq!(TOffset::between(t0, t0), TOffset(0));
    }

    #[test]
    fn leads_from_now_are_held_to_366_days() {
        assert_eq!(parse_lead("3m"), Ok(Span(180)));
        assert_eq!(parse_lead("366d"), Ok(Span(MAX_AHEAD_SECS)));
        for far in ["367d", "1000000000d", "9223372036854775807s"] {
            let err = parse_lead(far).unwrap_err().to_string();
            assert!(err.contains("within 366 days of now"), "{far}: {err}");
        }
        assert!(parse_lead("99999999999999999999d").is_err());
        assert_eq!(parse_cli_offset("T-30m"), Ok(TOffset(-1800)));
        for far in ["T+1000000000d", "T-367d", "T+9223372036854775807s"] {
            let err = parse_cli_offset(far).unwrap_err().to_string();
            assert!(err.contains("within 366 days of it"), "{far}: {err}");
        }
        let now = DateTime::parse_from_rfc3339("2026-12-01T17:00:00Z")
            .unwrap()
            .to_utc();
        assert_eq!(after(now, Span(60)), now + chrono::Duration::minutes(1));
        assert_eq!(after(now, Span(i64::MAX)), DateTime::<Utc>::MAX_UTC);
    }

    #[test]
    fn spans() {
        assert_eq!("10m".parse(), Ok(Span(600)));
        assert_eq!("0".parse(), Ok(Span(0)));
        assert!("10".parse::<Span>().is_err());
        assert_eq!(Span(5400).to_string(), "1h30m");
        assert_eq!(age_label(75), "1m");
        assert_eq!(age_label(4), "now");
        assert_eq!(age_label(-3), "now");
        assert_eq!(age_label(14), "10s");
        assert_eq!(age_label(59), "55s");
    }
}
