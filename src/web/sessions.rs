//! The console's logins: sessions kept in memory only (a restart logs everyone out),
//! each under a random 256-bit id from the operating system's CSPRNG, with its own
//! CSRF token, forgotten after [`IDLE_EXPIRY`] without a request. At most
//! [`MAX_SESSIONS`] are kept; one more pushes out the longest idle.

use mailhive_store::Username;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How long a session lives without a request.
pub const IDLE_EXPIRY: Duration = Duration::from_secs(30 * 60);

/// Sessions kept at once.
const MAX_SESSIONS: usize = 1_000;

/// A logged-in administrator, as a request finds them.
#[derive(Debug, Clone)]
pub struct Admin {
    pub user: Username,
    /// The session's id (the cookie's value).
    pub id: String,
    /// What every form of this session carries in its `csrf` field.
    pub csrf: String,
}

#[derive(Debug)]
struct Entry {
    user: Username,
    csrf: String,
    last_seen: Instant,
}

#[derive(Debug, Default)]
pub struct Sessions {
    open: Mutex<HashMap<String, Entry>>,
}

impl Sessions {
    /// Opens a session for `user`.
    pub fn open(&self, user: Username) -> Result<Admin, getrandom::Error> {
        let (id, csrf) = (token()?, token()?);
        let now = Instant::now();
        let mut open = self.open.lock().unwrap_or_else(|p| p.into_inner());
        open.retain(|_, e| now.duration_since(e.last_seen) < IDLE_EXPIRY);
        if open.len() >= MAX_SESSIONS {
            let idlest = open
                .iter()
                .min_by_key(|(_, e)| e.last_seen)
                .map(|(id, _)| id.clone());
            if let Some(idlest) = idlest {
                open.remove(&idlest);
            }
        }
        let entry = Entry {
            user: user.clone(),
            csrf: csrf.clone(),
            last_seen: now,
        };
        open.insert(id.clone(), entry);
        Ok(Admin { user, id, csrf })
    }

    /// The session `id` names, if it is open and not expired; the request counts as
    /// activity.
    pub fn find(&self, id: &str) -> Option<Admin> {
        let now = Instant::now();
        let mut open = self.open.lock().unwrap_or_else(|p| p.into_inner());
        let entry = open.get_mut(id)?;
        if now.duration_since(entry.last_seen) >= IDLE_EXPIRY {
            open.remove(id);
            return None;
        }
        entry.last_seen = now;
        Some(Admin {
            user: entry.user.clone(),
            id: id.to_owned(),
            csrf: entry.csrf.clone(),
        })
    }

    /// Ends the session `id`.
    pub fn close(&self, id: &str) {
        self.open
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(id);
    }

    /// Ends every session of `user` (an account removed or no longer an administrator).
    pub fn close_user(&self, user: &Username) {
        self.open
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .retain(|_, e| &e.user != user);
    }
}

/// 32 random bytes, in hex.
pub fn token() -> Result<String, getrandom::Error> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes)?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// Whether `given` is `expected`, in time that does not depend on where they differ.
pub fn same(given: &str, expected: &str) -> bool {
    given.len() == expected.len()
        && given
            .bytes()
            .zip(expected.bytes())
            .fold(0u8, |diff, (a, b)| diff | (a ^ b))
            == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(name: &str) -> Username {
        Username::parse(name).unwrap()
    }

    #[test]
    fn sessions_have_random_ids_and_end_when_closed() {
        let sessions = Sessions::default();
        let a = sessions.open(user("root")).unwrap();
        let b = sessions.open(user("root")).unwrap();
        assert_eq!(a.id.len(), 64);
        assert_ne!(a.id, b.id);
        assert_ne!(a.csrf, a.id);
        assert_eq!(sessions.find(&a.id).unwrap().csrf, a.csrf);
        assert!(sessions.find("0123").is_none());
        sessions.close(&a.id);
        assert!(sessions.find(&a.id).is_none());
        assert!(sessions.find(&b.id).is_some());
        sessions.close_user(&user("root"));
        assert!(sessions.find(&b.id).is_none());
    }

    #[test]
    fn the_longest_idle_session_makes_room() {
        let sessions = Sessions::default();
        let first = sessions.open(user("root")).unwrap();
        let others: Vec<_> = (1..MAX_SESSIONS)
            .map(|_| sessions.open(user("root")).unwrap())
            .collect();
        assert!(sessions.find(&others[0].id).is_some());
        let last = sessions.open(user("root")).unwrap();
        assert!(sessions.find(&first.id).is_none());
        assert!(sessions.find(&last.id).is_some());
    }

    #[test]
    fn tokens_compare_whole() {
        assert!(same("abc", "abc"));
        assert!(!same("abc", "abd"));
        assert!(!same("abc", "abcd"));
        assert!(!same("", "a"));
    }
}
