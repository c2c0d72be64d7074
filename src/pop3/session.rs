//! One actor per POP3 connection (RFC 1939 §3: AUTHORIZATION, TRANSACTION, UPDATE).
//!
//! Lines arrive through the bounded [`LineCodec`]; each becomes an [`Action`] (decided
//! synchronously from the state), and actions that need the store or the network run
//! as futures under `ctx.wait`, so commands — pipelined or not — are answered strictly
//! in order. Output goes through the connection's bounded writer. Only QUIT in the
//! TRANSACTION state enters UPDATE: a time-out, a dropped connection or a crash deletes
//! nothing.

use super::maildrop::{Maildrop, MessageRef, Unusable};
use super::transfer::{stream_message, Transfer};
use super::Pop3Context;
use crate::auth::plaintext_allowed;
use crate::config::{Protocol, Setting};
use crate::connections::{End, Seat};
use crate::limiter::Permit;
use crate::login::NotLoggedIn;
use crate::mailbox::{Change, MailboxError};
use crate::metrics;
use crate::net::codec::LineCodec;
use crate::net::connection::{self, Handover};
use crate::net::stream::Stream;
use crate::net::writer::{self, Outgoing};
use crate::shutdown::Shutdown;
use actix::prelude::*;
use bytes::Bytes;
use mailhive_protocol::line::Line;
use mailhive_protocol::pop3::command::{self, Command, ParseError};
use mailhive_protocol::pop3::response::{err, multiline, ok, Code};
use mailhive_protocol::sasl;
use mailhive_store::{FlagChange, Flags, StoreError, SystemFlags, Username};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio_util::codec::FramedRead;

/// Starts a session for a new connection (on the worker arbiter that accepted it), which
/// the Limiter admitted with `connection`.
pub fn start(stream: Stream, peer: SocketAddr, context: Arc<Pop3Context>, connection: Permit) {
    let listener = stream.tcp().local_addr().ok();
    let seat = context.connections.seat(Protocol::Pop3, peer, listener);
    Pop3Session::create(move |ctx| {
        let mut session = Pop3Session {
            context,
            peer,
            out: writer::closed(),
            handover: None,
            input: SpawnHandle::default(),
            tls: false,
            _connection: connection,
            state: State::Authorization { user: None },
            failures: 0,
            idle: None,
            seat,
        };
        session.attach(stream, ctx);
        session.context.shutdown.subscribe(ctx);
        session.seat.deliver_end(ctx);
        session
    });
}

#[derive(Debug)]
pub struct Pop3Session {
    /// Store, authenticator and settings shared by all sessions.
    context: Arc<Pop3Context>,
    peer: SocketAddr,
    /// Output, through the writer task that owns the socket's write half.
    out: Outgoing,
    /// Takes the connection back from its reader and writer, for STLS.
    handover: Option<Handover>,
    /// The stream of command lines read from the connection.
    input: SpawnHandle,
    /// The connection is TLS.
    tls: bool,
    /// This connection's place under MaxConnections and MaxConnectionsFromSingleIP.
    _connection: Permit,
    state: State,
    /// Failed logins on this connection (MaxFailedLogins).
    failures: u64,
    /// The pending idle time-out, restarted after every answer.
    idle: Option<SpawnHandle>,
    /// This session in the console's list of connections.
    seat: Seat,
}

#[derive(Debug)]
enum State {
    /// Before login; `user` is the name given by USER.
    Authorization { user: Option<String> },
    /// `AUTH PLAIN` was answered with `+ `: the next line is the client's response.
    SaslPlain,
    Transaction {
        user: Username,
        maildrop: Maildrop,
        /// This login's place under MaxConnectionsPerUser.
        login: Permit,
    },
    /// QUIT was answered, or the connection is going: input is ignored.
    Closing,
}

/// Where a login attempt got to.
enum Entry {
    /// Logged in, with the maildrop as it is now.
    In(Username, Maildrop, Permit),
    /// Logged in, but the account has no INBOX.
    NoInbox,
    NotIn(NotLoggedIn),
}

