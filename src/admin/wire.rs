//! The admin socket's wire format: each frame is a 4-byte big-endian length and a
//! postcard-encoded [`Request`] or [`Response`]. Frames are bounded by [`MAX_FRAME`].

use crate::config::{Protocol, ProtocolSettings, Setting, Source};
use crate::connections::Connection;
use crate::export::ExportedMessage;
use crate::limiter::Counts;
use crate::settings::Change;
use mailhive_store::{InternalDate, Quota, QuotaOverride, SystemFlags};
use serde::{de::DeserializeOwned, Deserialize, Serialize};
use serde_bytes::ByteBuf;
use std::io;

/// The largest frame accepted: the largest message (1 GiB, SPEC §3) and some room.
pub const MAX_FRAME: usize = (1 << 30) + (1 << 20);

/// A message being appended: its bytes, flags and internal date.
#[derive(Debug, Serialize, Deserialize)]
pub struct WireMessage {
    pub raw: ByteBuf,
    pub system_flags: Vec<String>,
    pub keywords: Vec<String>,
    pub unix_seconds: i64,
    pub offset_minutes: i16,
}

/// One message of an export page ([`crate::export::ExportedMessage`]).
#[derive(Debug, Serialize, Deserialize)]
pub struct WireExported {
    pub uid: u32,
    pub size: u32,
    pub system_flags: Vec<String>,
    pub unix_seconds: i64,
    pub offset_minutes: i16,
    pub return_path: Option<String>,
}

impl WireExported {
    pub fn new(m: &ExportedMessage) -> Self {
        WireExported {
            uid: m.uid,
            size: m.size,
            system_flags: flags_to_wire(m.flags),
            unix_seconds: m.internal_date.unix_seconds,
            offset_minutes: m.internal_date.offset_minutes,
            return_path: m.return_path.clone(),
        }
    }

    pub fn into_exported(self) -> Result<ExportedMessage, String> {
        Ok(ExportedMessage {
            uid: self.uid,
            size: self.size,
            flags: flags_from_wire(&self.system_flags)?,
            internal_date: InternalDate {
                unix_seconds: self.unix_seconds,
                offset_minutes: self.offset_minutes,
            },
            return_path: self.return_path,
        })
    }
}

/// System flags by name, as [`WireMessage`] and [`WireExported`] carry them.
pub fn flags_to_wire(flags: SystemFlags) -> Vec<String> {
    SystemFlags::ALL
        .iter()
        .filter(|(f, _)| flags.contains(*f))
        .map(|(_, name)| (*name).to_owned())
        .collect()
}

pub fn flags_from_wire(names: &[String]) -> Result<SystemFlags, String> {
    let mut flags = SystemFlags::empty();
    for name in names {
        flags.insert(
            SystemFlags::from_name(name).ok_or_else(|| format!("{name}: not a system flag"))?,
        );
    }
    Ok(flags)
}

#[derive(Debug, Serialize, Deserialize)]
pub enum Request {
    AddUser {
        user: String,
        password: String,
        admin: bool,
    },
    SetAdmin {
        user: String,
        admin: bool,
    },
    SetPassword {
        user: String,
        password: String,
    },
    RemoveUser {
        user: String,
    },
    Users,
    ImportTarget {
        user: String,
        mailbox: String,
    },
    Append {
        mailbox: u64,
        messages: Vec<WireMessage>,
        /// Leave out the messages the mailbox already holds (an import run again).
        skip_duplicates: bool,
    },
    SetAcl {
        owner: String,
        mailbox: String,
        grantee: String,
        rights: String,
    },
    Acl {
        owner: String,
        mailbox: String,
    },
    /// The running server's settings of a protocol.
    Settings {
        protocol: String,
    },
    /// Persist `set` (config keys and values) or forget `reset` (config keys).
    ChangeSettings {
        protocol: String,
        set: Vec<(String, u64)>,
        reset: Vec<String>,
    },
    Status,
    /// The open IMAP and POP3 sessions.
    Connections,
    /// End the session of this id (as [`Response::Connections`] lists it).
    EndConnection {
        id: u64,
    },
    /// Read the TLS certificate and key again.
    ReloadTls,
    /// The mailbox `export-mbox` reads.
    ExportSource {
        user: String,
        mailbox: String,
    },
    /// A page of the messages after UID `after`.
    ExportPage {
        mailbox: u64,
        after: u32,
    },
    /// A piece of one message's bytes.
    ReadMessage {
        mailbox: u64,
        uid: u32,
        offset: u32,
    },
    /// Store a delivered message (`mailhive deliver`).
    Deliver {
        user: String,
        mailbox: Option<String>,
        sender: String,
        raw: ByteBuf,
    },
    Quota {
        user: String,
    },
    /// Set the limits given (`reset`: first drop the account's own).
    ChangeQuota {
        user: String,
        change: QuotaOverride,
        reset: bool,
    },
}

