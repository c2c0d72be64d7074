//! The settings a server works with, changed while it runs.
//!
//! A protocol's effective settings are its configuration (defaults < file < environment,
//! see [`crate::config`]) with the values persisted by `settings set` laid on top. A
//! running server publishes them on one watch channel per protocol ([`Published`]):
//! sessions and the limiter read the current value whenever they decide something, so a
//! change applies at once to new work. Lowering a limit refuses new work; it never cuts
//! connections that are already open.

use crate::config::{check_range, Config, Protocol, ProtocolSettings, Setting, Source};
use mailhive_store::{Store, StoreError};
use std::sync::{Arc, Mutex};
use tokio::sync::watch;

/// A protocol's current settings, as a session or the limiter reads them.
pub type Live = watch::Receiver<Arc<ProtocolSettings>>;

/// What `settings set` and `settings reset` ask for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// Persist these values (each checked against its range first).
    Set(Vec<(Setting, u64)>),
    /// Forget the persisted values of these settings.
    Reset(Vec<Setting>),
}

/// A change that was refused: the text names every bad value and its range.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Refused(pub String);

/// `base` with the values persisted for its protocol laid on top. A persisted value that
/// this build no longer accepts (unknown name, out of range) is skipped with a warning.
pub fn effective(base: &ProtocolSettings, store: &Store) -> Result<ProtocolSettings, StoreError> {
    let protocol = base.protocol;
    let mut settings = base.clone();
    for (key, value) in store.setting_overrides(protocol.key())? {
        let checked = Setting::find(&key)
            .ok_or_else(|| format!("unknown setting {key}"))
            .and_then(|setting| Ok((setting, check_range(protocol, setting, value)?)));
        match checked {
            Ok((setting, value)) => settings.put(setting, value, Source::Set),
            Err(reason) => tracing::warn!(
                protocol = protocol.key(),
                %reason,
                "a persisted setting is ignored"
            ),
        }
    }
    Ok(settings)
}

/// Checks `change` against `protocol`'s ranges and persists it durably; nothing is
/// persisted when any value is refused.
pub fn persist(
    store: &Store,
    protocol: Protocol,
    change: &Change,
) -> Result<Result<(), Refused>, StoreError> {
    let (set, reset) = match change {
        Change::Set(values) => {
            let errors: Vec<String> = values
                .iter()
                .filter_map(|&(setting, value)| check_range(protocol, setting, value).err())
                .collect();
            if !errors.is_empty() {
                return Ok(Err(Refused(errors.join("; "))));
            }
            let set = values
                .iter()
                .map(|&(setting, value)| (setting.key().to_owned(), value))
                .collect();
            (set, Vec::new())
        }
        Change::Reset(settings) => {
            if let Some(foreign) = settings.iter().find(|s| s.spec(protocol).is_none()) {
                return Ok(Err(Refused(format!(
                    "{} is not a {} setting",
                    foreign.name(),
                    protocol.key()
                ))));
            }
            let reset = settings.iter().map(|s| s.key().to_owned()).collect();
            (Vec::new(), reset)
        }
    };
    Ok(store
        .change_setting_overrides(protocol.key(), &set, &reset)?
        .map_err(|refusal| Refused(refusal.to_string())))
}

/// The effective settings of both protocols of a running server, published to its
/// sessions and its limiter.
#[derive(Debug)]
pub struct Published {
    /// Each protocol's configuration, without persisted values.
    base: [ProtocolSettings; 2],
    /// Each protocol's effective settings.
    senders: [watch::Sender<Arc<ProtocolSettings>>; 2],
    /// Held while a change is persisted and published, so that two changes are
    /// published in the order they were persisted.
    changing: Mutex<()>,
}

fn index(protocol: Protocol) -> usize {
    match protocol {
        Protocol::Imap => 0,
        Protocol::Pop3 => 1,
    }
}

