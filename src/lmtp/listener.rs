//! Accepting LMTP connections: on the TCP addresses of `[lmtp] listen`, through the
//! same accept loop as IMAP and POP3, and on the Unix socket of `[lmtp] socket` (mode
//! 0660, so that the MTA's group may connect). Sessions run on the worker arbiters. The
//! Limiter admits each connection, as it does IMAP's and POP3's: at most
//! `[lmtp] max_connections` are open at once; one more is told so and closed.

use super::session;
use super::LmtpContext;
use crate::limiter::lmtp::admit_lmtp;
use crate::net::listener::{accept_loop, refuse, OnConnection, Workers};
use actix_rt::task::JoinHandle;
use anyhow::Context;
use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite};

/// What a connection past `max_connections` is told (RFC 5321 §3.8: 421, then close).
const REFUSAL: &str = "421 4.3.2 Too many connections to this server\r\n";

/// Binds every configured listener (the Unix socket first: a TCP address printed means
/// every listener is ready), says where it listens, and starts accepting; returns the
/// accept loops.
pub async fn listen(
    context: Arc<LmtpContext>,
    workers: &Arc<Workers>,
) -> anyhow::Result<Vec<JoinHandle<()>>> {
    let admit = Arc::new(Admit { context });
    let mut accepting = Vec::new();
    if let Some(path) = admit.context.config.socket.clone() {
        let listener = bind_unix(&path)
            .with_context(|| format!("cannot listen for LMTP on {}", path.display()))?;
        println!("mailhive: LMTP listening on socket {}", path.display());
        accepting.push(actix_rt::spawn(accept_unix(
            listener,
            workers.clone(),
            admit.clone(),
        )));
    }
    for addr in &admit.context.config.listen {
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .with_context(|| format!("cannot listen for LMTP on {addr}"))?;
        println!("mailhive: LMTP listening on {}", listener.local_addr()?);
        let admit = admit.clone();
        let on_connection: OnConnection = Arc::new(move |tcp, peer| {
            let _ = socket2::SockRef::from(&tcp).set_keepalive(true);
            admit.start(tcp, peer.to_string());
        });
        accepting.push(actix_rt::spawn(accept_loop(
            listener,
            workers.clone(),
            on_connection,
        )));
    }
    Ok(accepting)
}

/// Admits connections under `[lmtp] max_connections`, through the Limiter.
struct Admit {
    context: Arc<LmtpContext>,
}

impl Admit {
    /// Starts a session on `stream`, or tells it why not and closes it (on the current
    /// arbiter).
    fn start<S>(&self, stream: S, peer: String)
    where
        S: AsyncRead + AsyncWrite + Unpin + 'static,
    {
        let context = self.context.clone();
        actix_rt::spawn(async move {
            let max = context.config.max_connections;
            match admit_lmtp(&context.limiter, max).await {
                Some(connection) => session::start(stream, peer, context, connection),
                None => {
                    tracing::info!(%peer, "lmtp connection refused: max_connections");
                    refuse(stream, REFUSAL).await;
                }
            }
        });
    }
}

/// The Unix socket at `path`, mode 0660; a socket an earlier process left there is
/// replaced, any other file is not.
fn bind_unix(path: &Path) -> std::io::Result<tokio::net::UnixListener> {
    if let Ok(meta) = std::fs::symlink_metadata(path) {
        if meta.file_type().is_socket() {
            std::fs::remove_file(path)?;
        }
    }
    let listener = tokio::net::UnixListener::bind(path)?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o660))?;
    Ok(listener)
}

/// Accepts on the Unix socket forever, handing each connection to a worker.
async fn accept_unix(listener: tokio::net::UnixListener, workers: Arc<Workers>, admit: Arc<Admit>) {
    loop {
        let stream = match listener.accept().await {
            Ok((stream, _)) => stream,
            Err(e) => {
                tracing::warn!(error = %e, "accept failed");
                actix_rt::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        // As for TCP: a socket belongs to the event loop that registered it.
        let std_stream = match stream.into_std() {
            Ok(s) => s,
            Err(e) => {
                tracing::warn!(error = %e, "could not hand over a connection");
                continue;
            }
        };
        let admit = admit.clone();
        workers.dispatch(move || match tokio::net::UnixStream::from_std(std_stream) {
            Ok(stream) => admit.start(stream, "unix".to_owned()),
            Err(e) => tracing::warn!(error = %e, "could not register a connection"),
        });
    }
}
