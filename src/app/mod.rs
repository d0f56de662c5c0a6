//! The war room's state and the one function that changes it.

pub mod alerts;
mod ingest;
mod input;
pub mod room;
mod rules;
pub mod state;
pub mod team;
pub mod update;

pub use state::*;
#[cfg(test)]
mod team_tests;
#[cfg(test)]
mod tests;
