//! The extensions a connection switches on with ENABLE (RFC 5161) or by using them:
//! CONDSTORE and QRESYNC (RFC 7162 §3.1, §3.2.3) and UTF8=ACCEPT (RFC 6855), and
//! what each changes in how the session speaks.

use super::session::{ImapSession, Work};
use mailhive_protocol::imap::mutf7::MailboxEncoding;

/// The extensions this connection has enabled (RFC 5161, RFC 7162 §3.1, §3.2.3).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Enabled {
    /// FETCH responses with FLAGS carry MODSEQ.
    pub condstore: bool,
    /// Expunges are announced as VANISHED; QRESYNC select parameters are allowed.
    pub qresync: bool,
    /// UTF8=ACCEPT (RFC 6855): mailbox names in UTF-8 both ways.
    pub utf8: bool,
}

impl Enabled {
    /// How mailbox names are written on this connection.
    pub fn names(self) -> MailboxEncoding {
        match self.utf8 {
            true => MailboxEncoding::Utf8,
            false => MailboxEncoding::ModifiedUtf7,
        }
    }
}

impl ImapSession {
    /// A CONDSTORE-enabling command (FETCH MODSEQ, CHANGEDSINCE, UNCHANGEDSINCE, SEARCH
    /// MODSEQ) switches CONDSTORE on; with a mailbox selected the client is then told
    /// its HIGHESTMODSEQ, which it did not hear at SELECT (RFC 7162 §3.1).
    pub(super) fn enable_condstore(&mut self) {
        if self.extensions.condstore {
            return;
        }
        self.extensions.condstore = true;
        if let Some(view) = self.state.view_mut() {
            view.tell_highest_modseq();
        }
    }

    /// How mailbox names are written on this connection.
    pub(super) fn names(&self) -> MailboxEncoding {
        self.extensions.names()
    }

    /// ENABLE: `* ENABLED` with the extensions this command switched on.
    pub(super) fn enable(&mut self, tag: &str, capabilities: &[String]) -> Work {
        let mut switched_on = Vec::new();
        for capability in capabilities {
            match capability.as_str() {
                "CONDSTORE" if !self.extensions.condstore => {
                    self.extensions.condstore = true;
                    switched_on.push("CONDSTORE");
                }
                "QRESYNC" if !self.extensions.qresync => {
                    // QRESYNC implies CONDSTORE (RFC 7162 §3.2.3).
                    self.extensions.qresync = true;
                    self.extensions.condstore = true;
                    switched_on.push("QRESYNC");
                }
                "UTF8=ACCEPT" if !self.extensions.utf8 => {
                    self.extensions.utf8 = true;
                    switched_on.push("UTF8=ACCEPT");
                }
                _ => {}
            }
        }
        let mut line = String::from("* ENABLED");
        for name in switched_on {
            line.push(' ');
            line.push_str(name);
        }
        line.push_str("\r\n");
        self.ok_with(line.into_bytes(), tag, "ENABLE completed")
    }
}
