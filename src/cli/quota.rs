//! `mailhive quota set|show|reset --user NAME` (SPEC §7): an account's own limits over
//! the `[quota]` defaults, on the store or through the running server's admin socket
//! (the same [`Admin`](crate::admin::Admin) operation either way).

use crate::admin;
use crate::config::Config;
use crate::quota::{parse_size, show_text};
use clap::Subcommand;
use mailhive_store::QuotaOverride;

#[derive(Debug, Subcommand)]
pub enum QuotaCommand {
    /// Gives the account its own limits (0 = unlimited); those not given stay as they are.
    Set {
        #[arg(long, value_name = "NAME")]
        user: String,
        /// Bytes, or with K, M or G (KiB, MiB, GiB).
        #[arg(long, value_name = "SIZE")]
        storage: Option<String>,
        #[arg(long, value_name = "N")]
        messages: Option<u64>,
    },
    /// The account's usage and limits.
    Show {
        #[arg(long, value_name = "NAME")]
        user: String,
    },
    /// Drops the account's own limits: the `[quota]` defaults apply again.
    Reset {
        #[arg(long, value_name = "NAME")]
        user: String,
    },
}

pub fn run(config: &Config, command: QuotaCommand) -> anyhow::Result<()> {
    let (name, change, reset) = match command {
        QuotaCommand::Set {
            user,
            storage,
            messages,
        } => {
            if storage.is_none() && messages.is_none() {
                anyhow::bail!("nothing to set: give --storage, --messages or both");
            }
            let storage = storage
                .map(|text| parse_size(&text))
                .transpose()
                .map_err(|e| anyhow::anyhow!("--storage: {e}"))?;
            (user, Some(QuotaOverride { storage, messages }), false)
        }
        QuotaCommand::Show { user } => (user, None, false),
        QuotaCommand::Reset { user } => (user, Some(QuotaOverride::default()), true),
    };
    let user = super::username(&name)?;
    let admin = admin::connect(config)?;
    let quota = match change {
        Some(change) => admin.change_quota(&user, change, reset)?,
        None => admin.quota(&user)?,
    };
    print!("{}", show_text(&quota));
    Ok(())
}
