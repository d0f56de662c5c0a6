//! One live refresh of N metrics through tminus's GetMetricData plan, against the local AWS
//! emulator (moto behind the CBOR gateway, tests/support), with the calls counted at the
//! emulator. Run: `scripts/bench-aws` (which also times the `aws cloudwatch
//! get-metric-statistics` shell loop against the same emulator); figures in BENCHMARKS.md.

#[path = "../tests/support/mod.rs"]
mod support;

use chrono::{Duration, Utc};
use criterion::{Criterion, criterion_group, criterion_main};
use tminus::runbook::Runbook;
use tminus::source::aws::{metrics, plan};

fn runbook(n: usize) -> Runbook {
    let mut y = String::from("event: { name: bench, starts_at: 2026-12-01T17:00:00Z }\nmetrics:\n");
    for i in 0..n {
        y.push_str(&format!(
            "  - {{ id: m{i}, namespace: Tminus/Bench, metric: Invocations, dimensions: {{ FunctionName: f{i} }}, stat: Sum }}\n"
        ));
    }
    tminus::runbook::parse("bench.yaml", &y).unwrap()
}

fn refresh(c: &mut Criterion) {
    let emulator = support::Emulator::start();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let client = emulator.cloudwatch();
    let mut group = c.benchmark_group("live refresh");
    group.sample_size(10);
    for n in [10usize, 500, 1000] {
        let rb = runbook(n);
        let groups = plan::groups(&rb, &[]);
        let refs: Vec<&plan::Group> = groups.iter().collect();
        let refresh = || {
            rt.block_on(async {
                let now = Utc::now();
                for call in plan::pack(&refs) {
                    metrics::fetch(&client, &call, now - Duration::hours(1), now)
                        .await
                        .unwrap();
                }
            })
        };
        // Calls and metrics requested by one refresh, counted at the emulator.
        emulator.reset();
        refresh();
        let stats = emulator.stats();
        eprintln!(
            "{n} metrics: {} GetMetricData call(s), {} metrics requested per refresh",
            stats["ops"]["GetMetricData"], stats["get_metric_data_queries"]
        );
        group.bench_function(format!("{n} metrics"), |b| b.iter(refresh));
    }
    group.finish();
}

criterion_group!(benches, refresh);
criterion_main!(benches);