/// What a command line leads to, decided before anything is awaited.
enum Action {
    Reply(Vec<u8>),
    /// Answer, then close the connection.
    ReplyAndClose(Vec<u8>),
    Login {
        name: String,
        password: String,
    },
    /// RETR (`lines: None`) or TOP.
    Send {
        number: u32,
        message: MessageRef,
        lines: Option<u32>,
    },
    /// QUIT in TRANSACTION: commit the deletions (UPDATE state).
    Commit,
    /// STLS: answer, then start TLS.
    StartTls,
}

type Work = ResponseActFuture<Pop3Session, ()>;

impl Actor for Pop3Session {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        tracing::debug!(peer = %self.peer, "pop3 connection");
        self.restart_idle_timer(ctx);
        ctx.wait(self.reply(ok("mailhive POP3 server ready")));
    }
}

impl StreamHandler<Result<Line, std::io::Error>> for Pop3Session {
    fn handle(&mut self, item: Result<Line, std::io::Error>, ctx: &mut Context<Self>) {
        if matches!(self.state, State::Closing) {
            return;
        }
        let verb = match &item {
            Ok(Line::Complete(line)) if !matches!(self.state, State::SaslPlain) => {
                Some(metrics::pop3_verb(line))
            }
            _ => None,
        };
        let started = Instant::now();
        if let Some(verb) = verb {
            self.seat.began(verb);
        }
        let action = match item {
            Ok(Line::Complete(line)) => self.decide(&line),
            Ok(Line::TooLong) => {
                // An over-long SASL response ends the exchange like any invalid one.
                if matches!(self.state, State::SaslPlain) {
                    self.state = State::Authorization { user: None };
                }
                Action::Reply(err(None, "Command line too long"))
            }
            Err(e) => {
                tracing::debug!(error = %e, "read failed");
                ctx.stop();
                return;
            }
        };
        let work = self.perform(action, ctx);
        ctx.wait(work.map(move |(), act, ctx| {
            if let Some(verb) = verb {
                metrics::command("pop3", verb, started.elapsed());
            }
            let (user, state) = match &act.state {
                State::Transaction { user, .. } => (Some(user.as_str()), "transaction"),
                _ => (None, "authorization"),
            };
            act.seat.ended(user, state);
            act.restart_idle_timer(ctx)
        }));
    }

    fn finished(&mut self, ctx: &mut Context<Self>) {
        ctx.stop();
    }
}

impl Handler<Shutdown> for Pop3Session {
    type Result = ();

    /// Between commands (a running one, QUIT's UPDATE too, holds the actor until it
    /// ends): closes without entering UPDATE, so nothing marked with DELE is removed.
    fn handle(&mut self, _: Shutdown, ctx: &mut Context<Self>) {
        tracing::debug!(peer = %self.peer, "server shutting down");
        self.say_goodbye("Server shutting down", ctx);
    }
}

impl Handler<End> for Pop3Session {
    type Result = ();

    /// An administrator ended the session: between commands, without UPDATE.
    fn handle(&mut self, _: End, ctx: &mut Context<Self>) {
        tracing::info!(peer = %self.peer, "session ended by an administrator");
        self.say_goodbye("Session ended by the administrator", ctx);
    }
}

impl Pop3Session {
    /// `-ERR [SYS/TEMP] text` and close, without UPDATE, unless closing already.
    fn say_goodbye(&mut self, text: &str, ctx: &mut Context<Self>) {
        if matches!(self.state, State::Closing) {
            return;
        }
        ctx.wait(self.reply_and_close(err(Some(Code::SysTemp), text)));
    }

    fn setting(&self, setting: Setting) -> u64 {
        self.context.settings.borrow().get(setting).unwrap_or(0)
    }

