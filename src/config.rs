//! Configuration: built-in defaults < TOML file < `MAILHIVE__…` environment, read with
//! the `config` crate and validated in one step into [`Config`], whose error lists every
//! invalid key with its allowed range.
//!
//! The per-protocol settings of SPEC §3 are a table ([`Setting`]): each has a display
//! name, a config key, a kind and, per protocol, a default and a range — or no entry,
//! when the setting is not that protocol's. The settings commands and the limiter read
//! the same table. Every value remembers where it came from ([`Source`]), for
//! `settings show`; values persisted by `settings set` are laid on top by
//! [`crate::settings`].

use std::collections::BTreeMap;
use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The two protocols, each with its own copy of the settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Protocol {
    Imap,
    Pop3,
}

impl Protocol {
    pub const ALL: [Protocol; 2] = [Protocol::Imap, Protocol::Pop3];

    /// The config section and CLI word (`imap`, `pop3`).
    pub fn key(self) -> &'static str {
        match self {
            Protocol::Imap => "imap",
            Protocol::Pop3 => "pop3",
        }
    }

    pub fn from_key(key: &str) -> Option<Protocol> {
        Protocol::ALL.into_iter().find(|p| p.key() == key)
    }
}

/// How a setting's value is read and shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A whole number (connections, bytes, attempts).
    Number,
    /// A duration, stored in seconds; accepts `90`, `90s`, `30m`, `5h`.
    Seconds,
    /// `true` or `false`.
    Switch,
}

/// A setting's default and range for one protocol (switches use 0 and 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Spec {
    pub default: u64,
    pub min: u64,
    pub max: u64,
}

const fn spec(default: u64, min: u64, max: u64) -> Option<Spec> {
    Some(Spec { default, min, max })
}
const SWITCH_ON: Option<Spec> = spec(1, 0, 1);
const SWITCH_OFF: Option<Spec> = spec(0, 0, 1);
const I32_MAX: u64 = 2_147_483_647;

macro_rules! settings {
    ($($variant:ident, $name:literal, $key:literal, $kind:ident, imap: $imap:expr, pop3: $pop3:expr;)+) => {
        /// A per-protocol setting of SPEC §3.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
        pub enum Setting { $($variant),+ }

        impl Setting {
            pub const ALL: &'static [Setting] = &[$(Setting::$variant),+];

            /// The display name (`MaxConnections`).
            pub fn name(self) -> &'static str {
                match self { $(Setting::$variant => $name),+ }
            }
            /// The config key (`max_connections`); the CLI flag is the same in kebab-case.
            pub fn key(self) -> &'static str {
                match self { $(Setting::$variant => $key),+ }
            }
            pub fn kind(self) -> Kind {
                match self { $(Setting::$variant => Kind::$kind),+ }
            }
            /// Default and range for `protocol`, or `None` when it is not that protocol's.
            pub fn spec(self, protocol: Protocol) -> Option<Spec> {
                match (self, protocol) {
                    $((Setting::$variant, Protocol::Imap) => $imap,
                      (Setting::$variant, Protocol::Pop3) => $pop3,)+
                }
            }
        }
    };
}