impl Published {
    pub fn new(config: &Config, store: &Store) -> Result<Self, StoreError> {
        let base = Protocol::ALL.map(|p| config.settings(p).clone());
        let mut senders = Vec::new();
        for settings in &base {
            senders.push(watch::Sender::new(Arc::new(effective(settings, store)?)));
        }
        let senders = senders.try_into().expect("one sender per protocol");
        Ok(Published {
            base,
            senders,
            changing: Mutex::new(()),
        })
    }

    /// A reader of `protocol`'s settings that always sees the current ones.
    pub fn live(&self, protocol: Protocol) -> Live {
        self.senders[index(protocol)].subscribe()
    }

    pub fn current(&self, protocol: Protocol) -> Arc<ProtocolSettings> {
        self.senders[index(protocol)].borrow().clone()
    }

    /// Persists `change`, then publishes the new effective settings.
    pub fn change(
        &self,
        store: &Store,
        protocol: Protocol,
        change: &Change,
    ) -> Result<Result<Arc<ProtocolSettings>, Refused>, StoreError> {
        let _order = self.changing.lock().unwrap_or_else(|p| p.into_inner());
        if let Err(refused) = persist(store, protocol, change)? {
            return Ok(Err(refused));
        }
        let settings = Arc::new(effective(&self.base[index(protocol)], store)?);
        self.senders[index(protocol)].send_replace(settings.clone());
        tracing::info!(protocol = protocol.key(), ?change, "settings changed");
        Ok(Ok(settings))
    }

    /// Reads the persisted values again and publishes what changed: another server on
    /// the same store changed them.
    pub fn reload(&self, store: &Store) -> Result<(), StoreError> {
        let _order = self.changing.lock().unwrap_or_else(|p| p.into_inner());
        for protocol in Protocol::ALL {
            let settings = effective(&self.base[index(protocol)], store)?;
            let sender = &self.senders[index(protocol)];
            if **sender.borrow() != settings {
                sender.send_replace(Arc::new(settings));
                tracing::info!(
                    protocol = protocol.key(),
                    "settings changed by another server"
                );
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changes_are_checked_persisted_and_published() {
        let store = Store::temporary().unwrap();
        let config = crate::config::load(None).unwrap();
        let published = Published::new(&config, &store).unwrap();
        let live = published.live(Protocol::Imap);
        let set = Change::Set(vec![(Setting::MaxConnections, 3)]);
        published
            .change(&store, Protocol::Imap, &set)
            .unwrap()
            .unwrap();
        assert_eq!(live.borrow().get(Setting::MaxConnections), Some(3));
        assert_eq!(
            published
                .current(Protocol::Pop3)
                .get(Setting::MaxConnections),
            Some(2000),
            "each protocol has its own copy"
        );

        let bad = Change::Set(vec![
            (Setting::MaxConnections, 7),
            (Setting::MaxCommandSize, 10),
        ]);
        let refused = published.change(&store, Protocol::Imap, &bad).unwrap();
        assert_eq!(
            refused.unwrap_err().0,
            "MaxCommandSize = 10 is out of range: it must be between 1024 and 16384"
        );
        assert_eq!(
            live.borrow().get(Setting::MaxConnections),
            Some(3),
            "unchanged"
        );
        let foreign = Change::Set(vec![(Setting::IdleEnabled, 0)]);
        assert!(published
            .change(&store, Protocol::Pop3, &foreign)
            .unwrap()
            .is_err());

        // A server started later finds the persisted value, marked as set.
        let again = effective(config.settings(Protocol::Imap), &store).unwrap();
        let entry = again.entries().find(|e| e.0 == Setting::MaxConnections);
        assert_eq!(entry, Some((Setting::MaxConnections, 3, Source::Set)));

        let reset = Change::Reset(vec![Setting::MaxConnections]);
        published
            .change(&store, Protocol::Imap, &reset)
            .unwrap()
            .unwrap();
        assert_eq!(live.borrow().get(Setting::MaxConnections), Some(2000));
    }
}
