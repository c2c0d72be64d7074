//! Brute-force protection across connections, beyond MaxFailedLogins (which counts per
//! connection): failed logins are counted per client address and per account within a
//! sliding window of LoginFailureWindow.
//!
//! - An address with MaxLoginFailuresFromSingleIP failures in the window is cooled down
//!   for LoginCooldown: every login from it is refused without looking at the password
//!   (so no argon2 work either), and answered only after LoginFailureDelay.
//! - An account with MaxLoginFailuresPerUser failures in the window is under attack:
//!   a wrong password for it is answered after LoginFailureDelay, and addresses that
//!   failed on anything within the window are refused at once for it. An address with
//!   no failures — the account's owner at home, on the phone — logs in as usual, at
//!   full speed: an attacker cannot lock the owner out.
//!
//! IPv6 addresses count by /64, the block one host or one home usually has. Both tables
//! are bounded ([`MAX_TRACKED`]); when one is full of live records a new address or
//! account is not tracked (failing open rather than growing).
//!
//! Servers sharing a PostgreSQL store add the others' failures ([`Foreign`]) to their
//! own at every decision, and lease theirs to the others ([`Failures::to_share`]).

use crate::config::{ProtocolSettings, Setting};
use mailhive_store::Username;
use std::collections::{HashMap, VecDeque};
use std::hash::Hash;
use std::net::IpAddr;
use std::time::{Duration, Instant};

/// Addresses, and accounts, tracked at most.
pub const MAX_TRACKED: usize = 100_000;

/// Addresses, and accounts, leased to the other servers at most: the cooled-down
/// addresses and the most failed ones first.
pub const MAX_SHARED: usize = 10_000;

/// What the other servers on a shared store count for one login attempt's address
/// (by [`address_key`]) and account, as of their last lease.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Foreign {
    pub address_failures: usize,
    pub address_cooled: bool,
    pub user_failures: usize,
}

/// One protocol's live failures, for the other servers to add to theirs.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Shared {
    /// Failures in the window, and whether it is cooling down, per address key.
    pub addresses: Vec<(IpAddr, usize, bool)>,
    /// Failures in the window per account.
    pub users: Vec<(Username, usize)>,
}

/// What a login attempt may do, decided before the password is checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Check the password as usual.
    Open,
    /// Check the password; if it is wrong, answer only after this delay.
    Slow(Duration),
    /// Refuse without checking, after this delay.
    Closed(Duration),
}

/// The thresholds, from a protocol's settings.
#[derive(Debug, Clone, Copy)]
pub struct Policy {
    per_address: usize,
    per_user: usize,
    window: Duration,
    delay: Duration,
    cooldown: Duration,
}

impl Policy {
    pub fn of(settings: &ProtocolSettings) -> Policy {
        let number = |s| settings.get(s).unwrap_or(u64::MAX);
        let seconds = |s| Duration::from_secs(settings.get(s).unwrap_or(0));
        Policy {
            per_address: usize::try_from(number(Setting::MaxLoginFailuresFromSingleIp))
                .unwrap_or(usize::MAX),
            per_user: usize::try_from(number(Setting::MaxLoginFailuresPerUser))
                .unwrap_or(usize::MAX),
            window: seconds(Setting::LoginFailureWindow),
            delay: seconds(Setting::LoginFailureDelay),
            cooldown: seconds(Setting::LoginCooldown),
        }
    }
}

/// The recent failures of one address or account.
#[derive(Debug, Default)]
struct Record {
    /// The latest failures, oldest first; never more than the threshold needs.
    times: VecDeque<Instant>,
    /// Refused until then (addresses only).
    cooled_until: Option<Instant>,
}

impl Record {
    fn in_window(&self, now: Instant, window: Duration) -> usize {
        self.times
            .iter()
            .filter(|&&t| now.saturating_duration_since(t) < window)
            .count()
    }

    fn cooling(&self, now: Instant) -> bool {
        self.cooled_until.is_some_and(|until| until > now)
    }

    fn live(&self, now: Instant, window: Duration) -> bool {
        self.cooling(now) || self.in_window(now, window) > 0
    }

    fn push(&mut self, now: Instant, keep: usize) {
        self.times.push_back(now);
        while self.times.len() > keep.max(1) {
            self.times.pop_front();
        }
    }
}

/// The failure records of one protocol.
#[derive(Debug, Default)]
pub struct Failures {
    by_address: HashMap<IpAddr, Record>,
    by_user: HashMap<Username, Record>,
}

/// The key an address counts under: IPv4 as it is, IPv6 by its /64.
pub fn address_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6((u128::from(v6) & !((1u128 << 64) - 1)).into()),
        },
        v4 => v4,
    }
}

