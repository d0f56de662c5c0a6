//! Colours by role, not by widget: a theme says what "ok", "warn" or "crit" look like and every
//! pane uses those roles.
//!
//! Theme files (`themes/*.yaml`) give a `name`, an optional `extends: <built-in>` and any of the
//! colour roles below; roles left out come from the theme extended (dark by default). Colours are
//! "#rrggbb", ANSI names ("red", "light-blue", "dark-gray"...), "reset"/"default" (the
//! terminal's own colour) or 0-255 palette indexes. The shipped themes are compiled in, so
//! `--theme light` works from any directory; a `themes/NAME.yaml` beside the user overrides them.

use std::path::{Path, PathBuf};

use ratatui::style::{Color, Modifier, Style};
use serde::Deserialize;

use crate::diag::{self, Diagnostic};
use crate::positions::Positions;

/// The shipped themes, by name, embedded so they work whatever the current directory.
const BUILT_IN: &[(&str, &str)] = &[
    ("dark", include_str!("../themes/dark.yaml")),
    ("light", include_str!("../themes/light.yaml")),
    (
        "high-contrast",
        include_str!("../themes/high-contrast.yaml"),
    ),
    ("colorblind", include_str!("../themes/colorblind.yaml")),
];

/// `extends` chains longer than this are surely loops between built-ins.
const MAX_EXTENDS_DEPTH: usize = 4;

#[derive(Debug, Clone, PartialEq)]
pub struct Theme {
    pub name: String,
    /// False under NO_COLOR: panes must then carry meaning in text and modifiers alone.
    pub color: bool,
    pub fg: Color,
    pub bg: Color,
    pub muted: Color,
    pub accent: Color,
    pub ok: Color,
    pub warn: Color,
    pub crit: Color,
    pub stale: Color,
    pub border: Color,
    pub border_focus: Color,
    pub selection_bg: Color,
    pub selection_fg: Color,
}

impl Default for Theme {
    fn default() -> Self {
        Self::dark()
    }
}

/// A colour as written in a theme file.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Colour(Color);

impl<'de> Deserialize<'de> for Colour {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        fn bad<E: serde::de::Error>(shown: &str) -> E {
            E::custom(format!("bad colour {shown}"))
        }
        impl serde::de::Visitor<'_> for V {
            type Value = Colour;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a colour: \"#rrggbb\", an ANSI name, reset, or 0-255")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Colour, E> {
                parse_color(v)
                    .map(Colour)
                    .ok_or_else(|| bad(&format!("{v:?}")))
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Colour, E> {
                u8::try_from(v)
                    .map(|i| Colour(Color::Indexed(i)))
                    .map_err(|_| bad(&v.to_string()))
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Colour, E> {
                u8::try_from(v)
                    .map(|i| Colour(Color::Indexed(i)))
                    .map_err(|_| bad(&v.to_string()))
            }
        }
        d.deserialize_any(V)
    }
}

/// "#rrggbb", "#rgb", ANSI names in any common spelling ("light-blue", "light_blue",
/// "LightBlue", "dark-grey"), "reset"/"default", or a palette index "0".."255".
pub fn parse_color(s: &str) -> Option<Color> {
    let s = s.trim();
    if let Some(hex) = s.strip_prefix('#') {
        if !hex.chars().all(|c| c.is_ascii_hexdigit()) {
            return None;
        }
        let full = match hex.len() {
            6 => hex.to_string(),
            3 => hex.chars().flat_map(|c| [c, c]).collect(),
            _ => return None,
        };
        let n = u32::from_str_radix(&full, 16).ok()?;
        return Some(Color::Rgb((n >> 16) as u8, (n >> 8) as u8, n as u8));
    }
    if let Ok(i) = s.parse::<u8>() {
        return Some(Color::Indexed(i));
    }
    let key: String = s
        .chars()
        .filter(|c| !matches!(c, '-' | '_' | ' '))
        .collect::<String>()
        .to_ascii_lowercase()
        .replace("grey", "gray");
    Some(match key.as_str() {
        "reset" | "default" => Color::Reset,
        "black" => Color::Black,
        "red" => Color::Red,
        "green" => Color::Green,
        "yellow" => Color::Yellow,
        "blue" => Color::Blue,
        "magenta" => Color::Magenta,
        "cyan" => Color::Cyan,
        "gray" => Color::Gray,
        "darkgray" => Color::DarkGray,
        "lightred" => Color::LightRed,
        "lightgreen" => Color::LightGreen,
        "lightyellow" => Color::LightYellow,
        "lightblue" => Color::LightBlue,
        "lightmagenta" => Color::LightMagenta,
        "lightcyan" => Color::LightCyan,
        "white" => Color::White,
        _ => return None,
    })
}