    /// Whether USER/PASS and AUTH PLAIN may run: over TLS, or where the
    /// `plaintext_auth` policy allows them without.
    fn plaintext_allowed(&self) -> bool {
        self.tls || plaintext_allowed(self.context.plaintext_auth, &self.peer)
    }

    /// Reads and writes `stream` from now on.
    fn attach(&mut self, stream: Stream, ctx: &mut Context<Self>) {
        let (out, incoming, handover) = connection::open(stream, self.idle_timeout());
        self.tls = handover.tls;
        self.out = out;
        self.handover = Some(handover);
        let codec = LineCodec::new(self.context.settings.clone());
        self.input = ctx.add_stream(FramedRead::with_capacity(
            incoming.into_reader(),
            codec,
            512,
        ));
    }

    /// STLS (RFC 2595 §4): answers, stops reading — whatever the client sent after the
    /// command is dropped, never read inside TLS — then takes the connection back and
    /// makes the TLS handshake on it.
    fn start_tls(&mut self, ctx: &mut Context<Self>) -> Work {
        let Some(handover) = self.handover.take() else {
            return self.reply(err(None, "TLS is being negotiated"));
        };
        let out = std::mem::replace(&mut self.out, writer::closed());
        ctx.cancel_future(self.input);
        let tls = self.context.tls.clone();
        let timeout = Duration::from_secs(self.setting(Setting::PreAuthenticatedConnectionTimeout));
        let answer = Bytes::from(ok("Begin TLS negotiation"));
        let upgrade = async move { handover.start_tls(out, answer, &tls, timeout).await };
        Box::pin(
            upgrade
                .into_actor(self)
                .map(|stream, act, ctx| match stream {
                    Some(stream) => act.attach(stream, ctx),
                    None => {
                        act.state = State::Closing;
                        ctx.stop();
                    }
                }),
        )
    }

    /// The idle time-out of the current state; also how long the client may leave an
    /// answer unread.
    fn idle_timeout(&self) -> Duration {
        Duration::from_secs(match self.state {
            State::Transaction { .. } => self.setting(Setting::AuthenticatedConnectionTimeout),
            _ => self.setting(Setting::PreAuthenticatedConnectionTimeout),
        })
    }

    /// Closes the connection after the idle time-out of the current state, without
    /// entering UPDATE (at once, dropping it, if output was left unread all the while).
    fn restart_idle_timer(&mut self, ctx: &mut Context<Self>) {
        if let Some(handle) = self.idle.take() {
            ctx.cancel_future(handle);
        }
        let timeout = self.idle_timeout();
        self.out.set_stall_limit(timeout);
        self.idle = Some(ctx.run_later(timeout, |act, ctx| {
            tracing::debug!(peer = %act.peer, "idle time-out");
            act.state = State::Closing;
            act.out.close(None);
            ctx.stop();
        }));
    }

    fn reply(&self, bytes: Vec<u8>) -> Work {
        let out = self.out.clone();
        Box::pin(
            async move { out.send(Bytes::from(bytes)).await.is_ok() }
                .into_actor(self)
                .map(|sent, act, ctx| {
                    if !sent {
                        act.state = State::Closing;
                        ctx.stop();
                    }
                }),
        )
    }

    fn reply_and_close(&mut self, bytes: Vec<u8>) -> Work {
        self.state = State::Closing;
        Box::pin(self.reply(bytes).map(|(), _, ctx| ctx.stop()))
    }

    fn capabilities(&self) -> Vec<u8> {
        let mut caps = vec!["TOP", "UIDL", "RESP-CODES", "AUTH-RESP-CODE", "PIPELINING"];
        if matches!(self.state, State::Authorization { .. }) && !self.tls {
            caps.push("STLS");
        }
        if matches!(self.state, State::Authorization { .. }) && self.plaintext_allowed() {
            caps.extend(["USER", "SASL PLAIN"]);
        }
        caps.push("IMPLEMENTATION mailhive");
        multiline("Capability list follows", caps)
    }