settings! {
    // Exchange's defaults and ranges (Set-ImapSettings / Set-PopSettings).
    MaxConnections, "MaxConnections", "max_connections", Number,
        imap: spec(2000, 1, I32_MAX), pop3: spec(2000, 1, I32_MAX);
    MaxConnectionsFromSingleIp, "MaxConnectionsFromSingleIP", "max_connections_from_single_ip", Number,
        imap: spec(100, 1, I32_MAX), pop3: spec(100, 1, I32_MAX);
    MaxConnectionsPerUser, "MaxConnectionsPerUser", "max_connections_per_user", Number,
        imap: spec(16, 1, I32_MAX), pop3: spec(16, 1, I32_MAX);
    MaxCommandSize, "MaxCommandSize", "max_command_size", Number,
        imap: spec(10_240, 1_024, 16_384), pop3: spec(512, 40, 1_024);
    // 64 MiB: larger than any mail a real MTA relays (most cap at 25–50 MB).
    MaxMessageSize, "MaxMessageSize", "max_message_size", Number,
        imap: spec(67_108_864, 1, 1_073_741_824), pop3: None;
    AuthenticatedConnectionTimeout, "AuthenticatedConnectionTimeout", "authenticated_connection_timeout", Seconds,
        imap: spec(1800, 1, 18_000), pop3: spec(600, 1, 18_000);
    PreAuthenticatedConnectionTimeout, "PreAuthenticatedConnectionTimeout", "pre_authenticated_connection_timeout", Seconds,
        imap: spec(60, 1, 200), pop3: spec(60, 1, 200);
    MaxFailedLogins, "MaxFailedLogins", "max_failed_logins", Number,
        imap: spec(3, 1, 1_000), pop3: spec(3, 1, 1_000);
    // VPOP3's IMAP4 advanced settings.
    IdleEnabled, "IdleEnabled", "idle_enabled", Switch,
        imap: SWITCH_ON, pop3: None;
    // RFC 2177 asks clients to re-IDLE within 29 minutes; 120 s keeps NAT mappings alive.
    IdleKeepaliveInterval, "IdleKeepaliveInterval", "idle_keepalive_interval", Seconds,
        imap: spec(120, 10, 1_800), pop3: None;
    FakeInaccessibleMailboxes, "FakeInaccessibleMailboxes", "fake_inaccessible_mailboxes", Switch,
        imap: SWITCH_OFF, pop3: None;
    CopyKeepsMetadata, "CopyKeepsMetadata", "copy_keeps_metadata", Switch,
        imap: SWITCH_ON, pop3: None;
    MaxConcurrentFetchesPerUser, "MaxConcurrentFetchesPerUser", "max_concurrent_fetches_per_user", Number,
        imap: spec(4, 1, 1_000), pop3: None;
    MaxConcurrentFetchesPerServer, "MaxConcurrentFetchesPerServer", "max_concurrent_fetches_per_server", Number,
        imap: spec(64, 1, 100_000), pop3: None;
    FetchQueueTimeout, "FetchQueueTimeout", "fetch_queue_timeout", Seconds,
        imap: spec(40, 1, 3_600), pop3: None;
    MaxConcurrentSearchesPerUser, "MaxConcurrentSearchesPerUser", "max_concurrent_searches_per_user", Number,
        imap: spec(1, 1, 1_000), pop3: None;
    MaxConcurrentSearchesPerServer, "MaxConcurrentSearchesPerServer", "max_concurrent_searches_per_server", Number,
        imap: spec(16, 1, 10_000), pop3: None;
    SearchQueueTimeout, "SearchQueueTimeout", "search_queue_timeout", Seconds,
        imap: spec(30, 1, 3_600), pop3: None;
    // Beyond Exchange and VPOP3: failed logins counted across connections, per address
    // and per account, within LoginFailureWindow (see crate::limiter::failures). 20 per
    // address leaves room for an office behind NAT with a few mistyped passwords.
    MaxLoginFailuresFromSingleIp, "MaxLoginFailuresFromSingleIP", "max_login_failures_from_single_ip", Number,
        imap: spec(20, 1, 100_000), pop3: spec(20, 1, 100_000);
    MaxLoginFailuresPerUser, "MaxLoginFailuresPerUser", "max_login_failures_per_user", Number,
        imap: spec(10, 1, 100_000), pop3: spec(10, 1, 100_000);
    LoginFailureWindow, "LoginFailureWindow", "login_failure_window", Seconds,
        imap: spec(900, 10, 86_400), pop3: spec(900, 10, 86_400);
    // Dovecot's auth_failure_delay is 2 s too.
    LoginFailureDelay, "LoginFailureDelay", "login_failure_delay", Seconds,
        imap: spec(2, 0, 60), pop3: spec(2, 0, 60);
    LoginCooldown, "LoginCooldown", "login_cooldown", Seconds,
        imap: spec(600, 10, 86_400), pop3: spec(600, 10, 86_400);
}

/// Where a setting's value comes from (`settings show`), later layers winning.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Source {
    Default,
    /// The TOML file.
    Config,
    /// A `MAILHIVE__…` environment variable.
    Env,
    /// Persisted by `settings set`.
    Set,
}

impl Source {
    pub const ALL: [Source; 4] = [Source::Default, Source::Config, Source::Env, Source::Set];

    pub fn name(self) -> &'static str {
        match self {
            Source::Default => "default",
            Source::Config => "config",
            Source::Env => "env",
            Source::Set => "set",
        }
    }

    pub fn from_name(name: &str) -> Option<Source> {
        Source::ALL.into_iter().find(|s| s.name() == name)
    }
}

impl Setting {
    /// The CLI flag, without its dashes (`max-connections`).
    pub fn flag(self) -> String {
        self.key().replace('_', "-")
    }

    /// Finds a setting by display name (any case), config key or CLI flag.
    pub fn find(name: &str) -> Option<Setting> {
        let name = name.trim_start_matches("--");
        Setting::ALL
            .iter()
            .copied()
            .find(|s| s.name().eq_ignore_ascii_case(name) || s.key() == name || s.flag() == name)
    }

