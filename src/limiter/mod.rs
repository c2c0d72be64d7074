//! The Limiter actor: every counter and queue of SPEC §3–§4 in one place, per protocol —
//! connections per server, per address and per user; FETCH and SEARCH slots with their
//! first-come-first-served queue; failed logins across connections ([`failures`]);
//! LMTP connections under `[lmtp] max_connections` ([`lmtp`]).
//!
//! Everything it grants is a [`Permit`] that gives the grant back when dropped, so no
//! way of ending a session can leak a count. It reads the live settings at every
//! decision: a limit changed by `settings set` applies to the next request, and a
//! raised slot limit serves the queue at once. Lowering a limit refuses new work and
//! cuts nothing that runs.
//!
//! The session side of each exchange — waiting in the queue with its time-out, leaving
//! it when the client goes — is [`acquire_slot`]; logins go through [`crate::login`].
//! A shutdown waits for the last connection to close with [`drained`]. Servers that
//! share a PostgreSQL store also count each other's connections, logins, slots per
//! user and failed logins ([`shared`]).

pub mod failures;
pub mod lmtp;
mod permit;
pub mod shared;
mod slots;

pub use failures::Verdict;
pub use permit::{Grant, Permit, Release};
pub use slots::SlotKind;

use crate::config::{Protocol, ProtocolSettings, Setting};
use crate::metrics;
use crate::settings::Live;
use actix::prelude::*;
use failures::{Failures, Policy};
use mailhive_store::Username;
use serde::{Deserialize, Serialize};
use slots::{Freed, Slots};
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::oneshot;
use tokio_util::sync::CancellationToken;

/// Open connections and logins of one protocol.
#[derive(Debug, Default)]
struct Connections {
    total: u64,
    per_ip: HashMap<IpAddr, u64>,
    per_user: HashMap<Username, u64>,
}

/// Takes one off `key`'s count, forgetting keys that reach zero.
fn decrement<K: std::hash::Hash + Eq>(counts: &mut HashMap<K, u64>, key: &K) {
    if let Some(count) = counts.get_mut(key) {
        *count -= 1;
        if *count == 0 {
            counts.remove(key);
        }
    }
}

fn index(protocol: Protocol) -> usize {
    match protocol {
        Protocol::Imap => 0,
        Protocol::Pop3 => 1,
    }
}

#[derive(Debug)]
pub struct Limiter {
    /// Each protocol's live settings (IMAP, POP3).
    settings: [Live; 2],
    connections: [Connections; 2],
    /// FETCH and SEARCH slots (IMAP).
    slots: Slots,
    failures: [Failures; 2],
    /// Open LMTP connections.
    lmtp_connections: u64,
    /// Who waits for the last open connection to close (graceful shutdown).
    drained: Vec<oneshot::Sender<()>>,
    /// What other servers on the same store count (none on sled).
    elsewhere: shared::Elsewhere,
}

impl Limiter {
    /// Starts the Limiter on an arbiter of its own.
    pub fn start(settings: [Live; 2]) -> Addr<Limiter> {
        Limiter::start_in_arbiter(&actix_rt::Arbiter::new().handle(), move |_| Limiter {
            settings,
            connections: Default::default(),
            slots: Slots::default(),
            failures: Default::default(),
            lmtp_connections: 0,
            drained: Vec::new(),
            elsewhere: Default::default(),
        })
    }

    fn settings(&self, protocol: Protocol) -> Arc<ProtocolSettings> {
        self.settings[index(protocol)].borrow().clone()
    }

    /// Serves the waiters that `freed` slots may let in.
    fn serve_queue(&mut self, freed: Freed<'_>, limiter: Addr<Limiter>) {
        let settings = self.settings(Protocol::Imap);
        self.slots
            .serve(freed, &settings, &self.elsewhere, |kind, user| {
                Permit::new(
                    limiter.clone(),
                    Grant::Slot {
                        kind,
                        user: user.clone(),
                    },
                )
            });
    }
}

/// A change of the IMAP settings (a slot limit may have been raised).
#[derive(Debug)]
struct SettingsChanged;

