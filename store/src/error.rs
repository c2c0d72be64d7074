//! Store errors in two classes: [`StoreError`] is a failure of the store itself (disk,
//! corruption) and stops the operation; [`Refusal`] is an expected answer to a request
//! that cannot be carried out as asked (no such mailbox, name taken), nested inside
//! `Ok` so that callers cannot confuse the two.

/// The store failed: the engine, the disk, or data that no longer decodes.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("storage engine: {0}")]
    Engine(#[source] Box<dyn std::error::Error + Send + Sync>),
    #[error("corrupt record under key {key}: {reason}")]
    Corrupt { key: String, reason: String },
    #[error("encoding a record: {0}")]
    Encode(String),
    #[error("password hashing: {0}")]
    PasswordHash(String),
    #[error("compression: {0}")]
    Compression(#[from] std::io::Error),
}

/// A request the store understood and declined; the state is unchanged.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("no such user")]
    NoSuchUser,
    #[error("user already exists")]
    UserExists,
    #[error("no such mailbox")]
    NoSuchMailbox,
    #[error("mailbox already exists")]
    MailboxExists,
    #[error("mailbox has children; delete them first")]
    HasChildren,
    #[error("INBOX cannot be deleted")]
    CannotDeleteInbox,
    #[error("a mailbox cannot be renamed into its own subtree")]
    RenameIntoItself,
    #[error("invalid name: {0}")]
    InvalidName(&'static str),
    #[error("too many keywords in this mailbox (at most {max})")]
    TooManyKeywords { max: usize },
    #[error("mailbox is full: no UIDs left")]
    UidsExhausted,
    /// The change would take the owner's usage over a quota limit (RFC 9208).
    #[error("Quota exceeded")]
    OverQuota,
}

/// The result of a store operation: the outer error is a failure, the inner a refusal.
pub type Outcome<T> = Result<Result<T, Refusal>, StoreError>;

impl StoreError {
    pub(crate) fn engine(e: impl std::error::Error + Send + Sync + 'static) -> Self {
        StoreError::Engine(Box::new(e))
    }

    pub(crate) fn corrupt(key: &[u8], reason: impl std::fmt::Display) -> Self {
        StoreError::Corrupt {
            key: key.escape_ascii().to_string(),
            reason: reason.to_string(),
        }
    }
}