    /// Turns a command line into an action, updating what needs no waiting.
    fn decide(&mut self, line: &[u8]) -> Action {
        if matches!(self.state, State::SaslPlain) {
            self.state = State::Authorization { user: None };
            return self.sasl_response(line);
        }
        let command = match command::parse(line) {
            Ok(command) => command,
            Err(ParseError::Unknown) => return Action::Reply(err(None, "unknown command")),
            Err(e) => return Action::Reply(err(None, &e.to_string())),
        };
        tracing::debug!(?command);
        if matches!(command, Command::Capa) {
            return Action::Reply(self.capabilities());
        }
        let plaintext = self.plaintext_allowed();
        let tls = self.tls;
        match &mut self.state {
            State::Authorization { user } => match command {
                Command::User(_) | Command::Pass(_) | Command::Auth { .. } if !plaintext => {
                    Action::Reply(err(
                        Some(Code::Auth),
                        "Plaintext authentication is not allowed on this connection",
                    ))
                }
                Command::User(name) => {
                    *user = Some(name);
                    Action::Reply(ok("send PASS"))
                }
                Command::Pass(password) => match user.take() {
                    Some(name) => Action::Login {
                        name,
                        password: password.0,
                    },
                    None => Action::Reply(err(None, "USER first")),
                },
                Command::Auth { mechanism, .. } if mechanism != "PLAIN" => {
                    Action::Reply(err(None, "unsupported authentication mechanism"))
                }
                Command::Auth {
                    initial: Some(response),
                    ..
                } => self.sasl_response(response.as_bytes()),
                Command::Auth { initial: None, .. } => {
                    self.state = State::SaslPlain;
                    Action::Reply(b"+ \r\n".to_vec())
                }
                Command::Stls if tls => Action::Reply(err(None, "TLS is active already")),
                Command::Stls => Action::StartTls,
                Command::Quit => Action::ReplyAndClose(ok("mailhive POP3 server signing off")),
                _ => Action::Reply(err(None, "command not valid before login")),
            },
            State::Transaction { maildrop, .. } => transaction(maildrop, command),
            State::SaslPlain | State::Closing => {
                Action::Reply(err(None, "command not valid in this state"))
            }
        }
    }

    fn sasl_response(&mut self, line: &[u8]) -> Action {
        if line == b"*" {
            return Action::Reply(err(None, "authentication cancelled"));
        }
        match sasl::decode_plain(line) {
            Ok(c) if c.authorize_as.is_empty() || c.authorize_as.eq_ignore_ascii_case(&c.user) => {
                Action::Login {
                    name: c.user,
                    password: c.password,
                }
            }
            Ok(_) => Action::Reply(err(
                Some(Code::Auth),
                "acting as another user is not allowed",
            )),
            Err(e) => Action::Reply(err(None, &e.to_string())),
        }
    }

    fn perform(&mut self, action: Action, ctx: &mut Context<Self>) -> Work {
        match action {
            Action::Reply(bytes) => self.reply(bytes),
            Action::ReplyAndClose(bytes) => self.reply_and_close(bytes),
            Action::Login { name, password } => self.login(name, password),
            Action::Send {
                number,
                message,
                lines,
            } => self.send_message(number, message, lines),
            Action::Commit => self.commit(),
            Action::StartTls => self.start_tls(ctx),
        }
    }

    fn login(&mut self, name: String, password: String) -> Work {
        let gate = self.context.gate.clone();
        let store = self.context.registry.store().clone();
        let ip = self.peer.ip();
        let attempt = async move {
            let (user, permit) = match gate.log_in(Protocol::Pop3, ip, name, password).await {
                Ok(logged_in) => logged_in,
                Err(why) => return Entry::NotIn(why),
            };
            let lookup = user.clone();
            let loaded = actix_rt::task::spawn_blocking(move || Maildrop::load(&store, &lookup))
                .await
                .map_err(|e| StoreError::Encode(format!("maildrop load did not finish: {e}")));
            match loaded.and_then(|loaded| loaded) {
                Ok(Some(maildrop)) => Entry::In(user, maildrop, permit),
                Ok(None) => Entry::NoInbox,
                Err(e) => Entry::NotIn(NotLoggedIn::Unavailable(e)),
            }
        };
        Box::pin(
            attempt
                .into_actor(self)
                .then(|entry, act, _| act.after_login(entry)),
        )
    }

