//! `tminus check`.
