//! Values from clients that must never reach a log: passwords and SASL responses
//! ([`Secret`]) and literal payloads such as APPEND's message ([`Payload`], printed as
//! its length only). Both are used like what they wrap; only their `Debug` differs.

use bytes::Bytes;
use std::fmt;
use std::ops::Deref;

/// A secret a client sent: compared and used, never printed.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret<T>(pub T);

impl<T> fmt::Debug for Secret<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

impl<T> Deref for Secret<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.0
    }
}

impl From<&str> for Secret<String> {
    fn from(text: &str) -> Self {
        Secret(text.to_owned())
    }
}

/// A literal's bytes: printed as their length.
#[derive(Clone, PartialEq, Eq)]
pub struct Payload(pub Bytes);

impl fmt::Debug for Payload {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "<{} bytes>", self.0.len())
    }
}

impl Deref for Payload {
    type Target = Bytes;

    fn deref(&self) -> &Bytes {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_shows_neither_secret_nor_payload() {
        assert_eq!(format!("{:?}", Secret::from("hunter2")), "<redacted>");
        let payload = Payload(Bytes::from_static(b"Subject: private"));
        assert_eq!(format!("{payload:?}"), "<16 bytes>");
    }
}
