//! Tests of the inference of healthy traffic (see infer.rs).
