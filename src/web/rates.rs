//! Logins and failed logins per minute, for the dashboard: the login counters of
//! [`crate::metrics`] sampled every [`SAMPLE_EVERY`], a minute of samples kept; the
//! rate is what the counters grew since the oldest sample of the last minute.

use crate::metrics::{self, LoginResult};
use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How often the counters are sampled.
pub const SAMPLE_EVERY: Duration = Duration::from_secs(10);

const MINUTE: Duration = Duration::from_secs(60);

/// The protocols whose logins are rated, by metrics label.
pub const PROTOCOLS: [&str; 3] = ["imap", "pop3", "web"];

/// Logins ok and failed of each of [`PROTOCOLS`].
type Totals = [(u64, u64); 3];

fn totals() -> Totals {
    PROTOCOLS.map(|p| {
        (
            metrics::logins(p, LoginResult::Ok),
            metrics::logins(p, LoginResult::Failed),
        )
    })
}

#[derive(Debug, Default)]
pub struct LoginRates {
    samples: Mutex<VecDeque<(Instant, Totals)>>,
}

impl LoginRates {
    /// Takes a sample now and forgets those older than a minute.
    pub fn sample(&self) {
        let now = Instant::now();
        let mut samples = self.samples.lock().unwrap_or_else(|p| p.into_inner());
        samples.retain(|(at, _)| now.duration_since(*at) <= MINUTE);
        samples.push_back((now, totals()));
    }

    /// Logins ok and failed of `protocol` (one of [`PROTOCOLS`]) within about the last
    /// minute.
    pub fn per_minute(&self, protocol: &str) -> (u64, u64) {
        let Some(index) = PROTOCOLS.iter().position(|p| *p == protocol) else {
            return (0, 0);
        };
        let now = Instant::now();
        let samples = self.samples.lock().unwrap_or_else(|p| p.into_inner());
        let baseline = samples
            .iter()
            .find(|(at, _)| now.duration_since(*at) <= MINUTE)
            .map_or((0, 0), |(_, totals)| totals[index]);
        let current = totals()[index];
        (
            current.0.saturating_sub(baseline.0),
            current.1.saturating_sub(baseline.1),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rate_is_the_growth_since_the_oldest_sample() {
        let rates = LoginRates::default();
        rates.sample();
        let before = rates.per_minute("web");
        metrics::login("web", LoginResult::Failed);
        metrics::login("web", LoginResult::Failed);
        metrics::login("web", LoginResult::Ok);
        let after = rates.per_minute("web");
        assert_eq!((after.0 - before.0, after.1 - before.1), (1, 2));
        assert_eq!(rates.per_minute("nntp"), (0, 0));
    }
}
