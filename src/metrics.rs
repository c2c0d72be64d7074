//! The server's metrics (SPEC §9): one process-wide registry of the `mailhive_…`
//! families, fed where things happen — logins by [`crate::login`], commands by the IMAP
//! and POP3 sessions' dispatch, refusals where the Limiter refuses, deliveries by the
//! LMTP session — with atomic counters, so the hot path sends no message to anyone.
//! What is a state rather than an event (connections open, slots busy and queued, the
//! store's size) is read when `/metrics` is scraped ([`Gauges`]) and encoded with the
//! rest as OpenMetrics text by [`encode`].

use crate::limiter::Counts;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;
use std::sync::LazyLock;
use std::time::Duration;

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ProtocolLabel {
    protocol: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct LoginLabels {
    protocol: &'static str,
    result: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CommandLabels {
    protocol: &'static str,
    command: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct LimitLabels {
    protocol: &'static str,
    limit: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ResultLabel {
    result: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StateLabel {
    state: &'static str,
}

/// How a login ended, as `logins_total` counts it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoginResult {
    Ok,
    /// Wrong name or password.
    Failed,
    /// Not let in for a limit: a cooled-down address, MaxConnectionsPerUser.
    Refused,
}

/// How an LMTP recipient's delivery ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliveryResult {
    Ok,
    /// The store or the spool failed (a `451` for the recipient).
    Failed,
    /// Declined for good: the message is too big.
    Refused,
}

fn login_label(result: LoginResult) -> &'static str {
    match result {
        LoginResult::Ok => "ok",
        LoginResult::Failed => "failed",
        LoginResult::Refused => "refused",
    }
}

fn delivery_label(result: DeliveryResult) -> &'static str {
    match result {
        DeliveryResult::Ok => "ok",
        DeliveryResult::Failed => "failed",
        DeliveryResult::Refused => "refused",
    }
}

fn command_histogram() -> Histogram {
    // 100 µs to about 26 s, four times wider each bucket.
    Histogram::new(exponential_buckets(0.0001, 4.0, 10))
}

struct Metrics {
    registry: Registry,
    connections: Family<ProtocolLabel, Gauge>,
    logins: Family<LoginLabels, Counter>,
    commands: Family<CommandLabels, Counter>,
    command_duration: Family<CommandLabels, Histogram, fn() -> Histogram>,
    limit_refusals: Family<LimitLabels, Counter>,
    fetch_slots: Family<StateLabel, Gauge>,
    search_slots: Family<StateLabel, Gauge>,
    lmtp_deliveries: Family<ResultLabel, Counter>,
    store_messages: Gauge,
    store_bytes: Gauge,
}

impl Metrics {
    fn new() -> Metrics {
        let mut registry = Registry::with_prefix("mailhive");
        let metrics = Metrics {
            connections: Family::default(),
            logins: Family::default(),
            commands: Family::default(),
            command_duration: Family::new_with_constructor(command_histogram),
            limit_refusals: Family::default(),
            fetch_slots: Family::default(),
            search_slots: Family::default(),
            lmtp_deliveries: Family::default(),
            store_messages: Gauge::default(),
            store_bytes: Gauge::default(),
            registry: Registry::default(),
        };
        registry.register(
            "connections",
            "Open connections",
            metrics.connections.clone(),
        );
        registry.register("logins", "Login attempts", metrics.logins.clone());
        registry.register("commands", "Commands answered", metrics.commands.clone());
        registry.register(
            "command_duration_seconds",
            "Time from a command's arrival to its answer",
            metrics.command_duration.clone(),
        );
        registry.register(
            "limit_refusals",
            "Connections, logins and commands refused for a limit",
            metrics.limit_refusals.clone(),
        );
        registry.register(
            "fetch_slots",
            "FETCH slots busy and waiters queued",
            metrics.fetch_slots.clone(),
        );
        registry.register(
            "search_slots",
            "SEARCH slots busy and waiters queued",
            metrics.search_slots.clone(),
        );
        registry.register(
            "lmtp_deliveries",
            "LMTP deliveries, one per recipient",
            metrics.lmtp_deliveries.clone(),
        );
        registry.register(
            "store_messages",
            "Messages in the store",
            metrics.store_messages.clone(),
        );
        registry.register(
            "store_bytes",
            "Bytes of the stored messages",
            metrics.store_bytes.clone(),
        );
        Metrics {
            registry,
            ..metrics
        }
    }
}

static METRICS: LazyLock<Metrics> = LazyLock::new(Metrics::new);

/// Counts a login attempt of `protocol` (`imap`, `pop3`, `web`).
pub fn login(protocol: &'static str, result: LoginResult) {
    let result = login_label(result);
    METRICS
        .logins
        .get_or_create(&LoginLabels { protocol, result })
        .inc();
}

/// Logins of `protocol` that ended with `result`, since the server started.
pub fn logins(protocol: &'static str, result: LoginResult) -> u64 {
    METRICS
        .logins
        .get_or_create(&LoginLabels {
            protocol,
            result: login_label(result),
        })
        .get()
}

/// LMTP recipients whose delivery ended with `result`, since the server started.
pub fn deliveries(result: DeliveryResult) -> u64 {
    METRICS
        .lmtp_deliveries
        .get_or_create(&ResultLabel {
            result: delivery_label(result),
        })
        .get()
}

/// Counts an answered command and how long it took.
pub fn command(protocol: &'static str, command: &'static str, took: Duration) {
    let labels = CommandLabels { protocol, command };
    METRICS.commands.get_or_create(&labels).inc();
    METRICS
        .command_duration
        .get_or_create(&labels)
        .observe(took.as_secs_f64());
}

/// Counts a refusal for `limit`, a setting's display name (`MaxConnections`).
pub fn refused(protocol: &'static str, limit: &'static str) {
    METRICS
        .limit_refusals
        .get_or_create(&LimitLabels { protocol, limit })
        .inc();
}

/// Counts one recipient's LMTP delivery.
pub fn delivery(result: DeliveryResult) {
    let result = delivery_label(result);
    METRICS
        .lmtp_deliveries
        .get_or_create(&ResultLabel { result })
        .inc();
}

/// What is read at each scrape.
#[derive(Debug, Clone, Default)]
pub struct Gauges {
    /// The Limiter's counts.
    pub counts: Counts,
    pub store_messages: u64,
    pub store_bytes: u64,
}

fn set(gauge: &Gauge, value: u64) {
    gauge.set(i64::try_from(value).unwrap_or(i64::MAX));
}

/// Every metric as OpenMetrics text, the gauges set from `gauges` first.
pub fn encode(gauges: &Gauges) -> String {
    let m = &*METRICS;
    let counts = &gauges.counts;
    for (protocol, open) in [
        ("imap", counts.imap.connections),
        ("pop3", counts.pop3.connections),
        ("lmtp", counts.lmtp_connections),
    ] {
        set(
            &m.connections.get_or_create(&ProtocolLabel { protocol }),
            open,
        );
    }
    for (family, busy, queued) in [
        (
            &m.fetch_slots,
            counts.fetches_running,
            counts.fetches_queued,
        ),
        (
            &m.search_slots,
            counts.searches_running,
            counts.searches_queued,
        ),
    ] {
        set(&family.get_or_create(&StateLabel { state: "busy" }), busy);
        set(
            &family.get_or_create(&StateLabel { state: "queued" }),
            queued,
        );
    }
    set(&m.store_messages, gauges.store_messages);
    set(&m.store_bytes, gauges.store_bytes);
    let mut text = String::new();
    // Writing to a String cannot fail.
    let _ = prometheus_client::encoding::text::encode(&mut text, &m.registry);
    text
}

/// The IMAP command a parsed request was, as a label: its verb, upper-case, with
/// `UID` joined to the command it prefixes; `None` when it is not one of IMAP's.
pub fn imap_verb(input: &[u8]) -> &'static str {
    let mut words = input
        .split(|&b| b == b' ' || b == b'\r' || b == b'\n')
        .filter(|w| !w.is_empty());
    let _tag = words.next();
    let verb = words.next().unwrap_or_default();
    if verb.eq_ignore_ascii_case(b"UID") {
        let next = words.next().unwrap_or_default();
        return UID_COMMANDS
            .iter()
            .find(|(name, _)| next.eq_ignore_ascii_case(name.as_bytes()))
            .map_or("UID", |(_, label)| label);
    }
    known(IMAP_COMMANDS, verb)
}

