//! Rendering: pure functions of `&App` and a theme.

pub mod format;

use crate::app::{App, Pane};

/// Which pane, and which row of its list, is at terminal cell (x, y), using the same layout
/// as `draw`. Used for mouse clicks.
pub fn hit_test(_app: &App, _x: u16, _y: u16) -> Option<(Pane, Option<usize>)> {
    None
}
