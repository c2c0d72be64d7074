//! One actor per IMAP connection (RFC 3501 §3: not authenticated, authenticated,
//! selected, logout).
//!
//! Input comes through the bounded [`CommandFramer`]; each command runs as a future
//! under `ctx.wait`, so commands — pipelined or not — are answered strictly in order,
//! and output goes through the connection's bounded writer. Changes that other sessions
//! make to the selected mailbox arrive as [`Changes`] messages from its Mailbox actor
//! and are announced by the [`View`] at the points RFC 3501 allows — at once in IDLE.

mod compress;
mod login;
pub(super) mod spooled;

use super::acl::AclCommand;
use super::commands::{spec_of, Needs, Slot};
use super::enabled::Enabled;
use super::fetch::FetchModifiers;
use super::list::ListRequest;
use super::messages::StoreRequest;
use super::search::Answer;
use super::state::State;
use super::view::View;
use super::ImapContext;
use crate::auth::plaintext_allowed;
use crate::config::{Protocol, Setting};
use crate::connections::{End, Seat};
use crate::limiter::Permit;
use crate::mailbox::{Inbox, Wake};
use crate::metrics;
use crate::net::connection::{self, Handover};
use crate::net::inflate::Inflate;
use crate::net::stream::Stream;
use crate::net::writer::{self, Outgoing, MAX_FRAME};
use crate::settings::Live;
use crate::shutdown::Shutdown;
use crate::span::InSpan;
use actix::prelude::*;
use bytes::{Bytes, BytesMut};
use mailhive_protocol::imap::command::{Command, Request};
use mailhive_protocol::imap::framer::{CommandFramer, Frame};
use mailhive_protocol::imap::parser::{self, ErrorKind};
use mailhive_protocol::imap::response::{status, Status};
use mailhive_store::{Refusal, Username};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio_util::codec::{Decoder, FramedRead};
use tokio_util::sync::CancellationToken;
use tracing::Span;

/// The command buffer's first size: it grows as a command needs, and an idle session
/// keeps only this much.
const INPUT_BUFFER: usize = 512;

/// Change reports a session may have waiting in its inbox while it is busy (a long
/// FETCH to a slow client); a Mailbox actor that finds the inbox full stops watching
/// for the session, which then ends with [`LAGGED_BYE`].
pub(super) const PUSH_QUEUE: usize = 1024;

/// What a session that fell behind its mailbox's changes is told before it closes.
const LAGGED_BYE: &[u8] =
    b"* BYE [UNAVAILABLE] The mailbox changed faster than this session could be told\r\n";

/// Numbers sessions for the Mailbox actors' watcher lists.
static NEXT_SESSION: AtomicU64 = AtomicU64::new(1);

/// Starts a session for a new connection (on the worker arbiter that accepted it), which
/// the Limiter admitted with `connection`.
pub fn start(stream: Stream, peer: SocketAddr, context: Arc<ImapContext>, connection: Permit) {
    // Keepalive probes find peers that vanished (a phone that lost its network) even
    // when the session is quietly in IDLE.
    let interval = context
        .settings
        .borrow()
        .get(Setting::IdleKeepaliveInterval);
    let keepalive = socket2::TcpKeepalive::new()
        .with_time(Duration::from_secs(interval.unwrap_or(120)))
        .with_interval(Duration::from_secs(30));
    if let Err(e) = socket2::SockRef::from(stream.tcp()).set_tcp_keepalive(&keepalive) {
        tracing::debug!(error = %e, "could not enable TCP keepalive");
    }
    let listener = stream.tcp().local_addr().ok();
    let context_seat = context.connections.seat(Protocol::Imap, peer, listener);
    ImapSession::create(move |ctx: &mut Context<ImapSession>| {
        let id = NEXT_SESSION.fetch_add(1, Ordering::Relaxed);
        let mut session = ImapSession {
            context,
            id,
            peer,
            out: writer::closed(),
            handover: None,
            input: SpawnHandle::default(),
            gone: CancellationToken::new(),
            tls: false,
            _connection: connection,
            state: State::NotAuthenticated,
            logged_in: Arc::new(AtomicBool::new(false)),
            compressed: Arc::new(AtomicBool::new(false)),
            spooling: None,
            span: tracing::info_span!("imap", session = id, peer = %peer, user = tracing::field::Empty),
            mode: Mode::Commands,
            failures: 0,
            timer: None,
            sequence_command: false,
            extensions: Enabled::default(),
            seat: context_seat,
        };
        session.attach(stream, ctx);
        session.context.shutdown.subscribe(ctx);
        session.seat.deliver_end(ctx);
        session
    });
}

