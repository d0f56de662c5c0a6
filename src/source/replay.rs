//! Plays a recording back as a source: each update is sent when the (scaled, seekable) replay
//! clock reaches the time it originally arrived, so the war room replays the event through the
//! same code paths as live data.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::sync::mpsc::Sender;

use super::{BoxFuture, Source, Update};
use crate::clock::Clock;
use crate::record::Entry;

pub const SOURCE: &str = "replay";

pub struct ReplaySource {
    entries: Vec<Entry>,
    clock: Arc<dyn Clock>,
}

impl ReplaySource {
    pub fn new(entries: Vec<Entry>, clock: Arc<dyn Clock>) -> Self {
        Self { entries, clock }
    }
}

/// How many of `entries` (oldest first) are due at `now`.
pub fn due(entries: &[Entry], now: DateTime<Utc>) -> usize {
    entries.partition_point(|e| e.at <= now)
}

impl Source for ReplaySource {
    fn name(&self) -> &str {
        SOURCE
    }

    fn run(self: Box<Self>, tx: Sender<Update>) -> BoxFuture {
        Box::pin(async move {
            let ReplaySource { entries, clock } = *self;
            let mut next = 0;
            while next < entries.len() {
                let now = clock.now();
                let n = due(&entries[next..], now);
                for e in &entries[next..next + n] {
                    if tx.send(e.update.clone()).await.is_err() {
                        return;
                    }
                }
                next += n;
                if n > 0 {
                    let health = Update::Health {
                        source: SOURCE.into(),
                        error: None,
                        at: now,
                    };
                    if tx.send(health).await.is_err() {
                        return;
                    }
                }
                let Some(upcoming) = entries.get(next) else {
                    break;
                };
                // Sleep until the next entry, in real time, but wake at least every half
                // second so a seek takes effect at once.
                let sim_ms = (upcoming.at - clock.now()).num_milliseconds().max(0) as f64;
                let real_ms = (sim_ms / clock.rate().max(1e-9)).min(500.0);
                tokio::time::sleep(Duration::from_millis(real_ms as u64 + 1)).await;
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;
    use crate::source::Sample;

    fn entry(s: i64, v: f64) -> Entry {
        let at = DateTime::from_timestamp(1_800_000_000 + s, 0).unwrap();
        Entry {
            at,
            update: Update::Samples {
                metric: 0,
                points: vec![Sample { at, value: v }],
                settled_to: None,
            },
        }
    }

    #[test]
    fn entries_are_due_by_their_time() {
        let es = vec![entry(0, 1.0), entry(10, 2.0), entry(20, 3.0)];
        let at = |s: i64| DateTime::from_timestamp(1_800_000_000 + s, 0).unwrap();
        assert_eq!(due(&es, at(-1)), 0);
        assert_eq!(due(&es, at(0)), 1);
        assert_eq!(due(&es, at(15)), 2);
        assert_eq!(due(&es, at(99)), 3);
    }

    #[tokio::test(flavor = "current_thread")]
    async fn replays_what_is_due_and_ends() {
        let clock = Arc::new(ManualClock::new(
            DateTime::from_timestamp(1_800_000_005, 0).unwrap(),
        ));
        let es = vec![entry(0, 1.0), entry(10, 2.0)];
        let (tx, mut rx) = tokio::sync::mpsc::channel(16);
        let task = tokio::spawn(Box::new(ReplaySource::new(es, clock.clone())).run(tx));
        let first = rx.recv().await.unwrap();
        assert!(matches!(first, Update::Samples { ref points, .. } if points[0].value == 1.0));
        assert!(matches!(rx.recv().await, Some(Update::Health { .. })));
        clock.set(DateTime::from_timestamp(1_800_000_010, 0).unwrap());
        let second = tokio::time::timeout(Duration::from_secs(5), rx.recv())
            .await
            .unwrap();
        assert!(
            matches!(second, Some(Update::Samples { ref points, .. }) if points[0].value == 2.0)
        );
        tokio::time::timeout(Duration::from_secs(5), task)
            .await
            .unwrap()
            .unwrap();
    }
}
