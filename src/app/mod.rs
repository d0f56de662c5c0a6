//! The war room's state and the one function that changes it.

pub mod alerts;
pub mod state;
pub mod update;

pub use state::*;
#[cfg(test)]
mod tests;