/// The framer as a tokio-util decoder, with the limits of the current settings.
struct FramerCodec {
    framer: CommandFramer,
    settings: Live,
    /// Set by the session when it logs in: literals are then allowed in every command.
    logged_in: Arc<AtomicBool>,
    /// Set by the session when it answers COMPRESS: the input that follows is deflated.
    compressed: Arc<AtomicBool>,
    /// Inflates the input once it is compressed.
    inflate: Option<Inflate>,
}

/// MaxCommandSize and MaxMessageSize.
fn limits(settings: &Live) -> (usize, usize) {
    let settings = settings.borrow();
    let limit = |s| settings.get(s).unwrap_or(0) as usize;
    (
        limit(Setting::MaxCommandSize),
        limit(Setting::MaxMessageSize),
    )
}

impl FramerCodec {
    fn new(mut settings: Live, logged_in: Arc<AtomicBool>, compressed: Arc<AtomicBool>) -> Self {
        settings.mark_unchanged();
        let (line, literal) = limits(&settings);
        FramerCodec {
            framer: {
                let mut framer = CommandFramer::new(line, literal);
                framer.spool_from(crate::spool::SPOOL_FROM);
                framer
            },
            settings,
            logged_in,
            compressed,
            inflate: None,
        }
    }
}

impl Decoder for FramerCodec {
    type Item = Frame;
    type Error = std::io::Error;

    fn decode(&mut self, buf: &mut BytesMut) -> Result<Option<Frame>, Self::Error> {
        if self.settings.has_changed().unwrap_or(false) {
            self.settings.mark_unchanged();
            let (line, literal) = limits(&self.settings);
            self.framer.set_limits(line, literal);
        }
        // The session decodes the next command only after the last one ended, so a
        // login is seen by the command that follows it.
        self.framer
            .set_logged_in(self.logged_in.load(Ordering::Relaxed));
        if self.inflate.is_none() && self.compressed.load(Ordering::Relaxed) {
            // COMPRESS was the last command: what follows it is compressed.
            self.inflate = Some(Inflate::default());
        }
        match &mut self.inflate {
            Some(inflate) => inflate.next_frame(buf, |plain| self.framer.next_frame(plain)),
            None => Ok(self.framer.next_frame(buf)),
        }
    }
}

#[derive(Debug)]
pub struct ImapSession {
    pub(super) context: Arc<ImapContext>,
    /// This session's number among a mailbox's watchers.
    pub(super) id: u64,
    peer: SocketAddr,
    out: Outgoing,
    /// Takes the connection back from its reader and writer, for STARTTLS, or its
    /// writer, for COMPRESS; `None` once compression is on.
    handover: Option<Handover>,
    /// The stream of commands read from the connection.
    input: SpawnHandle,
    /// Cancelled when the client has gone: queued and running work stops.
    pub(super) gone: CancellationToken,
    /// The connection is TLS.
    tls: bool,
    /// This connection's place under MaxConnections and MaxConnectionsFromSingleIP.
    _connection: Permit,
    /// Not authenticated, authenticated (with the user) or selected (with the view).
    pub(super) state: State,
    /// Every event of this session is logged inside it: its number, address and user.
    pub(super) span: Span,
    /// Shared with the input's framer: set at login, when literals become allowed in
    /// every command.
    logged_in: Arc<AtomicBool>,
    /// Shared with the input's framer: set when COMPRESS is answered, when the input
    /// and output become compressed.
    compressed: Arc<AtomicBool>,
    /// The spool file of a large APPEND literal being received.
    spooling: Option<spooled::Spooling>,
    mode: Mode,
    /// Failed logins on this connection (MaxFailedLogins).
    failures: u64,
    /// The idle time-out, or the keepalive interval during IDLE.
    timer: Option<SpawnHandle>,
    /// The running command uses sequence numbers: expunges wait (RFC 3501 §7.4.1).
    sequence_command: bool,
    /// CONDSTORE and QRESYNC, once enabled (RFC 7162).
    pub(super) extensions: Enabled,
    /// This session in the console's list of connections.
    seat: Seat,
}

