//! Accounts: argon2id password hashes (never the password), and the mailboxes every new
//! account starts with — INBOX plus the RFC 6154 special-use folders, all subscribed.

use crate::mailbox::{create_in, delete_in};
use crate::schema::{key, AccountRecord, MailboxRecord};
use crate::types::{InternalDate, MailboxName, SpecialUse, Username};
use crate::{Outcome, Refusal, Store, StoreError};
use argon2::password_hash::{self, Output, PasswordHash, PasswordHasher, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use std::sync::{Mutex, OnceLock};

/// The folders a new account gets besides INBOX.
pub const DEFAULT_FOLDERS: [(&str, SpecialUse); 5] = [
    ("Sent", SpecialUse::Sent),
    ("Drafts", SpecialUse::Drafts),
    ("Trash", SpecialUse::Trash),
    ("Junk", SpecialUse::Junk),
    ("Archive", SpecialUse::Archive),
];

fn hash_password(password: &str) -> Result<String, StoreError> {
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).map_err(|e| StoreError::PasswordHash(e.to_string()))?;
    let salt =
        SaltString::encode_b64(&salt).map_err(|e| StoreError::PasswordHash(e.to_string()))?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| StoreError::PasswordHash(e.to_string()))
}

/// argon2's working memory (19 MiB with the default parameters), kept for the next
/// verification instead of freed: the allocator keeps freed blocks this large resident
/// anyway, so reusing them bounds the memory at one block per verification that runs
/// at a time (the server runs one per core) instead of letting it grow with logins.
static SCRATCH: Mutex<Vec<Vec<Block>>> = Mutex::new(Vec::new());

/// Runs `f` with `blocks` blocks of argon2 working memory.
fn with_scratch<T>(blocks: usize, f: impl FnOnce(&mut [Block]) -> T) -> T {
    let spare = SCRATCH.lock().unwrap_or_else(|p| p.into_inner()).pop();
    let mut memory = spare
        .filter(|m| m.len() == blocks)
        .unwrap_or_else(|| vec![Block::default(); blocks]);
    let result = f(&mut memory);
    SCRATCH
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .push(memory);
    result
}

/// Whether `password` hashes to `hash` (a PHC string), with the parameters, salt and
/// algorithm the string names; the outputs are compared in constant time.
fn verify(hash: &str, password: &str) -> bool {
    let Ok(parsed) = PasswordHash::new(hash) else {
        return false;
    };
    let (Some(expected), Some(salt)) = (parsed.hash, parsed.salt) else {
        return false;
    };
    let (Ok(params), Ok(algorithm)) = (
        Params::try_from(&parsed),
        Algorithm::try_from(parsed.algorithm),
    ) else {
        return false;
    };
    let Ok(version) = parsed.version.map(Version::try_from).transpose() else {
        return false;
    };
    let mut salt_bytes = [0u8; 64];
    let Ok(salt) = salt.decode_b64(&mut salt_bytes) else {
        return false;
    };
    let argon2 = Argon2::new(algorithm, version.unwrap_or_default(), params.clone());
    let computed = with_scratch(params.block_count(), |blocks| {
        Output::init_with(expected.len(), |out| {
            argon2
                .hash_password_into_with_memory(password.as_bytes(), salt, out, blocks)
                .map_err(|_| password_hash::Error::Crypto)
        })
    });
    // Output's equality is constant-time.
    computed.is_ok_and(|computed| computed == expected)
}

/// A hash that no password matches, verified against for unknown users so that a
/// login for a missing account costs as much time as one for an existing account.
fn decoy_hash() -> &'static str {
    static DECOY: OnceLock<String> = OnceLock::new();
    DECOY.get_or_init(|| hash_password("decoy password that is never accepted").unwrap_or_default())
}

impl Store {
    /// Creates an account with INBOX and the default folders, all subscribed.
    pub fn add_user(&self, user: &Username, password: &str) -> Outcome<()> {
        self.add_account(user, password, false)
    }

    /// [`Store::add_user`], as an administrator when `admin` is true.
    pub fn add_account(&self, user: &Username, password: &str, admin: bool) -> Outcome<()> {
        let password_hash = hash_password(password)?;
        self.write(|tx| {
            let k = key::account(user);
            if tx.get(&k)?.is_some() {
                return Ok(Err(Refusal::UserExists));
            }
            let record = AccountRecord {
                password_hash,
                created: InternalDate::now().unix_seconds,
                admin,
            };
            tx.put(k, record.encode()?);
            let inbox = MailboxName::inbox();
            create_in(tx, user, &inbox, None)?;
            tx.put(key::subscription(user, Some(&inbox)), Vec::new());
            for (name, special_use) in DEFAULT_FOLDERS {
                let name = MailboxName::parse(name).map_err(|e| StoreError::Encode(e.into()))?;
                create_in(tx, user, &name, Some(special_use))?;
                tx.put(key::subscription(user, Some(&name)), Vec::new());
            }
            Ok(Ok(()))
        })
    }