/// The record for `key`, created if there is room.
fn record_for<'a, K: Hash + Eq + Clone>(
    table: &'a mut HashMap<K, Record>,
    key: &K,
    now: Instant,
    window: Duration,
) -> Option<&'a mut Record> {
    if !table.contains_key(key) && table.len() >= MAX_TRACKED {
        table.retain(|_, record| record.live(now, window));
        if table.len() >= MAX_TRACKED {
            return None;
        }
    }
    Some(table.entry(key.clone()).or_default())
}

impl Failures {
    /// Whether a login from `ip` as `user` may go ahead, with `foreign`'s failures
    /// added to this server's.
    pub fn check(
        &self,
        ip: IpAddr,
        user: Option<&Username>,
        policy: &Policy,
        now: Instant,
        foreign: Foreign,
    ) -> Verdict {
        let address = self.by_address.get(&address_key(ip));
        if foreign.address_cooled || address.is_some_and(|a| a.cooling(now)) {
            return Verdict::Closed(policy.delay);
        }
        let attacked = user.is_some_and(|u| {
            let here = self
                .by_user
                .get(u)
                .map_or(0, |r| r.in_window(now, policy.window));
            here + foreign.user_failures >= policy.per_user
        });
        if !attacked {
            return Verdict::Open;
        }
        let here = address.map_or(0, |a| a.in_window(now, policy.window));
        if here + foreign.address_failures > 0 {
            Verdict::Closed(policy.delay)
        } else {
            Verdict::Slow(policy.delay)
        }
    }

    /// Counts a failed login from `ip` as `user`; the address cools down when its
    /// failures here and `foreign`'s reach the threshold.
    pub fn record(
        &mut self,
        ip: IpAddr,
        user: Option<&Username>,
        policy: &Policy,
        now: Instant,
        foreign: Foreign,
    ) {
        if let Some(address) =
            record_for(&mut self.by_address, &address_key(ip), now, policy.window)
        {
            address.push(now, policy.per_address);
            let failures = address.in_window(now, policy.window) + foreign.address_failures;
            if failures >= policy.per_address {
                address.cooled_until = Some(now + policy.cooldown);
            }
        }
        if let Some(user) = user {
            if let Some(account) = record_for(&mut self.by_user, user, now, policy.window) {
                account.push(now, policy.per_user);
            }
        }
    }

    /// The addresses refused now for their failed logins, at most `limit`, in order
    /// (IPv6 ones as their /64).
    pub fn cooled_down(&self, now: Instant, limit: usize) -> Vec<IpAddr> {
        let mut cooling: Vec<IpAddr> = self
            .by_address
            .iter()
            .filter(|(_, record)| record.cooling(now))
            .map(|(&ip, _)| ip)
            .collect();
        cooling.sort();
        cooling.truncate(limit);
        cooling
    }

    /// The live records, [`MAX_SHARED`] of each at most, for the other servers.
    pub fn to_share(&self, policy: &Policy, now: Instant) -> Shared {
        let mut addresses: Vec<(IpAddr, usize, bool)> = self
            .by_address
            .iter()
            .map(|(&ip, r)| (ip, r.in_window(now, policy.window), r.cooling(now)))
            .filter(|&(_, failures, cooling)| failures > 0 || cooling)
            .collect();
        addresses.sort_by_key(|&(_, failures, cooling)| std::cmp::Reverse((cooling, failures)));
        addresses.truncate(MAX_SHARED);
        let mut users: Vec<(Username, usize)> = self
            .by_user
            .iter()
            .map(|(u, r)| (u.clone(), r.in_window(now, policy.window)))
            .filter(|&(_, failures)| failures > 0)
            .collect();
        users.sort_by_key(|&(_, failures)| std::cmp::Reverse(failures));
        users.truncate(MAX_SHARED);
        Shared { addresses, users }
    }