    fn after_login(&mut self, entry: Entry) -> Work {
        match entry {
            Entry::In(user, maildrop, login) => {
                let (count, octets) = maildrop.stat();
                tracing::info!(%user, peer = %self.peer, "pop3 login");
                let text = format!("{user}'s maildrop has {count} messages ({octets} octets)");
                self.state = State::Transaction {
                    user,
                    maildrop,
                    login,
                };
                self.reply(ok(&text))
            }
            Entry::NoInbox => self.reply(err(Some(Code::SysPerm), "this account has no INBOX")),
            Entry::NotIn(NotLoggedIn::TooManyLogins) => {
                self.reply(err(Some(Code::InUse), "Too many logins for this user"))
            }
            Entry::NotIn(NotLoggedIn::Failed) => {
                self.failed_login(Code::Auth, "Authentication failed")
            }
            Entry::NotIn(NotLoggedIn::CoolingDown) => {
                self.failed_login(Code::SysTemp, "Too many failed logins; try again later")
            }
            Entry::NotIn(NotLoggedIn::Unavailable(e)) => {
                tracing::error!(error = %e, "pop3 login failed on the store");
                self.reply(err(
                    Some(Code::SysTemp),
                    "temporary server failure, try again later",
                ))
            }
        }
    }

    /// Answers a failed login; the MaxFailedLogins-th closes the connection with SPEC
    /// §4's text instead of the usual one.
    fn failed_login(&mut self, code: Code, text: &str) -> Work {
        self.failures += 1;
        tracing::info!(peer = %self.peer, failures = self.failures, "pop3 login failed");
        if self.failures >= self.setting(Setting::MaxFailedLogins) {
            self.reply_and_close(err(Some(Code::Auth), "Too many failed login attempts"))
        } else {
            self.reply(err(Some(code), text))
        }
    }

    /// RETR or TOP: the message read and sent piece by piece.
    fn send_message(&mut self, number: u32, message: MessageRef, lines: Option<u32>) -> Work {
        let store = self.context.registry.store().clone();
        let out = self.out.clone();
        let transfer = stream_message(store, out, message, lines);
        Box::pin(
            transfer
                .into_actor(self)
                .then(move |outcome, act, ctx| match outcome {
                    Transfer::Sent => {
                        if lines.is_none() {
                            if let State::Transaction { maildrop, .. } = &mut act.state {
                                maildrop.mark_retrieved(number);
                            }
                        }
                        Box::pin(actix::fut::ready(())) as Work
                    }
                    Transfer::Gone => {
                        act.reply(err(None, "message was removed by another session"))
                    }
                    Transfer::Unreadable(e) => {
                        tracing::error!(error = %e, "pop3 could not read a message");
                        act.reply(err(Some(Code::SysTemp), "the message could not be read"))
                    }
                    Transfer::Broken => {
                        act.state = State::Closing;
                        ctx.stop();
                        Box::pin(actix::fut::ready(())) as Work
                    }
                }),
        )
    }

