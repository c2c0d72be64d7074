//! `mailhive serve`: opens the store, prepares the demo if asked, starts the IMAP and
//! POP3 listeners (plain and implicit TLS), the LMTP listeners and the admin socket, and
//! runs until SIGINT or SIGTERM; SIGHUP reloads the TLS certificate. Every bound address
//! is printed (`IMAP listening on ADDR`, `IMAPS listening on ADDR`, `POP3 …`, `POP3S …`,
//! `LMTP …`, `LMTP listening on socket PATH`, `HTTP …`, `HTTPS …` for the web console),
//! so a port given as 0 can be found.
//!
//! A signal to stop starts a graceful shutdown: the listeners close, every session is
//! sent [`Shutdown`](crate::shutdown::Shutdown) (it answers after its running command),
//! the process waits until the Limiter counts no open connection — at most
//! [`SHUTDOWN_GRACE`] — then flushes the store and exits. A second signal ends the
//! wait at once.

use crate::admin;
use crate::auth::Authenticator;
use crate::config::Setting;
use crate::config::{Config, Protocol, StoreEngine};
use crate::connections::Connections;
use crate::demo;
use crate::imap::{self, ImapContext};
use crate::limiter::{self, ConnectionRefusal, Limiter, Permit};
use crate::lmtp::{self, LmtpContext};
use crate::login::Gate;
use crate::mailbox::Registry;
use crate::net::listener::{accept_loop, refuse, OnConnection, Workers};
use crate::net::stream::Stream;
use crate::net::tls::Tls;
use crate::pop3::{self, Pop3Context};
use crate::settings::{Live, Published};
use crate::shutdown::ShutdownSignal;
use crate::web;
use actix::Addr;
use actix_rt::task::JoinHandle;
use anyhow::Context;
use mailhive_store::engine::ForeignChange;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

/// How long a shutdown waits for the open connections to close, so that the process
/// exits within 10 s of the signal; connections still open then (a client that does
/// not read) are dropped with the process.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(9);