/// The POP3 command of a line, as a label.
pub fn pop3_verb(line: &[u8]) -> &'static str {
    let verb = line
        .split(|&b| b == b' ' || b == b'\r' || b == b'\n')
        .next()
        .unwrap_or_default();
    known(POP3_COMMANDS, verb)
}

fn known(names: &[&'static str], verb: &[u8]) -> &'static str {
    names
        .iter()
        .find(|name| verb.eq_ignore_ascii_case(name.as_bytes()))
        .copied()
        .unwrap_or("other")
}

const IMAP_COMMANDS: &[&str] = &[
    "CAPABILITY",
    "NOOP",
    "LOGOUT",
    "STARTTLS",
    "AUTHENTICATE",
    "LOGIN",
    "ID",
    "ENABLE",
    "COMPRESS",
    "SELECT",
    "EXAMINE",
    "CREATE",
    "DELETE",
    "RENAME",
    "SUBSCRIBE",
    "UNSUBSCRIBE",
    "LIST",
    "LSUB",
    "NAMESPACE",
    "STATUS",
    "APPEND",
    "IDLE",
    "CHECK",
    "CLOSE",
    "UNSELECT",
    "EXPUNGE",
    "SEARCH",
    "SORT",
    "THREAD",
    "FETCH",
    "STORE",
    "COPY",
    "MOVE",
    "CANCELUPDATE",
    "SETACL",
    "DELETEACL",
    "GETACL",
    "LISTRIGHTS",
    "MYRIGHTS",
    "GETQUOTA",
    "GETQUOTAROOT",
    "SETQUOTA",
];

const UID_COMMANDS: &[(&str, &str)] = &[
    ("FETCH", "UID FETCH"),
    ("STORE", "UID STORE"),
    ("COPY", "UID COPY"),
    ("MOVE", "UID MOVE"),
    ("SEARCH", "UID SEARCH"),
    ("SORT", "UID SORT"),
    ("THREAD", "UID THREAD"),
    ("EXPUNGE", "UID EXPUNGE"),
];

const POP3_COMMANDS: &[&str] = &[
    "USER", "PASS", "AUTH", "APOP", "STLS", "CAPA", "STAT", "LIST", "RETR", "DELE", "NOOP", "RSET",
    "QUIT", "TOP", "UIDL",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verbs_are_a_bounded_set_of_labels() {
        assert_eq!(imap_verb(b"a1 fetch 1 (FLAGS)\r\n"), "FETCH");
        assert_eq!(imap_verb(b"a1 uid Fetch 1 (FLAGS)\r\n"), "UID FETCH");
        assert_eq!(imap_verb(b"a1 UID frobnicate\r\n"), "UID");
        assert_eq!(imap_verb(b"a1 XYZZY\r\n"), "other");
        assert_eq!(imap_verb(b""), "other");
        assert_eq!(pop3_verb(b"retr 1"), "RETR");
        assert_eq!(pop3_verb(b"HELO"), "other");
    }

    #[test]
    fn every_family_is_encoded_with_its_prefix() {
        login("imap", LoginResult::Failed);
        command("pop3", "STAT", Duration::from_millis(3));
        let text = encode(&Gauges::default());
        for name in [
            "mailhive_connections{protocol=\"imap\"} 0",
            "mailhive_logins_total{protocol=\"imap\",result=\"failed\"}",
            "mailhive_commands_total{protocol=\"pop3\",command=\"STAT\"} 1",
            "mailhive_command_duration_seconds_bucket{le=\"0.0064\",protocol=\"pop3\",command=\"STAT\"} 1",
            "mailhive_fetch_slots{state=\"queued\"} 0",
            "mailhive_search_slots{state=\"busy\"} 0",
            "mailhive_store_messages 0",
            "mailhive_store_bytes 0",
            "# EOF",
        ] {
            assert!(text.contains(name), "{name} missing from\n{text}");
        }
    }
}