impl Actor for Limiter {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        let changes = futures_util::stream::unfold(self.settings[0].clone(), |mut live| async {
            live.changed().await.ok()?;
            Some((SettingsChanged, live))
        });
        ctx.add_stream(changes);
    }
}

impl StreamHandler<SettingsChanged> for Limiter {
    fn handle(&mut self, _: SettingsChanged, ctx: &mut Context<Self>) {
        self.serve_queue(Freed::Any, ctx.address());
    }

    fn finished(&mut self, _: &mut Context<Self>) {
        // The settings are gone only when the server stops; the Limiter keeps working.
    }
}

/// Why a connection was refused (SPEC §4's first two rows).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConnectionRefusal {
    /// The server has MaxConnections.
    Server,
    /// The address has MaxConnectionsFromSingleIP.
    Address,
}

/// Admits a new connection from `ip`.
#[derive(Debug, Message)]
#[rtype(result = "Result<Permit, ConnectionRefusal>")]
pub struct Admit {
    pub protocol: Protocol,
    pub ip: IpAddr,
}

impl Handler<Admit> for Limiter {
    type Result = Result<Permit, ConnectionRefusal>;

    fn handle(&mut self, admit: Admit, ctx: &mut Context<Self>) -> Self::Result {
        let settings = self.settings(admit.protocol);
        let limit = |s| settings.get(s).unwrap_or(u64::MAX);
        let connections = &mut self.connections[index(admit.protocol)];
        let from_ip = connections.per_ip.get(&admit.ip).copied().unwrap_or(0)
            + self.elsewhere.connections_from(admit.protocol, &admit.ip);
        let refusal = if connections.total >= limit(Setting::MaxConnections) {
            Some((ConnectionRefusal::Server, Setting::MaxConnections))
        } else if from_ip >= limit(Setting::MaxConnectionsFromSingleIp) {
            Some((
                ConnectionRefusal::Address,
                Setting::MaxConnectionsFromSingleIp,
            ))
        } else {
            None
        };
        if let Some((refusal, setting)) = refusal {
            metrics::refused(admit.protocol.key(), setting.name());
            return Err(refusal);
        }
        connections.total += 1;
        *connections.per_ip.entry(admit.ip).or_insert(0) += 1;
        Ok(Permit::new(
            ctx.address(),
            Grant::Connection {
                protocol: admit.protocol,
                ip: admit.ip,
            },
        ))
    }
}

/// Counts a login of `user`; `None` when the user has MaxConnectionsPerUser already.
#[derive(Debug, Message)]
#[rtype(result = "Option<Permit>")]
pub struct Login {
    pub protocol: Protocol,
    pub user: Username,
}

impl Handler<Login> for Limiter {
    type Result = Option<Permit>;

    fn handle(&mut self, login: Login, ctx: &mut Context<Self>) -> Self::Result {
        self.count_login(login.protocol, login.user, ctx.address())
    }
}

impl Limiter {
    /// A permit for one more session of `user`, unless they have MaxConnectionsPerUser.
    fn count_login(
        &mut self,
        protocol: Protocol,
        user: Username,
        limiter: Addr<Limiter>,
    ) -> Option<Permit> {
        let limit = self
            .settings(protocol)
            .get(Setting::MaxConnectionsPerUser)
            .unwrap_or(u64::MAX);
        let elsewhere = self.elsewhere.logins_of(protocol, &user);
        let count = self.connections[index(protocol)]
            .per_user
            .entry(user.clone())
            .or_insert(0);
        if *count + elsewhere >= limit {
            if *count == 0 {
                self.connections[index(protocol)].per_user.remove(&user);
            }
            metrics::refused(protocol.key(), Setting::MaxConnectionsPerUser.name());
            return None;
        }
        *count += 1;
        Some(Permit::new(limiter, Grant::Login { protocol, user }))
    }
}

/// Asks for a FETCH or SEARCH slot.
#[derive(Debug, Message)]
#[rtype(result = "Acquired")]
pub struct Acquire {
    pub kind: SlotKind,
    pub user: Username,
}

