//! Text from outside the program (runbooks, journals, recordings, AWS responses, file names)
//! made safe to print, and fitted into columns by display width. Everything tminus prints goes
//! through here: the war room's cells, `check`, `quotas`, `report`, the rehearsal score and
//! error messages. A leaf module: it knows nothing of the app, the UI or the commands.
//!
//! # What `clean` does to each character
//!
//! - **Line breaks and tabs** (LF, CR, CR LF, TAB, VT, FF, NEL, U+2028, U+2029) become one
//!   space, so a field stays on its line and in its column. `clean_lines` keeps LF, for
//!   messages that are several lines on purpose.
//! - **Every other control character** (C0, DEL, C1: ESC, BEL, CSI U+009B, OSC U+009D...)
//!   becomes `?`. An escape sequence stays readable but inert: without its ESC or CSI a
//!   terminal prints the rest (`?]0;title?`) as text, so nothing can set the window title,
//!   write the clipboard (OSC 52), move the cursor or change colours.
//! - **Bidirectional embeddings, overrides and isolates** (U+202A-U+202E, U+2066-U+2069)
//!   become `?`: they reorder what follows them on screen, so their presence is shown.
//! - **Invisible format characters are removed**: zero-width space, non-joiner and joiner,
//!   LRM, RLM and ALM, word joiner and invisible operators, BOM, soft hyphen, variation
//!   selectors, tags, Hangul fillers, emoji skin-tone modifiers. They take no cell, or a
//!   number of cells terminals disagree on: tmux 3.3 draws the character after a zero-width
//!   joiner into the cell before it, so `a` ZWJ `日` takes 1 cell there where unicode-width
//!   counts 3, and the cells the layout reserved keep whatever was drawn there before; `☂`
//!   VS16 is 2 cells to unicode-width and 1 to tmux; a skin tone is 2 more cells in tmux and
//!   none to unicode-width. What is left of an emoji ZWJ sequence is its emoji side by side.
//! - The halfwidth katakana sound marks U+FF9E and U+FF9F become their spacing forms U+309B
//!   and U+309C: ratatui counts the halfwidth ones twice, terminals once.
//!
//! Everything else is kept as it is, so names in any script read as written.
//!
//! # Widths
//!
//! `width`, `truncate`, `fit`, `fit_right` and `tail` measure text after cleaning it, grapheme
//! by grapheme as ratatui lays out cells, never split a grapheme (a flag, a letter and its
//! accents), and return cleaned text.

use std::borrow::Cow;
use std::fmt::Write as _;

use unicode_segmentation::UnicodeSegmentation;
use unicode_width::UnicodeWidthStr;

/// What `clean` does with one character.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fate {
    Keep,
    /// A line break or tab: one space.
    Space,
    /// A control or bidi override: shown as `?`.
    Mark,
    /// Invisible and of disputed width: removed.
    Drop,
    Replace(char),
}

fn fate(c: char) -> Fate {
    match c {
        '\t' | '\n' | '\r' | '\u{b}' | '\u{c}' | '\u{85}' | '\u{2028}' | '\u{2029}' => Fate::Space,
        // C0, DEL and C1: the general category Cc.
        c if c.is_control() => Fate::Mark,
        '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' => Fate::Mark,
        '\u{FF9E}' => Fate::Replace('\u{309B}'),
        '\u{FF9F}' => Fate::Replace('\u{309C}'),
        c if invisible(c) => Fate::Drop,
        _ => Fate::Keep,
    }
}

/// Default-ignorable and format characters (besides the bidi ones `fate` marks), and the
/// emoji modifiers whose joining terminals disagree on.
fn invisible(c: char) -> bool {
    matches!(
        c,
        '\u{AD}'                       // soft hyphen
        | '\u{34F}'                    // combining grapheme joiner
        | '\u{61C}'                    // Arabic letter mark
        | '\u{115F}' | '\u{1160}'      // Hangul choseong and jungseong fillers
        | '\u{17B4}' | '\u{17B5}'      // Khmer inherent vowels
        | '\u{180B}'..='\u{180F}'      // Mongolian variation selectors and vowel separator
        | '\u{200B}'..='\u{200F}'      // ZWSP, ZWNJ, ZWJ, LRM, RLM
        | '\u{2060}'..='\u{2065}'      // word joiner, invisible operators
        | '\u{206A}'..='\u{206F}'      // deprecated format characters
        | '\u{3164}' | '\u{FFA0}'      // Hangul fillers
        | '\u{FE00}'..='\u{FE0F}'      // variation selectors (VS15, VS16...)
        | '\u{FEFF}'                   // byte order mark, zero-width no-break space
        | '\u{FFF0}'..='\u{FFFB}'      // interlinear annotation and reserved specials
        | '\u{1BCA0}'..='\u{1BCA3}'    // shorthand format controls
        | '\u{1D173}'..='\u{1D17A}'    // musical symbol format controls
        | '\u{1F3FB}'..='\u{1F3FF}'    // emoji skin-tone modifiers
        | '\u{E0000}'..='\u{E0FFF}' // tags, variation selectors supplement
    )
}

