//! SASL PLAIN (RFC 4616): `[authzid] NUL authcid NUL passwd`, base64-encoded on the wire.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use std::fmt;

/// Credentials from a PLAIN exchange. The password never prints.
#[derive(Clone, PartialEq, Eq)]
pub struct PlainCredentials {
    /// The identity to act as; empty or equal to `user` (no proxy authorization).
    pub authorize_as: String,
    pub user: String,
    pub password: String,
}

impl fmt::Debug for PlainCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PlainCredentials")
            .field("authorize_as", &self.authorize_as)
            .field("user", &self.user)
            .field("password", &"<redacted>")
            .finish()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SaslError {
    #[error("invalid base64")]
    Base64,
    #[error("malformed PLAIN message")]
    Malformed,
}

/// Decodes a base64 PLAIN response (`=` stands for an empty response).
pub fn decode_plain(base64_text: &[u8]) -> Result<PlainCredentials, SaslError> {
    let raw = if base64_text == b"=" {
        Vec::new()
    } else {
        STANDARD
            .decode(base64_text)
            .map_err(|_| SaslError::Base64)?
    };
    let mut parts = raw.split(|&b| b == 0);
    let (Some(authz), Some(user), Some(password), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(SaslError::Malformed);
    };
    let text = |b: &[u8]| String::from_utf8(b.to_vec()).map_err(|_| SaslError::Malformed);
    let credentials = PlainCredentials {
        authorize_as: text(authz)?,
        user: text(user)?,
        password: text(password)?,
    };
    if credentials.user.is_empty() {
        return Err(SaslError::Malformed);
    }
    Ok(credentials)
}

/// Encodes credentials as a client would (for tests and tools).
pub fn encode_plain(user: &str, password: &str) -> String {
    STANDARD.encode(format!("\0{user}\0{password}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_round_trip_and_errors() {
        let c = decode_plain(encode_plain("karen", "pw").as_bytes()).unwrap();
        assert_eq!(
            (
                c.user.as_str(),
                c.password.as_str(),
                c.authorize_as.as_str()
            ),
            ("karen", "pw", "")
        );
        assert!(!format!("{c:?}").contains("pw\""));
        assert_eq!(decode_plain(b"!!!"), Err(SaslError::Base64));
        assert_eq!(
            decode_plain(STANDARD.encode("nonul").as_bytes()),
            Err(SaslError::Malformed)
        );
        assert_eq!(
            decode_plain(STANDARD.encode("\0\0pw").as_bytes()),
            Err(SaslError::Malformed)
        );
        assert_eq!(decode_plain(b"="), Err(SaslError::Malformed));
    }
}