/// What the next input line is.
#[derive(Debug)]
enum Mode {
    Commands,
    /// AUTHENTICATE PLAIN was answered with `+`: the line is the client's response.
    SaslPlain {
        tag: String,
    },
    /// In IDLE: the line should be DONE.
    Idle {
        tag: String,
    },
    /// LOGOUT was answered or the connection is going: input is ignored.
    Closing,
}

/// A command's work; it ends by sending the command's tagged answer.
pub type Work = ResponseActFuture<ImapSession, ()>;

impl Actor for ImapSession {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        let _entered = self.span.clone().entered();
        tracing::debug!("imap connection");
        self.restart_timer(ctx);
        let greeting = format!(
            "* OK [CAPABILITY {}] mailhive IMAP4rev1 server ready\r\n",
            self.capabilities()
        );
        ctx.wait(self.send(greeting.into_bytes()));
    }

    fn stopped(&mut self, _: &mut Context<Self>) {
        self.deselect();
    }
}

impl StreamHandler<Result<Frame, std::io::Error>> for ImapSession {
    fn handle(&mut self, item: Result<Frame, std::io::Error>, ctx: &mut Context<Self>) {
        if matches!(self.mode, Mode::Closing) {
            return;
        }
        let _entered = self.span.clone().entered();
        if !matches!(
            item,
            Ok(Frame::SpoolStart | Frame::Spooled(_) | Frame::SpooledCommand(_))
        ) {
            // A command that was refused or cut short drops (removes) its spool file.
            self.spooling = None;
        }
        let work = match item {
            Ok(Frame::SpoolStart) => {
                self.spool_start();
                self.restart_timer(ctx);
                return;
            }
            Ok(Frame::Spooled(piece)) => {
                self.spool_piece(&piece);
                self.restart_timer(ctx);
                return;
            }
            Ok(Frame::SpooledCommand(input)) => {
                let work = self.input(input, ctx);
                // Only an APPEND takes the files; anything else leaves them to be removed.
                self.spooling = None;
                work
            }
            Ok(Frame::Command(input)) => self.input(input, ctx),
            Ok(Frame::Continue) => self.send(b"+ Ready for literal\r\n".to_vec()),
            Ok(Frame::TooLong { tag }) => {
                let tag = self.end_sasl().or(tag);
                self.send(status(
                    tag.as_deref(),
                    Status::Bad,
                    Some("TOOBIG"),
                    "Command line too long",
                ))
            }
            Ok(Frame::TooBig { tag }) => self.send(status(
                tag.as_deref(),
                Status::No,
                Some("TOOBIG"),
                "Message too large",
            )),
            Ok(Frame::NotLoggedIn { tag }) => self.send(status(
                tag.as_deref(),
                Status::Bad,
                None,
                "Log in first (no literal is accepted in this command before login)",
            )),
            // Compressed input that does not inflate: the stream cannot be resumed.
            Err(e) if e.kind() == std::io::ErrorKind::InvalidData => {
                tracing::debug!(error = %e, "invalid input");
                self.close(b"* BYE [PARSE] Invalid compressed input\r\n".to_vec())
            }
            Err(e) => {
                tracing::debug!(error = %e, "read failed");
                ctx.stop();
                return;
            }
        };
        let work = work.map(|(), act, ctx| act.restart_timer(ctx));
        ctx.wait(InSpan::new(self.span.clone(), work));
    }

    fn finished(&mut self, ctx: &mut Context<Self>) {
        ctx.stop();
    }
}

impl Handler<Wake> for ImapSession {
    type Result = ();

    /// In IDLE, the changes are announced as they come; between commands they are
    /// merged into what the view will announce with the next one, so that a quiet
    /// session holds one entry per message, not every change. (A running command
    /// holds the actor: the wake waits, and the changes in the inbox, until it ends.)
    fn handle(&mut self, _: Wake, ctx: &mut Context<Self>) {
        if !matches!(self.mode, Mode::Idle { .. }) {
            if let Some(view) = self.state.view_mut() {
                view.absorb();
            }
            return;
        }
        let _entered = self.span.clone().entered();
        let lines = self.announcements();
        ctx.wait(self.send_with_updates(lines, Vec::new()));
    }
}

impl Handler<Shutdown> for ImapSession {
    type Result = ();

