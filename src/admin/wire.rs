//! The admin socket's wire format: each frame is a 4-byte big-endian length and a
//! postcard-encoded [`Request`] or [`Response`]. Frames are bounded by [`MAX_FRAME`].

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

#[derive(Debug, Serialize, Deserialize)]
pub enum Request {
    AddUser {
        user: String,
        password: String,
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
    },
    SetAcl {
        owner: String,
        mailbox: String,
        grantee: String,
        rights: String,
    },
}

#[derive(Debug, Serialize, Deserialize)]
pub enum Response {
    Done,
    Users(Vec<String>),
    Mailbox(u64),
    Appended(u64),
    /// Declined; the text is shown to the administrator.
    Refused(String),
    /// The server failed; the text is shown to the administrator.
    Failed(String),
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
