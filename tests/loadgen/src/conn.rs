//! A line-oriented client connection, with the IMAP and POP3 exchanges the workloads
//! need: commands with their answers read to the end (IMAP literals included), every
//! answer checked.

use anyhow::{bail, Context};
use std::net::SocketAddr;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

pub struct Conn {
    reader: BufReader<tokio::net::tcp::OwnedReadHalf>,
    writer: tokio::net::tcp::OwnedWriteHalf,
    line: String,
    tags: u32,
}

impl Conn {
    pub async fn open(addr: SocketAddr) -> anyhow::Result<Conn> {
        let stream = TcpStream::connect(addr).await.context("connect")?;
        stream.set_nodelay(true)?;
        let (read, writer) = stream.into_split();
        Ok(Conn {
            reader: BufReader::new(read),
            writer,
            line: String::new(),
            tags: 0,
        })
    }

    pub async fn read_line(&mut self) -> anyhow::Result<&str> {
        self.line.clear();
        if self.reader.read_line(&mut self.line).await? == 0 {
            bail!("connection closed");
        }
        Ok(&self.line)
    }

    pub async fn send(&mut self, bytes: &[u8]) -> anyhow::Result<()> {
        self.writer.write_all(bytes).await?;
        Ok(())
    }

    /// Reads the greeting; it must start with `prefix`.
    pub async fn greeting(&mut self, prefix: &str) -> anyhow::Result<()> {
        let greeting = self.read_line().await?;
        if !greeting.starts_with(prefix) {
            bail!("greeting: {greeting}");
        }
        Ok(())
    }

    /// Sends a POP3 command and checks that the answer starts with `+OK`.
    pub async fn pop3(&mut self, command: &str) -> anyhow::Result<String> {
        self.send(format!("{command}\r\n").as_bytes()).await?;
        let answer = self.read_line().await?.to_owned();
        if !answer.starts_with("+OK") {
            bail!("{command}: {answer}");
        }
        Ok(answer)
    }

    /// Reads a POP3 multi-line answer's body up to the final `.`; returns its bytes.
    pub async fn pop3_body(&mut self) -> anyhow::Result<u64> {
        let mut bytes = 0;
        loop {
            let line = self.read_line().await?;
            if line == ".\r\n" {
                return Ok(bytes);
            }
            bytes += line.len() as u64;
        }
    }

    fn next_tag(&mut self) -> String {
        self.tags += 1;
        format!("t{}", self.tags)
    }

    /// Sends an IMAP command and reads its answer to the tagged line, which must be OK;
    /// returns the untagged lines (literals skipped).
    pub async fn imap(&mut self, command: &str) -> anyhow::Result<Vec<String>> {
        let tag = self.next_tag();
        self.send(format!("{tag} {command}\r\n").as_bytes()).await?;
        self.imap_answer(&tag, command).await
    }

    /// APPENDs `message` to `mailbox` with `flags`, with a synchronising literal.
    pub async fn imap_append(
        &mut self,
        mailbox: &str,
        flags: &str,
        message: &[u8],
    ) -> anyhow::Result<()> {
        let tag = self.next_tag();
        let command = format!("{tag} APPEND {mailbox} ({flags}) {{{}}}\r\n", message.len());
        self.send(command.as_bytes()).await?;
        let go_on = self.read_line().await?;
        if !go_on.starts_with('+') {
            bail!("APPEND: {go_on}");
        }
        self.send(message).await?;
        self.send(b"\r\n").await?;
        self.imap_answer(&tag, "APPEND").await?;
        Ok(())
    }

    async fn imap_answer(&mut self, tag: &str, command: &str) -> anyhow::Result<Vec<String>> {
        let mut untagged = Vec::new();
        loop {
            let line = self.read_line().await?.to_owned();
            if let Some(status) = line.strip_prefix(tag).and_then(|l| l.strip_prefix(' ')) {
                if !status.starts_with("OK") {
                    bail!("{command}: {line}");
                }
                return Ok(untagged);
            }
            if let Some(size) = literal_size(&line) {
                let mut literal = vec![0; size];
                self.reader.read_exact(&mut literal).await?;
            }
            untagged.push(line);
        }
    }

    /// Closes an IMAP session with LOGOUT.
    pub async fn imap_logout(&mut self) -> anyhow::Result<()> {
        self.imap("LOGOUT").await.map(|_| ())
    }
}

/// The size of the literal a line announces at its end (`{123}`), if any.
fn literal_size(line: &str) -> Option<usize> {
    let open = line.trim_end().strip_suffix('}')?.rfind('{')?;
    line.trim_end()[open + 1..line.trim_end().len() - 1]
        .parse()
        .ok()
}
