//! Mailbox actors: one per mailbox in use, owned by the [`Registry`]. A Mailbox actor
//! carries out every change to its mailbox one at a time (the store call runs on the
//! blocking pool while the actor waits, so changes never interleave) and pushes what
//! changed to every session that has the mailbox selected. Whoever changes a mailbox —
//! an IMAP session, a POP3 QUIT, the admin socket — goes through its actor, so that
//! nobody watching misses a change.
//!
//! A session starts watching with [`Watch`], which loads its snapshot inside the same
//! serialised step: no change can fall between the snapshot and the first event. An
//! actor with nobody watching stops after its last change.
//!
//! Changes carry the user who makes them: on a mailbox shared with that user, their
//! \Seen is their own (`mailhive_store::seen`), and what the actor publishes to every
//! watcher are the shared flags.
//!
//! \Recent (RFC 3501 §2.3.2) is handed out here, where every session's first sight of a
//! message is decided: a session that opens the mailbox read-write claims the messages
//! nobody has seen, and new messages go to one read-write watcher — the session that
//! added them if it watches, else the longest-watching one — or, with none, wait for
//! the next SELECT.
//!
//! While it runs, the actor keeps its mailbox's messages as a [`Column`] that every
//! published change updates: a SELECT of a mailbox open elsewhere reads no message
//! record. A store error that may have left the column behind drops it. The keys
//! SORT and THREAD compare are kept likewise once a sort asks ([`SortColumn`]). Changes
//! another server made to a store several share reach the actor too (`resync`).

mod column;
mod inbox;
mod resync;
mod sort_column;

use actix::prelude::*;
pub(crate) use column::remove_uids;
use column::Column;
pub use inbox::{Inbox, Wake};
use mailhive_store::{
    ExpungeScope, FlagChange, Flags, InternalDate, MailboxId, MessageInfo, NewMessage, Outcome,
    Refusal, Store, StoreError, Username,
};
pub use sort_column::{SortColumn, TextKey};
use std::collections::{BTreeMap, HashMap};
use std::ops::Range;
use std::sync::{Arc, Mutex, Weak};

/// What changed in a mailbox, put in every watcher's [`Inbox`].
#[derive(Debug, Clone)]
pub struct Changes {
    pub mailbox: MailboxId,
    /// New messages, ascending UIDs, with their flags and modseq.
    pub appended: Vec<(u32, Flags, u64)>,
    /// Messages whose flags changed, with the new flags and their modseq (later
    /// changes have higher ones, so a stale report is recognised).
    pub flags: Vec<(u32, Flags, u64)>,
    /// Removed messages, ascending UIDs.
    pub expunged: Vec<u32>,
    /// The watcher for whom the UIDs of this range among `appended` are \Recent.
    pub recent: Option<(u64, Range<u32>)>,
    /// The mailbox's HIGHESTMODSEQ after the change.
    pub highest_modseq: u64,
}

impl Changes {
    fn new(mailbox: MailboxId) -> Self {
        Changes {
            mailbox,
            appended: Vec::new(),
            flags: Vec::new(),
            expunged: Vec::new(),
            recent: None,
            highest_modseq: 0,
        }
    }

    fn is_empty(&self) -> bool {
        self.appended.is_empty() && self.flags.is_empty() && self.expunged.is_empty()
    }
}

/// The messages of a mailbox when a session starts watching it.
#[derive(Debug, Clone)]
pub struct Snapshot {
    pub uids: Vec<u32>,
    pub flags: Vec<Flags>,
    pub modseqs: Vec<u64>,
    /// The mailbox's HIGHESTMODSEQ when the snapshot was taken.
    pub highest_modseq: u64,
    /// The UIDs that are \Recent for this watcher (it claimed them).
    pub recent: Range<u32>,
}

/// A message to append, owning its bytes.
#[derive(Debug, Clone)]
pub struct Incoming {
    pub raw: bytes::Bytes,
    pub flags: Flags,
    pub internal_date: InternalDate,
}

