//! `/users`: the accounts with their role, usage and quota; add one (fields `name`,
//! `password`, `admin`, and optionally `storage` and `messages`, its own limits), set a
//! password, set a quota (`name`, `storage`, `messages`: an empty field keeps that
//! limit), remove one after a confirmation page (`/users/remove?name=…`). Each change is
//! the admin socket's own operation; a removed account, or one whose password changed,
//! is forgotten by the verified-login cache there, and its console sessions end.

use super::{ask, html, refusal, see_other, Chrome};
use crate::admin::wire::{Request, Response};
use crate::quota::{limit_text, parse_size};
use crate::web::auth::{forbidden, form_allowed, LoggedIn};
use crate::web::WebContext;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use mailhive_store::{Quota, QuotaOverride, Username};
use serde::Deserialize;

pub fn routes(config: &mut web::ServiceConfig) {
    config
        .route("/users", web::get().to(list))
        .route("/users", web::post().to(change))
        .route("/users/remove", web::get().to(confirm_removal));
}

#[derive(Template)]
#[template(path = "users.html")]
struct UsersPage {
    chrome: Chrome,
    users: Vec<UserRow>,
    error: Option<String>,
}

/// An account as the page lists it.
struct UserRow {
    name: String,
    admin: bool,
    /// `None` when the account went between the listing and the question.
    quota: Option<Quota>,
}

impl UserRow {
    /// `used / limit` of a resource, or nothing when the quota is unknown.
    fn usage(&self, of: impl Fn(&Quota) -> (u64, u64), unit: &str) -> String {
        self.quota.as_ref().map_or_else(String::new, |quota| {
            let (used, limit) = of(quota);
            format!("{used}{unit} / {}", limit_text(limit, unit))
        })
    }

    fn storage(&self) -> String {
        self.usage(|q| (q.usage.bytes, q.limits.storage), " bytes")
    }

    fn messages(&self) -> String {
        self.usage(|q| (q.usage.messages, q.limits.messages), "")
    }
}

#[derive(Template)]
#[template(path = "users_remove.html")]
struct RemovePage {
    chrome: Chrome,
    name: String,
}

async fn page(
    context: &WebContext,
    admin: &crate::web::sessions::Admin,
    status: StatusCode,
    error: Option<String>,
) -> HttpResponse {
    let (accounts, error) = match ask(context, Request::Users).await {
        Response::Users(users) => (users, error),
        other => (Vec::new(), Some(refusal(other))),
    };
    let mut users = Vec::with_capacity(accounts.len());
    for (name, admin) in accounts {
        let quota = match ask(context, Request::Quota { user: name.clone() }).await {
            Response::Quota(quota) => Some(quota),
            _ => None,
        };
        users.push(UserRow { name, admin, quota });
    }
    let page = UsersPage {
        chrome: Chrome::of(admin, "users"),
        users,
        error,
    };
    html(status, &page)
}

async fn list(LoggedIn(admin): LoggedIn, context: web::Data<WebContext>) -> HttpResponse {
    page(&context, &admin, StatusCode::OK, None).await
}

#[derive(Deserialize)]
struct NameQuery {
    name: String,
}

async fn confirm_removal(LoggedIn(admin): LoggedIn, query: web::Query<NameQuery>) -> HttpResponse {
    let page = RemovePage {
        chrome: Chrome::of(&admin, "users"),
        name: query.into_inner().name,
    };
    html(StatusCode::OK, &page)
}

#[derive(Deserialize)]
struct UserForm {
    #[serde(default)]
    csrf: String,
    action: String,
    name: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    admin: Option<String>,
    #[serde(default)]
    storage: String,
    #[serde(default)]
    messages: String,
}

impl UserForm {
    /// The limits the form gives (an empty field gives none), or why they are wrong.
    fn limits(&self) -> Result<QuotaOverride, String> {
        fn given(text: &str) -> Option<&str> {
            Some(text.trim()).filter(|t| !t.is_empty())
        }
        let storage = given(&self.storage).map(parse_size).transpose()?;
        let messages = given(&self.messages)
            .map(|n| {
                n.parse::<u64>()
                    .map_err(|_| format!("{n:?} is not a number of messages"))
            })
            .transpose()?;
        Ok(QuotaOverride { storage, messages })
    }
}

async fn change(
    request: HttpRequest,
    LoggedIn(admin): LoggedIn,
    context: web::Data<WebContext>,
    form: web::Form<UserForm>,
) -> HttpResponse {
    if !form_allowed(&request, &admin, &form.csrf) {
        return forbidden();
    }
    let form = form.into_inner();
    if matches!(form.action.as_str(), "add" | "password") && form.password.is_empty() {
        let error = Some("A password must not be empty".to_owned());
        return page(&context, &admin, StatusCode::UNPROCESSABLE_ENTITY, error).await;
    }
    let limits = match form.limits() {
        Ok(limits) => limits,
        Err(error) => {
            return page(
                &context,
                &admin,
                StatusCode::UNPROCESSABLE_ENTITY,
                Some(error),
            )
            .await
        }
    };
    // The add form's limits are set once the account exists; the quota form's are its
    // change.
    let mut quota = (matches!(form.action.as_str(), "add" | "quota")
        && (limits.storage.is_some() || limits.messages.is_some()))
    .then(|| Request::ChangeQuota {
        user: form.name.clone(),
        change: limits,
        reset: false,
    });
    let request = match form.action.as_str() {
        "add" => Request::AddUser {
            user: form.name.clone(),
            password: form.password,
            admin: form.admin.is_some(),
        },
        "password" => Request::SetPassword {
            user: form.name.clone(),
            password: form.password,
        },
        "remove" => Request::RemoveUser {
            user: form.name.clone(),
        },
        "quota" => match quota.take() {
            Some(change) => change,
            None => {
                let error = Some("Give a storage limit, a message limit or both".to_owned());
                return page(&context, &admin, StatusCode::UNPROCESSABLE_ENTITY, error).await;
            }
        },
        _ => return HttpResponse::BadRequest().body("unknown action"),
    };
    let mut answer = ask(&context, request).await;
    if let (Response::Done, Some(quota)) = (&answer, quota) {
        answer = ask(&context, quota).await;
    }
    match answer {
        Response::Done | Response::Quota(_) => {
            if form.action == "remove" {
                if let Ok(user) = Username::parse(&form.name) {
                    context.sessions.close_user(&user);
                }
            }
            tracing::info!(user = %admin.user, action = %form.action, "account changed in the console");
            see_other("/users")
        }
        other => {
            let error = Some(refusal(other));
            page(&context, &admin, StatusCode::UNPROCESSABLE_ENTITY, error).await
        }
    }
}