    /// Forgets records that no longer matter; returns how many remain (addresses and
    /// accounts).
    pub fn prune(&mut self, policy: &Policy, now: Instant) -> (usize, usize) {
        self.by_address.retain(|_, r| r.live(now, policy.window));
        self.by_user.retain(|_, r| r.live(now, policy.window));
        (self.by_address.len(), self.by_user.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn none() -> Foreign {
        Foreign::default()
    }

    fn policy() -> Policy {
        Policy {
            per_address: 3,
            per_user: 2,
            window: Duration::from_secs(60),
            delay: Duration::from_secs(2),
            cooldown: Duration::from_secs(300),
        }
    }

    #[test]
    fn an_address_is_cooled_down_at_its_threshold_and_then_forgiven() {
        let (mut failures, p, t0) = (Failures::default(), policy(), Instant::now());
        let attacker: IpAddr = "192.0.2.7".parse().unwrap();
        let neighbour: IpAddr = "192.0.2.8".parse().unwrap();
        for i in 0..2 {
            failures.record(attacker, None, &p, t0 + Duration::from_secs(i), none());
        }
        assert_eq!(
            failures.check(attacker, None, &p, t0, none()),
            Verdict::Open
        );
        failures.record(attacker, None, &p, t0 + Duration::from_secs(2), none());
        let later = t0 + Duration::from_secs(10);
        assert_eq!(
            failures.check(attacker, None, &p, later, none()),
            Verdict::Closed(p.delay)
        );
        assert_eq!(
            failures.check(neighbour, None, &p, later, none()),
            Verdict::Open
        );
        failures.record(neighbour, None, &p, later, none());
        assert_eq!(failures.cooled_down(later, 10), [attacker]);
        assert!(failures.cooled_down(later, 0).is_empty());
        let after = t0 + Duration::from_secs(303);
        assert_eq!(
            failures.check(attacker, None, &p, after, none()),
            Verdict::Open
        );
        assert_eq!(failures.prune(&p, after), (0, 0));
    }

    #[test]
    fn failures_outside_the_window_do_not_count() {
        let (mut failures, p, t0) = (Failures::default(), policy(), Instant::now());
        let ip: IpAddr = "198.51.100.1".parse().unwrap();
        for i in 0..3 {
            failures.record(ip, None, &p, t0 + Duration::from_secs(i * 40), none());
        }
        assert_eq!(
            failures.check(ip, None, &p, t0 + Duration::from_secs(81), none()),
            Verdict::Open
        );
    }

    #[test]
    fn an_attacked_account_refuses_failing_addresses_but_not_its_owner() {
        let (mut failures, p, t0) = (Failures::default(), policy(), Instant::now());
        let karen = Username::parse("karen").unwrap();
        let bots: [IpAddr; 2] = [
            "203.0.113.1".parse().unwrap(),
            "203.0.113.2".parse().unwrap(),
        ];
        for bot in bots {
            failures.record(bot, Some(&karen), &p, t0, none());
        }
        let home: IpAddr = "2001:db8:1:2::5".parse().unwrap();
        let now = t0 + Duration::from_secs(1);
        assert_eq!(
            failures.check(bots[0], Some(&karen), &p, now, none()),
            Verdict::Closed(p.delay)
        );
        assert_eq!(
            failures.check(home, Some(&karen), &p, now, none()),
            Verdict::Slow(p.delay)
        );
        let other = Username::parse("bob").unwrap();
        assert_eq!(
            failures.check(bots[0], Some(&other), &p, now, none()),
            Verdict::Open
        );
    }

    #[test]
    fn ipv6_counts_by_slash_64_and_mapped_ipv4_as_ipv4() {
        let a: IpAddr = "2001:db8:1:2::5".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:ffff::1".parse().unwrap();
        assert_eq!(address_key(a), address_key(b));
        let mapped: IpAddr = "::ffff:192.0.2.1".parse().unwrap();
        assert_eq!(address_key(mapped), "192.0.2.1".parse::<IpAddr>().unwrap());
    }

    #[test]
    fn the_other_servers_failures_count_with_these_and_these_are_shared() {
        let (mut failures, p, t0) = (Failures::default(), policy(), Instant::now());
        let attacker: IpAddr = "192.0.2.9".parse().unwrap();
        let karen = Username::parse("karen").unwrap();
        let two_elsewhere = Foreign {
            address_failures: 2,
            ..none()
        };
        assert_eq!(
            failures.check(attacker, None, &p, t0, two_elsewhere),
            Verdict::Open
        );
        failures.record(attacker, Some(&karen), &p, t0, two_elsewhere);
        assert_eq!(
            failures.check(attacker, None, &p, t0, none()),
            Verdict::Closed(p.delay)
        );
        let shared = failures.to_share(&p, t0);
        assert_eq!(shared.addresses, [(attacker, 1, true)]);
        assert_eq!(shared.users, [(karen.clone(), 1)]);

        let elsewhere_cooled = Foreign {
            address_cooled: true,
            ..none()
        };
        let other: IpAddr = "192.0.2.10".parse().unwrap();
        assert_eq!(
            failures.check(other, None, &p, t0, elsewhere_cooled),
            Verdict::Closed(p.delay)
        );
        let attacked_elsewhere = Foreign {
            user_failures: 1,
            ..none()
        };
        assert_eq!(
            failures.check(other, Some(&karen), &p, t0, attacked_elsewhere),
            Verdict::Slow(p.delay)
        );
        assert_eq!(
            failures.to_share(&p, t0 + Duration::from_secs(400)),
            Shared::default()
        );
    }
}
