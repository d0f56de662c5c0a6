//! Number formatting shared by panes, alerts and reports.

/// A metric value in at most about six characters: "0.42", "12.3", "840", "12.4k", "3.1M".
/// NaN shows as "NaN" and infinities as "inf"/"-inf" rather than garbage or a panic.
pub fn value(v: f64) -> String {
    if v.is_nan() {
        return "NaN".into();
    }
    if v.is_infinite() {
        return if v > 0.0 { "inf".into() } else { "-inf".into() };
    }
    let a = v.abs();
    let (scaled, suffix) = match a {
        x if x >= 1e15 => return format!("{v:.1e}"),
        x if x >= 1e12 => (v / 1e12, "T"),
        x if x >= 1e9 => (v / 1e9, "G"),
        x if x >= 1e6 => (v / 1e6, "M"),
        x if x >= 1e4 => (v / 1e3, "k"),
        _ => (v, ""),
    };
    let s = scaled.abs();
    let digits = if s >= 100.0 || (s.fract() == 0.0 && suffix.is_empty()) {
        0
    } else if s >= 10.0 {
        1
    } else {
        2
    };
    format!("{scaled:.digits$}{suffix}")
}

#[cfg(test)]
mod tests {
    use super::value;

    #[test]
    fn compact_values() {
        assert_eq!(value(0.4213), "0.42");
        assert_eq!(value(12.34), "12.3");
        assert_eq!(value(840.0), "840");
        assert_eq!(value(5.0), "5");
        assert_eq!(value(12_400.0), "12.4k");
        assert_eq!(value(3_100_000.0), "3.10M");
        assert_eq!(value(-250.0), "-250");
        assert_eq!(value(f64::NAN), "NaN");
        assert_eq!(value(f64::NEG_INFINITY), "-inf");
        assert_eq!(value(1e300), "1.0e300");
    }
}