/// A theme file: every role optional, unknown keys refused (a typo must not silently fall back).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ThemeFile {
    name: String,
    #[serde(default)]
    extends: Option<String>,
    fg: Option<Colour>,
    bg: Option<Colour>,
    muted: Option<Colour>,
    accent: Option<Colour>,
    ok: Option<Colour>,
    warn: Option<Colour>,
    crit: Option<Colour>,
    stale: Option<Colour>,
    border: Option<Colour>,
    border_focus: Option<Colour>,
    selection_bg: Option<Colour>,
    selection_fg: Option<Colour>,
}

/// The keys a theme file may have, for telling themes from runbooks.
pub const THEME_KEYS: &[&str] = &[
    "name",
    "extends",
    "fg",
    "bg",
    "muted",
    "accent",
    "ok",
    "warn",
    "crit",
    "stale",
    "border",
    "border_focus",
    "selection_bg",
    "selection_fg",
];

/// Names `--theme` accepts without a themes directory.
pub fn built_in_names() -> Vec<&'static str> {
    let mut names: Vec<&str> = BUILT_IN.iter().map(|(n, _)| *n).collect();
    names.push("monochrome");
    names
}

/// Where `--theme NAME` looks first: `$TMINUS_THEMES_DIR`, else `./themes`.
pub fn themes_dir() -> PathBuf {
    std::env::var_os("TMINUS_THEMES_DIR")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("themes"))
}

/// NO_COLOR convention (no-color.org): set and not empty means no colour.
pub fn no_color_env() -> bool {
    std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty())
}

impl Theme {
    /// A built-in theme by name (including "monochrome").
    pub fn built_in(name: &str) -> Option<Theme> {
        match name {
            "dark" => Some(Theme::dark()),
            "monochrome" => Some(Theme::monochrome()),
            _ => Self::built_in_at(name, 0),
        }
    }

    fn built_in_at(name: &str, depth: usize) -> Option<Theme> {
        let (_, text) = BUILT_IN.iter().find(|(n, _)| *n == name)?;
        Self::parse_at(&format!("<built-in {name}>"), text, depth).ok()
    }

    /// Parses a theme file's text; `label` names it in diagnostics.
    pub fn parse(label: &str, text: &str) -> Result<Theme, Vec<Diagnostic>> {
        Self::parse_at(label, text, 0)
    }

