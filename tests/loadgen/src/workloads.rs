//! The timed workloads: each function is one session of a client and returns how many
//! operations it counts (sessions, commands, messages).

use crate::conn::Conn;
use anyhow::Context;
use std::net::SocketAddr;
use std::time::Instant;

/// What a client works with.
pub struct Client {
    pub addr: SocketAddr,
    pub user: String,
    pub password: String,
    /// Messages to append, CRLF line endings.
    pub messages: Vec<Vec<u8>>,
    /// A cheap per-client sequence for choosing messages.
    pub seed: u64,
    /// The accounts each LMTP message goes to.
    pub recipients: Vec<String>,
}

impl Client {
    fn next(&mut self, below: u64) -> u64 {
        self.seed ^= self.seed << 13;
        self.seed ^= self.seed >> 7;
        self.seed ^= self.seed << 17;
        self.seed % below.max(1)
    }

    async fn imap_login(&self) -> anyhow::Result<Conn> {
        let mut conn = Conn::open(self.addr).await?;
        conn.greeting("* OK").await?;
        conn.imap(&format!("LOGIN {} {}", self.user, self.password))
            .await?;
        Ok(conn)
    }

    async fn pop3_login(&self) -> anyhow::Result<Conn> {
        let mut conn = Conn::open(self.addr).await?;
        conn.greeting("+OK").await?;
        conn.pop3(&format!("USER {}", self.user)).await?;
        conn.pop3(&format!("PASS {}", self.password)).await?;
        Ok(conn)
    }

    /// LOGIN and LOGOUT: one session.
    pub async fn imap_login_session(&mut self) -> anyhow::Result<u64> {
        let mut conn = self.imap_login().await?;
        conn.imap_logout().await?;
        Ok(1)
    }

    /// USER, PASS and QUIT: one session.
    pub async fn pop3_login_session(&mut self) -> anyhow::Result<u64> {
        let mut conn = self.pop3_login().await?;
        conn.pop3("QUIT").await?;
        Ok(1)
    }

    /// A full POP3 session: STAT, UIDL, RETR of every message, QUIT.
    pub async fn pop3_session(&mut self) -> anyhow::Result<u64> {
        let mut conn = self.pop3_login().await?;
        let stat = conn.pop3("STAT").await?;
        let count: u32 = stat
            .split_whitespace()
            .nth(1)
            .context("STAT count")?
            .parse()?;
        conn.pop3("UIDL").await?;
        conn.pop3_body().await?;
        for n in 1..=count {
            conn.pop3(&format!("RETR {n}")).await?;
            conn.pop3_body().await?;
        }
        conn.pop3("QUIT").await?;
        Ok(1)
    }

    /// What a mail client does on reconnecting: LOGIN, SELECT, FETCH of every message's
    /// flags and UID, three bodies, a few body structures, a flag change, an APPEND
    /// (marked \Deleted) and the EXPUNGE that takes it away again, LOGOUT. Counts
    /// commands.
    pub async fn mixed_session(&mut self) -> anyhow::Result<u64> {
        let mut conn = self.imap_login().await?;
        let selected = conn.imap("SELECT INBOX").await?;
        let exists: u64 = selected
            .iter()
            .find_map(|l| {
                l.strip_prefix("* ")?
                    .strip_suffix(" EXISTS\r\n")?
                    .parse()
                    .ok()
            })
            .context("EXISTS")?;
        conn.imap("FETCH 1:* (FLAGS UID)").await?;
        for _ in 0..3 {
            let n = self.next(exists) + 1;
            conn.imap(&format!("FETCH {n} (BODY.PEEK[])")).await?;
        }
        conn.imap(&format!("FETCH 1:{} (BODYSTRUCTURE)", exists.min(3)))
            .await?;
        let n = self.next(exists) + 1;
        conn.imap(&format!("STORE {n} +FLAGS (\\Flagged)")).await?;
        let which = self.next(self.messages.len() as u64) as usize;
        conn.imap_append("INBOX", "\\Deleted", &self.messages[which])
            .await?;
        conn.imap("EXPUNGE").await?;
        conn.imap_logout().await?;
        Ok(11)
    }

    /// APPENDs messages until `deadline` in one session; counts the appends (each
    /// answered OK, that is on disk).
    pub async fn append_session(&mut self, deadline: Instant) -> anyhow::Result<u64> {
        let mut conn = self.imap_login().await?;
        let mut appended = 0;
        while Instant::now() < deadline {
            let message = &self.messages[appended as usize % self.messages.len()];
            conn.imap_append("INBOX", "", message).await?;
            appended += 1;
        }
        conn.imap_logout().await?;
        Ok(appended)
    }

    /// LMTP deliveries until `deadline` in one session: MAIL, one RCPT per recipient and
    /// DATA pipelined, then the message; counts the messages every recipient's copy of
    /// which was answered 250 (that is, on disk).
    pub async fn lmtp_session(&mut self, deadline: Instant) -> anyhow::Result<u64> {
        let mut conn = Conn::open(self.addr).await?;
        conn.greeting("220").await?;
        conn.send(b"LHLO loadgen\r\n").await?;
        while !conn.read_line().await?.starts_with("250 ") {}
        let mut envelope = b"MAIL FROM:<loadgen@example.net>\r\n".to_vec();
        for rcpt in &self.recipients {
            envelope.extend_from_slice(format!("RCPT TO:<{rcpt}>\r\n").as_bytes());
        }
        envelope.extend_from_slice(b"DATA\r\n");
        let texts: Vec<Vec<u8>> = self.messages.iter().map(|m| dot_stuffed(m)).collect();
        let mut delivered = 0;
        while Instant::now() < deadline {
            conn.send(&envelope).await?;
            for _ in 0..self.recipients.len() + 1 {
                expect(conn.read_line().await?, "250")?;
            }
            expect(conn.read_line().await?, "354")?;
            conn.send(&texts[delivered as usize % texts.len()]).await?;
            for _ in &self.recipients {
                expect(conn.read_line().await?, "250")?;
            }
            delivered += 1;
        }
        conn.send(b"QUIT\r\n").await?;
        Ok(delivered)
    }
}

/// `reply` if it starts with `code`.
fn expect(reply: &str, code: &str) -> anyhow::Result<()> {
    anyhow::ensure!(reply.starts_with(code), "LMTP: {}", reply.trim_end());
    Ok(())
}

/// A CRLF message as DATA carries it: lines starting with `.` get one more, and the
/// `.` line ends it.
fn dot_stuffed(message: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(message.len() + 8);
    for line in message.split_inclusive(|&b| b == b'\n') {
        if line.first() == Some(&b'.') {
            out.push(b'.');
        }
        out.extend_from_slice(line);
    }
    if !out.ends_with(b"\r\n") {
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b".\r\n");
    out
}