/// The changes a Mailbox actor carries out.
#[derive(Debug, Clone)]
pub enum Change {
    Append {
        messages: Vec<Incoming>,
        user: Username,
    },
    Flags {
        uids: Vec<u32>,
        change: FlagChange,
        user: Username,
        /// CONDSTORE's UNCHANGEDSINCE: messages changed after it are left alone.
        unchanged_since: Option<u64>,
    },
    /// `uids: None` expunges every \Deleted message; `only_deleted` false removes the
    /// listed UIDs whatever their flags.
    Expunge {
        uids: Option<Vec<u32>>,
        only_deleted: bool,
    },
    /// Copies (or moves) messages from another mailbox into this one.
    Transfer {
        from: MailboxId,
        uids: Vec<u32>,
        keep_metadata: bool,
        remove_source: bool,
        user: Username,
    },
}

/// What a change did.
#[derive(Debug, Clone)]
pub struct Done {
    /// New UIDs (append) or (source UID, new UID) pairs (transfer, in `pairs`).
    pub appended: Vec<u32>,
    pub pairs: Vec<(u32, u32)>,
    /// Messages whose flags changed, as the user who changed them sees them.
    pub flags: Vec<MessageInfo>,
    /// UIDs a conditional STORE left alone: they changed after its UNCHANGEDSINCE.
    pub modified: Vec<u32>,
    pub expunged: Vec<u32>,
    pub uid_validity: u32,
    /// What watchers are told; the session that asked can apply it at once.
    pub changes: Changes,
}

/// Carries out a change, for the watcher that asked if it is one; the answer comes
/// once it is on disk.
#[derive(Debug, Clone, Message)]
#[rtype(result = "Outcome<Done>")]
struct Apply {
    change: Change,
    by: Option<u64>,
}

/// Starts watching: the answer is the snapshot (with `user`'s own \Seen), and from then
/// on every [`Changes`] goes into `inbox`.
#[derive(Debug, Clone, Message)]
#[rtype(result = "Result<Snapshot, StoreError>")]
struct Watch {
    watcher: u64,
    inbox: Arc<Inbox>,
    user: Username,
    /// Opened read-only (EXAMINE): it sees \Recent but claims nothing.
    read_only: bool,
}

/// Stops watching.
#[derive(Debug, Message)]
#[rtype(result = "()")]
struct Unwatch(u64);

/// Messages were appended without the actor; announce them.
#[derive(Debug, Message)]
#[rtype(result = "()")]
struct Refresh {
    first_uid: u32,
}

/// A change made through another mailbox's actor (the source side of a MOVE).
#[derive(Debug, Message)]
#[rtype(result = "()")]
struct Announce(Changes);

/// Finds or starts the actor of a mailbox. The actors run on one arbiter of their own;
/// their store work runs on the blocking pool.
#[derive(Debug)]
pub struct Registry {
    store: Arc<Store>,
    arbiter: actix_rt::ArbiterHandle,
    actors: Mutex<HashMap<MailboxId, Addr<MailboxActor>>>,
    me: Weak<Registry>,
}

/// Why a request to a mailbox actor got no answer.
#[derive(Debug, thiserror::Error)]
pub enum MailboxError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("the mailbox service is not running")]
    Gone,
}

impl Registry {
    /// Must be called inside a running actix system.
    pub fn start(store: Arc<Store>) -> Arc<Registry> {
        let arbiter = actix_rt::Arbiter::new().handle();
        Arc::new_cyclic(|me| Registry {
            store,
            arbiter,
            actors: Mutex::new(HashMap::new()),
            me: me.clone(),
        })
    }

    pub fn store(&self) -> &Arc<Store> {
        &self.store
    }

    fn actor(&self, mailbox: MailboxId) -> Addr<MailboxActor> {
        let mut actors = self.actors.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(addr) = actors.get(&mailbox).filter(|a| a.connected()) {
            return addr.clone();
        }
        let actor = MailboxActor {
            id: mailbox,
            store: self.store.clone(),
            registry: self.me.clone(),
            watchers: BTreeMap::new(),
            idle_stop: None,
            column: None,
            sort_column: None,
        };
        let addr = MailboxActor::start_in_arbiter(&self.arbiter, |_| actor);
        actors.insert(mailbox, addr.clone());
        addr
    }

    fn forget(&self, mailbox: MailboxId, addr: &Addr<MailboxActor>) {
        let mut actors = self.actors.lock().unwrap_or_else(|e| e.into_inner());
        if actors.get(&mailbox) == Some(addr) {
            actors.remove(&mailbox);
        }
    }

