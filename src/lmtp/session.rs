//! One actor per LMTP connection (RFC 2033 §4): LHLO, then transactions of MAIL FROM,
//! RCPT TO and DATA (or BDAT chunks), answered with one reply per accepted recipient.
//!
//! The session frames its input itself ([`Input`]), because what follows a DATA or BDAT
//! line is message data, not commands. Received bytes are taken apart event by event;
//! replies to pipelined commands (RFC 2920) are gathered and written together once the
//! input is drained, and whatever needs the store (RCPT's lookup, the delivery) runs
//! under `ctx.wait`, so replies keep the commands' order. Each recipient's
//! `250 2.0.0` is written once its copy is durable, before the next recipient's is
//! stored. A recipient whose account is full is refused at RCPT, one the message
//! would take past its quota after the data (`552 5.2.2`, SPEC §7).

use super::received::{Complete, Received};
use super::recipient::{resolve, Destination};
use super::LmtpContext;
use crate::config::Setting;
use crate::delivery::{deliver, DeliveryError};
use crate::limiter::Permit;
use crate::mailbox::blocking;
use crate::metrics::{self, DeliveryResult};
use crate::net::reader::spawn_reader;
use crate::net::writer::{self, spawn_writer, Outgoing};
use crate::shutdown::Shutdown;
use actix::prelude::*;
use bytes::{Bytes, BytesMut};
use mailhive_protocol::line::Line;
use mailhive_protocol::lmtp::command::{self, Command, ParseError};
use mailhive_protocol::lmtp::input::{Event, Input};
use mailhive_protocol::lmtp::reply::{self, reply};
use mailhive_store::Refusal;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite};

/// Recipients accepted in one transaction; RFC 5321 §4.5.3.1.8 asks for at least 100.
pub const MAX_RECIPIENTS: usize = 1000;

/// How long a client may stay silent, between commands or in the middle of its data:
/// RFC 5321 §4.5.3.2.7's server timeout of 5 minutes. The client's own timeouts
/// (§4.5.3.2.1–6: 5 minutes for a command's reply, 3 for a data block, 10 for the
/// replies after the data) bound how long it waits for us, not how long we wait for it.
const IDLE_TIMEOUT: Duration = Duration::from_secs(300);

/// Starts a session on an admitted connection (`connection`, its place under
/// `[lmtp] max_connections`), on the current arbiter.
pub fn start<S>(stream: S, peer: String, context: Arc<LmtpContext>, connection: Permit)
where
    S: AsyncRead + AsyncWrite + Unpin + 'static,
{
    LmtpSession::create(move |ctx| {
        let (read, write) = tokio::io::split(stream);
        let timeout = idle_timeout();
        let (out, _) = spawn_writer(write, timeout, Arc::new(AtomicBool::new(false)));
        let (incoming, _) = spawn_reader(read);
        ctx.add_stream(incoming.into_chunks());
        context.shutdown.subscribe(ctx);
        LmtpSession {
            context,
            peer,
            out,
            buf: BytesMut::new(),
            input: Input::default(),
            _connection: connection,
            greeted: false,
            transaction: None,
            body: None,
            pending: Vec::new(),
            idle: None,
            closing: false,
        }
    });
}

/// [`IDLE_TIMEOUT`], or what the tests set.
fn idle_timeout() -> Duration {
    crate::testing::lmtp_timeout().unwrap_or(IDLE_TIMEOUT)
}

#[derive(Debug)]
pub struct LmtpSession {
    context: Arc<LmtpContext>,
    /// The client's address, for the log.
    peer: String,
    /// Output, through the writer task that owns the socket's write half.
    out: Outgoing,
    /// Bytes received and not yet taken apart by `input`.
    buf: BytesMut,
    input: Input,
    /// This connection's place under `[lmtp] max_connections`, given back when dropped.
    _connection: Permit,
    /// LHLO was given.
    greeted: bool,
    /// From MAIL FROM to the end of the data (or RSET).
    transaction: Option<Transaction>,
    /// What the data being received belongs to.
    body: Option<Body>,
    /// Replies decided and not yet written.
    pending: Vec<u8>,
    /// The pending idle time-out, restarted after every piece of input.
    idle: Option<SpawnHandle>,
    /// QUIT was answered, or the connection is going: input is ignored.
    closing: bool,
}