/// The answer to [`Acquire`].
#[derive(Debug)]
pub enum Acquired {
    Now(Permit),
    /// No slot is free: the permit comes here when one is (drop it to leave the queue).
    Queued(oneshot::Receiver<Permit>),
    /// No slot, and the queue is full.
    Full,
}

impl Handler<Acquire> for Limiter {
    type Result = MessageResult<Acquire>;

    fn handle(&mut self, acquire: Acquire, ctx: &mut Context<Self>) -> Self::Result {
        let settings = self.settings(Protocol::Imap);
        if self
            .slots
            .fits(acquire.kind, &acquire.user, &settings, &self.elsewhere)
        {
            self.slots.take(acquire.kind, &acquire.user);
            let grant = Grant::Slot {
                kind: acquire.kind,
                user: acquire.user,
            };
            return MessageResult(Acquired::Now(Permit::new(ctx.address(), grant)));
        }
        let (reply, receiver) = oneshot::channel();
        MessageResult(
            match self.slots.enqueue(acquire.kind, acquire.user, reply) {
                Ok(()) => Acquired::Queued(receiver),
                Err(_) => Acquired::Full,
            },
        )
    }
}

impl Handler<Release> for Limiter {
    type Result = ();

    fn handle(&mut self, Release(grant): Release, ctx: &mut Context<Self>) {
        match grant {
            Grant::Connection { protocol, ip } => {
                let connections = &mut self.connections[index(protocol)];
                connections.total = connections.total.saturating_sub(1);
                decrement(&mut connections.per_ip, &ip);
                self.tell_if_drained();
            }
            Grant::Login { protocol, user } => {
                decrement(&mut self.connections[index(protocol)].per_user, &user);
            }
            Grant::LmtpConnection => self.release_lmtp(),
            Grant::Slot { kind, user } => {
                let settings = self.settings(Protocol::Imap);
                let freed = self.slots.give_back(kind, &user, &settings);
                self.serve_queue(freed, ctx.address());
            }
        }
    }
}

/// Answers once no connection of any protocol is open (at once if none is): the
/// receiver fires then, and fails if the Limiter stops first.
#[derive(Debug, Message)]
#[rtype(result = "oneshot::Receiver<()>")]
pub struct Drained;

impl Handler<Drained> for Limiter {
    type Result = MessageResult<Drained>;

    fn handle(&mut self, _: Drained, _: &mut Context<Self>) -> Self::Result {
        let (tell, told) = oneshot::channel();
        self.drained.push(tell);
        self.tell_if_drained();
        MessageResult(told)
    }
}

impl Limiter {
    /// Answers the [`Drained`] waiters when the last connection has closed.
    fn tell_if_drained(&mut self) {
        if self.connections.iter().all(|c| c.total == 0) && self.lmtp_connections == 0 {
            for tell in self.drained.drain(..) {
                let _ = tell.send(());
            }
        }
    }
}

/// Waits until no connection is open, or the Limiter is gone.
pub async fn drained(limiter: &Addr<Limiter>) {
    if let Ok(told) = limiter.send(Drained).await {
        let _ = told.await;
    }
}

/// Whether a login from `ip` as `user` may go ahead (brute-force protection).
#[derive(Debug, Message)]
#[rtype(result = "Verdict")]
pub struct CheckLogin {
    pub protocol: Protocol,
    pub ip: IpAddr,
    pub user: Option<Username>,
}

impl Handler<CheckLogin> for Limiter {
    type Result = MessageResult<CheckLogin>;

    fn handle(&mut self, check: CheckLogin, _: &mut Context<Self>) -> Self::Result {
        let policy = Policy::of(&self.settings(check.protocol));
        let failures = &self.failures[index(check.protocol)];
        let foreign = self
            .elsewhere
            .failures(check.protocol, check.ip, check.user.as_ref());
        let verdict = failures.check(
            check.ip,
            check.user.as_ref(),
            &policy,
            Instant::now(),
            foreign,
        );
        if let Verdict::Closed(_) = verdict {
            metrics::refused(check.protocol.key(), COOLDOWN);
        }
        MessageResult(verdict)
    }
}

