//! Runbooks: the YAML model, its loader and its validation.
//!
//! `load`/`parse` give either a runbook that passed every check or all the located problems
//! (`file:line:col`), so callers never see a half-valid runbook.

pub mod expr;
pub mod fault;
mod load;
pub mod model;
mod validate;

pub use load::{load, parse};
pub use model::Runbook;
pub use validate::{MAX_NAME_CHARS, advice, simulation_problems, validate};
