//! How long AWS calls may take. The war room gives each call `CALL_TIMEOUT` and tries again at
//! the next refresh; a one-shot command (`tminus quotas`) also has a budget for all its calls
//! together, so an endpoint that never answers costs it the budget once, not a timeout per call
//! (it took 101 s against a silent endpoint).

use std::cell::Cell;
use std::future::Future;
use std::time::Duration;

use tokio::time::Instant;

use super::CALL_TIMEOUT;

tokio::task_local! {
    /// Time left for AWS to answer in the current one-shot command.
    static LEFT: Cell<Duration>;
}

/// A call ran out of time: its own timeout, or the command's budget.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("timed out")]
pub struct TimedOut;

/// Runs `f` with `budget` for all the AWS calls it makes (through `call`).
pub async fn with_budget<F: Future>(budget: Duration, f: F) -> F::Output {
    LEFT.scope(Cell::new(budget), f).await
}

/// Whether the current command's budget is spent (never, outside `with_budget`).
pub fn spent() -> bool {
    LEFT.try_with(|left| left.get().is_zero()).unwrap_or(false)
}

/// Awaits one AWS call for at most `CALL_TIMEOUT`, or what is left of the budget if less; the
/// time it took is taken from the budget. With nothing left it is not started.
pub async fn call<F: Future>(f: F) -> Result<F::Output, TimedOut> {
    let limit = LEFT
        .try_with(|left| left.get().min(CALL_TIMEOUT))
        .unwrap_or(CALL_TIMEOUT);
    if limit.is_zero() {
        return Err(TimedOut);
    }
    let start = Instant::now();
    let result = tokio::time::timeout(limit, f).await;
    let _ = LEFT.try_with(|left| left.set(left.get().saturating_sub(start.elapsed())));
    result.map_err(|_| TimedOut)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn calls_share_the_budget_and_stop_when_it_is_spent() {
        let hang = std::future::pending::<()>;
        assert!(!spent());
        with_budget(Duration::from_millis(300), async {
            let start = Instant::now();
            assert_eq!(call(async { 7 }).await, Ok(7));
            assert!(!spent());
            assert_eq!(call(hang()).await, Err(TimedOut));
            let waited = start.elapsed();
            assert!(waited >= Duration::from_millis(300), "{waited:?}");
            assert!(waited < Duration::from_secs(5), "{waited:?}");
            assert!(spent());
            // Nothing left: not even started.
            assert_eq!(call(async { 7 }).await, Err(TimedOut));
            assert!(start.elapsed() - waited < Duration::from_millis(50));
        })
        .await;
        // Outside a budget, calls have their own timeout only.
        assert_eq!(call(async { 7 }).await, Ok(7));
    }
}
