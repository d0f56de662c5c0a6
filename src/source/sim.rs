//! The built-in simulator (to be written).