    /// Between commands or in IDLE (a running command holds the actor until it ends):
    /// the goodbye, then the connection closes. A client that does not read holds its
    /// session only until the server's shutdown deadline.
    fn handle(&mut self, _: Shutdown, ctx: &mut Context<Self>) {
        tracing::debug!("server shutting down");
        self.say_goodbye(b"* BYE [UNAVAILABLE] Server shutting down\r\n", ctx);
    }
}

impl Handler<End> for ImapSession {
    type Result = ();

    /// An administrator ended the session: handled between commands, like a shutdown.
    fn handle(&mut self, _: End, ctx: &mut Context<Self>) {
        tracing::info!("session ended by an administrator");
        self.say_goodbye(
            b"* BYE [UNAVAILABLE] Session ended by the administrator\r\n",
            ctx,
        );
    }
}

impl ImapSession {
    /// Sends `bye` and closes, unless the session is closing already.
    fn say_goodbye(&mut self, bye: &[u8], ctx: &mut Context<Self>) {
        if matches!(self.mode, Mode::Closing) {
            return;
        }
        let _entered = self.span.clone().entered();
        ctx.wait(self.close(bye.to_vec()));
    }
}

impl ImapSession {
    pub(super) fn setting(&self, setting: Setting) -> u64 {
        self.context.settings.borrow().get(setting).unwrap_or(0)
    }

    pub(super) fn enabled(&self, setting: Setting) -> bool {
        self.context.settings.borrow().enabled(setting)
    }

    pub(super) fn store(&self) -> &Arc<mailhive_store::Store> {
        self.context.registry.store()
    }

    /// Whether LOGIN and AUTHENTICATE PLAIN may run: over TLS, or where the
    /// `plaintext_auth` policy allows them without.
    fn plaintext_allowed(&self) -> bool {
        self.tls || plaintext_allowed(self.context.plaintext_auth, &self.peer)
    }

    /// Reads and writes `stream` from now on.
    fn attach(&mut self, stream: Stream, ctx: &mut Context<Self>) {
        let (out, incoming, handover) = connection::open(stream, self.idle_timeout());
        self.gone = incoming.gone();
        self.tls = handover.tls;
        self.out = out;
        self.handover = Some(handover);
        let codec = FramerCodec::new(
            self.context.settings.clone(),
            self.logged_in.clone(),
            self.compressed.clone(),
        );
        let input = FramedRead::with_capacity(incoming.into_reader(), codec, INPUT_BUFFER);
        self.input = ctx.add_stream(input);
    }

    pub(super) fn capabilities(&self) -> String {
        let mut caps = vec!["IMAP4rev1", "SASL-IR", "LITERAL+", "ENABLE", "ID"];
        if !self.state.is_authenticated() && !self.tls {
            caps.push("STARTTLS");
        }
        if self.enabled(Setting::IdleEnabled) {
            caps.push("IDLE");
        }
        caps.extend([
            "NAMESPACE",
            "ACL",
            "RIGHTS=texk",
            "UIDPLUS",
            "MOVE",
            "UNSELECT",
            "CHILDREN",
            "SPECIAL-USE",
            "STATUS=SIZE",
        ]);
        if self.state.is_authenticated() {
            caps.extend(["CREATE-SPECIAL-USE", "LIST-EXTENDED", "LIST-STATUS"]);
            caps.extend(["MULTIAPPEND", "CATENATE"]);
            caps.extend(["CONDSTORE", "QRESYNC", "UTF8=ACCEPT"]);
            caps.extend(["ESEARCH", "SEARCHRES", "CONTEXT=SEARCH", "WITHIN"]);
            caps.extend(["SORT", "SORT=DISPLAY", "ESORT", "CONTEXT=SORT"]);
            caps.extend(["THREAD=ORDEREDSUBJECT", "THREAD=REFERENCES"]);
        }
        let mut caps: Vec<String> = caps.into_iter().map(String::from).collect();
        caps.push(format!(
            "APPENDLIMIT={}",
            self.setting(Setting::MaxMessageSize)
        ));
        if self.state.is_authenticated() {
            caps.push("COMPRESS=DEFLATE".into());
            caps.push("BINARY".into());
            caps.extend(["QUOTA", "QUOTA=RES-STORAGE", "QUOTA=RES-MESSAGE"].map(String::from));
        }
        if !self.state.is_authenticated() {
            if self.plaintext_allowed() {
                caps.push("AUTH=PLAIN".into());
            } else {
                caps.push("LOGINDISABLED".into());
            }
        }
        caps.join(" ")
    }

