//! The only place that reads the system time. Everything else is handed `DateTime<Utc>` values,
//! which is what lets tests drive the app with a manual clock and rehearsals run at `--speed N`.

use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};

pub trait Clock: Send + Sync + 'static {
    fn now(&self) -> DateTime<Utc>;
    /// How many times real time this clock runs, so timers can sleep the right real time from
    /// the first wait on (1 for every clock but a rehearsal's).
    fn rate(&self) -> f64 {
        1.0
    }
}

#[derive(Debug, Default, Clone, Copy)]
pub struct WallClock;

impl Clock for WallClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// A clock that only moves when told to: for tests.
#[derive(Debug, Clone)]
pub struct ManualClock(Arc<Mutex<DateTime<Utc>>>);

impl ManualClock {
    pub fn new(at: DateTime<Utc>) -> Self {
        Self(Arc::new(Mutex::new(at)))
    }
    pub fn set(&self, at: DateTime<Utc>) {
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) = at;
    }
    pub fn advance(&self, by: chrono::Duration) {
        let mut t = self.0.lock().unwrap_or_else(|e| e.into_inner());
        *t += by;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        *self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// A rehearsal clock: starts at a chosen simulated instant and runs `speed` times as fast as the
/// clock beneath it (the wall clock in `tminus rehearse`, a manual clock in tests). Countdown,
/// due times, escalation timers and simulated data all follow it, so a game day at `--speed 10`
/// plays an hour of launch in six minutes with the same rules as the real thing.
#[derive(Clone)]
pub struct ScaledClock {
    base: Arc<dyn Clock>,
    /// The base clock's time when the rehearsal began.
    base_start: DateTime<Utc>,
    /// The simulated time at that moment.
    start: DateTime<Utc>,
    speed: f64,
}

/// Fastest supported speed: beyond this a 10 s simulator tick is shorter than a frame.
pub const MAX_SPEED: f64 = 1000.0;

impl ScaledClock {
    /// Starts now (by `base`) at the simulated instant `start`. A speed outside (0, MAX_SPEED]
    /// or not finite is clamped into it (the CLI rejects those before they get here).
    pub fn new(base: Arc<dyn Clock>, start: DateTime<Utc>, speed: f64) -> Self {
        let speed = if speed.is_finite() && speed > 0.0 {
            speed.min(MAX_SPEED)
        } else {
            1.0
        };
        Self {
            base_start: base.now(),
            base,
            start,
            speed,
        }
    }

    pub fn speed(&self) -> f64 {
        self.speed
    }
}

/// The simulated instant for a base time: `start + (base_now - base_start) × speed`, to the
/// millisecond, saturating instead of overflowing. A base clock that went backwards (NTP step)
/// gives a time before `start` rather than a panic.
pub fn scaled(
    base_start: DateTime<Utc>,
    base_now: DateTime<Utc>,
    start: DateTime<Utc>,
    speed: f64,
) -> DateTime<Utc> {
    let real_ms = (base_now - base_start).num_milliseconds() as f64;
    let sim_ms = (real_ms * speed).clamp(-1e15, 1e15) as i64;
    chrono::TimeDelta::try_milliseconds(sim_ms)
        .and_then(|d| start.checked_add_signed(d))
        .unwrap_or(start)
}

impl Clock for ScaledClock {
    fn now(&self) -> DateTime<Utc> {
        scaled(self.base_start, self.base.now(), self.start, self.speed)
    }
    fn rate(&self) -> f64 {
        self.speed * self.base.rate()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration;

    fn t(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().to_utc()
    }

    #[test]
    fn scaled_clock_starts_at_its_instant_and_runs_n_times_faster() {
        let real = ManualClock::new(t("2026-11-25T03:00:00Z"));
        let start = t("2026-12-01T16:30:00Z");
        let clock = ScaledClock::new(Arc::new(real.clone()), start, 10.0);
        assert_eq!(clock.now(), start);
        real.advance(Duration::seconds(1));
        assert_eq!(clock.now(), start + Duration::seconds(10));
        real.advance(Duration::milliseconds(250));
        assert_eq!(clock.now(), start + Duration::milliseconds(12_500));
        real.advance(Duration::minutes(3));
        assert_eq!(clock.now(), start + Duration::milliseconds(1_812_500));
        assert_eq!(clock.speed(), 10.0);
        assert_eq!(clock.rate(), 10.0);
        assert_eq!(real.rate(), 1.0);
    }

    #[test]
    fn scaled_clock_slower_than_real_time_and_bad_speeds() {
        let real = ManualClock::new(t("2026-11-25T03:00:00Z"));
        let start = t("2026-12-01T16:30:00Z");
        let half = ScaledClock::new(Arc::new(real.clone()), start, 0.5);
        real.advance(Duration::seconds(4));
        assert_eq!(half.now(), start + Duration::seconds(2));
        for bad in [0.0, -3.0, f64::NAN, f64::INFINITY] {
            assert_eq!(
                ScaledClock::new(Arc::new(real.clone()), start, bad).speed(),
                1.0
            );
        }
        assert_eq!(
            ScaledClock::new(Arc::new(real.clone()), start, 1e9).speed(),
            MAX_SPEED
        );
    }

    #[test]
    fn scaled_time_saturates_and_survives_a_base_clock_going_back() {
        let start = t("2026-12-01T16:30:00Z");
        let base = t("2026-11-25T03:00:00Z");
        assert_eq!(
            scaled(base, base - Duration::seconds(1), start, 10.0),
            start - Duration::seconds(10)
        );
        // Absurd spans give some time, never a panic.
        let _ = scaled(
            DateTime::<Utc>::MIN_UTC,
            DateTime::<Utc>::MAX_UTC,
            start,
            MAX_SPEED,
        );
    }
}

/// A clock that can be moved forward: replay's seek. Wraps another clock and adds an offset.
pub struct SeekClock {
    inner: Arc<dyn Clock>,
    offset_ms: std::sync::atomic::AtomicI64,
}

impl SeekClock {
    pub fn new(inner: Arc<dyn Clock>) -> Self {
        Self {
            inner,
            offset_ms: std::sync::atomic::AtomicI64::new(0),
        }
    }

    /// Jumps `secs` ahead (never back: what was replayed stays replayed).
    pub fn seek(&self, secs: i64) {
        self.offset_ms.fetch_add(
            secs.max(0).saturating_mul(1000),
            std::sync::atomic::Ordering::SeqCst,
        );
    }
}

impl Clock for SeekClock {
    fn now(&self) -> DateTime<Utc> {
        let off = self.offset_ms.load(std::sync::atomic::Ordering::SeqCst);
        let now = self.inner.now();
        chrono::TimeDelta::try_milliseconds(off)
            .and_then(|d| now.checked_add_signed(d))
            .unwrap_or(now)
    }
    fn rate(&self) -> f64 {
        self.inner.rate()
    }
}

#[cfg(test)]
mod seek_tests {
    use super::*;

    #[test]
    fn seeking_moves_forward_only() {
        let base = Arc::new(ManualClock::new(
            DateTime::from_timestamp(1_000, 0).unwrap(),
        ));
        let c = SeekClock::new(base.clone());
        c.seek(300);
        assert_eq!(c.now().timestamp(), 1_300);
        c.seek(-100);
        assert_eq!(c.now().timestamp(), 1_300);
        base.set(DateTime::from_timestamp(1_010, 0).unwrap());
        assert_eq!(c.now().timestamp(), 1_310);
    }
}
