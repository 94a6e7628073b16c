//! Time as an input: everything reads the time through one [`Clock`], so
//! tests move it instead of editing rows.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

use contract::UnixSeconds;

/// Where the server reads the time.
pub trait Clock: Send + Sync {
    /// Seconds since the Unix epoch.
    fn now(&self) -> UnixSeconds;
}

/// The machine's clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> UnixSeconds {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|elapsed| elapsed.as_secs() as UnixSeconds)
            .unwrap_or(0)
    }
}

/// A clock that moves only when told to, for tests.
#[derive(Debug, Clone)]
pub struct ManualClock(Arc<AtomicI64>);

impl ManualClock {
    /// A clock showing the machine's time now.
    pub fn starting_now() -> ManualClock {
        ManualClock(Arc::new(AtomicI64::new(SystemClock.now())))
    }

    /// A clock showing `now`.
    pub fn at(now: UnixSeconds) -> ManualClock {
        ManualClock(Arc::new(AtomicI64::new(now)))
    }

    /// Moves the clock forward.
    pub fn advance(&self, seconds: i64) {
        self.0.fetch_add(seconds, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> UnixSeconds {
        self.0.load(Ordering::SeqCst)
    }
}
