//! `/sharing`: the ACL of one mailbox (`?owner=…&mailbox=…`), and a form (fields
//! `owner`, `mailbox`, `user`, `rights`, as `mailhive acl set`) that adds, changes or,
//! with empty rights, removes an entry through the admin socket's `acl set` operation.

use super::{ask, html, refusal, see_other, Chrome};
use crate::admin::wire::{Request, Response};
use crate::web::auth::{forbidden, form_allowed, LoggedIn};
use crate::web::WebContext;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use serde::Deserialize;

pub fn routes(config: &mut web::ServiceConfig) {
    config
        .route("/sharing", web::get().to(show))
        .route("/sharing", web::post().to(set));
}

#[derive(Template)]
#[template(path = "sharing.html")]
struct SharingPage {
    chrome: Chrome,
    owner: String,
    mailbox: String,
    entries: Option<Vec<(String, String)>>,
    error: Option<String>,
}

#[derive(Deserialize)]
struct Mailbox {
    #[serde(default)]
    owner: String,
    #[serde(default)]
    mailbox: String,
}

async fn page(
    context: &WebContext,
    admin: &crate::web::sessions::Admin,
    status: StatusCode,
    Mailbox { owner, mailbox }: Mailbox,
    error: Option<String>,
) -> HttpResponse {
    let (entries, error) = if owner.is_empty() || mailbox.is_empty() {
        (None, error)
    } else {
        let request = Request::Acl {
            owner: owner.clone(),
            mailbox: mailbox.clone(),
        };
        match ask(context, request).await {
            Response::Acl(entries) => (Some(entries), error),
            other => (None, error.or(Some(refusal(other)))),
        }
    };
    let page = SharingPage {
        chrome: Chrome::of(admin, "sharing"),
        owner,
        mailbox,
        entries,
        error,
    };
    html(status, &page)
}

async fn show(
    LoggedIn(admin): LoggedIn,
    context: web::Data<WebContext>,
    query: web::Query<Mailbox>,
) -> HttpResponse {
    page(&context, &admin, StatusCode::OK, query.into_inner(), None).await
}

#[derive(Deserialize)]
struct AclForm {
    #[serde(default)]
    csrf: String,
    owner: String,
    mailbox: String,
    user: String,
    #[serde(default)]
    rights: String,
}

async fn set(
    request: HttpRequest,
    LoggedIn(admin): LoggedIn,
    context: web::Data<WebContext>,
    form: web::Form<AclForm>,
) -> HttpResponse {
    if !form_allowed(&request, &admin, &form.csrf) {
        return forbidden();
    }
    let form = form.into_inner();
    let target = Mailbox {
        owner: form.owner.clone(),
        mailbox: form.mailbox.clone(),
    };
    let request = Request::SetAcl {
        owner: form.owner,
        mailbox: form.mailbox,
        grantee: form.user,
        rights: form.rights,
    };
    match ask(&context, request).await {
        Response::Done => {
            tracing::info!(user = %admin.user, "sharing changed in the console");
            let query = serde_urlencoded::to_string([
                ("owner", target.owner.as_str()),
                ("mailbox", target.mailbox.as_str()),
            ])
            .unwrap_or_default();
            see_other(&format!("/sharing?{query}"))
        }
        other => {
            let error = Some(refusal(other));
            page(
                &context,
                &admin,
                StatusCode::UNPROCESSABLE_ENTITY,
                target,
                error,
            )
            .await
        }
    }
}
