//! The not-authenticated state's own commands: STARTTLS, LOGIN and AUTHENTICATE PLAIN
//! (with SASL-IR), their answers, and MaxFailedLogins.

use super::{ImapSession, Mode, Work};
use crate::config::{Protocol, Setting};
use crate::imap::state::Login;
use crate::login::{LoggedIn, NotLoggedIn};
use crate::net::writer;
use actix::prelude::*;
use bytes::Bytes;
use mailhive_protocol::imap::response::{status, Status};
use mailhive_protocol::sasl;
use std::time::Duration;

impl ImapSession {
    /// STARTTLS (RFC 3501 §6.2.1): answers, stops reading — whatever the client sent
    /// after the command is dropped, never read inside TLS — then takes the connection
    /// back and makes the TLS handshake on it.
    pub(super) fn start_tls(&mut self, tag: &str, ctx: &mut Context<Self>) -> Work {
        if self.tls {
            return self.bad(tag, "TLS is active already");
        }
        let Some(handover) = self.handover.take() else {
            return self.bad(tag, "TLS is being negotiated");
        };
        let answer = status(Some(tag), Status::Ok, None, "Begin TLS negotiation now");
        let out = std::mem::replace(&mut self.out, writer::closed());
        ctx.cancel_future(self.input);
        let tls = self.context.tls.clone();
        let timeout = Duration::from_secs(self.setting(Setting::PreAuthenticatedConnectionTimeout));
        let upgrade = async move {
            handover
                .start_tls(out, Bytes::from(answer), &tls, timeout)
                .await
        };
        Box::pin(
            upgrade
                .into_actor(self)
                .map(|stream, act, ctx| match stream {
                    Some(stream) => act.attach(stream, ctx),
                    None => {
                        act.mode = Mode::Closing;
                        ctx.stop();
                    }
                }),
        )
    }

    /// Ends a SASL exchange that waits for the client's response, if one does (its
    /// response was too long to read): the tag its answer goes to.
    pub(super) fn end_sasl(&mut self) -> Option<String> {
        match std::mem::replace(&mut self.mode, Mode::Commands) {
            Mode::SaslPlain { tag } => Some(tag),
            other => {
                self.mode = other;
                None
            }
        }
    }

    pub(super) fn sasl_response(&mut self, tag: &str, line: &[u8]) -> Work {
        if line == b"*" {
            return self.bad(tag, "Authentication cancelled");
        }
        match sasl::decode_plain(line) {
            Ok(c) if c.authorize_as.is_empty() || c.authorize_as.eq_ignore_ascii_case(&c.user) => {
                self.login(tag.to_owned(), c.user, c.password)
            }
            Ok(_) => self.no(
                tag,
                Some("AUTHORIZATIONFAILED"),
                "Acting as another user is not allowed",
            ),
            Err(e) => self.bad(tag, &e.to_string()),
        }
    }

    pub(super) fn login(&mut self, tag: String, name: String, password: String) -> Work {
        let gate = self.context.gate.clone();
        let ip = self.peer.ip();
        Box::pin(
            async move { gate.log_in(Protocol::Imap, ip, name, password).await }
                .into_actor(self)
                .then(move |outcome, act, ctx| act.after_login(&tag, outcome, ctx)),
        )
    }

    fn after_login(
        &mut self,
        tag: &str,
        outcome: Result<LoggedIn, NotLoggedIn>,
        ctx: &mut Context<Self>,
    ) -> Work {
        match outcome {
            Ok((user, permit)) => {
                self.span.record("user", tracing::field::display(&user));
                tracing::info!("imap login");
                self.state.authenticate(Login::new(user, permit));
                self.logged_in
                    .store(true, std::sync::atomic::Ordering::Relaxed);
                self.restart_timer(ctx);
                let text = format!("[CAPABILITY {}] Logged in", self.capabilities());
                self.ok(tag, &text)
            }
            Err(NotLoggedIn::TooManyLogins) => {
                self.no(tag, Some("LIMIT"), "Too many logins for this user")
            }
            Err(NotLoggedIn::Failed) => {
                self.failed_login(tag, "AUTHENTICATIONFAILED", "Authentication failed")
            }
            Err(NotLoggedIn::CoolingDown) => self.failed_login(
                tag,
                "UNAVAILABLE",
                "Too many failed logins; try again later",
            ),
            Err(NotLoggedIn::Unavailable(e)) => {
                tracing::error!(error = %e, "imap login failed on the store");
                self.no(
                    tag,
                    Some("UNAVAILABLE"),
                    "Temporary server failure, try again later",
                )
            }
        }
    }

    /// Answers a failed login; the MaxFailedLogins-th closes the connection.
    fn failed_login(&mut self, tag: &str, code: &str, text: &str) -> Work {
        self.failures += 1;
        tracing::info!(failures = self.failures, "imap login failed");
        let mut out = status(Some(tag), Status::No, Some(code), text);
        if self.failures >= self.setting(Setting::MaxFailedLogins) {
            out.extend_from_slice(b"* BYE Too many failed login attempts\r\n");
            self.close(out)
        } else {
            self.send(out)
        }
    }
}