/// One mail transaction.
#[derive(Debug)]
struct Transaction {
    sender: String,
    /// The accepted recipients, in RCPT order.
    recipients: Vec<Destination>,
    /// The message of the BDAT chunks so far.
    chunks: Option<Received>,
}

/// Where the data being received goes.
#[derive(Debug)]
enum Body {
    /// DATA's text: the message.
    Data(Received),
    /// A BDAT chunk added to the transaction's message.
    Chunk { size: u64, last: bool },
    /// A BDAT chunk that is read and dropped, then answered with `refusal`.
    Refused(Vec<u8>),
}

type Work = ResponseActFuture<LmtpSession, ()>;

impl Actor for LmtpSession {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        tracing::debug!(peer = %self.peer, "lmtp connection");
        self.pending = reply::greeting(&self.context.host);
        ctx.wait(self.flush());
        self.restart_idle_timer(ctx);
    }
}

impl StreamHandler<std::io::Result<Bytes>> for LmtpSession {
    fn handle(&mut self, chunk: std::io::Result<Bytes>, ctx: &mut Context<Self>) {
        match chunk {
            Ok(bytes) => {
                self.buf.extend_from_slice(&bytes);
                self.pump(ctx);
            }
            Err(e) => {
                tracing::debug!(error = %e, "read failed");
                ctx.stop();
            }
        }
    }

    fn finished(&mut self, ctx: &mut Context<Self>) {
        ctx.stop();
    }
}

impl Handler<Shutdown> for LmtpSession {
    type Result = ();

    /// Between commands (a delivery holds the actor until its replies are written): the
    /// MTA tries the transaction again later.
    fn handle(&mut self, _: Shutdown, ctx: &mut Context<Self>) {
        if !self.closing {
            self.pending
                .extend(reply(421, "4.3.2", "Server shutting down"));
            ctx.wait(self.flush_and_close());
        }
    }
}

impl LmtpSession {
    /// Takes every event out of the received bytes, answering as it goes; waits where
    /// an answer needs the store, then goes on.
    fn pump(&mut self, ctx: &mut Context<Self>) {
        while !self.closing {
            let Some(event) = self.input.next(&mut self.buf) else {
                break;
            };
            if let Some(work) = self.on_event(event) {
                let flushed = self.flush();
                ctx.wait(
                    flushed
                        .then(|(), _, _| work)
                        .map(|(), act, ctx| act.pump(ctx)),
                );
                return;
            }
        }
        if !self.pending.is_empty() {
            ctx.wait(self.flush());
        }
        if !self.closing {
            self.restart_idle_timer(ctx);
        }
    }

    /// Writes the pending replies; a connection that is gone stops the session.
    fn flush(&mut self) -> Work {
        let bytes = Bytes::from(std::mem::take(&mut self.pending));
        let out = self.out.clone();
        Box::pin(
            async move { bytes.is_empty() || out.send(bytes).await.is_ok() }
                .into_actor(self)
                .map(|sent, act, ctx| {
                    if !sent {
                        act.closing = true;
                        ctx.stop();
                    }
                }),
        )
    }

    fn flush_and_close(&mut self) -> Work {
        self.closing = true;
        Box::pin(self.flush().map(|(), act, ctx| {
            act.out = writer::closed();
            ctx.stop();
        }))
    }

    /// Closes the connection after [`idle_timeout`] without input.
    fn restart_idle_timer(&mut self, ctx: &mut Context<Self>) {
        if let Some(handle) = self.idle.take() {
            ctx.cancel_future(handle);
        }
        self.idle = Some(ctx.run_later(idle_timeout(), |act, ctx| {
            tracing::debug!(peer = %act.peer, "idle time-out");
            act.closing = true;
            act.out.close(Some(Bytes::from(reply(
                421,
                "4.4.2",
                "Idle for too long, closing connection",
            ))));
            ctx.stop();
        }));
    }