/// A login whose password is known right (a remembered one): the failed-login gate and
/// the per-user count in one exchange.
#[derive(Debug, Message)]
#[rtype(result = "Result<Permit, RememberedRefusal>")]
pub struct LoginRemembered {
    pub protocol: Protocol,
    pub ip: IpAddr,
    pub user: Username,
}

/// Why a remembered login was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RememberedRefusal {
    /// The address (or, for it, the account) is cooling down: answer after this delay.
    CoolingDown(Duration),
    /// The user has MaxConnectionsPerUser sessions.
    TooManyLogins,
}

impl Handler<LoginRemembered> for Limiter {
    type Result = Result<Permit, RememberedRefusal>;

    fn handle(&mut self, login: LoginRemembered, ctx: &mut Context<Self>) -> Self::Result {
        let policy = Policy::of(&self.settings(login.protocol));
        let failures = &self.failures[index(login.protocol)];
        let foreign = self
            .elsewhere
            .failures(login.protocol, login.ip, Some(&login.user));
        if let Verdict::Closed(delay) = failures.check(
            login.ip,
            Some(&login.user),
            &policy,
            Instant::now(),
            foreign,
        ) {
            metrics::refused(login.protocol.key(), COOLDOWN);
            return Err(RememberedRefusal::CoolingDown(delay));
        }
        self.count_login(login.protocol, login.user, ctx.address())
            .ok_or(RememberedRefusal::TooManyLogins)
    }
}

/// The limit a cooled-down address or attacked account is refused for, as the metrics
/// name it (the setting that says how long).
const COOLDOWN: &str = "LoginCooldown";

/// Counts a failed login from `ip` as `user`.
#[derive(Debug, Message)]
#[rtype(result = "()")]
pub struct LoginFailed {
    pub protocol: Protocol,
    pub ip: IpAddr,
    pub user: Option<Username>,
}

impl Handler<LoginFailed> for Limiter {
    type Result = ();

    fn handle(&mut self, failed: LoginFailed, _: &mut Context<Self>) {
        let policy = Policy::of(&self.settings(failed.protocol));
        let foreign = self
            .elsewhere
            .failures(failed.protocol, failed.ip, failed.user.as_ref());
        self.failures[index(failed.protocol)].record(
            failed.ip,
            failed.user.as_ref(),
            &policy,
            Instant::now(),
            foreign,
        );
    }
}

/// What the Limiter counts now (`mailhive status`, and the tests' leak checks).
#[derive(Debug, Message)]
#[rtype(result = "Counts")]
pub struct Snapshot;

/// One protocol's counts.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProtocolCounts {
    pub connections: u64,
    /// Distinct client addresses connected.
    pub addresses: u64,
    pub logins: u64,
    /// Distinct users logged in.
    pub users: u64,
    /// Addresses and accounts with failed logins that still count.
    pub failing_addresses: u64,
    pub failing_users: u64,
    /// The users with the most sessions and the addresses with the most connections,
    /// [`BUSIEST`] of each at most, the most first (the console's dashboard).
    pub busiest_users: Vec<(String, u64)>,
    pub busiest_addresses: Vec<(String, u64)>,
    /// Addresses refused now for their failed logins, [`BUSIEST`] at most.
    pub cooled_down: Vec<String>,
}

/// How many of the busiest users and addresses a [`Snapshot`] names.
pub const BUSIEST: usize = 10;

