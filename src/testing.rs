//! Hooks that let the integration tests hold a slot or break a handler at will. They
//! exist only in debug builds (what `cargo test` runs) and only when their environment
//! variable is set; a release build has none of them.
//!
//! - `MAILHIVE_TEST_WORK_DELAY_MS=N`: every FETCH and SEARCH first waits N ms, holding
//!   its slot (and stops waiting when its work is cancelled).
//! - `MAILHIVE_TEST_PANIC_COMMAND=1`: the IMAP command `XPANIC` panics in its handler.
//! - `MAILHIVE_TEST_LMTP_TIMEOUT_MS=N`: an LMTP client silent for N ms is disconnected.
//! - `MAILHIVE_TEST_IMPORT_BATCH_DELAY_MS=N`: `import-mbox` waits N ms before each
//!   batch, so that a test can kill it midway.

use std::sync::OnceLock;
use std::time::Duration;

fn variable(name: &str) -> Option<String> {
    if cfg!(debug_assertions) {
        std::env::var(name).ok()
    } else {
        None
    }
}

/// How long every FETCH and SEARCH waits before it starts, in tests.
pub fn work_delay() -> Option<Duration> {
    static DELAY: OnceLock<Option<Duration>> = OnceLock::new();
    *DELAY.get_or_init(|| {
        variable("MAILHIVE_TEST_WORK_DELAY_MS")
            .and_then(|ms| ms.parse().ok())
            .map(Duration::from_millis)
    })
}

/// How long an LMTP client may stay silent, in tests.
pub fn lmtp_timeout() -> Option<Duration> {
    static TIMEOUT: OnceLock<Option<Duration>> = OnceLock::new();
    *TIMEOUT.get_or_init(|| {
        variable("MAILHIVE_TEST_LMTP_TIMEOUT_MS")
            .and_then(|ms| ms.parse().ok())
            .map(Duration::from_millis)
    })
}

/// Waits before an import batch, in tests.
pub fn import_batch_delay() {
    static DELAY: OnceLock<Option<Duration>> = OnceLock::new();
    let delay = DELAY.get_or_init(|| {
        variable("MAILHIVE_TEST_IMPORT_BATCH_DELAY_MS")
            .and_then(|ms| ms.parse().ok())
            .map(Duration::from_millis)
    });
    if let Some(delay) = delay {
        std::thread::sleep(*delay);
    }
}

/// Whether the IMAP command `XPANIC` panics, in tests.
pub fn panic_command() -> bool {
    static ENABLED: OnceLock<bool> = OnceLock::new();
    *ENABLED.get_or_init(|| variable("MAILHIVE_TEST_PANIC_COMMAND").is_some_and(|v| v == "1"))
}

/// Sleeps [`work_delay`] in small steps on a blocking thread, returning early when
/// `cancelled` says so.
pub fn delay_blocking(cancelled: impl Fn() -> bool) {
    let Some(delay) = work_delay() else { return };
    let step = Duration::from_millis(10);
    let deadline = std::time::Instant::now() + delay;
    while std::time::Instant::now() < deadline && !cancelled() {
        std::thread::sleep(step);
    }
}