    fn parse_at(label: &str, text: &str, depth: usize) -> Result<Theme, Vec<Diagnostic>> {
        if text.trim().is_empty() {
            return Err(vec![
                Diagnostic::new(label, 1, 1, "the theme is empty").with_hint(
                    "a theme needs `name:` and the colours it changes, e.g. `extends: dark` and `warn: \"#e69f00\"`",
                ),
            ]);
        }
        crate::limits::check_yaml(label, text).map_err(|d| vec![d])?;
        let file: ThemeFile =
            serde_yaml::from_str(text).map_err(|e| vec![diag::from_yaml_error(label, text, &e)])?;
        let pos = Positions::build(text);
        let at = |key: &str, message: String, hint: &str| {
            let (line, col) = pos.value(key);
            Diagnostic::new(label, line, col, message).with_hint(hint)
        };
        let mut problems = Vec::new();
        if file.name.trim().is_empty() {
            problems.push(at("name", "theme name is empty".into(), ""));
        }
        let name_chars = file.name.chars().count();
        if name_chars > crate::runbook::MAX_NAME_CHARS {
            problems.push(at(
                "name",
                format!(
                    "the theme name is {name_chars} characters long: at most {} are allowed",
                    crate::runbook::MAX_NAME_CHARS
                ),
                "",
            ));
        }
        let base = match file.extends.as_deref() {
            None => Some(Theme::dark()),
            Some("dark") => Some(Theme::dark()),
            Some("monochrome") => Some(Theme::monochrome()),
            Some(_) if depth >= MAX_EXTENDS_DEPTH => None,
            Some(other) => Self::built_in_at(other, depth + 1),
        };
        let Some(mut t) = base else {
            let ext = file.extends.unwrap_or_default();
            let hint = match diag::closest(&ext, built_in_names()) {
                Some(c) => format!(
                    "did you mean `{c}`? extends names a built-in theme: {}",
                    built_in_names().join(", ")
                ),
                None => format!(
                    "extends names a built-in theme: {}",
                    built_in_names().join(", ")
                ),
            };
            problems.push(at(
                "extends",
                format!("unknown theme `{ext}` to extend"),
                &hint,
            ));
            return Err(problems);
        };
        t.name = file.name.clone();
        t.color = true;
        let roles = [
            (&mut t.fg, file.fg),
            (&mut t.bg, file.bg),
            (&mut t.muted, file.muted),
            (&mut t.accent, file.accent),
            (&mut t.ok, file.ok),
            (&mut t.warn, file.warn),
            (&mut t.crit, file.crit),
            (&mut t.stale, file.stale),
            (&mut t.border, file.border),
            (&mut t.border_focus, file.border_focus),
            (&mut t.selection_bg, file.selection_bg),
            (&mut t.selection_fg, file.selection_fg),
        ];
        for (slot, value) in roles {
            if let Some(Colour(c)) = value {
                *slot = c;
            }
        }
        // Text in its own background colour is invisible: surely a mistake.
        for (fg, bg, fg_key, bg_key) in [
            (t.fg, t.bg, "fg", "bg"),
            (
                t.selection_fg,
                t.selection_bg,
                "selection_fg",
                "selection_bg",
            ),
        ] {
            if fg == bg && fg != Color::Reset {
                let key = if pos.has(fg_key) { fg_key } else { bg_key };
                problems.push(at(
                    key,
                    format!(
                        "{fg_key} and {bg_key} are the same colour, so that text would be invisible"
                    ),
                    "pick contrasting colours, or `reset` for the terminal's own",
                ));
            }
        }
        if problems.is_empty() {
            Ok(t)
        } else {
            Err(problems)
        }
    }

    /// Reads and parses a theme file; an unreadable file (missing, not a regular file, too
    /// large, not UTF-8) is one located diagnostic.
    pub fn load(path: &Path) -> Result<Theme, Vec<Diagnostic>> {
        let label = path.display().to_string();
        match crate::limits::read_yaml(path, "cannot read the theme") {
            Ok(text) => Self::parse(&label, &text),
            Err(d) => Err(vec![d]),
        }
    }