    /// The idle time-out of the current state; also how long the client may leave an
    /// answer unread.
    fn idle_timeout(&self) -> Duration {
        Duration::from_secs(if self.state.is_authenticated() {
            self.setting(Setting::AuthenticatedConnectionTimeout)
        } else {
            self.setting(Setting::PreAuthenticatedConnectionTimeout)
        })
    }

    /// The idle time-out of the current state, or in IDLE the keepalive interval. The
    /// time-out closes the connection without its BYE when the client has left output
    /// unread all the while.
    fn restart_timer(&mut self, ctx: &mut Context<Self>) {
        if let Some(handle) = self.timer.take() {
            ctx.cancel_future(handle);
        }
        if matches!(self.mode, Mode::Idle { .. }) {
            let every = Duration::from_secs(self.setting(Setting::IdleKeepaliveInterval));
            self.timer = Some(ctx.run_interval(every, |act, ctx| {
                ctx.wait(act.send(b"* OK Still here\r\n".to_vec()));
            }));
            return;
        }
        let timeout = self.idle_timeout();
        self.out.set_stall_limit(timeout);
        self.timer = Some(ctx.run_later(timeout, |act, ctx| {
            tracing::debug!("idle time-out");
            act.mode = Mode::Closing;
            let bye = Bytes::from_static(b"* BYE Autologout; idle for too long\r\n");
            act.out.close(Some(bye));
            ctx.stop();
        }));
    }

    /// Sends `bytes` in frames the writer accepts; a failed send ends the session.
    pub(super) fn send(&self, bytes: Vec<u8>) -> Work {
        let out = self.out.clone();
        Box::pin(send_all(out, bytes).into_actor(self).map(|sent, act, ctx| {
            if !sent {
                act.mode = Mode::Closing;
                ctx.stop();
            }
        }))
    }

    pub(super) fn outgoing(&self) -> Outgoing {
        self.out.clone()
    }

    /// Sends `bytes`, then closes the connection.
    fn close(&mut self, bytes: Vec<u8>) -> Work {
        self.mode = Mode::Closing;
        Box::pin(self.send(bytes).map(|(), _, ctx| ctx.stop()))
    }

    /// The untagged announcements due now, then the tagged answer.
    pub(super) fn finish(
        &mut self,
        tag: &str,
        result: Status,
        code: Option<&str>,
        text: &str,
    ) -> Work {
        self.respond_with(Vec::new(), tag, result, code, text)
    }

    /// `lines` (the command's own untagged answer), the announcements due now, then
    /// the tagged answer.
    pub(super) fn respond_with(
        &mut self,
        mut lines: Vec<u8>,
        tag: &str,
        result: Status,
        code: Option<&str>,
        text: &str,
    ) -> Work {
        if self.state.view().is_some_and(View::lagged) {
            // The mailbox changed faster than this session let itself be told: it
            // cannot be kept in step, so it ends rather than queue without bound.
            lines.extend(status(Some(tag), result, code, text));
            lines.extend_from_slice(LAGGED_BYE);
            return self.close(lines);
        }
        lines.extend(self.announcements());
        self.send_with_updates(lines, status(Some(tag), result, code, text))
    }

    /// `lines`, the announcements due now, then `TAG OK text`.
    pub(super) fn ok_with(&mut self, lines: Vec<u8>, tag: &str, text: &str) -> Work {
        self.respond_with(lines, tag, Status::Ok, None, text)
    }

    pub(super) fn ok(&mut self, tag: &str, text: &str) -> Work {
        self.finish(tag, Status::Ok, None, text)
    }

    pub(super) fn no(&mut self, tag: &str, code: Option<&str>, text: &str) -> Work {
        self.finish(tag, Status::No, code, text)
    }

    pub(super) fn bad(&mut self, tag: &str, text: &str) -> Work {
        self.finish(tag, Status::Bad, None, text)
    }

    /// The tagged answer to a store refusal.
    pub(super) fn refused(&mut self, tag: &str, refusal: &Refusal) -> Work {
        let code = match refusal {
            Refusal::NoSuchMailbox | Refusal::NoSuchUser => "NONEXISTENT",
            Refusal::MailboxExists => "ALREADYEXISTS",
            Refusal::HasChildren => "INUSE",
            Refusal::TooManyKeywords { .. } | Refusal::UidsExhausted => "LIMIT",
            Refusal::OverQuota => "OVERQUOTA",
            Refusal::CannotDeleteInbox
            | Refusal::RenameIntoItself
            | Refusal::InvalidName(_)
            | Refusal::UserExists => "CANNOT",
        };
        let text = refusal.to_string();
        self.no(tag, Some(code), &text)
    }

