//! The QUOTA commands of RFC 9208. Every account has one quota root; the user's own is
//! `""` (SPEC §7), and the root of a mailbox shared with them is its owner's, named by
//! the owner's place in the shared namespace (`#users/karen`), since that is whose usage
//! an APPEND there counts against. The limits are the administrator's
//! (`mailhive quota`), so SETQUOTA is refused. A resource without a limit has no limit
//! to report and is left out of `* QUOTA` (RFC 9208 §5.1's quota-list names resources
//! with their usage and limit); an account without any limit gets no `* QUOTA` line.

use super::namespace::{self, Found, SHARED_ROOT};
use super::session::{ImapSession, Work};
use crate::mailbox::blocking;
use actix::prelude::*;
use mailhive_protocol::imap::response;
use mailhive_store::{Quota, Refusal, Username};

/// The name of `owner`'s quota root as `user` knows it.
fn root_name(owner: &Username, user: &Username) -> String {
    if owner == user {
        String::new()
    } else {
        format!("{SHARED_ROOT}/{owner}")
    }
}

/// `* QUOTA root (STORAGE used limit MESSAGE used limit)` (RFC 9208 §5.1), STORAGE in
/// KiB rounded up (its limit too); empty when neither resource has a limit.
fn quota_line(root: &str, quota: &Quota) -> Vec<u8> {
    let mut resources = Vec::new();
    if quota.limits.storage != 0 {
        resources.push(format!(
            "STORAGE {} {}",
            quota.usage.bytes.div_ceil(1024),
            quota.limits.storage.div_ceil(1024)
        ));
    }
    if quota.limits.messages != 0 {
        resources.push(format!(
            "MESSAGE {} {}",
            quota.usage.messages, quota.limits.messages
        ));
    }
    if resources.is_empty() {
        return Vec::new();
    }
    let mut line = b"* QUOTA ".to_vec();
    response::astring(&mut line, root.as_bytes());
    line.extend_from_slice(format!(" ({})\r\n", resources.join(" ")).as_bytes());
    line
}

impl ImapSession {
    /// `GETQUOTAROOT mailbox`: `* QUOTAROOT mailbox root`, then that root's `* QUOTA`.
    pub(super) fn get_quota_root(&mut self, user: Username, tag: String, mailbox: String) -> Work {
        let name = match namespace::parse(&mailbox, &user) {
            Ok(name) => name,
            Err(reason) => return self.no(&tag, Some("NONEXISTENT"), reason),
        };
        self.with_found(&user.clone(), tag, name, move |act, tag, found| {
            let Found::Mailbox(located) = found else {
                return act.no(&tag, Some("NONEXISTENT"), "No such mailbox");
            };
            let owner = located.info.owner.clone();
            let root = root_name(&owner, &user);
            let mut lines = b"* QUOTAROOT ".to_vec();
            response::mailbox(&mut lines, &located.display, act.names());
            lines.push(b' ');
            response::astring(&mut lines, root.as_bytes());
            lines.extend_from_slice(b"\r\n");
            act.answer_quota(tag, owner, root, lines, "GETQUOTAROOT completed")
        })
    }

    /// `GETQUOTA root`: the user's own root `""`, or `#users/owner` for an owner who
    /// shares a mailbox with the user.
    pub(super) fn get_quota(&mut self, user: Username, tag: String, root: String) -> Work {
        if root.is_empty() {
            return self.answer_quota(tag, user, root, Vec::new(), "GETQUOTA completed");
        }
        let owner = root
            .strip_prefix(SHARED_ROOT)
            .and_then(|rest| rest.strip_prefix('/'))
            .and_then(|owner| Username::parse(owner).ok());
        let Some(owner) = owner else {
            return self.no(&tag, Some("NONEXISTENT"), "No such quota root");
        };
        let store = self.store().clone();
        let viewer = user.clone();
        let wanted = owner.clone();
        let shares = move || {
            Ok::<_, mailhive_store::StoreError>(
                namespace::shared(&store, &viewer)?
                    .iter()
                    .any(|located| located.info.owner == wanted),
            )
        };
        Box::pin(
            blocking(shares)
                .into_actor(self)
                .then(move |shares, act, _| match shares {
                    Ok(true) => {
                        act.answer_quota(tag, owner, root, Vec::new(), "GETQUOTA completed")
                    }
                    Ok(false) => act.no(&tag, Some("NONEXISTENT"), "No such quota root"),
                    Err(e) => act.failed(&tag, &e),
                }),
        )
    }

    /// `SETQUOTA`: the administrator sets limits, with `mailhive quota set`.
    pub(super) fn set_quota(&mut self, tag: &str) -> Work {
        self.no(
            tag,
            Some("NOPERM"),
            "Quota limits are set by the administrator",
        )
    }

    /// `lines`, `owner`'s `* QUOTA` line under `root`, and `TAG OK text`.
    fn answer_quota(
        &mut self,
        tag: String,
        owner: Username,
        root: String,
        mut lines: Vec<u8>,
        text: &'static str,
    ) -> Work {
        let store = self.store().clone();
        Box::pin(blocking(move || store.quota(&owner)).into_actor(self).then(
            move |quota, act, _| match quota {
                Ok(Ok(quota)) => {
                    lines.extend(quota_line(&root, &quota));
                    act.ok_with(lines, &tag, text)
                }
                Ok(Err(Refusal::NoSuchUser)) => {
                    act.no(&tag, Some("NONEXISTENT"), "No such quota root")
                }
                Ok(Err(refusal)) => act.refused(&tag, &refusal),
                Err(e) => act.failed(&tag, &e),
            },
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mailhive_store::{QuotaLimits, Usage};

    #[test]
    fn the_quota_line_lists_the_limited_resources() {
        let quota = |storage, messages| Quota {
            usage: Usage {
                bytes: 1025,
                messages: 3,
            },
            limits: QuotaLimits { storage, messages },
            overrides: Default::default(),
        };
        assert_eq!(
            quota_line("", &quota(10 << 20, 100)),
            b"* QUOTA \"\" (STORAGE 2 10240 MESSAGE 3 100)\r\n"
        );
        assert_eq!(
            quota_line("#users/karen", &quota(0, 5)),
            b"* QUOTA #users/karen (MESSAGE 3 5)\r\n"
        );
        assert_eq!(
            quota_line("", &quota(1000, 0)),
            b"* QUOTA \"\" (STORAGE 2 1)\r\n"
        );
        assert!(quota_line("", &quota(0, 0)).is_empty());
    }
}