pub fn run(config: &Config, demo: bool) -> anyhow::Result<()> {
    std::fs::create_dir_all(&config.store_path).with_context(|| {
        format!(
            "cannot create the data directory {}",
            config.store_path.display()
        )
    })?;
    let store = crate::engine::open_store(config).with_context(|| {
        format!(
            "cannot open the store at {} (is another server using it?)",
            crate::engine::describe(config)
        )
    })?;
    store.set_default_quota(config.quota);
    let store = Arc::new(store);
    if demo {
        let report = demo::prepare(&store)?;
        println!(
            "demo data ready: users demo/demo and karen/karen (karen's INBOX is shared with demo); \
             {} new users, {} messages imported",
            report.users_created.len(),
            report.messages_imported
        );
    }
    let socket = config.admin_socket();
    // Read before the runtime starts: store calls block, and run on no runtime thread.
    let published = Arc::new(Published::new(config, &store)?);
    let system = actix_rt::System::new();
    system.block_on(async {
        let admin_listener = admin::server::bind(&socket)
            .with_context(|| format!("cannot bind the admin socket {}", socket.display()))?;
        let workers = Arc::new(Workers::per_core());
        let limiter = Limiter::start(Protocol::ALL.map(|p| published.live(p)));
        if let StoreEngine::Postgres { .. } = config.store_engine {
            crate::limiter::shared::share_through(limiter.clone(), store.clone());
        }
        let auth = Arc::new(Authenticator::new(store.clone())?);
        let gate = Gate {
            limiter: limiter.clone(),
            auth: auth.clone(),
        };
        let registry = Registry::start(store.clone());
        let (foreign, settings, settings_store) = (registry.clone(), published.clone(), store.clone());
        let logins = auth.clone();
        store
            .watch_foreign_changes(move |change| {
                match &change {
                    ForeignChange::Account { user } => logins.forget(user),
                    ForeignChange::Unknown => logins.forget_everyone(),
                    _ => {}
                }
                if matches!(change, ForeignChange::Settings | ForeignChange::Unknown) {
                    if let Err(e) = settings.reload(&settings_store) {
                        tracing::error!(error = %e, "could not read the settings another server changed");
                    }
                }
                foreign.foreign_change(change);
            })
            .context("cannot listen for the changes of other servers")?;
        let tls = Arc::new(load_tls(config)?);
        let shutdown = ShutdownSignal::default();
        let spool = crate::spool::Spool::open(&config.store_path)
            .context("cannot open the spool directory")?;
        let imap_spool = Arc::new(spool);
        let connections = Arc::new(Connections::default());
        let imap_context = Arc::new(ImapContext {
            connections: connections.clone(),
            registry: registry.clone(),
            spool: imap_spool.clone(),
            gate: gate.clone(),
            settings: published.live(Protocol::Imap),
            plaintext_auth: config.plaintext_auth,
            tls: tls.clone(),
            searches: Default::default(),
            shutdown: shutdown.clone(),
        });
        let imap = Arc::new(Entry {
            limiter: limiter.clone(),
            protocol: Protocol::Imap,
            refusal: imap::refusal,
            settings: published.live(Protocol::Imap),
            start: Box::new(move |stream, peer, permit| {
                imap::session::start(stream, peer, imap_context.clone(), permit)
            }),
        });
        let mut accepting = listen(
            "IMAP",
            &config.imap_listen,
            &workers,
            &imap.on_connection(None),
        )
        .await?;
        let on_imaps = imap.on_connection(Some(tls.clone()));
        accepting.extend(listen("IMAPS", &config.imap_tls_listen, &workers, &on_imaps).await?);
        let pop3_context = Arc::new(Pop3Context {
            connections: connections.clone(),
            registry: registry.clone(),
            gate,
            settings: published.live(Protocol::Pop3),
            plaintext_auth: config.plaintext_auth,
            tls: tls.clone(),
            shutdown: shutdown.clone(),
        });
        let pop3 = Arc::new(Entry {
            limiter: limiter.clone(),
            protocol: Protocol::Pop3,
            refusal: pop3::refusal,
            settings: published.live(Protocol::Pop3),
            start: Box::new(move |stream, peer, permit| {
                pop3::session::start(stream, peer, pop3_context.clone(), permit)
            }),
        });
        accepting.extend(
            listen(
                "POP3",
                &config.pop3_listen,
                &workers,
                &pop3.on_connection(None),
            )
            .await?,
        );
        let on_pop3s = pop3.on_connection(Some(tls.clone()));
        accepting.extend(listen("POP3S", &config.pop3_tls_listen, &workers, &on_pop3s).await?);
        let lmtp_context = Arc::new(LmtpContext {
            registry: registry.clone(),
            spool: imap_spool,
            imap_settings: published.live(Protocol::Imap),
            config: config.lmtp.clone(),
            host: crate::net::tls::host_name().unwrap_or_else(|| "localhost".into()),
            shutdown: shutdown.clone(),
            limiter: limiter.clone(),
        });
        accepting.extend(lmtp::listener::listen(lmtp_context, &workers).await?);
        let admin_state = Arc::new(admin::server::AdminState {
            registry: registry.clone(),
            published,
            limiter: limiter.clone(),
            tls: tls.clone(),
            auth: auth.clone(),
            connections,
        });
        let web_context = Arc::new(web::WebContext {
            admin: admin_state.clone(),
            gate: Gate {
                limiter: limiter.clone(),
                auth,
            },
            plaintext_auth: config.plaintext_auth,
            metrics_token: config.web.metrics_token.clone(),
            sessions: Default::default(),
            rates: Default::default(),
        });
        let web = web::start(&config.web, &tls, web_context)?;
        println!(
            "mailhive: store {} open; admin socket {}",
            crate::engine::describe(config),
            socket.display()
        );
        println!("mailhive: serving. Stop with Ctrl-C; reload the TLS certificate with SIGHUP.");
        if demo {
            print_demo_help(config);
        }
        tracing::info!(store = %crate::engine::describe(config), "serving");
        tokio::select! {
            () = admin::server::run(admin_listener, admin_state) => {}
            reloads = reload_on_hangup(&tls) => reloads?,
            signal = shutdown_signal() => signal?,
        }
        drain(accepting, web, &shutdown, &limiter).await?;
        store.flush().context("cannot flush the store")?;
        workers.stop();
        Ok::<_, anyhow::Error>(())
    })?;
    let _ = std::fs::remove_file(&socket);
    tracing::info!("stopped");
    Ok(())
}

/// The configured certificate, or the generated one in the data directory.
fn load_tls(config: &Config) -> anyhow::Result<Tls> {
    let files = config.tls_cert.as_deref().zip(config.tls_key.as_deref());
    let tls = Tls::load(files, &config.store_path).context("cannot set up TLS")?;
    Ok(tls)
}

/// Reloads the TLS certificate at every SIGHUP; returns only if signals fail.
async fn reload_on_hangup(tls: &Tls) -> anyhow::Result<()> {
    use tokio::signal::unix::{signal, SignalKind};
    let mut hangups = signal(SignalKind::hangup())?;
    while hangups.recv().await.is_some() {
        match tls.reload() {
            Ok(()) => tracing::info!("TLS certificate reloaded"),
            Err(e) => {
                tracing::error!(error = %e, "TLS certificate not reloaded; the old one stays")
            }
        }
    }
    Ok(())
}

/// How one protocol's connections get in.
struct Entry {
    limiter: Addr<Limiter>,
    protocol: Protocol,
    /// What a refused connection is told.
    refusal: fn(ConnectionRefusal) -> &'static str,
    settings: Live,
    /// Starts a session on an admitted connection.
    start: Box<dyn Fn(Stream, SocketAddr, Permit) + Send + Sync>,
}