/// The [`BUSIEST`] keys of `counts` with the highest counts, the highest first (ties
/// by name).
fn busiest<K: ToString>(counts: &HashMap<K, u64>) -> Vec<(String, u64)> {
    let mut all: Vec<(String, u64)> = counts.iter().map(|(k, &n)| (k.to_string(), n)).collect();
    all.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    all.truncate(BUSIEST);
    all
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counts {
    pub imap: ProtocolCounts,
    pub pop3: ProtocolCounts,
    pub fetches_running: u64,
    pub fetches_queued: u64,
    pub searches_running: u64,
    pub searches_queued: u64,
    pub lmtp_connections: u64,
}

impl Counts {
    /// Nothing open, logged in, running or queued (failed logins may still count).
    pub fn is_idle(&self) -> bool {
        let idle = |p: &ProtocolCounts| {
            p.connections == 0 && p.addresses == 0 && p.logins == 0 && p.users == 0
        };
        idle(&self.imap)
            && idle(&self.pop3)
            && self.fetches_running == 0
            && self.fetches_queued == 0
            && self.searches_running == 0
            && self.searches_queued == 0
            && self.lmtp_connections == 0
    }
}

impl Handler<Snapshot> for Limiter {
    type Result = MessageResult<Snapshot>;

    fn handle(&mut self, _: Snapshot, _: &mut Context<Self>) -> Self::Result {
        let now = Instant::now();
        let mut protocol_counts = Protocol::ALL.map(|protocol| {
            let policy = Policy::of(&self.settings(protocol));
            let failures = &mut self.failures[index(protocol)];
            let (failing_addresses, failing_users) = failures.prune(&policy, now);
            let cooled_down = failures.cooled_down(now, BUSIEST);
            let connections = &self.connections[index(protocol)];
            ProtocolCounts {
                connections: connections.total,
                addresses: connections.per_ip.len() as u64,
                logins: connections.per_user.values().sum(),
                users: connections.per_user.len() as u64,
                failing_addresses: failing_addresses as u64,
                failing_users: failing_users as u64,
                busiest_users: busiest(&connections.per_user),
                busiest_addresses: busiest(&connections.per_ip),
                cooled_down: cooled_down.iter().map(|ip| ip.to_string()).collect(),
            }
        });
        MessageResult(Counts {
            imap: std::mem::take(&mut protocol_counts[0]),
            pop3: std::mem::take(&mut protocol_counts[1]),
            fetches_running: self.slots.running(SlotKind::Fetch),
            fetches_queued: self.slots.queued(SlotKind::Fetch) as u64,
            searches_running: self.slots.running(SlotKind::Search),
            searches_queued: self.slots.queued(SlotKind::Search) as u64,
            lmtp_connections: self.lmtp_connections,
        })
    }
}

/// Why no slot was had.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoSlot {
    /// None came free within the queue time-out (or the queue was full).
    Busy,
    /// The client went away while waiting.
    Gone,
}

/// Gets a `kind` slot for `user`, waiting in the queue up to `timeout`; leaves the
/// queue at once when `gone` is cancelled.
pub async fn acquire_slot(
    limiter: &Addr<Limiter>,
    kind: SlotKind,
    user: Username,
    timeout: Duration,
    gone: &CancellationToken,
) -> Result<Permit, NoSlot> {
    let acquired = tokio::select! {
        acquired = limiter.send(Acquire { kind, user }) => acquired,
        () = gone.cancelled() => return Err(NoSlot::Gone),
    };
    let queued = match acquired {
        Ok(Acquired::Now(permit)) => return Ok(permit),
        Ok(Acquired::Queued(queued)) => queued,
        Ok(Acquired::Full) => return Err(busy(kind)),
        Err(e) => {
            tracing::error!(error = %e, "the limiter does not answer");
            return Err(NoSlot::Busy);
        }
    };
    tokio::select! {
        permit = queued => permit.map_err(|_| NoSlot::Busy),
        () = tokio::time::sleep(timeout) => Err(busy(kind)),
        () = gone.cancelled() => Err(NoSlot::Gone),
    }
}

/// No `kind` slot in time: counted as a refusal for the queue's time-out.
fn busy(kind: SlotKind) -> NoSlot {
    let setting = match kind {
        SlotKind::Fetch => Setting::FetchQueueTimeout,
        SlotKind::Search => Setting::SearchQueueTimeout,
    };
    metrics::refused(Protocol::Imap.key(), setting.name());
    NoSlot::Busy
}

/// Admits a connection; a Limiter that does not answer admits nobody.
pub async fn admit(
    limiter: &Addr<Limiter>,
    protocol: Protocol,
    ip: IpAddr,
) -> Result<Permit, ConnectionRefusal> {
    match limiter.send(Admit { protocol, ip }).await {
        Ok(answer) => answer,
        Err(e) => {
            tracing::error!(error = %e, "the limiter does not answer");
            Err(ConnectionRefusal::Server)
        }
    }
}
