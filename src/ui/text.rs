//! Fitting text into columns by display width (titles may hold CJK or emoji), never by bytes.

use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

pub fn width(s: &str) -> usize {
    UnicodeWidthStr::width(s)
}

/// `s` cut to at most `max` columns, ending in '…' when cut.
pub fn truncate(s: &str, max: usize) -> String {
    if width(s) <= max {
        return s.to_string();
    }
    if max == 0 {
        return String::new();
    }
    let mut out = String::new();
    let mut used = 0;
    for c in s.chars() {
        let w = c.width().unwrap_or(0);
        if used + w > max - 1 {
            break;
        }
        out.push(c);
        used += w;
    }
    out.push('…');
    out
}

/// `s` cut or padded with spaces to exactly `cols` columns, left-aligned.
pub fn fit(s: &str, cols: usize) -> String {
    let mut out = truncate(s, cols);
    let w = width(&out);
    out.extend(std::iter::repeat_n(' ', cols.saturating_sub(w)));
    out
}

/// `s` cut or padded to exactly `cols` columns, right-aligned.
pub fn fit_right(s: &str, cols: usize) -> String {
    let cut = truncate(s, cols);
    let pad = cols.saturating_sub(width(&cut));
    format!("{}{cut}", " ".repeat(pad))
}

/// `s` safe to print on a terminal: control characters (escape sequences, carriage returns,
/// C1 controls) and bidirectional overrides become '?', so text from a runbook can neither
/// move the cursor nor change colours or reorder what follows it.
pub fn plain(s: &str) -> String {
    s.chars()
        .map(|c| {
            let bidi = matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}');
            if c.is_control() || bidi { '?' } else { c }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fits_by_display_width() {
        assert_eq!(fit("abc", 5), "abc  ");
        assert_eq!(fit("abcdef", 4), "abc…");
        assert_eq!(fit_right("42", 4), "  42");
        assert_eq!(fit("", 0), "");
        assert_eq!(truncate("abc", 0), "");
        // Wide characters count twice and are never split.
        assert_eq!(fit("日本語テキスト", 5), "日本…");
        assert_eq!(fit("日本語テキスト", 6), "日本… ");
        assert_eq!(width(&fit("日本語テキスト", 5)), 5);
    }

    #[test]
    fn plain_removes_what_a_terminal_would_act_on() {
        assert_eq!(plain("p99 \u{1b}[31mred\u{7}"), "p99 ?[31mred?");
        assert_eq!(plain("a\rb\nc\u{9b}2J"), "a?b?c?2J");
        assert_eq!(plain("x\u{202E}y"), "x?y");
        assert_eq!(plain("日本 ok – fine"), "日本 ok – fine");
    }
}
