//! Administration over HTTP (SPEC §9): the actix-web server on `[web] listen` and
//! `tls_listen` (HTTPS with the `[tls]` certificate, the same rustls configuration as
//! IMAPS and POP3S, so a certificate reload reaches it too), with `/healthz` and
//! `/metrics` ([`probe`]), and the console: its logins ([`auth`], [`sessions`]) and
//! pages ([`pages`]). Every response carries the security headers of
//! [`security_headers`]. The server runs beside the mail listeners in `serve` and is
//! stopped by the graceful shutdown ([`Web::stop`]).

mod auth;
mod pages;
mod probe;
mod rates;
mod sessions;

use crate::admin::server::AdminState;
use crate::config::{PlaintextAuth, WebConfig};
use crate::login::Gate;
use crate::net::tls::Tls;
use actix_web::dev::ServerHandle;
use actix_web::middleware::DefaultHeaders;
use actix_web::{web, App, HttpServer};
use anyhow::Context;
use mailhive_store::Store;
use std::net::TcpListener;
use std::sync::Arc;

/// What the web pages work on.
#[derive(Debug)]
pub struct WebContext {
    /// What the admin socket works on: the console carries out its operations.
    pub admin: Arc<AdminState>,
    /// The login path of IMAP, which console logins take.
    pub gate: Gate,
    /// Where a password may come over plain HTTP.
    pub plaintext_auth: PlaintextAuth,
    /// The bearer token `/metrics` asks for, if any.
    pub metrics_token: Option<String>,
    /// The administrators logged in.
    pub sessions: sessions::Sessions,
    /// Logins per minute, for the dashboard.
    pub rates: rates::LoginRates,
}

impl WebContext {
    pub fn store(&self) -> &Arc<Store> {
        self.admin.registry.store()
    }
}

/// The running web server.
#[derive(Debug)]
pub struct Web {
    handle: ServerHandle,
}

impl Web {
    /// Stops accepting and lets the requests in progress finish (at most
    /// [`SHUTDOWN_SECONDS`]).
    pub async fn stop(self) {
        self.handle.stop(true).await;
    }
}

/// How long a stopping web server waits for its requests in progress.
const SHUTDOWN_SECONDS: u64 = 2;

/// Headers every response carries: no script or style from anywhere but mailhive
/// itself and none inline, no framing, no caching of pages that hold the server's
/// state, no content sniffing, no referrer sent to other sites.
pub fn security_headers() -> DefaultHeaders {
    DefaultHeaders::new()
        .add((
            "Content-Security-Policy",
            "default-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
        ))
        .add(("X-Frame-Options", "DENY"))
        .add(("Cache-Control", "no-store"))
        .add(("X-Content-Type-Options", "nosniff"))
        .add(("Referrer-Policy", "no-referrer"))
}

/// Binds every address of `config` and starts serving; says where it listens
/// (`HTTP listening on ADDR`, `HTTPS …`). `None` when no address is configured.
pub fn start(
    config: &WebConfig,
    tls: &Tls,
    context: Arc<WebContext>,
) -> anyhow::Result<Option<Web>> {
    if config.listen.is_empty() && config.tls_listen.is_empty() {
        return Ok(None);
    }
    let sampled = context.clone();
    actix_rt::spawn(async move {
        let mut every = tokio::time::interval(rates::SAMPLE_EVERY);
        loop {
            every.tick().await;
            sampled.rates.sample();
        }
    });
    let data = web::Data::from(context);
    let mut server = HttpServer::new(move || {
        App::new()
            .app_data(data.clone())
            .wrap(security_headers())
            .configure(probe::routes)
            .configure(auth::routes)
            .configure(pages::routes)
    })
    .workers(1)
    .disable_signals()
    .shutdown_timeout(SHUTDOWN_SECONDS);
    for addr in &config.listen {
        let listener =
            TcpListener::bind(addr).with_context(|| format!("cannot listen for HTTP on {addr}"))?;
        println!("mailhive: HTTP listening on {}", listener.local_addr()?);
        server = server.listen(listener)?;
    }
    for addr in &config.tls_listen {
        let listener = TcpListener::bind(addr)
            .with_context(|| format!("cannot listen for HTTPS on {addr}"))?;
        println!("mailhive: HTTPS listening on {}", listener.local_addr()?);
        server = server.listen_rustls_0_23(listener, tls.server_config())?;
    }
    let server = server.run();
    let handle = server.handle();
    actix_rt::spawn(async move {
        if let Err(e) = server.await {
            tracing::error!(error = %e, "the web server failed");
        }
    });
    Ok(Some(Web { handle }))
}