    /// The tagged answer to a failure of the store.
    pub(super) fn failed(&mut self, tag: &str, error: &dyn std::fmt::Display) -> Work {
        tracing::error!(error = %error, "imap command failed");
        self.no(
            tag,
            Some("SERVERBUG"),
            "Internal error; the change was not made",
        )
    }

    /// Untagged lines for changes made elsewhere, as far as the running command allows.
    pub(super) fn announcements(&mut self) -> Vec<u8> {
        let expunges_allowed = !self.sequence_command;
        let enabled = self.extensions;
        self.state
            .view_mut()
            .map(|view| view.announce(expunges_allowed, enabled))
            .unwrap_or_default()
    }

    fn input(&mut self, input: Bytes, ctx: &mut Context<Self>) -> Work {
        match std::mem::replace(&mut self.mode, Mode::Commands) {
            Mode::SaslPlain { tag } => {
                let line = input.strip_suffix(b"\n").unwrap_or(&input);
                let line = line.strip_suffix(b"\r").unwrap_or(line);
                self.sasl_response(&tag, line)
            }
            Mode::Idle { tag } => {
                let done = input.trim_ascii().eq_ignore_ascii_case(b"DONE");
                self.restart_timer(ctx);
                if done {
                    self.sequence_command = false;
                    self.ok(&tag, "IDLE terminated")
                } else {
                    self.bad(&tag, "Expected DONE")
                }
            }
            Mode::Closing => {
                self.mode = Mode::Closing;
                Box::pin(actix::fut::ready(()))
            }
            Mode::Commands if crate::testing::panic_command() && is_xpanic(&input) => {
                panic!("XPANIC: a handler panic injected by a test")
            }
            Mode::Commands => match parser::parse_with(&input, self.names()) {
                Ok(request) => {
                    let (verb, started) = (metrics::imap_verb(&input), Instant::now());
                    self.seat.began(verb);
                    let work = self.dispatch(request, ctx);
                    Box::pin(work.map(move |(), act, _| {
                        metrics::command("imap", verb, started.elapsed());
                        let state = match act.mode {
                            Mode::Idle { .. } => "idle",
                            _ => act.state.name(),
                        };
                        act.seat.ended(act.state.user().map(|u| u.as_str()), state);
                    }))
                }
                Err(e) => {
                    self.sequence_command = false;
                    let (result, code) = match e.kind {
                        ErrorKind::Syntax => (Status::Bad, None),
                        ErrorKind::InvalidMailboxName => (Status::No, Some("CANNOT")),
                    };
                    let answer = status(e.tag.as_deref(), result, code, &e.reason);
                    self.send(answer)
                }
            },
        }
    }

    /// Checks the state a command needs (see [`super::commands`]) and runs it with
    /// what that state holds.
    fn dispatch(&mut self, request: Request, ctx: &mut Context<Self>) -> Work {
        let Request { tag, command } = request;
        tracing::debug!(%tag, ?command);
        let spec = spec_of(&command);
        self.sequence_command = spec.uses_sequence_numbers;
        let user = match (spec.needs, self.state.user()) {
            (Needs::Any, _) | (Needs::NotAuthenticated, None) => {
                return self.run_without_login(tag, command, ctx)
            }
            (Needs::NotAuthenticated, Some(_)) => return self.bad(&tag, "Already logged in"),
            (Needs::Authenticated | Needs::Selected, None) => {
                return self.bad(&tag, "Log in first")
            }
            (Needs::Selected, Some(_)) if self.state.view().is_none() => {
                return self.bad(&tag, "No mailbox selected")
            }
            (Needs::Authenticated | Needs::Selected, Some(user)) => user.clone(),
        };
        let command = self.with_saved_result(command);
        let me = ctx.address();
        match spec.slot {
            Slot::Held(kind) => self.with_slot(kind, user.clone(), tag, move |act, tag| {
                act.run_logged_in(user, tag, command, me)
            }),
            Slot::None | Slot::Shared(_) => self.run_logged_in(user, tag, command, me),
        }
    }

