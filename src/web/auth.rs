//! Who may see the console: `/login` and `/logout`, and the [`LoggedIn`] extractor
//! every page takes. A login is checked by IMAP's own login path
//! ([`crate::login::Gate`]), so its failures count towards MaxLoginFailuresFromSingleIP
//! and PerUser and a cooled-down address is refused here too; then the account must be
//! an administrator. `tls.plaintext_auth` decides whether a login may come over plain
//! HTTP, as it decides for IMAP's LOGIN.
//!
//! Cookies are HttpOnly and SameSite=Strict, and Secure over HTTPS. Every POST must
//! come from the console's own pages ([`same_origin`]: a Sec-Fetch-Site other than
//! same-origin, or without one an Origin or Referer of another site, is refused) and
//! carry the session's CSRF token in its
//! `csrf` field ([`form_allowed`]); the login form carries a token of its own, bound to
//! a cookie the login page sets. A request without an open session of a current
//! administrator is sent to the login page and gets nothing else.

use super::pages::{html, Chrome};
use super::sessions::{same, token, Admin};
use super::WebContext;
use crate::auth::plaintext_allowed;
use crate::config::Protocol;
use crate::login::{counted_as, NotLoggedIn};
use crate::metrics::{self, LoginResult};
use actix_web::cookie::{Cookie, SameSite};
use actix_web::dev::Payload;
use actix_web::error::InternalError;
use actix_web::http::header;
use actix_web::{web, FromRequest, HttpRequest, HttpResponse};
use askama::Template;
use serde::Deserialize;
use std::future::Future;
use std::pin::Pin;

/// The session cookie.
pub const SESSION_COOKIE: &str = "mailhive_session";
/// The login form's token, set by the login page.
const LOGIN_COOKIE: &str = "mailhive_login";

pub fn routes(config: &mut web::ServiceConfig) {
    config
        .route("/login", web::get().to(login_page))
        .route("/login", web::post().to(log_in))
        .route("/logout", web::post().to(log_out));
}

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage<'a> {
    chrome: Chrome,
    /// Why the last attempt did not log in.
    error: Option<&'a str>,
    /// Whether this connection may carry a password (`tls.plaintext_auth`).
    allowed: bool,
}

/// A cookie as the console sets them: HttpOnly, SameSite=Strict, Secure over HTTPS.
fn cookie<'a>(request: &HttpRequest, name: &'a str, value: String, path: &'a str) -> Cookie<'a> {
    Cookie::build(name, value)
        .path(path)
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(request.app_config().secure())
        .finish()
}

/// Whether a password may be sent on this connection.
fn password_allowed(request: &HttpRequest, context: &WebContext) -> bool {
    request.app_config().secure()
        || request
            .peer_addr()
            .is_some_and(|peer| plaintext_allowed(context.plaintext_auth, &peer))
}

/// The login form, with a fresh token in its cookie and its `csrf` field.
fn login_form(
    request: &HttpRequest,
    context: &WebContext,
    status: actix_web::http::StatusCode,
    error: Option<&str>,
) -> HttpResponse {
    let Ok(token) = token() else {
        return HttpResponse::InternalServerError().finish();
    };
    let page = LoginPage {
        chrome: Chrome::anonymous(token.clone()),
        error,
        allowed: password_allowed(request, context),
    };
    let mut response = html(status, &page);
    let _ = response.add_cookie(&cookie(request, LOGIN_COOKIE, token, "/login"));
    response
}

async fn login_page(request: HttpRequest, context: web::Data<WebContext>) -> HttpResponse {
    login_form(&request, &context, actix_web::http::StatusCode::OK, None)
}

#[derive(Deserialize)]
struct LoginForm {
    user: String,
    password: String,
    #[serde(default)]
    csrf: String,
}

