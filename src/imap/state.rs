//! The connection states of RFC 3501 §3, each holding the data that exists only in it:
//! nothing before login, the logged-in user (and their place under
//! MaxConnectionsPerUser) once authenticated, and the view of the selected mailbox on
//! top of that. Logout is not a state here: a session that says BYE stops.
//!
//! ```text
//!   not authenticated --LOGIN/AUTHENTICATE--> authenticated <--CLOSE/UNSELECT/failed SELECT--
//!                                                  |                                     |
//!                                                  +----------SELECT/EXAMINE-----> selected
//! ```

use super::view::View;
use crate::limiter::Permit;
use mailhive_store::Username;

/// A successful login.
#[derive(Debug)]
pub struct Login {
    pub user: Username,
    /// The login's place under MaxConnectionsPerUser, given back when the session ends.
    _permit: Permit,
}

impl Login {
    pub fn new(user: Username, permit: Permit) -> Self {
        Login {
            user,
            _permit: permit,
        }
    }
}

#[derive(Debug, Default)]
pub enum State {
    #[default]
    NotAuthenticated,
    Authenticated(Login),
    Selected(Login, Box<View>),
}

impl State {
    pub fn user(&self) -> Option<&Username> {
        match self {
            State::NotAuthenticated => None,
            State::Authenticated(login) | State::Selected(login, _) => Some(&login.user),
        }
    }

    /// The state's name, as the console lists it.
    pub fn name(&self) -> &'static str {
        match self {
            State::NotAuthenticated => "not authenticated",
            State::Authenticated(_) => "authenticated",
            State::Selected(..) => "selected",
        }
    }

    pub fn is_authenticated(&self) -> bool {
        self.user().is_some()
    }

    pub fn view(&self) -> Option<&View> {
        match self {
            State::Selected(_, view) => Some(view),
            _ => None,
        }
    }

    pub fn view_mut(&mut self) -> Option<&mut View> {
        match self {
            State::Selected(_, view) => Some(view),
            _ => None,
        }
    }

    /// LOGIN or AUTHENTICATE succeeded (only ever from the not-authenticated state,
    /// which the command table guarantees; a second login replaces nothing).
    pub fn authenticate(&mut self, login: Login) {
        if matches!(self, State::NotAuthenticated) {
            *self = State::Authenticated(login);
        }
    }

    /// Leaves the selected state; the view that was selected, if any.
    pub fn deselect(&mut self) -> Option<View> {
        match std::mem::take(self) {
            State::Selected(login, view) => {
                *self = State::Authenticated(login);
                Some(*view)
            }
            other => {
                *self = other;
                None
            }
        }
    }

    /// Selects `view`; a session that is not logged in gets it back.
    pub fn select(&mut self, view: View) -> Result<(), Box<View>> {
        match std::mem::take(self) {
            State::Authenticated(login) | State::Selected(login, _) => {
                *self = State::Selected(login, Box::new(view));
                Ok(())
            }
            State::NotAuthenticated => Err(Box::new(view)),
        }
    }
}