    /// The theme to use for `--theme`: monochrome under NO_COLOR whatever was asked; dark when
    /// nothing was asked; a path when the value has a '/' or ends in .yaml/.yml; otherwise a
    /// name, looked up as `themes_dir/NAME.yaml` first and then among the built-ins.
    pub fn resolve(
        choice: Option<&str>,
        no_color: bool,
        themes_dir: &Path,
    ) -> Result<Theme, Vec<Diagnostic>> {
        if no_color {
            return Ok(Theme::monochrome());
        }
        let Some(choice) = choice.map(str::trim).filter(|c| !c.is_empty()) else {
            return Ok(Theme::dark());
        };
        if choice.contains('/') || choice.ends_with(".yaml") || choice.ends_with(".yml") {
            return Self::load(Path::new(choice));
        }
        let local = themes_dir.join(format!("{choice}.yaml"));
        if local.is_file() {
            return Self::load(&local);
        }
        if let Some(t) = Self::built_in(choice) {
            return Ok(t);
        }
        let mut names: Vec<String> = built_in_names().iter().map(|s| s.to_string()).collect();
        if let Ok(entries) = std::fs::read_dir(themes_dir) {
            for e in entries.flatten() {
                let p = e.path();
                if p.extension().is_some_and(|x| x == "yaml")
                    && let Some(stem) = p.file_stem().and_then(|s| s.to_str())
                {
                    names.push(stem.to_string());
                }
            }
        }
        names.sort();
        names.dedup();
        let hint = match diag::closest(choice, names.iter().map(String::as_str)) {
            Some(c) => format!(
                "did you mean `{c}`? available: {}; or give a path to a .yaml file",
                names.join(", ")
            ),
            None => format!(
                "available: {}; or give a path to a .yaml file",
                names.join(", ")
            ),
        };
        Err(vec![
            Diagnostic::new("--theme", 1, 1, format!("unknown theme `{choice}`")).with_hint(hint),
        ])
    }

    pub fn dark() -> Self {
        Self {
            name: "dark".into(),
            color: true,
            fg: Color::Rgb(0xd8, 0xde, 0xe9),
            bg: Color::Reset,
            muted: Color::Rgb(0x7a, 0x84, 0x96),
            accent: Color::Rgb(0x88, 0xc0, 0xd0),
            ok: Color::Rgb(0xa3, 0xbe, 0x8c),
            warn: Color::Rgb(0xeb, 0xcb, 0x8b),
            crit: Color::Rgb(0xbf, 0x61, 0x6a),
            stale: Color::Rgb(0xb4, 0x8e, 0xad),
            border: Color::Rgb(0x4c, 0x56, 0x6a),
            border_focus: Color::Rgb(0x88, 0xc0, 0xd0),
            selection_bg: Color::Rgb(0x3b, 0x42, 0x52),
            selection_fg: Color::Rgb(0xec, 0xef, 0xf4),
        }
    }

    /// NO_COLOR: every role is the terminal's default colour; emphasis comes from modifiers.
    pub fn monochrome() -> Self {
        Self {
            name: "monochrome".into(),
            color: false,
            fg: Color::Reset,
            bg: Color::Reset,
            muted: Color::Reset,
            accent: Color::Reset,
            ok: Color::Reset,
            warn: Color::Reset,
            crit: Color::Reset,
            stale: Color::Reset,
            border: Color::Reset,
            border_focus: Color::Reset,
            selection_bg: Color::Reset,
            selection_fg: Color::Reset,
        }
    }