/// `s` safe to print on one line; see the module documentation for the rules.
pub fn clean(s: &str) -> Cow<'_, str> {
    sanitise(s, false)
}

/// `s` safe to print, keeping its line breaks (LF; CR LF becomes LF).
pub fn clean_lines(s: &str) -> Cow<'_, str> {
    sanitise(s, true)
}

fn sanitise(s: &str, keep_lf: bool) -> Cow<'_, str> {
    if s.chars().all(|c| fate(c) == Fate::Keep) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        // CR LF is one line break.
        if c == '\r' && chars.peek() == Some(&'\n') {
            continue;
        }
        match fate(c) {
            Fate::Keep => out.push(c),
            Fate::Space if keep_lf && c == '\n' => out.push('\n'),
            Fate::Space => out.push(' '),
            Fate::Mark => out.push('?'),
            Fate::Drop => {}
            Fate::Replace(r) => out.push(r),
        }
    }
    Cow::Owned(out)
}

/// Cells a grapheme of cleaned text takes; what ratatui counts for it too.
fn cells(g: &str) -> usize {
    UnicodeWidthStr::width(g)
}

/// Display width of `s` once cleaned, in terminal cells.
pub fn width(s: &str) -> usize {
    clean(s).graphemes(true).map(cells).sum()
}

/// `s` cleaned and cut to at most `max` columns, ending in '…' when cut.
pub fn truncate(s: &str, max: usize) -> String {
    let s = clean(s);
    if width(&s) <= max {
        return s.into_owned();
    }
    if max == 0 {
        return String::new();
    }
    let mut out = String::new();
    let mut used = 0;
    for g in s.graphemes(true) {
        let w = cells(g);
        if used + w > max - 1 {
            break;
        }
        out.push_str(g);
        used += w;
    }
    out.push('…');
    out
}

/// `s` cleaned, cut or padded with spaces to exactly `cols` columns, left-aligned.
pub fn fit(s: &str, cols: usize) -> String {
    let mut out = truncate(s, cols);
    let w = width(&out);
    out.extend(std::iter::repeat_n(' ', cols.saturating_sub(w)));
    out
}