    /// `value` as shown and as accepted back: a number, or true / false.
    pub fn display(self, value: u64) -> String {
        match self.kind() {
            Kind::Switch => (value == 1).to_string(),
            Kind::Number | Kind::Seconds => value.to_string(),
        }
    }
}

/// One protocol's settings, validated: every setting of that protocol has a value, and
/// each value its source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProtocolSettings {
    pub protocol: Protocol,
    values: BTreeMap<Setting, (u64, Source)>,
}

impl ProtocolSettings {
    /// The built-in defaults.
    pub fn defaults(protocol: Protocol) -> Self {
        let values = Setting::ALL
            .iter()
            .filter_map(|&s| {
                s.spec(protocol)
                    .map(|spec| (s, (spec.default, Source::Default)))
            })
            .collect();
        ProtocolSettings { protocol, values }
    }

    /// The value of `setting` (0/1 for switches, seconds for durations), or `None` when
    /// the setting is not this protocol's.
    pub fn get(&self, setting: Setting) -> Option<u64> {
        self.values.get(&setting).map(|&(value, _)| value)
    }

    /// Every setting of this protocol with its value and source, in table order.
    pub fn entries(&self) -> impl Iterator<Item = (Setting, u64, Source)> + '_ {
        self.values
            .iter()
            .map(|(&setting, &(value, source))| (setting, value, source))
    }

    /// Lays a value that is already checked (see [`parse_value`]) over the current one.
    pub fn put(&mut self, setting: Setting, value: u64, source: Source) {
        if self.values.contains_key(&setting) {
            self.values.insert(setting, (value, source));
        }
    }

    pub fn duration(&self, setting: Setting) -> Option<Duration> {
        self.get(setting).map(Duration::from_secs)
    }

    pub fn enabled(&self, setting: Setting) -> bool {
        self.get(setting) == Some(1)
    }

    /// Sets `setting` from its text form after checking kind and range.
    pub fn set(&mut self, setting: Setting, text: &str, source: Source) -> Result<(), String> {
        let value = parse_value(self.protocol, setting, text)?;
        self.values.insert(setting, (value, source));
        Ok(())
    }
}

/// Parses and range-checks a value given as text (config, environment, CLI).
pub fn parse_value(protocol: Protocol, setting: Setting, text: &str) -> Result<u64, String> {
    spec_of(protocol, setting)?;
    let text = text.trim();
    let value = match setting.kind() {
        Kind::Switch => match text.to_ascii_lowercase().as_str() {
            "true" => 1,
            "false" => 0,
            _ => {
                return Err(format!(
                    "{} takes true or false, not {text:?}",
                    setting.name()
                ))
            }
        },
        Kind::Number => text
            .parse::<u64>()
            .map_err(|_| format!("{} takes a whole number, not {text:?}", setting.name()))?,
        Kind::Seconds => parse_seconds(text).map_err(|e| format!("{}: {e}", setting.name()))?,
    };
    check_range(protocol, setting, value)
}

/// `value` if it is within `setting`'s range for `protocol`; the error names the range.
pub fn check_range(protocol: Protocol, setting: Setting, value: u64) -> Result<u64, String> {
    let spec = spec_of(protocol, setting)?;
    if value < spec.min || value > spec.max {
        return Err(format!(
            "{} = {} is out of range: it must be between {} and {}",
            setting.name(),
            setting.display(value),
            spec.min,
            spec.max
        ));
    }
    Ok(value)
}

fn spec_of(protocol: Protocol, setting: Setting) -> Result<Spec, String> {
    setting
        .spec(protocol)
        .ok_or_else(|| format!("{} is not a {} setting", setting.name(), protocol.key()))
}

/// Integer seconds, or a number with a unit: `90s`, `30m`, `5h`.
pub fn parse_seconds(text: &str) -> Result<u64, String> {
    if let Ok(seconds) = text.parse::<u64>() {
        return Ok(seconds);
    }
    let duration = humantime::parse_duration(text)
        .map_err(|_| format!("{text:?} is not a duration (use seconds, or 90s, 30m, 5h)"))?;
    if duration.subsec_nanos() != 0 {
        return Err(format!("{text:?} is not a whole number of seconds"));
    }
    Ok(duration.as_secs())
}

/// Where LOGIN / USER / AUTH may run without TLS.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlaintextAuth {
    Always,
    Loopback,
    Never,
}

