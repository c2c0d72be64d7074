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
}