    /// Answers one event into `pending`; returns the work that must finish before the
    /// next event, if any.
    fn on_event(&mut self, event: Event) -> Option<Work> {
        match event {
            Event::Line(Line::Complete(line)) => self.on_command(&line),
            Event::Line(Line::TooLong) => {
                self.pending.extend(reply(500, "5.5.2", "Line too long"));
                None
            }
            Event::Body(piece) => {
                let spool = &self.context.spool;
                match &mut self.body {
                    Some(Body::Data(received)) => received.push(&piece, spool),
                    Some(Body::Chunk { .. }) => {
                        if let Some(received) =
                            self.transaction.as_mut().and_then(|t| t.chunks.as_mut())
                        {
                            received.push(&piece, spool);
                        }
                    }
                    Some(Body::Refused(_)) | None => {}
                }
                None
            }
            Event::BodyEnd => self.on_body_end(),
        }
    }

    fn on_command(&mut self, line: &[u8]) -> Option<Work> {
        let command = match command::parse(line) {
            Ok(command) => command,
            Err(e) => {
                let (code, status) = match e {
                    ParseError::Unknown => (500, "5.5.2"),
                    ParseError::Syntax(_) => (501, "5.5.4"),
                    ParseError::Parameter => (555, "5.5.4"),
                };
                // A BDAT line that does not parse announces no chunk to skip: RFC 3030
                // leaves the client no way on, so the connection ends.
                let verb = line.split(|&b| b == b' ').next().unwrap_or_default();
                let bdat = verb.eq_ignore_ascii_case(b"BDAT");
                self.pending.extend(reply(code, status, &e.to_string()));
                if bdat {
                    return Some(self.flush_and_close());
                }
                return None;
            }
        };
        tracing::debug!(?command);
        let max_size = self.max_size();
        let answer = match command {
            Command::Lhlo(_) => {
                self.greeted = true;
                self.transaction = None;
                reply::lhlo(&self.context.host, max_size)
            }
            Command::Quit => {
                self.pending.extend(reply(221, "2.0.0", "Bye"));
                return Some(self.flush_and_close());
            }
            Command::Noop => reply(250, "2.0.0", "Ok"),
            Command::Rset => {
                self.transaction = None;
                reply(250, "2.0.0", "Ok")
            }
            Command::Vrfy => reply(252, "2.5.2", "Cannot verify the user; send the message"),
            Command::Mail { .. } if !self.greeted => reply(503, "5.5.1", "Send LHLO first"),
            Command::Mail { .. } if self.transaction.is_some() => {
                reply(503, "5.5.1", "Nested MAIL command")
            }
            Command::Mail {
                size: Some(size), ..
            } if size > max_size => reply::too_big(),
            Command::Mail { sender, .. } => {
                self.transaction = Some(Transaction {
                    sender,
                    recipients: Vec::new(),
                    chunks: None,
                });
                reply(250, "2.1.0", "Ok")
            }
            Command::Rcpt(address) => return self.rcpt(address),
            Command::Data => match &self.transaction {
                None => reply(503, "5.5.1", "Send MAIL first"),
                Some(t) if t.chunks.is_some() => reply(503, "5.5.1", "DATA after BDAT"),
                Some(t) if t.recipients.is_empty() => reply(503, "5.5.1", "No valid recipients"),
                Some(_) => {
                    self.body = Some(Body::Data(Received::new(max_size)));
                    self.input.expect_data();
                    reply::start_data()
                }
            },
            Command::Bdat { size, last } => {
                self.input.expect_chunk(size);
                let refusal = match &mut self.transaction {
                    None => Some(reply(503, "5.5.1", "Send MAIL first")),
                    Some(t) if t.recipients.is_empty() => {
                        Some(reply(503, "5.5.1", "No valid recipients"))
                    }
                    Some(t) => {
                        t.chunks.get_or_insert_with(|| Received::new(max_size));
                        None
                    }
                };
                self.body = Some(match refusal {
                    Some(refusal) => Body::Refused(refusal),
                    None => Body::Chunk { size, last },
                });
                return None;
            }
        };
        self.pending.extend(answer);
        None
    }

    /// MaxMessageSize now: SIZE, and the limit of each message.
    fn max_size(&self) -> u64 {
        let settings = self.context.imap_settings.borrow();
        settings.get(Setting::MaxMessageSize).unwrap_or(0)
    }