    /// Sends `message` to the mailbox's actor, starting one again if the last one
    /// stopped in between.
    async fn request<M>(&self, mailbox: MailboxId, message: M) -> Result<M::Result, MailboxError>
    where
        M: Message + Send + Clone + 'static,
        M::Result: Send,
        MailboxActor: Handler<M>,
    {
        for _ in 0..3 {
            match self.actor(mailbox).send(message.clone()).await {
                Ok(result) => return Ok(result),
                Err(_) => continue,
            }
        }
        Err(MailboxError::Gone)
    }

    /// Carries out a change through the mailbox's actor.
    pub async fn apply(
        &self,
        mailbox: MailboxId,
        change: Change,
    ) -> Result<Result<Done, Refusal>, MailboxError> {
        self.apply_by(mailbox, change, None).await
    }

    /// [`Registry::apply`] for a session (`by`, its watcher number), which is first to
    /// hear of messages it adds to a mailbox it watches.
    pub async fn apply_by(
        &self,
        mailbox: MailboxId,
        change: Change,
        by: Option<u64>,
    ) -> Result<Result<Done, Refusal>, MailboxError> {
        Ok(self.request(mailbox, Apply { change, by }).await??)
    }

    /// Starts watching a mailbox, as `user`; `read_only` (EXAMINE) takes no \Recent.
    pub async fn watch(
        &self,
        mailbox: MailboxId,
        watcher: u64,
        inbox: Arc<Inbox>,
        user: Username,
        read_only: bool,
    ) -> Result<Snapshot, MailboxError> {
        let watch = Watch {
            watcher,
            inbox,
            user,
            read_only,
        };
        Ok(self.request(mailbox, watch).await??)
    }

    /// The sort keys of the mailbox's messages ([`SortColumn`]), made by the first sort
    /// that asks and shared by the later ones.
    pub async fn sort_column(&self, mailbox: MailboxId) -> Result<Arc<SortColumn>, MailboxError> {
        Ok(self.request(mailbox, SortColumnOf).await??)
    }

    /// Tells watchers about messages appended to `mailbox` without its actor (the admin
    /// socket's import), from `first_uid` on. The actor reads them in its own turn, so
    /// a message expunged in between is not announced.
    pub fn appended_elsewhere(&self, mailbox: MailboxId, first_uid: u32) {
        self.actor(mailbox).do_send(Refresh { first_uid });
    }

    pub fn unwatch(&self, mailbox: MailboxId, watcher: u64) {
        self.actor(mailbox).do_send(Unwatch(watcher));
    }
}

/// A session watching the mailbox.
#[derive(Debug)]
struct Watcher {
    inbox: Arc<Inbox>,
    /// Opened read-write: it may hold \Recent.
    takes_recent: bool,
}

/// The actor of one mailbox.
#[derive(Debug)]
pub struct MailboxActor {
    id: MailboxId,
    store: Arc<Store>,
    registry: Weak<Registry>,
    watchers: BTreeMap<u64, Watcher>,
    /// The stop planned while nobody watches, cancelled by the next request.
    idle_stop: Option<SpawnHandle>,
    /// The mailbox's messages as of the last change, once a SELECT has loaded them.
    column: Option<Column>,
    /// The sort keys, once a sort has asked, with the messages appended and expunged
    /// since they were read.
    sort_column: Option<(Arc<SortColumn>, usize)>,
}

/// Messages appended or expunged after which the sort keys are read again: until then
/// a sort reads the new messages' keys itself, and the expunged ones' stay in memory.
const SORT_STALE_AFTER: usize = 4096;

/// How long an actor nobody watches waits for more requests before it stops.
const IDLE_STOP: std::time::Duration = std::time::Duration::from_secs(5);

impl Actor for MailboxActor {
    type Context = Context<Self>;

    fn stopped(&mut self, ctx: &mut Context<Self>) {
        if let Some(registry) = self.registry.upgrade() {
            registry.forget(self.id, &ctx.address());
        }
    }
}

impl MailboxActor {
    fn publish(&mut self, changes: Changes) {
        if changes.is_empty() {
            return;
        }
        if let Some(column) = &mut self.column {
            column.apply(&changes);
        }
        if let Some((_, since)) = &mut self.sort_column {
            *since += changes.appended.len() + changes.expunged.len();
            if *since > SORT_STALE_AFTER {
                self.sort_column = None;
            }
        }
        // A push never waits and never queues without bound: a session whose inbox is
        // full (stuck behind a client that does not read) is dropped and told so.
        self.watchers.retain(|_, w| w.inbox.push(changes.clone()));
    }