/// `[store] engine`: where the mailstore is kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreEngine {
    /// Embedded, in `store.path` (the default).
    Sled,
    /// A PostgreSQL database that several servers may share: `store.postgres_url`.
    Postgres { url: String },
}

/// The whole validated configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// The sled directory; also holds the admin socket and the generated certificate.
    pub store_path: PathBuf,
    /// The engine the mailstore is kept in (SPEC §10).
    pub store_engine: StoreEngine,
    pub imap_listen: Vec<SocketAddr>,
    pub imap_tls_listen: Vec<SocketAddr>,
    pub pop3_listen: Vec<SocketAddr>,
    pub pop3_tls_listen: Vec<SocketAddr>,
    pub tls_cert: Option<PathBuf>,
    pub tls_key: Option<PathBuf>,
    pub plaintext_auth: PlaintextAuth,
    pub imap: ProtocolSettings,
    pub pop3: ProtocolSettings,
    pub lmtp: LmtpConfig,
    pub web: WebConfig,
    /// The `[quota]` section: the limits of accounts without their own (SPEC §7).
    pub quota: mailhive_store::QuotaLimits,
}

/// The `[web]` section (SPEC §9): the console and `/metrics`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebConfig {
    /// Plain HTTP listeners; none when the list is empty.
    pub listen: Vec<SocketAddr>,
    /// HTTPS listeners, with the `[tls]` certificate.
    pub tls_listen: Vec<SocketAddr>,
    /// The bearer token `/metrics` asks for; `None` when it asks for none.
    pub metrics_token: Option<String>,
}

/// The `[lmtp]` section (SPEC §8).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LmtpConfig {
    /// TCP listeners; none when the list is empty.
    pub listen: Vec<SocketAddr>,
    /// The Unix socket to listen on (mode 0660), if any.
    pub socket: Option<PathBuf>,
    /// Accepted recipient domains, lower-case; empty accepts any.
    pub domains: Vec<String>,
    /// What separates a local part from its detail (`alice+lists`); `None` when empty.
    pub detail_separator: Option<char>,
    /// LMTP connections open at once.
    pub max_connections: u64,
}

impl Config {
    /// The settings of one protocol.
    pub fn settings(&self, protocol: Protocol) -> &ProtocolSettings {
        match protocol {
            Protocol::Imap => &self.imap,
            Protocol::Pop3 => &self.pop3,
        }
    }

    /// The local admin socket of the server that owns this store.
    pub fn admin_socket(&self) -> PathBuf {
        self.store_path.join("admin.sock")
    }
}

/// Every problem found in a configuration, one per line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError(pub Vec<String>);

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid configuration: {}", self.0.join("; "))
    }
}

impl std::error::Error for ConfigError {}

const LIST_KEYS: [&str; 8] = [
    "imap.listen",
    "imap.tls_listen",
    "pop3.listen",
    "pop3.tls_listen",
    "lmtp.listen",
    "lmtp.domains",
    "web.listen",
    "web.tls_listen",
];

/// Loads defaults, then `file` (if given), then the `MAILHIVE__…` environment.
pub fn load(file: Option<&Path>) -> Result<Config, ConfigError> {
    let mut builder = config::Config::builder();
    if let Some(path) = file {
        if !path.is_file() {
            return Err(ConfigError(vec![format!(
                "config file {} does not exist",
                path.display()
            )]));
        }
        builder = builder.add_source(config::File::from(path).format(config::FileFormat::Toml));
    }
    let mut env = config::Environment::with_prefix("MAILHIVE")
        .prefix_separator("__")
        .separator("__")
        .try_parsing(true)
        .list_separator(",");
    for key in LIST_KEYS {
        env = env.with_list_parse_key(key);
    }
    let tables = |builder: config::ConfigBuilder<config::builder::DefaultState>| {
        builder
            .build()
            .and_then(|merged| merged.try_deserialize::<BTreeMap<String, config::Value>>())
            .map_err(|e| ConfigError(vec![e.to_string()]))
    };
    let from_env = tables(config::Config::builder().add_source(env.clone()))?;
    let merged = tables(builder.add_source(env))?;
    validate(merged, &setting_keys(from_env))
}

/// The `section.key` names of the settings given in `sections`.
fn setting_keys(sections: BTreeMap<String, config::Value>) -> Vec<String> {
    sections
        .into_iter()
        .filter_map(|(name, value)| Some((name, value.into_table().ok()?)))
        .flat_map(|(name, table)| table.into_keys().map(move |key| format!("{name}.{key}")))
        .collect()
}