    pub fn base(&self) -> Style {
        Style::default().fg(self.fg).bg(self.bg)
    }
    pub fn muted(&self) -> Style {
        if self.color {
            Style::default().fg(self.muted)
        } else {
            Style::default().add_modifier(Modifier::DIM)
        }
    }
    pub fn accent(&self) -> Style {
        Style::default()
            .fg(self.accent)
            .add_modifier(Modifier::BOLD)
    }
    pub fn ok(&self) -> Style {
        Style::default().fg(self.ok)
    }
    pub fn warn(&self) -> Style {
        Style::default().fg(self.warn).add_modifier(Modifier::BOLD)
    }
    pub fn crit(&self) -> Style {
        let s = Style::default().fg(self.crit).add_modifier(Modifier::BOLD);
        if self.color {
            s
        } else {
            s.add_modifier(Modifier::REVERSED)
        }
    }
    pub fn stale(&self) -> Style {
        let s = Style::default().fg(self.stale);
        if self.color {
            s
        } else {
            s.add_modifier(Modifier::ITALIC | Modifier::DIM)
        }
    }
    pub fn border(&self, focused: bool) -> Style {
        match (focused, self.color) {
            (true, true) => Style::default()
                .fg(self.border_focus)
                .add_modifier(Modifier::BOLD),
            (true, false) => Style::default().add_modifier(Modifier::BOLD),
            (false, _) => Style::default().fg(self.border),
        }
    }
    pub fn selection(&self) -> Style {
        if self.color {
            Style::default()
                .fg(self.selection_fg)
                .bg(self.selection_bg)
                .add_modifier(Modifier::BOLD)
        } else {
            Style::default().add_modifier(Modifier::REVERSED)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(text: &str) -> Diagnostic {
        let mut ds = Theme::parse("t.yaml", text).unwrap_err();
        assert_eq!(ds.len(), 1, "{}", diag::render(&ds));
        ds.remove(0)
    }

    #[test]
    fn dark_yaml_matches_the_code() {
        let t = Theme::parse("dark.yaml", BUILT_IN[0].1).unwrap();
        assert_eq!(t, Theme::dark());
    }

    #[test]
    fn every_built_in_parses() {
        for name in built_in_names() {
            let t = Theme::built_in(name).unwrap_or_else(|| panic!("{name}"));
            assert_eq!(t.name, name);
        }
        let cb = Theme::built_in("colorblind").unwrap();
        assert_eq!(cb.ok, Color::Rgb(0x00, 0x72, 0xB2));
        assert_eq!(cb.warn, Color::Rgb(0xE6, 0x9F, 0x00));
        assert_eq!(cb.crit, Color::Rgb(0xD5, 0x5E, 0x00));
        // Roles it does not set come from dark.
        assert_eq!(cb.fg, Theme::dark().fg);
    }

    /// Relative luminance (WCAG) of an RGB colour.
    fn luminance(c: Color) -> f64 {
        let Color::Rgb(r, g, b) = c else {
            panic!("{c:?} is not RGB")
        };
        let lin = |v: u8| {
            let v = f64::from(v) / 255.0;
            if v <= 0.03928 {
                v / 12.92
            } else {
                ((v + 0.055) / 1.055).powf(2.4)
            }
        };
        0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b)
    }

    #[test]
    fn light_theme_status_colours_read_on_white() {
        let t = Theme::built_in("light").unwrap();
        for (role, c) in [
            ("fg", t.fg),
            ("ok", t.ok),
            ("warn", t.warn),
            ("crit", t.crit),
        ] {
            // WCAG AA for normal text against white: contrast ratio >= 4.5.
            let ratio = 1.05 / (luminance(c) + 0.05);
            assert!(ratio >= 4.5, "{role} {c:?} contrast {ratio:.2}");
        }
    }

    #[test]
    fn colours_in_every_spelling() {
        assert_eq!(parse_color("#ff8000"), Some(Color::Rgb(255, 128, 0)));
        assert_eq!(parse_color("#f80"), Some(Color::Rgb(255, 136, 0)));
        assert_eq!(parse_color("light-blue"), Some(Color::LightBlue));
        assert_eq!(parse_color("Dark_Grey"), Some(Color::DarkGray));
        assert_eq!(parse_color("default"), Some(Color::Reset));
        assert_eq!(parse_color("208"), Some(Color::Indexed(208)));
        for bad in ["#12345", "#gggggg", "blurple", "256", "", "#"] {
            assert_eq!(parse_color(bad), None, "{bad}");
        }
    }

    #[test]
    fn unknown_keys_are_located() {
        let d = err("name: x\nwran: red\n");
        assert_eq!((d.line, d.column), (2, 1));
        assert_eq!(d.message, "unknown key `wran`");
        assert!(d.hint.unwrap().starts_with("did you mean `warn`?"));
    }

    #[test]
    fn bad_colours_are_located_with_a_hint() {
        let d = err("name: x\nok: \"#12345\"\n");
        assert_eq!((d.line, d.column), (2, 5));
        assert!(d.message.contains("ok: bad colour \"#12345\""), "{d}");
        assert!(d.hint.unwrap().contains("#rrggbb"));
        let d = err("name: x\ncrit: 300\n");
        assert_eq!((d.line, d.column), (2, 7));
        assert!(d.message.contains("bad colour 300"), "{d}");
        let d = err("name: x\nmuted: 16\nok: 34\nstale: [1]\n");
        assert_eq!(d.line, 4);
    }

    #[test]
    fn semantic_problems_are_located() {
        let d = err("name: x\nfg: \"#ffffff\"\nbg: \"#FFFFFF\"\n");
        assert!(d.message.contains("fg and bg are the same colour"), "{d}");
        assert_eq!((d.line, d.column), (2, 5));
        let d = err("name: x\nextends: drak\n");
        assert_eq!((d.line, d.column), (2, 10));
        assert!(d.hint.unwrap().starts_with("did you mean `dark`?"));
        let d = err("name: \"\"\n");
        assert_eq!((d.line, d.column), (1, 7));
        let d = err("fg: red\n");
        assert!(d.message.contains("missing key `name`"), "{d}");
        assert!(Theme::parse("t.yaml", "").is_err());
    }

    #[test]
    fn extends_and_indexes() {
        let t = Theme::parse("t.yaml", "name: mine\nextends: light\nok: 34\n").unwrap();
        assert_eq!(t.ok, Color::Indexed(34));
        assert_eq!(t.fg, Theme::built_in("light").unwrap().fg);
        assert!(t.color);
        let t = Theme::parse("t.yaml", "name: plain\nextends: monochrome\n").unwrap();
        assert_eq!(t.crit, Color::Reset);
    }

    #[test]
    fn resolve_picks_the_right_theme() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        assert_eq!(
            Theme::resolve(Some("light"), true, d).unwrap(),
            Theme::monochrome()
        );
        assert_eq!(Theme::resolve(None, false, d).unwrap(), Theme::dark());
        assert_eq!(
            Theme::resolve(Some("light"), false, d).unwrap().name,
            "light"
        );
        assert_eq!(
            Theme::resolve(Some("monochrome"), false, d).unwrap().name,
            "monochrome"
        );
        // A file in the themes directory overrides the built-in of that name.
        std::fs::write(d.join("light.yaml"), "name: my-light\nextends: light\n").unwrap();
        assert_eq!(
            Theme::resolve(Some("light"), false, d).unwrap().name,
            "my-light"
        );
        std::fs::write(d.join("ops.yaml"), "name: ops\nwarn: yellow\n").unwrap();
        let path = d.join("ops.yaml");
        let t = Theme::resolve(Some(path.to_str().unwrap()), false, Path::new("/none")).unwrap();
        assert_eq!((t.name.as_str(), t.warn), ("ops", Color::Yellow));
        let ds = Theme::resolve(Some("opz"), false, d).unwrap_err();
        assert_eq!(ds[0].message, "unknown theme `opz`");
        let hint = ds[0].hint.as_deref().unwrap();
        assert!(hint.starts_with("did you mean `ops`?"), "{hint}");
        assert!(
            hint.contains("colorblind, dark, high-contrast, light, monochrome, ops"),
            "{hint}"
        );
        let ds = Theme::resolve(Some("missing.yaml"), false, d).unwrap_err();
        assert_eq!((ds[0].line, ds[0].column), (1, 1));
        assert!(ds[0].message.contains("cannot read"));
    }

    #[test]
    fn never_panics_on_truncated_or_mangled_themes() {
        let text = BUILT_IN[3].1;
        let mut n = 0;
        for cut in 0..text.len() {
            if !text.is_char_boundary(cut) {
                continue;
            }
            for extra in ["", ": [", "\n  - x", "\t", "\nok: 999"] {
                let input = format!("{}{extra}", &text[..cut]);
                if let Err(ds) = Theme::parse("m.yaml", &input) {
                    n += 1;
                    assert!(ds.iter().all(|d| d.line >= 1 && d.column >= 1));
                }
            }
        }
        assert!(n > 100);
    }

    #[test]
    fn shipped_theme_files_match_the_embedded_ones() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("themes");
        for (name, text) in BUILT_IN {
            let on_disk = std::fs::read_to_string(dir.join(format!("{name}.yaml"))).unwrap();
            assert_eq!(&on_disk, text);
            assert!(
                Theme::load(&dir.join(format!("{name}.yaml"))).is_ok(),
                "{name}"
            );
        }
    }
}