impl Entry {
    /// What to do with each connection of a listener: ask the Limiter to admit it, make
    /// the TLS handshake first on an implicit-TLS listener (`tls`; within
    /// PreAuthenticatedConnectionTimeout), then start its session — or tell a refused
    /// connection why (over TLS where it came with TLS) and close it.
    fn on_connection(self: &Arc<Self>, tls: Option<Arc<Tls>>) -> OnConnection {
        let entry = self.clone();
        Arc::new(move |tcp, peer| {
            let (entry, tls) = (entry.clone(), tls.clone());
            actix_rt::spawn(async move {
                let admitted = limiter::admit(&entry.limiter, entry.protocol, peer.ip()).await;
                let stream = match tls {
                    None => Stream::Plain(tcp),
                    Some(tls) => {
                        let seconds = entry
                            .settings
                            .borrow()
                            .get(Setting::PreAuthenticatedConnectionTimeout);
                        match tls
                            .accept(tcp, Duration::from_secs(seconds.unwrap_or(60)))
                            .await
                        {
                            Ok(stream) => Stream::Tls(Box::new(stream)),
                            Err(e) => {
                                tracing::debug!(%peer, error = %e, "TLS handshake failed");
                                return;
                            }
                        }
                    }
                };
                match admitted {
                    Ok(permit) => (entry.start)(stream, peer, permit),
                    Err(refused) => {
                        let protocol = entry.protocol.key();
                        tracing::info!(%peer, ?refused, protocol, "connection refused");
                        refuse(stream, (entry.refusal)(refused)).await;
                    }
                }
            });
        })
    }
}

/// The graceful part of a shutdown: closes the listeners (`accepting`, their accept
/// loops, and the web server's), tells every session, and waits until the Limiter
/// counts no connection, at most [`SHUTDOWN_GRACE`] or until a second signal.
async fn drain(
    accepting: Vec<JoinHandle<()>>,
    web: Option<web::Web>,
    shutdown: &ShutdownSignal,
    limiter: &Addr<Limiter>,
) -> anyhow::Result<()> {
    tracing::info!("shutting down");
    for task in &accepting {
        task.abort();
    }
    for task in accepting {
        // An aborted loop has dropped its listener once it is joined.
        let _ = task.await;
    }
    if let Some(web) = web {
        web.stop().await;
    }
    shutdown.trigger();
    // Sessions end (and give back their places) before their writers have sent the
    // last of what they queued: both are waited for.
    let drained = tokio::time::timeout(SHUTDOWN_GRACE, async {
        limiter::drained(limiter).await;
        crate::net::writer::all_finished().await;
    });
    tokio::select! {
        waited = drained => {
            if waited.is_err() {
                tracing::warn!("connections still open at the shutdown deadline are dropped");
            }
        }
        signal = shutdown_signal() => {
            signal?;
            tracing::warn!("second signal: open connections are dropped");
        }
    }
    Ok(())
}

/// Binds every address of one protocol, says where it listens, and starts accepting;
/// returns the accept loops.
async fn listen(
    protocol: &str,
    addresses: &[std::net::SocketAddr],
    workers: &Arc<Workers>,
    on_connection: &OnConnection,
) -> anyhow::Result<Vec<JoinHandle<()>>> {
    let mut accepting = Vec::new();
    for addr in addresses {
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .with_context(|| format!("cannot listen for {protocol} on {addr}"))?;
        println!(
            "mailhive: {protocol} listening on {}",
            listener.local_addr()?
        );
        accepting.push(actix_rt::spawn(accept_loop(
            listener,
            workers.clone(),
            on_connection.clone(),
        )));
    }
    Ok(accepting)
}

/// How to reach the demo accounts with curl and with a mail client.
fn print_demo_help(config: &Config) {
    if let Some(addr) = config.imap_listen.first() {
        println!("try: curl 'imap://{addr}/INBOX;UID=1' --user demo:demo");
        println!("     curl imap://{addr}/ --user demo:demo            (lists the mailboxes)");
        println!(
            "mail client: IMAP server {} port {} with STARTTLS, normal password, user demo, password demo",
            addr.ip(),
            addr.port()
        );
    }
    if let Some(addr) = config.imap_tls_listen.first() {
        println!("     curl --insecure 'imaps://{addr}/INBOX;UID=1' --user demo:demo");
        println!(
            "     or port {} with SSL/TLS; the certificate is self-signed: accept it once",
            addr.port()
        );
    }
    if let Some(addr) = config.pop3_listen.first() {
        println!("try: curl pop3://{addr}/1 --user demo:demo");
    }
}

async fn shutdown_signal() -> anyhow::Result<()> {
    use tokio::signal::unix::{signal, SignalKind};
    let mut terminate = signal(SignalKind::terminate())?;
    let mut interrupt = signal(SignalKind::interrupt())?;
    tokio::select! {
        _ = terminate.recv() => {}
        _ = interrupt.recv() => {}
    }
    Ok(())
}
