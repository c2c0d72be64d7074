//! Accepting connections. Each actix arbiter is one thread with its own event loop, so
//! connections are spread round-robin over one [`Workers`] arbiter per core; the
//! accepting loop itself only hands sockets over.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;

/// The arbiters that run sessions.
#[derive(Debug)]
pub struct Workers {
    arbiters: Vec<actix_rt::Arbiter>,
    next: AtomicUsize,
}

impl Workers {
    /// One arbiter per core. Must be called inside a running actix system.
    pub fn per_core() -> Self {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        Workers {
            arbiters: (0..cores).map(|_| actix_rt::Arbiter::new()).collect(),
            next: AtomicUsize::new(0),
        }
    }

    /// Runs `task` on the next arbiter in turn.
    pub fn dispatch(&self, task: impl FnOnce() + Send + 'static) {
        let i = self.next.fetch_add(1, Ordering::Relaxed) % self.arbiters.len();
        if !self.arbiters[i].spawn_fn(task) {
            tracing::error!("a worker arbiter has stopped; connection dropped");
        }
    }

    pub fn stop(&self) {
        for arbiter in &self.arbiters {
            arbiter.stop();
        }
    }
}

/// How long a refused client gets to read why.
const REFUSAL_TIMEOUT: Duration = Duration::from_secs(5);

/// Tells a refused client `text`, then closes the connection.
pub async fn refuse(mut stream: impl tokio::io::AsyncWrite + Unpin, text: &str) {
    use tokio::io::AsyncWriteExt;
    let said = async {
        stream.write_all(text.as_bytes()).await?;
        stream.shutdown().await
    };
    if let Err(e) = tokio::time::timeout(REFUSAL_TIMEOUT, said)
        .await
        .unwrap_or_else(|_| Err(std::io::ErrorKind::TimedOut.into()))
    {
        tracing::debug!(error = %e, "could not tell a refused client why");
    }
}

/// What to do with a new connection, on the worker arbiter that takes it.
pub type OnConnection = Arc<dyn Fn(tokio::net::TcpStream, SocketAddr) + Send + Sync>;

/// Accepts connections forever, handing each to a worker.
pub async fn accept_loop(
    listener: TcpListener,
    workers: Arc<Workers>,
    on_connection: OnConnection,
) {
    loop {
        let (stream, peer) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(e) => {
                // Out of file descriptors and the like: wait instead of spinning.
                tracing::warn!(error = %e, "accept failed");
                actix_rt::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        // A tokio socket belongs to the event loop that registered it: move it as a std
        // socket and register it again on the worker.
        let std_stream = match stream.into_std() {
            Ok(s) => s,
            Err(e) => {
                tracing::warn!(error = %e, "could not hand over a connection");
                continue;
            }
        };
        let on_connection = on_connection.clone();
        workers.dispatch(move || match tokio::net::TcpStream::from_std(std_stream) {
            Ok(stream) => on_connection(stream, peer),
            Err(e) => tracing::warn!(error = %e, "could not register a connection"),
        });
    }
}