/// Builds a [`Config`] from the merged sections, collecting every error; the settings
/// named in `from_env` came from the environment.
fn validate(
    mut sections: BTreeMap<String, config::Value>,
    from_env: &[String],
) -> Result<Config, ConfigError> {
    let mut errors = Vec::new();
    let mut section = |name: &str| -> BTreeMap<String, config::Value> {
        match sections.remove(name).map(|v| v.into_table()) {
            None => BTreeMap::new(),
            Some(Ok(table)) => table.into_iter().collect(),
            Some(Err(_)) => {
                errors.push(format!("[{name}] must be a table"));
                BTreeMap::new()
            }
        }
    };
    let (mut store, mut tls, mut imap, mut pop3, lmtp, quota) = (
        section("store"),
        section("tls"),
        section("imap"),
        section("pop3"),
        section("lmtp"),
        section("quota"),
    );
    let web = section("web");
    for unknown in sections.keys() {
        errors.push(format!("unknown section [{unknown}]"));
    }

    let store_path =
        take_text(&mut store, "store.path", &mut errors).unwrap_or_else(|| "mailhive-data".into());
    let store_engine = store_engine(&mut store, &mut errors);
    let imap_listen = take_addrs(&mut imap, "imap", "listen", "127.0.0.1:1143", &mut errors);
    let imap_tls_listen = take_addrs(
        &mut imap,
        "imap",
        "tls_listen",
        "127.0.0.1:1993",
        &mut errors,
    );
    let pop3_listen = take_addrs(&mut pop3, "pop3", "listen", "127.0.0.1:1110", &mut errors);
    let pop3_tls_listen = take_addrs(
        &mut pop3,
        "pop3",
        "tls_listen",
        "127.0.0.1:1995",
        &mut errors,
    );
    let non_empty = |p: Option<String>| p.filter(|s| !s.is_empty()).map(PathBuf::from);
    let tls_cert = non_empty(take_text(&mut tls, "tls.cert", &mut errors));
    let tls_key = non_empty(take_text(&mut tls, "tls.key", &mut errors));
    if tls_cert.is_some() != tls_key.is_some() {
        errors.push("tls.cert and tls.key go together: set both or neither".into());
    }
    let plaintext_auth = match take_text(&mut tls, "tls.plaintext_auth", &mut errors).as_deref() {
        None | Some("loopback") => PlaintextAuth::Loopback,
        Some("always") => PlaintextAuth::Always,
        Some("never") => PlaintextAuth::Never,
        Some(other) => {
            errors.push(format!(
                "tls.plaintext_auth = {other:?}: use \"always\", \"loopback\" or \"never\""
            ));
            PlaintextAuth::Loopback
        }
    };
    for (name, rest) in [("store", &store), ("tls", &tls)] {
        for key in rest.keys() {
            errors.push(format!("unknown key {name}.{key}"));
        }
    }
    let imap = protocol_settings(Protocol::Imap, imap, from_env, &mut errors);
    let pop3 = protocol_settings(Protocol::Pop3, pop3, from_env, &mut errors);
    let lmtp = lmtp_config(lmtp, &mut errors);
    let web = web_config(web, &mut errors);
    let quota = crate::quota::config_section(quota, &mut errors);
    if !errors.is_empty() {
        return Err(ConfigError(errors));
    }
    Ok(Config {
        store_path: PathBuf::from(store_path),
        store_engine,
        imap_listen,
        imap_tls_listen,
        pop3_listen,
        pop3_tls_listen,
        tls_cert,
        tls_key,
        plaintext_auth,
        imap,
        pop3,
        lmtp,
        web,
        quota,
    })
}

/// `store.engine` and `store.postgres_url`, which goes with the `postgres` engine only.
fn store_engine(
    table: &mut BTreeMap<String, config::Value>,
    errors: &mut Vec<String>,
) -> StoreEngine {
    let url = take_text(table, "store.postgres_url", errors).filter(|u| !u.is_empty());
    match (take_text(table, "store.engine", errors).as_deref(), url) {
        (None | Some("sled"), None) => StoreEngine::Sled,
        (None | Some("sled"), Some(_)) => {
            errors.push("store.postgres_url is for store.engine = \"postgres\"".into());
            StoreEngine::Sled
        }
        (Some("postgres"), Some(url)) => StoreEngine::Postgres { url },
        (Some("postgres"), None) => {
            errors.push(
                "store.engine = \"postgres\" needs store.postgres_url \
                 (e.g. \"postgresql://mailhive@127.0.0.1:5432/mailhive\")"
                    .into(),
            );
            StoreEngine::Sled
        }
        (Some(other), _) => {
            errors.push(format!(
                "store.engine = {other:?}: use \"sled\" or \"postgres\""
            ));
            StoreEngine::Sled
        }
    }
}

