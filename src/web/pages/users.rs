//! `/users`: the accounts with their role; add one (fields `name`, `password`, and
//! `admin`), set a password, remove one after a confirmation page
//! (`/users/remove?name=…`). Each change is the admin socket's own operation; a removed
//! account, or one whose password changed, is forgotten by the verified-login cache
//! there, and its console sessions end.

use super::{ask, html, refusal, see_other, Chrome};
use crate::admin::wire::{Request, Response};
use crate::web::auth::{forbidden, form_allowed, LoggedIn};
use crate::web::WebContext;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use mailhive_store::Username;
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
    users: Vec<(String, bool)>,
    error: Option<String>,
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
    let (users, error) = match ask(context, Request::Users).await {
        Response::Users(users) => (users, error),
        other => (Vec::new(), Some(refusal(other))),
    };
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
        _ => return HttpResponse::BadRequest().body("unknown action"),
    };
    match ask(&context, request).await {
        Response::Done => {
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
