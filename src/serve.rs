//! `mailhive serve`: opens the store, prepares the demo if asked, and runs until SIGINT
//! or SIGTERM. Today the server answers its local admin socket only; the IMAP and POP3
//! listeners are not built yet, and the start-up banner says so.

use crate::admin;
use crate::config::Config;
use crate::demo;
use anyhow::Context;
use mailhive_store::Store;
use std::sync::Arc;

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
        let listener = admin::server::bind(&socket)
            .with_context(|| format!("cannot bind the admin socket {}", socket.display()))?;
        println!(
            "mailhive: store {} open; admin socket {}",
            config.store_path.display(),
            socket.display()
        );
        println!(
            "mailhive: IMAP and POP3 are not implemented yet: no mail client can connect. \
             Admin commands (user, import-mbox) work while this runs. Stop with Ctrl-C."
        );
        tracing::info!(store = %config.store_path.display(), "serving");
        tokio::select! {
            () = admin::server::run(listener, store.clone()) => {}
            signal = shutdown_signal() => signal?,
        }
        Ok::<_, anyhow::Error>(())
    })?;
    let _ = std::fs::remove_file(&socket);
    tracing::info!("stopped");
    Ok(())
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