/// The `[web]` section, each key checked; what is wrong goes to `errors`.
fn web_config(mut table: BTreeMap<String, config::Value>, errors: &mut Vec<String>) -> WebConfig {
    let listen = take_addrs(&mut table, "web", "listen", "127.0.0.1:8080", errors);
    let tls_listen = take_addrs(&mut table, "web", "tls_listen", "", errors);
    let metrics_token =
        take_text(&mut table, "web.metrics_token", errors).filter(|t| !t.is_empty());
    if metrics_token
        .as_deref()
        .is_some_and(|t| !t.bytes().all(|b| b.is_ascii_graphic()))
    {
        errors.push("web.metrics_token must be printable ASCII without spaces".into());
    }
    for key in table.keys() {
        errors.push(format!("unknown key web.{key}"));
    }
    WebConfig {
        listen,
        tls_listen,
        metrics_token,
    }
}

/// The `[lmtp]` section, each key checked; what is wrong goes to `errors`.
fn lmtp_config(mut table: BTreeMap<String, config::Value>, errors: &mut Vec<String>) -> LmtpConfig {
    let listen = take_addrs(&mut table, "lmtp", "listen", "127.0.0.1:1024", errors);
    let socket = take_text(&mut table, "lmtp.socket", errors)
        .filter(|s| !s.is_empty())
        .map(PathBuf::from);
    let domains = match table.remove("domains").map(|v| v.into_array()) {
        None => Vec::new(),
        Some(Ok(items)) => items
            .into_iter()
            .filter_map(|v| match v.into_string() {
                Ok(domain) if !domain.is_empty() && !domain.contains(['@', ' ']) => {
                    Some(domain.to_ascii_lowercase())
                }
                _ => {
                    errors.push("lmtp.domains must be a list of domain names".into());
                    None
                }
            })
            .collect(),
        Some(Err(_)) => {
            errors.push("lmtp.domains must be a list of domain names".into());
            Vec::new()
        }
    };
    let separator = take_text(&mut table, "lmtp.detail_separator", errors);
    let mut chars = separator.as_deref().unwrap_or("+").chars();
    let detail_separator = match (chars.next(), chars.next()) {
        (None, _) => None,
        (Some(c), None) if c.is_ascii_punctuation() && c != '@' => Some(c),
        _ => {
            errors.push(
                "lmtp.detail_separator must be one punctuation character other than @, or empty"
                    .into(),
            );
            None
        }
    };
    let max_connections = match table.remove("max_connections") {
        None => 100,
        Some(value) => match value.into_uint() {
            Ok(n) if (1..=I32_MAX).contains(&n) => n,
            _ => {
                errors.push(format!(
                    "lmtp.max_connections is out of range: it must be between 1 and {I32_MAX}"
                ));
                100
            }
        },
    };
    for key in table.keys() {
        errors.push(format!("unknown key lmtp.{key}"));
    }
    LmtpConfig {
        listen,
        socket,
        domains,
        detail_separator,
        max_connections,
    }
}

fn take_text(
    table: &mut BTreeMap<String, config::Value>,
    name: &str,
    errors: &mut Vec<String>,
) -> Option<String> {
    let key = name.rsplit('.').next().unwrap_or(name);
    let value = table.remove(key)?;
    match value.into_string() {
        Ok(text) => Some(text),
        Err(_) => {
            errors.push(format!("{name} must be a string"));
            None
        }
    }
}

fn take_addrs(
    table: &mut BTreeMap<String, config::Value>,
    section: &str,
    key: &str,
    default: &str,
    errors: &mut Vec<String>,
) -> Vec<SocketAddr> {
    let texts: Vec<String> = match table.remove(key) {
        None => vec![default.to_owned()],
        Some(value) => match value.clone().into_array() {
            Ok(items) => items
                .into_iter()
                .filter_map(|v| v.into_string().ok())
                .collect(),
            Err(_) => value.into_string().map(|s| vec![s]).unwrap_or_default(),
        },
    };
    texts
        .iter()
        .filter(|t| !t.trim().is_empty())
        .filter_map(|t| match t.trim().parse() {
            Ok(addr) => Some(addr),
            Err(_) => {
                errors.push(format!("{section}.{key}: {t:?} is not an address:port"));
                None
            }
        })
        .collect()
}