    /// The commands of any state, and those of the not-authenticated state.
    fn run_without_login(
        &mut self,
        tag: String,
        command: Command,
        ctx: &mut Context<Self>,
    ) -> Work {
        match command {
            Command::Capability => {
                let line = format!("* CAPABILITY {}\r\n", self.capabilities());
                self.ok_with(line.into_bytes(), &tag, "CAPABILITY completed")
            }
            Command::Noop => self.ok(&tag, "NOOP completed"),
            Command::Logout => {
                let mut out = b"* BYE mailhive IMAP4rev1 server logging out\r\n".to_vec();
                out.extend(status(Some(&tag), Status::Ok, None, "LOGOUT completed"));
                self.close(out)
            }
            Command::Id(_) => {
                let line = format!(
                    "* ID (\"name\" \"mailhive\" \"version\" \"{}\")\r\n",
                    env!("CARGO_PKG_VERSION")
                );
                self.ok_with(line.into_bytes(), &tag, "ID completed")
            }
            Command::StartTls => self.start_tls(&tag, ctx),
            Command::Login { .. } | Command::Authenticate { .. } if !self.plaintext_allowed() => {
                self.no(
                    &tag,
                    Some("PRIVACYREQUIRED"),
                    "Plaintext authentication is not allowed on this connection",
                )
            }
            Command::Login { user, password } => self.login(tag, user, password.0),
            Command::Authenticate { mechanism, initial } => {
                if mechanism != "PLAIN" {
                    return self.no(&tag, Some("CANNOT"), "Unsupported authentication mechanism");
                }
                match initial {
                    Some(response) => self.sasl_response(&tag, &response.0),
                    None => {
                        self.mode = Mode::SaslPlain { tag };
                        self.send(b"+ \r\n".to_vec())
                    }
                }
            }
            // The table sends the others to `run_logged_in`.
            _ => self.bad(&tag, "Command not valid in this state"),
        }
    }