/// Rows of cells as aligned columns for a command's stdout: every cell cleaned and measured
/// after cleaning, two spaces between columns, the last column left ragged, lines trimmed.
pub fn columns(rows: &[Vec<String>]) -> String {
    let n = rows.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..n)
        .map(|c| {
            rows.iter()
                .filter_map(|r| r.get(c))
                .map(|s| width(s))
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = String::new();
    for r in rows {
        let cells: Vec<String> = r
            .iter()
            .zip(&widths)
            .enumerate()
            .map(|(c, (s, w))| {
                if c + 1 == n {
                    clean(s).into_owned()
                } else {
                    fit(s, *w)
                }
            })
            .collect();
        out.push_str(cells.join("  ").trim_end());
        out.push('\n');
    }
    out
}

/// `s` cleaned, cut or padded to exactly `cols` columns, right-aligned.
pub fn fit_right(s: &str, cols: usize) -> String {
    let cut = truncate(s, cols);
    let pad = cols.saturating_sub(width(&cut));
    format!("{}{cut}", " ".repeat(pad))
}

/// The end of `s`, cleaned, in at most `max` columns: where the cursor is in a long entry.
pub fn tail(s: &str, max: usize) -> String {
    let s = clean(s);
    let mut start = s.len();
    let mut used = 0;
    for (i, g) in s.grapheme_indices(true).rev() {
        let w = cells(g);
        if used + w > max {
            break;
        }
        used += w;
        start = i;
    }
    s[start..].to_string()
}

/// `s` cleaned for inline Markdown: a table cell, a list item or a heading. Line breaks are
/// spaces; `|` cannot end a cell; backslash-escaped are the characters that would start a code
/// span (`` ` ``), a link or image (`[`), raw HTML or an autolink (`<`, `>`), an entity that
/// could smuggle back a control or bidi character (`&#8238;`), emphasis by `*`, and the
/// backslash. `_` and `]` are left alone: they do nothing without the others, and a metric id
/// or an escape's remains (`?]0;title?`) read better bare.
pub fn markdown(s: &str) -> String {
    let s = clean(s);
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(c, '\\' | '|' | '`' | '*' | '[' | '<' | '>' | '&') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// Serialised JSON with every character `clean` would change written as a `\uXXXX` escape:
/// still the same JSON value (nothing is lost), but nothing in it acts on a terminal. serde_json
/// escapes C0 controls itself, not DEL, C1 controls or bidi overrides. Line breaks outside
/// strings (pretty printing) are kept; inside strings serde_json has already escaped them.
pub fn json(serialised: &str) -> String {
    let mut out = String::with_capacity(serialised.len());
    for c in serialised.chars() {
        match fate(c) {
            Fate::Keep | Fate::Replace(_) => out.push(c),
            _ if c == '\n' || c == '\t' || c == '\r' => out.push(c),
            _ => {
                let mut units = [0u16; 2];
                for u in c.encode_utf16(&mut units) {
                    let _ = write!(out, "\\u{u:04x}");
                }
            }
        }
    }
    out
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
        assert_eq!(tail("日本語テキスト", 5), "スト");
        assert_eq!(tail("abc", 5), "abc");
        assert_eq!(tail("abc", 0), "");
    }

    #[test]
    fn controls_become_visible_placeholders() {
        // OSC 0 (window title), OSC 52 (clipboard), CSI, C1 CSI and DEL.
        assert_eq!(clean("a\u{1b}]0;pwned\u{7}b"), "a?]0;pwned?b");
        assert_eq!(clean("\u{1b}]52;c;aGk=\u{1b}\\"), "?]52;c;aGk=?\\");
        assert_eq!(clean("p99 \u{1b}[31mred\u{7}"), "p99 ?[31mred?");
        assert_eq!(clean("a\u{9b}2Jb\u{7f}\u{9d}"), "a?2Jb??");
        assert_eq!(clean("\0"), "?");
        // Bidi overrides and isolates.
        assert_eq!(clean("x\u{202E}y\u{2066}z\u{2069}"), "x?y?z?");
        // Line breaks and tabs are spaces; CR LF is one.
        assert_eq!(clean("a\r\nb\nc\rd\te\u{2028}f\u{85}g"), "a b c d e f g");
        assert_eq!(clean_lines("a\r\nb\nc\u{1b}"), "a\nb\nc?");
        // Untouched text is not copied.
        assert!(matches!(clean("日本 ok – fine ✓"), Cow::Borrowed(_)));
    }

    #[test]
    fn invisible_characters_of_disputed_width_are_removed() {
        assert_eq!(clean("a\u{200D}日"), "a日");
        assert_eq!(clean("👩\u{200D}💻"), "👩💻");
        assert_eq!(clean("☂\u{FE0F} x\u{200B}y\u{FEFF}\u{AD}"), "☂ xy");
        assert_eq!(clean("👍\u{1F3FD}"), "👍");
        assert_eq!(clean("🏴\u{E0067}\u{E0062}\u{E007F}"), "🏴");
        assert_eq!(clean("\u{200E}abc\u{200F}"), "abc");
        assert_eq!(clean("ｶﾞ"), "ｶ゛");
        // Accents, flags and scripts stay as written.
        assert_eq!(clean("é e\u{301} 🇯🇵 क्षि"), "é e\u{301} 🇯🇵 क्षि");
    }

    #[test]
    fn widths_are_measured_after_cleaning() {
        // Controls are one cell each, as '?', not nothing or one before being dropped.
        assert_eq!(width("a\u{1b}[31mb"), 7);
        assert_eq!(fit("a\u{1b}b", 4), "a?b ");
        // A joiner before a wide character leaves the wide character's two cells.
        assert_eq!(width("a\u{200D}日"), 3);
        assert_eq!(fit("a\u{200D}日", 4), "a日 ");
        assert_eq!(width("👩\u{200D}💻"), 4);
        assert_eq!(width("☂\u{FE0F}"), 1);
        // Graphemes are never split: a flag stays whole, an accent stays on its letter.
        assert_eq!(truncate("🇯🇵🇫🇷", 3), "🇯🇵…");
        assert_eq!(truncate("e\u{301}e\u{301}e\u{301}", 2), "e\u{301}…");
        for s in ["a\u{200D}日本語", "x\u{1b}]0;t\u{7}y", "🇯🇵🇯🇵🇯", "ｶﾞｷﾞｸﾞ"]
        {
            for cols in 0..8 {
                assert_eq!(width(&fit(s, cols)), cols, "{s:?} in {cols}");
                assert_eq!(width(&fit_right(s, cols)), cols, "{s:?} in {cols}");
            }
        }
    }

    #[test]
    fn markdown_cells_cannot_break_the_table_or_inject_markup() {
        assert_eq!(markdown("a | b"), "a \\| b");
        assert_eq!(markdown("two\nlines"), "two lines");
        assert_eq!(
            markdown("<img src=x onerror=alert(1)> [x](http://e) `c` *e* &#8238;"),
            "\\<img src=x onerror=alert(1)\\> \\[x](http://e) \\`c\\` \\*e\\* \\&#8238;"
        );
        assert_eq!(markdown("ddb_throttles \\"), "ddb_throttles \\\\");
        assert_eq!(markdown("\u{1b}]0;t\u{7}"), "?]0;t?");
    }

    #[test]
    fn json_escapes_what_acts_on_a_terminal_and_loses_nothing() {
        let value = "a\u{1b}]0;t\u{7} \u{9b}2J \u{202E}x \u{200D} 日 \u{E0067}";
        let s = json(&serde_json::to_string_pretty(&[value]).unwrap());
        assert!(s.chars().all(|c| c == '\n' || fate(c) == Fate::Keep), "{s}");
        assert!(s.contains("\\u009b") && s.contains("\\u202e") && s.contains("\\udb40\\udc67"));
        let back: Vec<String> = serde_json::from_str(&s).unwrap();
        assert_eq!(back, [value]);
    }
}