    /// QUIT in TRANSACTION: the UPDATE state. Deletions are durable before `+OK`.
    fn commit(&mut self) -> Work {
        let State::Transaction {
            user,
            maildrop,
            login,
        } = std::mem::replace(&mut self.state, State::Closing)
        else {
            return self.reply_and_close(ok("mailhive POP3 server signing off"));
        };
        let registry = self.context.registry.clone();
        let (mailbox, deleted, seen) = (
            maildrop.mailbox,
            maildrop.deleted_uids(),
            maildrop.newly_read_uids(),
        );
        // Through the INBOX's Mailbox actor, so that IMAP sessions see the expunges; a
        // session that deleted and newly read nothing has nothing to commit.
        let owner = user.clone();
        let update = async move {
            let removed = if deleted.is_empty() {
                Ok(Vec::new())
            } else {
                let expunge = Change::Expunge {
                    uids: Some(deleted),
                    only_deleted: false,
                };
                registry
                    .apply(mailbox, expunge)
                    .await?
                    .map(|done| done.expunged)
            };
            if !seen.is_empty() {
                let mark = Change::Flags {
                    user: owner,
                    uids: seen,
                    change: FlagChange::Add(Flags::new(SystemFlags::SEEN, [])),
                    unchanged_since: None,
                };
                if let Err(e) = registry.apply(mailbox, mark).await {
                    tracing::warn!(error = %e, "pop3 could not mark retrieved messages seen");
                }
            }
            Ok::<_, MailboxError>(removed)
        };
        Box::pin(update.into_actor(self).then(move |result, act, _| {
            // The login counts until UPDATE is over.
            drop(login);
            let answer = match result {
                Ok(Ok(removed)) => {
                    tracing::info!(%user, deleted = removed.len(), "pop3 update");
                    ok(&format!(
                        "mailhive POP3 server signing off ({} messages deleted)",
                        removed.len()
                    ))
                }
                Ok(Err(refusal)) => err(
                    Some(Code::SysPerm),
                    &format!("some deleted messages not removed: {refusal}"),
                ),
                Err(e) => {
                    tracing::error!(error = %e, "pop3 update failed");
                    err(Some(Code::SysTemp), "some deleted messages not removed")
                }
            };
            act.reply_and_close(answer)
        }))
    }
}

/// The TRANSACTION-state commands.
fn transaction(maildrop: &mut Maildrop, command: Command) -> Action {
    let unusable = |u: Unusable| Action::Reply(err(None, u.text()));
    match command {
        Command::Stat => {
            let (count, octets) = maildrop.stat();
            Action::Reply(ok(&format!("{count} {octets}")))
        }
        Command::List(None) => {
            let (count, octets) = maildrop.stat();
            let lines = maildrop.live().map(|(n, e)| format!("{n} {}", e.size));
            Action::Reply(multiline(
                &format!("{count} messages ({octets} octets)"),
                lines,
            ))
        }
        Command::List(Some(n)) => match maildrop.get(n) {
            Ok(e) => Action::Reply(ok(&format!("{n} {}", e.size))),
            Err(u) => unusable(u),
        },
        Command::Uidl(None) => {
            let lines: Vec<String> = maildrop
                .live()
                .map(|(n, e)| format!("{n} {}", maildrop.unique_id(e)))
                .collect();
            Action::Reply(multiline("unique-id listing follows", lines))
        }
        Command::Uidl(Some(n)) => match maildrop.get(n) {
            Ok(e) => Action::Reply(ok(&format!("{n} {}", maildrop.unique_id(e)))),
            Err(u) => unusable(u),
        },
        Command::Retr(number) => match maildrop.get(number) {
            Ok(e) => Action::Send {
                number,
                message: maildrop.reference(e),
                lines: None,
            },
            Err(u) => unusable(u),
        },
        Command::Top { message, lines } => match maildrop.get(message) {
            Ok(e) => Action::Send {
                number: message,
                message: maildrop.reference(e),
                lines: Some(lines),
            },
            Err(u) => unusable(u),
        },
        Command::Dele(n) => match maildrop.mark_deleted(n) {
            Ok(()) => Action::Reply(ok(&format!("message {n} deleted"))),
            Err(u) => unusable(u),
        },
        Command::Rset => {
            maildrop.reset();
            let (count, octets) = maildrop.stat();
            Action::Reply(ok(&format!(
                "maildrop has {count} messages ({octets} octets)"
            )))
        }
        Command::Noop => Action::Reply(ok("")),
        Command::Quit => Action::Commit,
        _ => Action::Reply(err(None, "command not valid after login")),
    }
}