fn protocol_settings(
    protocol: Protocol,
    table: BTreeMap<String, config::Value>,
    from_env: &[String],
    errors: &mut Vec<String>,
) -> ProtocolSettings {
    let mut settings = ProtocolSettings::defaults(protocol);
    for (key, value) in table {
        let Some(setting) = Setting::ALL.iter().copied().find(|s| s.key() == key) else {
            errors.push(format!("unknown key {}.{key}", protocol.key()));
            continue;
        };
        let text = match value.into_string() {
            Ok(text) => text,
            Err(_) => {
                errors.push(format!("{}.{key} must be a single value", protocol.key()));
                continue;
            }
        };
        let name = format!("{}.{key}", protocol.key());
        let source = if from_env.contains(&name) {
            Source::Env
        } else {
            Source::Config
        };
        if let Err(e) = settings.set(setting, &text, source) {
            errors.push(format!("{name}: {e}"));
        }
    }
    settings
}

#[cfg(test)]
mod tests {
    use super::*;

    fn from_toml(text: &str) -> Result<Config, ConfigError> {
        let merged = config::Config::builder()
            .add_source(config::File::from_str(text, config::FileFormat::Toml))
            .build()
            .unwrap();
        validate(
            merged.try_deserialize().unwrap(),
            &["imap.idle_enabled".into()],
        )
    }

    #[test]
    fn the_store_engine_is_sled_or_postgres_with_its_url() {
        assert_eq!(from_toml("").unwrap().store_engine, StoreEngine::Sled);
        let url = "postgresql://mailhive@127.0.0.1:5432/mailhive";
        let postgres = from_toml(&format!(
            "[store]\nengine = \"postgres\"\npostgres_url = \"{url}\""
        ));
        assert_eq!(
            postgres.unwrap().store_engine,
            StoreEngine::Postgres { url: url.into() }
        );
        for (text, says) in [
            ("[store]\nengine = \"postgres\"", "needs store.postgres_url"),
            (
                "[store]\nengine = \"mysql\"",
                "use \"sled\" or \"postgres\"",
            ),
            (
                "[store]\npostgres_url = \"postgresql://db/mail\"",
                "is for store.engine",
            ),
        ] {
            let ConfigError(errors) = from_toml(text).unwrap_err();
            assert!(
                errors.iter().any(|e| e.contains(says)),
                "{text}: {errors:?}"
            );
        }
    }

    #[test]
    fn defaults_match_the_spec_table() {
        let c = from_toml("").unwrap();
        assert_eq!(c.imap.get(Setting::MaxCommandSize), Some(10_240));
        assert_eq!(c.pop3.get(Setting::MaxCommandSize), Some(512));
        assert_eq!(c.pop3.get(Setting::MaxMessageSize), None);
        assert_eq!(
            c.pop3.get(Setting::AuthenticatedConnectionTimeout),
            Some(600)
        );
        assert!(c.imap.enabled(Setting::IdleEnabled));
        assert!(!c.imap.enabled(Setting::FakeInaccessibleMailboxes));
        assert_eq!(c.imap_listen, ["127.0.0.1:1143".parse().unwrap()]);
        assert_eq!(c.plaintext_auth, PlaintextAuth::Loopback);
        assert_eq!(c.store_path, PathBuf::from("mailhive-data"));
    }

    #[test]
    fn values_and_durations_parse() {
        let c = from_toml(
            "[imap]\nmax_connections = 5\nfetch_queue_timeout = \"2m\"\nidle_enabled = false\n\
             authenticated_connection_timeout = \"5h\"\n[pop3]\nlisten = [\"127.0.0.1:0\", \"[::1]:0\"]\n",
        )
        .unwrap();
        assert_eq!(c.imap.get(Setting::MaxConnections), Some(5));
        assert_eq!(
            c.imap.duration(Setting::FetchQueueTimeout),
            Some(Duration::from_secs(120))
        );
        assert_eq!(
            c.imap.get(Setting::AuthenticatedConnectionTimeout),
            Some(18_000)
        );
        assert!(!c.imap.enabled(Setting::IdleEnabled));
        assert_eq!(c.pop3_listen.len(), 2);
        let source = |s: Setting| c.imap.entries().find(|e| e.0 == s).unwrap().2;
        assert_eq!(source(Setting::MaxConnections), Source::Config);
        assert_eq!(source(Setting::IdleEnabled), Source::Env);
        assert_eq!(source(Setting::MaxCommandSize), Source::Default);
    }