    /// The commands of the authenticated and selected states, run for `user`; `me`
    /// receives the changes of a mailbox that SELECT opens.
    fn run_logged_in(
        &mut self,
        user: Username,
        tag: String,
        command: Command,
        me: Addr<Self>,
    ) -> Work {
        match command {
            Command::Namespace => {
                let out = b"* NAMESPACE ((\"\" \"/\")) ((\"#users/\" \"/\")) NIL\r\n".to_vec();
                self.ok_with(out, &tag, "NAMESPACE completed")
            }
            Command::Enable(capabilities) => self.enable(&tag, &capabilities),
            Command::Idle => self.idle(tag),
            Command::Select {
                mailbox,
                read_only,
                condstore,
                qresync,
            } => {
                if qresync.is_some() && !self.extensions.qresync {
                    return self.bad(&tag, "QRESYNC is not enabled (ENABLE QRESYNC first)");
                }
                self.extensions.condstore |= condstore;
                let inbox = Arc::new(Inbox::new(PUSH_QUEUE, me.recipient()));
                self.select(user, tag, mailbox, read_only, qresync, inbox)
            }
            Command::Create {
                mailbox,
                special_use,
            } => self.create_mailbox(user, tag, mailbox, special_use),
            Command::Delete(name) => self.delete_mailbox(user, tag, name),
            Command::Rename { from, to } => self.rename_mailbox(user, tag, from, to),
            Command::Subscribe(name) => self.subscribe(user, tag, name, true),
            Command::Unsubscribe(name) => self.subscribe(user, tag, name, false),
            Command::List {
                reference,
                patterns,
                options,
            } => self.list(
                user,
                tag,
                ListRequest {
                    reference,
                    patterns,
                    options,
                    lsub: false,
                },
            ),
            Command::Lsub { reference, pattern } => {
                self.list(user, tag, ListRequest::lsub(reference, pattern))
            }
            Command::Status { mailbox, items } => self.status(user, tag, mailbox, items),
            Command::SetAcl {
                mailbox,
                identifier,
                rights,
            } => self.acl(user, tag, mailbox, AclCommand::Set { identifier, rights }),
            Command::DeleteAcl {
                mailbox,
                identifier,
            } => self.acl(user, tag, mailbox, AclCommand::Delete { identifier }),
            Command::GetAcl(mailbox) => self.acl(user, tag, mailbox, AclCommand::Get),
            Command::ListRights {
                mailbox,
                identifier,
            } => self.acl(user, tag, mailbox, AclCommand::ListRights { identifier }),
            Command::MyRights(mailbox) => self.acl(user, tag, mailbox, AclCommand::MyRights),
            Command::Compress(mechanism) => self.compress(&tag, &mechanism),
            Command::GetQuota(root) => self.get_quota(user, tag, root),
            Command::GetQuotaRoot(mailbox) => self.get_quota_root(user, tag, mailbox),
            Command::SetQuota { .. } => self.set_quota(&tag),
            Command::Append { mailbox, messages } => self.append(user, tag, mailbox, messages),
            Command::Check => self.ok(&tag, "CHECK completed"),
            Command::Close => self.close_mailbox(tag, true),
            Command::Unselect => self.close_mailbox(tag, false),
            Command::Expunge { uids } => self.expunge(tag, uids),
            Command::Search {
                uid,
                charset,
                criteria,
                returns,
            } => {
                if charset.is_some() && self.extensions.utf8 {
                    // RFC 6855 §3: after ENABLE UTF8=ACCEPT every string is UTF-8.
                    return self.bad(&tag, "CHARSET is not allowed after ENABLE UTF8=ACCEPT");
                }
                let answer = returns.map_or(Answer::Search, Answer::Extended);
                self.search(user, tag, uid, charset, criteria, answer)
            }
            Command::Sort {
                uid,
                program,
                charset,
                criteria,
                returns,
            } => {
                let answer = Answer::Sort(program, returns);
                self.search(user, tag, uid, Some(charset), criteria, answer)
            }
            Command::Thread {
                uid,
                algorithm,
                charset,
                criteria,
            } => {
                let answer = Answer::Thread(algorithm);
                self.search(user, tag, uid, Some(charset), criteria, answer)
            }
            Command::CancelUpdate(tags) => self.cancel_update(tag, tags),
            Command::Fetch {
                uid,
                set,
                items,
                changed_since,
                vanished,
            } => {
                if vanished && !self.extensions.qresync {
                    return self.bad(&tag, "VANISHED needs QRESYNC enabled");
                }
                let modifiers = FetchModifiers {
                    changed_since,
                    vanished,
                };
                self.fetch(user, tag, uid, set, items, modifiers)
            }
            Command::Store {
                uid,
                set,
                mode,
                silent,
                flags,
                unchanged_since,
            } => {
                let store = StoreRequest {
                    uid,
                    set,
                    mode,
                    silent,
                    flags,
                    unchanged_since,
                };
                self.store_flags(user, tag, store)
            }
            Command::Copy { uid, set, mailbox } => {
                self.transfer(user, tag, uid, set, mailbox, false)
            }
            Command::Move { uid, set, mailbox } => {
                self.transfer(user, tag, uid, set, mailbox, true)
            }
            // The table sends these to `run_without_login`.
            Command::Capability
            | Command::Noop
            | Command::Logout
            | Command::Id(_)
            | Command::StartTls
            | Command::Login { .. }
            | Command::Authenticate { .. } => self.bad(&tag, "Command not valid in this state"),
        }
    }

    /// IDLE (RFC 2177): `+`, the announcements due, then every change as it comes
    /// until DONE.
    fn idle(&mut self, tag: String) -> Work {
        if !self.enabled(Setting::IdleEnabled) {
            return self.bad(&tag, "IDLE is not enabled on this server");
        }
        self.sequence_command = false;
        let mut out = b"+ idling\r\n".to_vec();
        out.extend(self.announcements());
        self.mode = Mode::Idle { tag };
        self.send_with_updates(out, Vec::new())
    }
}

/// `TAG XPANIC`, the command the panic test hook answers (see [`crate::testing`]).
fn is_xpanic(input: &[u8]) -> bool {
    let mut words = input.trim_ascii().split(|&b| b == b' ');
    words
        .nth(1)
        .is_some_and(|w| w.eq_ignore_ascii_case(b"XPANIC"))
}

/// Sends `bytes` in frames of at most [`MAX_FRAME`]; false if the connection is gone.
pub async fn send_all(out: Outgoing, bytes: Vec<u8>) -> bool {
    if bytes.len() <= MAX_FRAME {
        return out.send(Bytes::from(bytes)).await.is_ok();
    }
    let mut bytes = Bytes::from(bytes);
    while !bytes.is_empty() {
        let piece = bytes.split_to(bytes.len().min(MAX_FRAME));
        if out.send(piece).await.is_err() {
            return false;
        }
    }
    true
}
