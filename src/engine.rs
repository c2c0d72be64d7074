//! Opens the mailstore the configuration names (`[store] engine`, SPEC §10): the one
//! place `serve` and the admin commands open it.

use crate::config::{Config, StoreEngine};
use mailhive_store::{Store, StoreError};

/// The configured store: sled in `store.path`, or the PostgreSQL database of
/// `store.postgres_url` (which other servers may have open too).
pub fn open_store(config: &Config) -> Result<Store, StoreError> {
    match &config.store_engine {
        StoreEngine::Sled => Store::open(&config.store_path),
        StoreEngine::Postgres { url } => Store::open_postgres(url),
    }
}

/// Where the store is, for messages: the directory or the database.
pub fn describe(config: &Config) -> String {
    match &config.store_engine {
        StoreEngine::Sled => config.store_path.display().to_string(),
        StoreEngine::Postgres { url } => format!("PostgreSQL database {}", redact_password(url)),
    }
}

/// `url` without the password a `postgresql://user:password@host` URL may carry.
fn redact_password(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    match rest.split_once('@') {
        Some((user, host)) if user.contains(':') => {
            let name = user.split(':').next().unwrap_or_default();
            format!("{scheme}://{name}:***@{host}")
        }
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::redact_password;

    #[test]
    fn a_password_in_the_url_is_never_shown() {
        assert_eq!(
            redact_password("postgresql://mh:s3cret@db:5432/mail"),
            "postgresql://mh:***@db:5432/mail"
        );
        assert_eq!(
            redact_password("postgresql://mh@db/mail"),
            "postgresql://mh@db/mail"
        );
    }
}