#[derive(Debug, Serialize, Deserialize)]
pub enum Response {
    Done,
    /// Account names and their admin flags.
    Users(Vec<(String, bool)>),
    Mailbox(u64),
    /// How many messages were stored, and the positions of the duplicates left out.
    Appended {
        stored: u64,
        duplicates: Vec<u32>,
    },
    /// Identifiers and their rights.
    Acl(Vec<(String, String)>),
    /// Every setting of a protocol: config key, value, source name.
    Settings(Vec<(String, u64, String)>),
    /// What the Limiter counts (boxed: the largest answer by far).
    Status(Box<Counts>),
    Connections(Vec<Connection>),
    ExportSource {
        mailbox: u64,
        messages: u32,
    },
    Page(Vec<WireExported>),
    /// A piece of a message, `None` once it is gone.
    Piece(Option<ByteBuf>),
    /// Declined; the text is shown to the administrator.
    Refused(String),
    /// The server failed; the text is shown to the administrator.
    Failed(String),
    /// A delivery named an account that does not exist.
    UnknownUser(String),
    Quota(Quota),
    /// The change would take an account past its quota; the text names what.
    OverQuota(String),
}

/// A protocol named on the wire.
pub fn protocol(key: &str) -> Result<Protocol, String> {
    Protocol::from_key(key).ok_or_else(|| format!("{key:?} is not a protocol"))
}

/// Settings as [`Response::Settings`] carries them.
pub fn settings_to_wire(settings: &ProtocolSettings) -> Vec<(String, u64, String)> {
    settings
        .entries()
        .map(|(setting, value, source)| (setting.key().to_owned(), value, source.name().into()))
        .collect()
}

pub fn settings_from_wire(
    protocol: Protocol,
    entries: &[(String, u64, String)],
) -> Result<ProtocolSettings, String> {
    let mut settings = ProtocolSettings::defaults(protocol);
    for (key, value, source) in entries {
        let setting = Setting::find(key).ok_or_else(|| format!("unknown setting {key}"))?;
        let source = Source::from_name(source).ok_or_else(|| format!("unknown source {source}"))?;
        settings.put(setting, *value, source);
    }
    Ok(settings)
}

/// A change as [`Request::ChangeSettings`] carries it: values to set, keys to reset.
pub fn change_to_wire(change: &Change) -> (Vec<(String, u64)>, Vec<String>) {
    match change {
        Change::Set(values) => (
            values
                .iter()
                .map(|&(setting, value)| (setting.key().to_owned(), value))
                .collect(),
            Vec::new(),
        ),
        Change::Reset(settings) => (
            Vec::new(),
            settings.iter().map(|s| s.key().to_owned()).collect(),
        ),
    }
}

pub fn change_from_wire(set: &[(String, u64)], reset: &[String]) -> Result<Change, String> {
    let find = |key: &str| Setting::find(key).ok_or_else(|| format!("unknown setting {key}"));
    if reset.is_empty() {
        let values = set
            .iter()
            .map(|(key, value)| Ok((find(key)?, *value)))
            .collect::<Result<_, String>>()?;
        Ok(Change::Set(values))
    } else {
        Ok(Change::Reset(
            reset
                .iter()
                .map(|key| find(key))
                .collect::<Result<_, _>>()?,
        ))
    }
}

pub fn encode<T: Serialize>(value: &T) -> io::Result<Vec<u8>> {
    let body =
        postcard::to_stdvec(value).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
    if body.len() > MAX_FRAME {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "admin request too large",
        ));
    }
    let mut frame = (body.len() as u32).to_be_bytes().to_vec();
    frame.extend(body);
    Ok(frame)
}

/// The body length announced by a frame header, refused past [`MAX_FRAME`].
pub fn frame_len(header: [u8; 4]) -> io::Result<usize> {
    let len = u32::from_be_bytes(header) as usize;
    if len > MAX_FRAME {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            "admin frame too large",
        ));
    }
    Ok(len)
}

pub fn decode<T: DeserializeOwned>(body: &[u8]) -> io::Result<T> {
    postcard::from_bytes(body).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))
}