    #[test]
    fn settings_are_found_by_name_key_or_flag() {
        for name in [
            "MaxConnectionsFromSingleIP",
            "maxconnectionsfromsingleip",
            "max_connections_from_single_ip",
            "max-connections-from-single-ip",
            "--max-connections-from-single-ip",
        ] {
            assert_eq!(
                Setting::find(name),
                Some(Setting::MaxConnectionsFromSingleIp)
            );
        }
        assert_eq!(Setting::find("MaxBogus"), None);
        assert_eq!(Setting::IdleEnabled.display(0), "false");
        assert_eq!(Setting::FetchQueueTimeout.display(40), "40");
    }

    #[test]
    fn every_error_names_its_key_and_range() {
        let err = from_toml(
            "[imap]\nmax_command_size = 100\nbogus = 1\n[pop3]\nmax_message_size = 5\nmax_failed_logins = \"x\"\n\
             [tls]\nplaintext_auth = \"sometimes\"\n[extra]\na = 1\n",
        )
        .unwrap_err();
        let text = err.to_string();
        for needle in [
            "imap.max_command_size: MaxCommandSize = 100 is out of range: it must be between 1024 and 16384",
            "unknown key imap.bogus",
            "pop3.max_message_size: MaxMessageSize is not a pop3 setting",
            "pop3.max_failed_logins: MaxFailedLogins takes a whole number",
            "tls.plaintext_auth",
            "unknown section [extra]",
        ] {
            assert!(text.contains(needle), "{needle:?} not in {text}");
        }
    }

    #[test]
    fn the_web_section_is_read_and_checked() {
        let c = from_toml("").unwrap();
        assert_eq!(c.web.listen, ["127.0.0.1:8080".parse().unwrap()]);
        assert!(c.web.tls_listen.is_empty());
        assert_eq!(c.web.metrics_token, None);
        let c = from_toml(
            "[web]\nlisten = []\ntls_listen = [\"[::1]:8443\"]\nmetrics_token = \"s3cret\"\n",
        )
        .unwrap();
        assert!(c.web.listen.is_empty());
        assert_eq!(c.web.tls_listen, ["[::1]:8443".parse().unwrap()]);
        assert_eq!(c.web.metrics_token.as_deref(), Some("s3cret"));
        let e = from_toml("[web]\nlisten = [\"nowhere\"]\nmetrics_token = \"a b\"\nport = 1\n")
            .unwrap_err();
        assert_eq!(
            e.0,
            [
                "web.listen: \"nowhere\" is not an address:port",
                "web.metrics_token must be printable ASCII without spaces",
                "unknown key web.port",
            ]
        );
    }

    #[test]
    fn the_lmtp_section_is_read_and_checked() {
        let c = from_toml("").unwrap();
        assert_eq!(c.lmtp.listen, ["127.0.0.1:1024".parse().unwrap()]);
        assert_eq!((c.lmtp.socket, c.lmtp.detail_separator), (None, Some('+')));
        assert_eq!(c.lmtp.max_connections, 100);
        let c = from_toml(
            "[lmtp]\nlisten = []\nsocket = \"d/lmtp.sock\"\ndomains = [\"Example.org\"]\n\
             detail_separator = \"-\"\nmax_connections = 5\n",
        )
        .unwrap();
        assert!(c.lmtp.listen.is_empty());
        assert_eq!(c.lmtp.socket, Some(PathBuf::from("d/lmtp.sock")));
        assert_eq!(c.lmtp.domains, ["example.org"]);
        assert_eq!(
            (c.lmtp.detail_separator, c.lmtp.max_connections),
            (Some('-'), 5)
        );
        let err = from_toml(
            "[lmtp]\nlisten = [\"nowhere\"]\ndomains = [\"a@b\"]\ndetail_separator = \"ab\"\n\
             max_connections = 0\nport = 1\n",
        )
        .unwrap_err()
        .to_string();
        for needle in [
            "lmtp.listen: \"nowhere\" is not an address:port",
            "lmtp.domains must be a list of domain names",
            "lmtp.detail_separator must be one punctuation character",
            "lmtp.max_connections is out of range: it must be between 1 and 2147483647",
            "unknown key lmtp.port",
        ] {
            assert!(err.contains(needle), "{needle:?} not in {err}");
        }
    }

    #[test]
    fn durations_accept_seconds_and_units_only() {
        assert_eq!(parse_seconds("90"), Ok(90));
        assert_eq!(parse_seconds("90s"), Ok(90));
        assert_eq!(parse_seconds("30m"), Ok(1800));
        assert!(parse_seconds("1.5s").is_err());
        assert!(parse_seconds("soon").is_err());
    }
}
