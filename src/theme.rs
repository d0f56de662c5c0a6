//! Colours by role, not by widget: a theme says what "ok", "warn" or "crit" look like and every
//! pane uses those roles. Built-in dark theme; others load from `themes/*.yaml`.

use ratatui::style::{Color, Modifier, Style};

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

impl Theme {
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
