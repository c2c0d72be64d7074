//! Administrator settings persisted by `mailhive settings set`: named whole numbers in a
//! scope (one scope per protocol). The store keeps them as given; what the names mean
//! and which values are valid is the server's business, checked before they get here.

use crate::schema::key;
use crate::{Outcome, Store, StoreError};

impl Store {
    /// The settings persisted in `scope`, by name.
    pub fn setting_overrides(&self, scope: &str) -> Result<Vec<(String, u64)>, StoreError> {
        let prefix = key::setting(scope, None);
        self.engine()
            .scan_prefix(&prefix)
            .map(|entry| {
                let (k, v) = entry?;
                let name = std::str::from_utf8(&k[prefix.len()..])
                    .map_err(|e| StoreError::corrupt(&k, e))?;
                Ok((name.to_owned(), crate::schema::decode(&k, &v)?))
            })
            .collect()
    }

    /// Persists `set` and forgets `reset` in `scope`, all at once and durably.
    pub fn change_setting_overrides(
        &self,
        scope: &str,
        set: &[(String, u64)],
        reset: &[String],
    ) -> Outcome<()> {
        self.write(|tx| {
            for name in reset {
                tx.delete(key::setting(scope, Some(name)));
            }
            for (name, value) in set {
                tx.put_record(key::setting(scope, Some(name)), value)?;
            }
            Ok(Ok(()))
        })
    }
}

#[cfg(test)]
mod tests {
    use crate::Store;

    #[test]
    fn overrides_are_kept_per_scope_and_reset_by_name() {
        let store = Store::temporary().unwrap();
        assert!(store.setting_overrides("imap").unwrap().is_empty());
        let set = [
            ("max_connections".to_owned(), 3),
            ("idle_enabled".into(), 0),
        ];
        store
            .change_setting_overrides("imap", &set, &[])
            .unwrap()
            .unwrap();
        store
            .change_setting_overrides("pop3", &[("max_connections".into(), 9)], &[])
            .unwrap()
            .unwrap();
        assert_eq!(
            store.setting_overrides("imap").unwrap(),
            [
                ("idle_enabled".to_owned(), 0),
                ("max_connections".into(), 3)
            ]
        );
        store
            .change_setting_overrides("imap", &[], &["idle_enabled".into()])
            .unwrap()
            .unwrap();
        assert_eq!(
            store.setting_overrides("imap").unwrap(),
            [("max_connections".to_owned(), 3)]
        );
        assert_eq!(
            store.setting_overrides("pop3").unwrap(),
            [("max_connections".to_owned(), 9)]
        );
    }
}