    /// An EXPUNGE of every \Deleted message names the ones the column knows of, so that
    /// the store checks those rather than read every message record. Only where this
    /// process is the store's one writer: otherwise the column may trail a \Deleted
    /// another server has just set.
    fn narrowed(&self, change: Change) -> Change {
        match (change, &self.column) {
            (
                Change::Expunge {
                    uids: None,
                    only_deleted: true,
                },
                Some(column),
            ) if !self.store.shared_with_other_processes() => Change::Expunge {
                uids: Some(column.deleted()),
                only_deleted: true,
            },
            (change, _) => change,
        }
    }

    /// Who is first to hear of new messages: `by` if it watches read-write, else the
    /// longest-watching read-write session; nobody when none watches read-write.
    fn first_to_hear(&self, by: Option<u64>) -> Option<u64> {
        let takes = |id: &u64| self.watchers.get(id).is_some_and(|w| w.takes_recent);
        by.filter(takes).or_else(|| {
            self.watchers
                .iter()
                .find(|(_, w)| w.takes_recent && w.inbox.connected())
                .map(|(&id, _)| id)
        })
    }

    /// With nobody watching, stops after [`IDLE_STOP`] without a request: requests
    /// already queued (concurrent APPENDs to a mailbox nobody has selected) are served
    /// first, rather than find the actor gone.
    fn stop_if_unwatched(&mut self, ctx: &mut Context<Self>) {
        if let Some(handle) = self.idle_stop.take() {
            ctx.cancel_future(handle);
        }
        if self.watchers.is_empty() {
            self.idle_stop = Some(ctx.run_later(IDLE_STOP, |act, ctx| {
                if act.watchers.is_empty() {
                    ctx.stop();
                }
            }));
        }
    }
}

/// Runs a store call on the blocking pool.
pub(crate) async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, StoreError> + Send + 'static,
) -> Result<T, StoreError> {
    actix_rt::task::spawn_blocking(work)
        .await
        .map_err(|e| StoreError::Encode(format!("store task did not finish: {e}")))?
}

impl Handler<Apply> for MailboxActor {
    type Result = AtomicResponse<Self, Outcome<Done>>;

    fn handle(&mut self, Apply { change, by }: Apply, _: &mut Context<Self>) -> Self::Result {
        let change = self.narrowed(change);
        let store = self.store.clone();
        let id = self.id;
        let first = self.first_to_hear(by);
        let work = blocking(move || carry_out(&store, id, change, first));
        AtomicResponse::new(Box::pin(work.into_actor(self).map(|result, act, ctx| {
            if result.is_err() {
                // The change may or may not have been made: read the mailbox again.
                act.column = None;
            }
            if let Ok(Ok((done, source))) = &result {
                act.publish(done.changes.clone());
                if let Some(expunged) = source {
                    if let Some(registry) = act.registry.upgrade() {
                        registry
                            .actor(expunged.mailbox)
                            .do_send(Announce(expunged.clone()));
                    }
                }
            }
            act.stop_if_unwatched(ctx);
            result.map(|r| r.map(|(done, _)| done))
        })))
    }
}