    /// Replaces an account's password.
    pub fn set_password(&self, user: &Username, password: &str) -> Outcome<()> {
        let password_hash = hash_password(password)?;
        self.change_account(user, |record| record.password_hash = password_hash)
    }

    /// Makes an account an administrator (`admin`) or takes the flag away.
    pub fn set_admin(&self, user: &Username, admin: bool) -> Outcome<()> {
        self.change_account(user, |record| record.admin = admin)
    }

    fn change_account(
        &self,
        user: &Username,
        change: impl FnOnce(&mut AccountRecord),
    ) -> Outcome<()> {
        self.write(|tx| {
            let k = key::account(user);
            let Some(bytes) = tx.get(&k)? else {
                return Ok(Err(Refusal::NoSuchUser));
            };
            let mut record = AccountRecord::decode(&k, &bytes)?;
            change(&mut record);
            tx.put(k, record.encode()?);
            Ok(Ok(()))
        })
    }

    fn account(&self, user: &Username) -> Result<Option<AccountRecord>, StoreError> {
        let k = key::account(user);
        self.engine()
            .get(&k)?
            .map(|bytes| AccountRecord::decode(&k, &bytes))
            .transpose()
    }

    /// Whether `user` exists and is an administrator.
    pub fn is_admin(&self, user: &Username) -> Result<bool, StoreError> {
        Ok(self.account(user)?.is_some_and(|record| record.admin))
    }

    /// Every account with its admin flag, sorted by name.
    pub fn accounts(&self) -> Result<Vec<(Username, bool)>, StoreError> {
        self.engine()
            .scan_prefix(&key::accounts())
            .map(|entry| {
                let (k, bytes) = entry?;
                let name = std::str::from_utf8(&k[1..]).map_err(|e| StoreError::corrupt(&k, e))?;
                let user = Username::parse(name).map_err(|e| StoreError::corrupt(&k, e))?;
                Ok((user, AccountRecord::decode(&k, &bytes)?.admin))
            })
            .collect()
    }

    /// Removes an account, its mailboxes and messages, its quota, its subscriptions and
    /// every right granted to it on other users' mailboxes.
    pub fn remove_user(&self, user: &Username) -> Outcome<()> {
        self.write(|tx| {
            let k = key::account(user);
            if tx.get(&k)?.is_none() {
                return Ok(Err(Refusal::NoSuchUser));
            }
            tx.delete(k);
            crate::quota::forget_user(tx, user);
            for entry in tx.scan_committed(&key::mailbox_name(user, None)) {
                let (name_key, id) = entry?;
                let id = crate::types::MailboxId(crate::schema::decode(&name_key, &id)?);
                delete_in(tx, id)?;
            }
            for entry in tx.scan_committed(&key::subscription(user, None)) {
                tx.delete(entry?.0);
            }
            for entry in tx.scan_committed(&key::grant(user.as_str(), None)) {
                let (grant_key, _) = entry?;
                if let Some(mailbox) = key::mailbox_of_grant(&grant_key) {
                    crate::seen::forget_user(tx, mailbox, user);
                    let mk = key::mailbox(mailbox);
                    if let Some(mut record) = tx.record::<MailboxRecord>(&mk)? {
                        record.acl.retain(|(who, _)| who != user.as_str());
                        tx.put_record(mk, &record)?;
                    }
                }
                tx.delete(grant_key);
            }
            Ok(Ok(()))
        })
    }

    /// Every account name, sorted.
    pub fn users(&self) -> Result<Vec<Username>, StoreError> {
        self.engine()
            .scan_prefix(&key::accounts())
            .map(|entry| {
                let (k, _) = entry?;
                let name = std::str::from_utf8(&k[1..]).map_err(|e| StoreError::corrupt(&k, e))?;
                Username::parse(name).map_err(|e| StoreError::corrupt(&k, e))
            })
            .collect()
    }

    pub fn user_exists(&self, user: &Username) -> Result<bool, StoreError> {
        Ok(self.engine().get(&key::account(user))?.is_some())
    }