    /// RCPT TO: looks the address up in the store, then answers.
    fn rcpt(&mut self, address: String) -> Option<Work> {
        let answer = match &self.transaction {
            None => Some(reply(503, "5.5.1", "Send MAIL first")),
            Some(t) if t.chunks.is_some() => Some(reply(503, "5.5.1", "RCPT after BDAT")),
            Some(t) if t.recipients.len() >= MAX_RECIPIENTS => {
                Some(reply(452, "4.5.3", "Too many recipients"))
            }
            Some(_) => None,
        };
        if let Some(answer) = answer {
            self.pending.extend(answer);
            return None;
        }
        let store = self.context.registry.store().clone();
        let context = self.context.clone();
        let lookup = blocking(move || {
            let destination = resolve(&store, &context.config, &address)?;
            let full = match &destination {
                Some(d) => store.quota(&d.owner)?.is_ok_and(|quota| quota.is_full()),
                None => false,
            };
            Ok::<_, mailhive_store::StoreError>((destination, full, address))
        });
        Some(Box::pin(lookup.into_actor(self).map(|found, act, _| {
            let answer = match found {
                Ok((Some(_), true, address)) => reply::mailbox_full(&address),
                Ok((Some(destination), false, _)) => match &mut act.transaction {
                    Some(t) => {
                        t.recipients.push(destination);
                        reply(250, "2.1.5", "Ok")
                    }
                    None => reply(503, "5.5.1", "Send MAIL first"),
                },
                Ok((None, _, address)) => reply::user_unknown(&address),
                Err(e) => {
                    tracing::error!(error = %e, "recipient lookup failed");
                    reply(451, "4.3.0", "Temporary failure, try again later")
                }
            };
            act.pending.extend(answer);
        })))
    }

    /// The end of DATA's text or of a BDAT chunk.
    fn on_body_end(&mut self) -> Option<Work> {
        match self.body.take()? {
            Body::Refused(refusal) => {
                self.pending.extend(refusal);
                None
            }
            Body::Chunk { size, last: false } => {
                let received = format!("{size} octets received");
                self.pending.extend(reply(250, "2.0.0", &received));
                None
            }
            Body::Chunk { last: true, .. } => {
                let mut transaction = self.transaction.take()?;
                let received = transaction.chunks.take()?;
                Some(self.deliver(transaction, received))
            }
            Body::Data(received) => {
                let transaction = self.transaction.take()?;
                Some(self.deliver(transaction, received))
            }
        }
    }

    /// Stores the message for every recipient in turn, writing each one's reply as soon
    /// as its copy is durable (or failed).
    fn deliver(&mut self, transaction: Transaction, received: Received) -> Work {
        let registry = self.context.registry.clone();
        let out = self.out.clone();
        let work = async move {
            let message = received.finish();
            for destination in &transaction.recipients {
                let (answer, result) = match &message {
                    Complete::TooBig => (reply::too_big(), DeliveryResult::Refused),
                    Complete::Failed(e) => {
                        tracing::error!(error = %e, "spooling a message failed");
                        let answer = reply::temporary_failure(&destination.address);
                        (answer, DeliveryResult::Failed)
                    }
                    Complete::Message(body) => {
                        match deliver(&registry, destination, &transaction.sender, body).await {
                            Ok(()) => (reply::saved(&destination.address), DeliveryResult::Ok),
                            Err(DeliveryError::Refused(Refusal::OverQuota)) => {
                                let answer = reply::mailbox_full(&destination.address);
                                (answer, DeliveryResult::Refused)
                            }
                            Err(e) => {
                                log_failure(&e, destination);
                                let answer = reply::temporary_failure(&destination.address);
                                (answer, DeliveryResult::Failed)
                            }
                        }
                    }
                };
                metrics::delivery(result);
                if out.send(Bytes::from(answer)).await.is_err() {
                    return false;
                }
            }
            true
        };
        Box::pin(work.into_actor(self).map(|sent, act, ctx| {
            if !sent {
                act.closing = true;
                ctx.stop();
            }
        }))
    }
}

fn log_failure(e: &DeliveryError, destination: &Destination) {
    tracing::error!(error = %e, recipient = %destination.address, "delivery failed");
}