/// The store call behind a change, and what to publish about it.
#[allow(clippy::type_complexity)]
fn carry_out(
    store: &Store,
    id: MailboxId,
    change: Change,
    first_to_hear: Option<u64>,
) -> Result<Result<(Done, Option<Changes>), Refusal>, StoreError> {
    let mut changes = Changes::new(id);
    let mut done = Done {
        appended: Vec::new(),
        pairs: Vec::new(),
        flags: Vec::new(),
        modified: Vec::new(),
        expunged: Vec::new(),
        uid_validity: 0,
        changes: Changes::new(id),
    };
    let mut source = None;
    let Some(owner) = store.mailbox_by_id(id)?.map(|info| info.owner) else {
        return Ok(Err(Refusal::NoSuchMailbox));
    };
    match change {
        Change::Append { messages, user } => {
            let new: Vec<NewMessage<'_>> = messages
                .iter()
                .map(|m| NewMessage {
                    raw: &m.raw,
                    flags: m.flags.clone(),
                    internal_date: m.internal_date,
                })
                .collect();
            let uids = match store.append(id, &new, &user)? {
                Ok(uids) => uids,
                Err(refusal) => return Ok(Err(refusal)),
            };
            for message in store.messages(id, uids.first().copied().unwrap_or(1)..=u32::MAX) {
                let message = message?;
                changes
                    .appended
                    .push((message.uid, message.flags, message.modseq));
            }
            done.appended = uids;
        }
        Change::Flags {
            uids,
            change,
            user,
            unchanged_since,
        } => {
            // The store keeps a sharer's \Seen in their own set; their answer shows it.
            let stored =
                match store.conditional_store(id, &uids, &change, &user, unchanged_since)? {
                    Ok(stored) => stored,
                    Err(refusal) => return Ok(Err(refusal)),
                };
            let changed = stored.changed;
            done.modified = stored.modified;
            changes.flags = changed
                .iter()
                .map(|m| (m.uid, m.flags.clone(), m.modseq))
                .collect();
            if user == owner {
                done.flags = changed;
            } else {
                let seen = store.seen_by(id, &user)?;
                let changed: std::collections::HashSet<u32> =
                    changes.flags.iter().map(|&(uid, _, _)| uid).collect();
                for &uid in uids.iter().filter(|uid| changed.contains(uid)) {
                    if let Some(mut message) = store.message(id, uid)? {
                        message.flags = message.flags.with_seen(seen.contains(uid));
                        done.flags.push(message);
                    }
                }
            }
        }
        Change::Expunge { uids, only_deleted } => {
            let scope = match (&uids, only_deleted) {
                (None, _) => ExpungeScope::AllDeleted,
                (Some(uids), true) => ExpungeScope::DeletedAmong(uids),
                (Some(uids), false) => ExpungeScope::Exactly(uids),
            };
            let removed = match store.expunge(id, scope)? {
                Ok(removed) => removed,
                Err(refusal) => return Ok(Err(refusal)),
            };
            changes.expunged = removed.clone();
            done.expunged = removed;
        }
        Change::Transfer {
            from,
            uids,
            keep_metadata,
            remove_source,
            user,
        } => {
            let result = if remove_source {
                store.move_messages(from, &uids, id, keep_metadata, &user)?
            } else {
                store.copy_messages(from, &uids, id, keep_metadata, &user)?
            };
            let pairs = match result {
                Ok(pairs) => pairs,
                Err(refusal) => return Ok(Err(refusal)),
            };
            let new_uids: Vec<u32> = pairs.iter().map(|&(_, new)| new).collect();
            for message in store.messages(id, new_uids.first().copied().unwrap_or(1)..=u32::MAX) {
                let message = message?;
                changes
                    .appended
                    .push((message.uid, message.flags, message.modseq));
            }
            if remove_source {
                let mut moved: Vec<u32> = pairs.iter().map(|&(old, _)| old).collect();
                moved.sort_unstable();
                if from == id {
                    changes.expunged = moved;
                } else {
                    let mut expunged = Changes::new(from);
                    expunged.expunged = moved;
                    if let Some(info) = store.mailbox_by_id(from)? {
                        expunged.highest_modseq = info.highest_modseq;
                    }
                    source = Some(expunged);
                }
            }
            done.appended = new_uids;
            done.pairs = pairs;
        }
    }
    if let Some(info) = store.mailbox_by_id(id)? {
        done.uid_validity = info.uid_validity;
        changes.highest_modseq = info.highest_modseq;
    }
    changes.recent = claim_for(store, id, first_to_hear, &changes)?;
    done.changes = changes;
    Ok(Ok((done, source)))
}

/// Claims the new messages of `changes` as \Recent for `watcher`, if there are any and
/// somebody watches read-write.
fn claim_for(
    store: &Store,
    id: MailboxId,
    watcher: Option<u64>,
    changes: &Changes,
) -> Result<Option<(u64, Range<u32>)>, StoreError> {
    match watcher {
        Some(watcher) if !changes.appended.is_empty() => {
            Ok(store.claim_recent(id)?.map(|range| (watcher, range)))
        }
        _ => Ok(None),
    }
}

impl Handler<Watch> for MailboxActor {
    type Result = AtomicResponse<Self, Result<Snapshot, StoreError>>;

