//! Logging in, the same for IMAP and POP3: the brute-force gate of the Limiter, the
//! password check (argon2, or the verified-login cache), and the per-user connection
//! count. What the protocols differ in — the words of the answer — stays with them. A
//! login the cache remembers asks the Limiter once, for the gate and the count together.

use crate::auth::Authenticator;
use crate::config::Protocol;
use crate::limiter::{
    CheckLogin, Limiter, Login, LoginFailed, LoginRemembered, Permit, RememberedRefusal, Verdict,
};
use crate::metrics::{self, LoginResult};
use actix::prelude::*;
use mailhive_store::{StoreError, Username};
use std::net::IpAddr;
use std::sync::Arc;

/// Logged in: the user, and the permit that counts the session against
/// MaxConnectionsPerUser.
pub type LoggedIn = (Username, Permit);

/// Why a login attempt did not log in.
#[derive(Debug)]
pub enum NotLoggedIn {
    /// Wrong user name or password: a failed login.
    Failed,
    /// Refused without a look at the password: too many failed logins from this
    /// address, or on this account from failing addresses. A failed login too.
    CoolingDown,
    /// The right password, but the user has MaxConnectionsPerUser sessions; not a
    /// failed login.
    TooManyLogins,
    /// The store failed.
    Unavailable(StoreError),
}

/// How `logins_total` counts a login attempt.
pub fn counted_as(attempt: &Result<LoggedIn, NotLoggedIn>) -> LoginResult {
    match attempt {
        Ok(_) => LoginResult::Ok,
        Err(NotLoggedIn::Failed | NotLoggedIn::Unavailable(_)) => LoginResult::Failed,
        Err(NotLoggedIn::CoolingDown | NotLoggedIn::TooManyLogins) => LoginResult::Refused,
    }
}

/// What a login needs from the server.
#[derive(Debug, Clone)]
pub struct Gate {
    pub limiter: Addr<Limiter>,
    pub auth: Arc<Authenticator>,
}

impl Gate {
    /// Tries to log `name` in from `ip` with `password`.
    pub async fn log_in(
        &self,
        protocol: Protocol,
        ip: IpAddr,
        name: String,
        password: String,
    ) -> Result<LoggedIn, NotLoggedIn> {
        let attempt = self.log_in_uncounted(protocol, ip, name, password).await;
        metrics::login(protocol.key(), counted_as(&attempt));
        attempt
    }

    /// [`Gate::log_in`] without counting it in the metrics: for the web console, which
    /// logs in against IMAP's failure counts and counts the attempt as `web` once it has
    /// checked the admin flag too.
    pub async fn log_in_uncounted(
        &self,
        protocol: Protocol,
        ip: IpAddr,
        name: String,
        password: String,
    ) -> Result<LoggedIn, NotLoggedIn> {
        if let Some(user) = self.auth.remembered(&name, &password) {
            return self.remembered(protocol, ip, user).await;
        }
        let user = Username::parse(&name).ok();
        let check = CheckLogin {
            protocol,
            ip,
            user: user.clone(),
        };
        let verdict = self.limiter.send(check).await.unwrap_or_else(|e| {
            tracing::error!(error = %e, "the limiter does not answer");
            Verdict::Closed(std::time::Duration::ZERO)
        });
        if let Verdict::Closed(delay) = verdict {
            // The name is as the client sent it: `?` escapes what could fake a log line.
            tracing::info!(%ip, user = ?name, "login refused: too many failed logins");
            tokio::time::sleep(delay).await;
            return Err(NotLoggedIn::CoolingDown);
        }
        match self.auth.verify(&name, password).await {
            Ok(Some(user)) => {
                let login = Login {
                    protocol,
                    user: user.clone(),
                };
                match self.limiter.send(login).await {
                    Ok(Some(permit)) => Ok((user, permit)),
                    Ok(None) => Err(NotLoggedIn::TooManyLogins),
                    Err(e) => {
                        tracing::error!(error = %e, "the limiter does not answer");
                        Err(NotLoggedIn::TooManyLogins)
                    }
                }
            }
            Ok(None) => {
                self.limiter.do_send(LoginFailed { protocol, ip, user });
                if let Verdict::Slow(delay) = verdict {
                    tokio::time::sleep(delay).await;
                }
                Err(NotLoggedIn::Failed)
            }
            Err(e) => Err(NotLoggedIn::Unavailable(e)),
        }
    }

    /// A login verified lately: one exchange with the Limiter.
    async fn remembered(
        &self,
        protocol: Protocol,
        ip: IpAddr,
        user: Username,
    ) -> Result<LoggedIn, NotLoggedIn> {
        let login = LoginRemembered {
            protocol,
            ip,
            user: user.clone(),
        };
        match self.limiter.send(login).await {
            Ok(Ok(permit)) => Ok((user, permit)),
            Ok(Err(RememberedRefusal::CoolingDown(delay))) => {
                tracing::info!(%ip, %user, "login refused: too many failed logins");
                tokio::time::sleep(delay).await;
                Err(NotLoggedIn::CoolingDown)
            }
            Ok(Err(RememberedRefusal::TooManyLogins)) => Err(NotLoggedIn::TooManyLogins),
            Err(e) => {
                tracing::error!(error = %e, "the limiter does not answer");
                Err(NotLoggedIn::TooManyLogins)
            }
        }
    }
}
