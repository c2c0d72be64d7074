//! `serve --demo`: users `demo`/`demo` and `karen`/`karen`, the demo mailboxes imported
//! from fixtures compiled into the binary, and karen's INBOX shared with demo (read).
//! Idempotent: what exists already is left alone, nothing is imported twice.

use crate::admin::Admin;
use crate::import::{import, MboxSource};
use crate::mbox::Format;
use anyhow::Context;
use indicatif::ProgressBar;
use mailhive_store::{Duplicates, MailboxName, Rights, Store, Username};

const DEMO_MBOX: &[u8] = include_bytes!("../fixtures/demo.mbox");
const KAREN_MBOX: &[u8] = include_bytes!("../fixtures/karen.mbox");
/// Large enough for every demo message.
const DEMO_MAX_MESSAGE: usize = 1 << 20;

/// What the demo set-up did, for the start-up banner.
#[derive(Debug, Default)]
pub struct DemoReport {
    pub users_created: Vec<String>,
    pub messages_imported: u64,
}

pub fn prepare(store: &Store) -> anyhow::Result<DemoReport> {
    let mut report = DemoReport::default();
    let inbox = MailboxName::inbox();
    for (name, mbox) in [("demo", DEMO_MBOX), ("karen", KAREN_MBOX)] {
        let user = Username::parse(name).map_err(anyhow::Error::msg)?;
        if !store.user_exists(&user)? {
            Admin::add_user(store, &user, name)?;
            report.users_created.push(name.to_owned());
        }
        let info = store
            .mailbox(&user, &inbox)?
            .context("demo user without INBOX")?;
        if info.messages == 0 && info.uid_next == 1 {
            let source = MboxSource::from_bytes(name, mbox, Format::Mboxrd, DEMO_MAX_MESSAGE)?;
            let summary = import(
                store,
                &user,
                &inbox,
                vec![source],
                Duplicates::Skip,
                &ProgressBar::hidden(),
            )?;
            report.messages_imported += summary.messages;
        }
    }
    let (karen, demo) = (
        Username::parse("karen").map_err(anyhow::Error::msg)?,
        Username::parse("demo").map_err(anyhow::Error::msg)?,
    );
    let rights = Rights::parse("lr").map_err(|c| anyhow::anyhow!("bad right {c}"))?;
    Admin::set_acl(store, &karen, &inbox, &demo, rights)?;
    Ok(report)
}