async fn log_in(
    request: HttpRequest,
    context: web::Data<WebContext>,
    form: web::Form<LoginForm>,
) -> HttpResponse {
    use actix_web::http::StatusCode;
    let expected = request.cookie(LOGIN_COOKIE);
    if !same_origin(&request)
        || !expected.is_some_and(|c| !c.value().is_empty() && same(&form.csrf, c.value()))
    {
        return forbidden();
    }
    if !password_allowed(&request, &context) {
        let text = "Logging in needs HTTPS on this connection";
        return login_form(&request, &context, StatusCode::FORBIDDEN, Some(text));
    }
    let Some(peer) = request.peer_addr() else {
        return forbidden();
    };
    let LoginForm { user, password, .. } = form.into_inner();
    // Counted with IMAP's failed logins: one brute-force budget for both ways in.
    let attempt = context
        .gate
        .log_in_uncounted(Protocol::Imap, peer.ip(), user, password)
        .await;
    if attempt.is_err() {
        metrics::login("web", counted_as(&attempt));
    }
    let user = match attempt {
        Ok((user, _permit)) => user,
        Err(NotLoggedIn::CoolingDown) => {
            let text = "Too many failed logins; try again later";
            return login_form(
                &request,
                &context,
                StatusCode::TOO_MANY_REQUESTS,
                Some(text),
            );
        }
        Err(e) => {
            if let NotLoggedIn::Unavailable(e) = &e {
                tracing::error!(error = %e, "console login: the store failed");
            }
            return login_form(&request, &context, StatusCode::UNAUTHORIZED, Some(FAILED));
        }
    };
    let store = context.store().clone();
    let name = user.clone();
    let admin = matches!(
        web::block(move || store.is_admin(&name)).await,
        Ok(Ok(true))
    );
    let counted = if admin {
        LoginResult::Ok
    } else {
        LoginResult::Failed
    };
    metrics::login("web", counted);
    if !admin {
        tracing::info!(%user, "console login refused: not an administrator");
        return login_form(&request, &context, StatusCode::UNAUTHORIZED, Some(FAILED));
    }
    let Ok(admin) = context.sessions.open(user) else {
        return HttpResponse::InternalServerError().finish();
    };
    tracing::info!(user = %admin.user, "console login");
    let mut gone = cookie(&request, LOGIN_COOKIE, String::new(), "/login");
    gone.make_removal();
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, "/"))
        .cookie(cookie(&request, SESSION_COOKIE, admin.id, "/"))
        .cookie(gone)
        .finish()
}

/// What a login that did not succeed is told, whatever the reason.
const FAILED: &str = "Login failed: wrong name or password, or not an administrator";

#[derive(Deserialize)]
pub struct CsrfOnly {
    #[serde(default)]
    pub csrf: String,
}

async fn log_out(
    request: HttpRequest,
    LoggedIn(admin): LoggedIn,
    context: web::Data<WebContext>,
    form: web::Form<CsrfOnly>,
) -> HttpResponse {
    if !form_allowed(&request, &admin, &form.csrf) {
        return forbidden();
    }
    context.sessions.close(&admin.id);
    let mut gone = cookie(&request, SESSION_COOKIE, String::new(), "/");
    gone.make_removal();
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, "/login"))
        .cookie(gone)
        .finish()
}

pub fn forbidden() -> HttpResponse {
    HttpResponse::Forbidden()
        .content_type("text/plain; charset=utf-8")
        .body("Forbidden")
}

/// Whether the request comes from the console's own pages. A browser that sends
/// Sec-Fetch-Site says so itself (`same-origin`); it is the one header a page cannot
/// forge, and it is needed, since under `Referrer-Policy: no-referrer` such a browser
/// sends `Origin: null` with the console's own forms. Without it, an Origin (or, without
/// one, a Referer) must name this host.
pub fn same_origin(request: &HttpRequest) -> bool {
    let headers = request.headers();
    let text = |name| headers.get(name).and_then(|v| v.to_str().ok());
    if let Some(site) = text("sec-fetch-site") {
        return site == "same-origin";
    }
    let Some(host) = text(header::HOST.as_str()) else {
        return false;
    };
    let from = text(header::ORIGIN.as_str()).or_else(|| text(header::REFERER.as_str()));
    from.is_none_or(|from| {
        let authority = from
            .split_once("://")
            .map(|(_, rest)| rest.split('/').next().unwrap_or_default());
        authority == Some(host)
    })
}

/// Whether a POST of `admin`'s session may go ahead: from the console's own pages and
/// with the session's token.
pub fn form_allowed(request: &HttpRequest, admin: &Admin, csrf: &str) -> bool {
    let allowed = same_origin(request) && same(csrf, &admin.csrf);
    if !allowed {
        tracing::info!(user = %admin.user, "console form refused: cross-site or without its token");
    }
    allowed
}

/// A request of a logged-in administrator; anything else is sent to the login page.
#[derive(Debug)]
pub struct LoggedIn(pub Admin);

impl FromRequest for LoggedIn {
    type Error = actix_web::Error;
    type Future = Pin<Box<dyn Future<Output = Result<LoggedIn, actix_web::Error>>>>;

    fn from_request(request: &HttpRequest, _: &mut Payload) -> Self::Future {
        let context = request.app_data::<web::Data<WebContext>>().cloned();
        let cookie = request.cookie(SESSION_COOKIE);
        Box::pin(async move {
            let (Some(context), Some(cookie)) = (context, cookie) else {
                return Err(to_login());
            };
            let Some(admin) = context.sessions.find(cookie.value()) else {
                return Err(to_login());
            };
            // The flag is read at every request: `user admin NAME off` ends the access.
            let store = context.store().clone();
            let user = admin.user.clone();
            match web::block(move || store.is_admin(&user)).await {
                Ok(Ok(true)) => Ok(LoggedIn(admin)),
                _ => {
                    context.sessions.close(&admin.id);
                    Err(to_login())
                }
            }
        })
    }
}

fn to_login() -> actix_web::Error {
    let response = HttpResponse::SeeOther()
        .insert_header((header::LOCATION, "/login"))
        .finish();
    InternalError::from_response("log in first", response).into()
}
