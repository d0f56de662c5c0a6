//! tminus: a terminal war room for launch day.
//!
//! Data flows one way: sources send `Update`s, `App::update` folds them and terminal input into
//! state (journalling operator actions first), and `ui::draw` renders that state.

pub mod app;
pub mod capacity;
pub mod check;
pub mod cli;
pub mod clock;
pub mod diag;
pub mod format;
#[doc(hidden)]
pub mod fuzz;
pub mod join;
pub mod journal;
pub mod limits;
pub mod notify;
pub mod out;
pub mod plan_cmd;
pub mod positions;
pub mod quotas_cmd;
pub mod record;
pub mod rehearsal;
pub mod report;
pub mod room;
pub mod run;
pub mod runbook;
pub mod signal;
pub mod source;
pub mod text;
pub mod theme;
pub mod thresholds;
pub mod time;
pub mod tui;
pub mod ui;
pub mod vocab;