    /// The account's current password hash (PHC string), to notice password changes.
    pub fn password_hash(&self, user: &Username) -> Result<Option<String>, StoreError> {
        Ok(self.account(user)?.map(|r| r.password_hash))
    }

    /// True when `password` is the user's. Takes the same time for an unknown user.
    pub fn verify_password(&self, user: &Username, password: &str) -> Result<bool, StoreError> {
        match self.account(user)? {
            Some(record) => Ok(verify(&record.password_hash, password)),
            None => {
                verify(decoy_hash(), password);
                Ok(false)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(name: &str) -> Username {
        Username::parse(name).unwrap()
    }

    #[test]
    fn accounts_round_trip_and_passwords_verify() {
        let store = Store::temporary().unwrap();
        store.add_user(&user("Karen"), "s3cret").unwrap().unwrap();
        assert_eq!(
            store.add_user(&user("karen"), "x").unwrap(),
            Err(Refusal::UserExists)
        );
        assert!(store.verify_password(&user("KAREN"), "s3cret").unwrap());
        assert!(!store.verify_password(&user("karen"), "wrong").unwrap());
        assert!(!store.verify_password(&user("nobody"), "s3cret").unwrap());
        store.set_password(&user("karen"), "new").unwrap().unwrap();
        assert!(store.verify_password(&user("karen"), "new").unwrap());
        assert_eq!(store.users().unwrap(), vec![user("karen")]);
        store.remove_user(&user("karen")).unwrap().unwrap();
        assert!(store.users().unwrap().is_empty());
        assert_eq!(
            store.remove_user(&user("karen")).unwrap(),
            Err(Refusal::NoSuchUser)
        );
    }

    #[test]
    fn a_new_account_has_inbox_and_special_folders_subscribed() {
        let store = Store::temporary().unwrap();
        store.add_user(&user("demo"), "demo").unwrap().unwrap();
        let names: Vec<String> = store
            .mailboxes(&user("demo"))
            .unwrap()
            .into_iter()
            .map(|m| m.name.to_string())
            .collect();
        assert_eq!(
            names,
            ["Archive", "Drafts", "INBOX", "Junk", "Sent", "Trash"]
        );
        assert_eq!(store.subscriptions(&user("demo")).unwrap().len(), 6);
        let sent = store
            .mailbox(&user("demo"), &MailboxName::parse("Sent").unwrap())
            .unwrap()
            .unwrap();
        assert_eq!(sent.special_use, Some(SpecialUse::Sent));
    }

    #[test]
    fn the_stored_hash_is_argon2id_not_the_password() {
        let store = Store::temporary().unwrap();
        store.add_user(&user("a"), "hunter2").unwrap().unwrap();
        let record = store.account(&user("a")).unwrap().unwrap();
        assert!(record.password_hash.starts_with("$argon2id$"));
        assert!(!record.password_hash.contains("hunter2"));
    }

    #[test]
    fn an_account_written_before_the_admin_flag_opens_as_not_an_administrator() {
        #[derive(serde::Serialize)]
        struct Version1<'a> {
            password_hash: &'a str,
            created: i64,
        }
        let store = Store::temporary().unwrap();
        let hash = hash_password("old").unwrap();
        let old = crate::schema::encode(&Version1 {
            password_hash: &hash,
            created: 1_700_000_000,
        })
        .unwrap();
        store
            .write(|tx| {
                tx.put(key::account(&user("old")), old);
                Ok(Ok(()))
            })
            .unwrap()
            .unwrap();
        assert!(!store.is_admin(&user("old")).unwrap());
        assert_eq!(store.accounts().unwrap(), [(user("old"), false)]);
        assert!(store.verify_password(&user("old"), "old").unwrap());
        store.set_admin(&user("old"), true).unwrap().unwrap();
        assert!(store.is_admin(&user("old")).unwrap());
        assert!(store.verify_password(&user("old"), "old").unwrap());
        store.set_password(&user("old"), "new").unwrap().unwrap();
        assert!(
            store.is_admin(&user("old")).unwrap(),
            "a password change keeps the flag"
        );
        assert_eq!(
            store.set_admin(&user("nobody"), true).unwrap(),
            Err(Refusal::NoSuchUser)
        );
        store
            .add_account(&user("root"), "pw", true)
            .unwrap()
            .unwrap();
        assert_eq!(
            store.accounts().unwrap(),
            [(user("old"), true), (user("root"), true)]
        );
    }
}