    fn handle(&mut self, request: Watch, _: &mut Context<Self>) -> Self::Result {
        let store = self.store.clone();
        let id = self.id;
        let user = request.user.clone();
        let claims = !request.read_only;
        // Taken, not copied: no other request runs until this one has put it back.
        let cached = self.column.take();
        let load = blocking(move || {
            let recent = match claims {
                true => store.claim_recent(id)?,
                false => store.unclaimed_range(id)?,
            }
            .unwrap_or(0..0);
            let column = match cached {
                Some(column) => column,
                None => Column::load(&store, id)?,
            };
            let owner = store.mailbox_by_id(id)?.map(|info| info.owner);
            let mut flags = column.flags.clone();
            // On a mailbox shared with the user, \Seen is their own.
            if owner.is_some_and(|owner| owner != user) {
                let seen = store.seen_by(id, &user)?;
                for (flags, &uid) in flags.iter_mut().zip(&column.uids) {
                    *flags = std::mem::take(flags).with_seen(seen.contains(uid));
                }
            }
            let snapshot = Snapshot {
                uids: column.uids.clone(),
                flags,
                modseqs: column.modseqs.clone(),
                highest_modseq: column.highest_modseq,
                recent,
            };
            Ok((snapshot, column))
        });
        AtomicResponse::new(Box::pin(load.into_actor(self).map(
            move |loaded, act, ctx| {
                let snapshot = loaded.map(|(snapshot, column)| {
                    act.column = Some(column);
                    snapshot
                });
                if snapshot.is_ok() {
                    let watcher = Watcher {
                        inbox: request.inbox,
                        takes_recent: claims,
                    };
                    act.watchers.insert(request.watcher, watcher);
                } else {
                    act.stop_if_unwatched(ctx);
                }
                snapshot
            },
        )))
    }
}

/// Asks for the [`SortColumn`].
#[derive(Debug, Clone, Message)]
#[rtype(result = "Result<Arc<SortColumn>, StoreError>")]
struct SortColumnOf;

impl Handler<SortColumnOf> for MailboxActor {
    type Result = ResponseActFuture<Self, Result<Arc<SortColumn>, StoreError>>;

    fn handle(&mut self, _: SortColumnOf, _: &mut Context<Self>) -> Self::Result {
        if let Some((column, _)) = &self.sort_column {
            return Box::pin(actix::fut::ready(Ok(column.clone())));
        }
        let (store, id) = (self.store.clone(), self.id);
        let load = blocking(move || SortColumn::load(&store, id, None));
        Box::pin(load.into_actor(self).map(|loaded, act, ctx| {
            let column = Arc::new(loaded?);
            act.sort_column = Some((column.clone(), 0));
            act.stop_if_unwatched(ctx);
            Ok(column)
        }))
    }
}

impl Handler<Unwatch> for MailboxActor {
    type Result = ();

    fn handle(&mut self, Unwatch(watcher): Unwatch, ctx: &mut Context<Self>) {
        self.watchers.remove(&watcher);
        self.stop_if_unwatched(ctx);
    }
}

impl Handler<Announce> for MailboxActor {
    type Result = ();

    fn handle(&mut self, Announce(changes): Announce, ctx: &mut Context<Self>) {
        self.publish(changes);
        self.stop_if_unwatched(ctx);
    }
}

impl Handler<Refresh> for MailboxActor {
    type Result = AtomicResponse<Self, ()>;

    fn handle(&mut self, Refresh { first_uid }: Refresh, _: &mut Context<Self>) -> Self::Result {
        let store = self.store.clone();
        let id = self.id;
        let first = self.first_to_hear(None);
        let load = blocking(move || {
            let mut changes = Changes::new(id);
            for message in store.messages(id, first_uid..=u32::MAX) {
                let message = message?;
                changes
                    .appended
                    .push((message.uid, message.flags, message.modseq));
            }
            changes.recent = claim_for(&store, id, first, &changes)?;
            if let Some(info) = store.mailbox_by_id(id)? {
                changes.highest_modseq = info.highest_modseq;
            }
            Ok(changes)
        });
        AtomicResponse::new(Box::pin(load.into_actor(self).map(|loaded, act, ctx| {
            match loaded {
                Ok(changes) => act.publish(changes),
                Err(e) => {
                    tracing::error!(error = %e, "could not read appended messages");
                    act.column = None;
                }
            }
            act.stop_if_unwatched(ctx);
        })))
    }
}
