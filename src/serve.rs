//! `mailhive serve`: opens the store, prepares the demo if asked, starts the IMAP and
//! POP3 listeners and the admin socket, and runs until SIGINT or SIGTERM. Every bound
//! address is printed (`IMAP listening on ADDR`, `POP3 listening on ADDR`), so a port
//! given as 0 can be found.

use crate::admin;
use crate::auth::Authenticator;
use crate::config::{Config, Protocol};
use crate::demo;
use crate::imap::{self, ImapContext};
use crate::limiter::{self, ConnectionRefusal, Limiter, Permit};
use crate::login::Gate;
use crate::mailbox::Registry;
use crate::net::listener::{accept_loop, refuse, OnConnection, Workers};
use crate::pop3::{self, Pop3Context};
use crate::settings::Published;
use actix::Addr;
use anyhow::Context;
use mailhive_store::Store;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::net::TcpStream;

pub fn run(config: &Config, demo: bool) -> anyhow::Result<()> {
    std::fs::create_dir_all(&config.store_path).with_context(|| {
        format!(
            "cannot create the data directory {}",
            config.store_path.display()
        )
    })?;
    let store = Store::open(&config.store_path).with_context(|| {
        format!(
            "cannot open the store at {} (is another server using it?)",
            config.store_path.display()
        )
    })?;
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
    let system = actix_rt::System::new();
    system.block_on(async {
        let admin_listener = admin::server::bind(&socket)
            .with_context(|| format!("cannot bind the admin socket {}", socket.display()))?;
        let workers = Arc::new(Workers::per_core());
        let published = Arc::new(Published::new(config, &store)?);
        let limiter = Limiter::start(Protocol::ALL.map(|p| published.live(p)));
        let gate = Gate {
            limiter: limiter.clone(),
            auth: Arc::new(Authenticator::new(store.clone())?),
        };
        let registry = Registry::start(store.clone());
        let imap_context = Arc::new(ImapContext {
            registry: registry.clone(),
            gate: gate.clone(),
            settings: published.live(Protocol::Imap),
            plaintext_auth: config.plaintext_auth,
            searches: Default::default(),
        });
        let on_imap = admitting(
            &limiter,
            Protocol::Imap,
            imap::refusal,
            move |stream, peer, permit| {
                imap::session::start(stream, peer, imap_context.clone(), permit)
            },
        );
        listen("IMAP", &config.imap_listen, &workers, &on_imap).await?;
        let pop3_context = Arc::new(Pop3Context {
            registry: registry.clone(),
            gate,
            settings: published.live(Protocol::Pop3),
            plaintext_auth: config.plaintext_auth,
        });
        let on_pop3 = admitting(
            &limiter,
            Protocol::Pop3,
            pop3::refusal,
            move |stream, peer, permit| {
                pop3::session::start(stream, peer, pop3_context.clone(), permit)
            },
        );
        listen("POP3", &config.pop3_listen, &workers, &on_pop3).await?;
        println!(
            "mailhive: store {} open; admin socket {}",
            config.store_path.display(),
            socket.display()
        );
        println!("mailhive: TLS is not implemented yet. Stop with Ctrl-C.");
        if demo {
            print_demo_help(config);
        }
        tracing::info!(store = %config.store_path.display(), "serving");
        let admin_state = Arc::new(admin::server::AdminState {
            registry: registry.clone(),
            published,
            limiter,
        });
        tokio::select! {
            () = admin::server::run(admin_listener, admin_state) => {}
            signal = shutdown_signal() => signal?,
        }
        workers.stop();
        Ok::<_, anyhow::Error>(())
    })?;
    let _ = std::fs::remove_file(&socket);
    tracing::info!("stopped");
    Ok(())
}

/// What to do with each connection of `protocol`: ask the Limiter to admit it, then
/// `start` its session; a refused connection is told `refusal`'s text and closed.
fn admitting(
    limiter: &Addr<Limiter>,
    protocol: Protocol,
    refusal: fn(ConnectionRefusal) -> &'static str,
    start: impl Fn(TcpStream, SocketAddr, Permit) + Send + Sync + 'static,
) -> OnConnection {
    let limiter = limiter.clone();
    let start = Arc::new(start);
    Arc::new(move |stream, peer| {
        let (limiter, start) = (limiter.clone(), start.clone());
        actix_rt::spawn(async move {
            match limiter::admit(&limiter, protocol, peer.ip()).await {
                Ok(permit) => start(stream, peer, permit),
                Err(refused) => {
                    tracing::info!(%peer, ?refused, protocol = protocol.key(), "connection refused");
                    refuse(stream, refusal(refused)).await;
                }
            }
        });
    })
}

/// Binds every address of one protocol, says where it listens, and starts accepting.
async fn listen(
    protocol: &str,
    addresses: &[std::net::SocketAddr],
    workers: &Arc<Workers>,
    on_connection: &OnConnection,
) -> anyhow::Result<()> {
    for addr in addresses {
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .with_context(|| format!("cannot listen for {protocol} on {addr}"))?;
        println!(
            "mailhive: {protocol} listening on {}",
            listener.local_addr()?
        );
        actix_rt::spawn(accept_loop(
            listener,
            workers.clone(),
            on_connection.clone(),
        ));
    }
    Ok(())
}

/// How to reach the demo accounts with curl and with a mail client.
fn print_demo_help(config: &Config) {
    if let Some(addr) = config.imap_listen.first() {
        println!("try: curl 'imap://{addr}/INBOX;UID=1' --user demo:demo");
        println!("     curl imap://{addr}/ --user demo:demo            (lists the mailboxes)");
        println!(
            "mail client: IMAP server {} port {}, no encryption, normal password, user demo, password demo",
            addr.ip(),
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
