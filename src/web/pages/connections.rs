//! `/connections`: every open IMAP and POP3 session (protocol, user, address, since,
//! state, current command), each with a button that ends it through the admin
//! socket's `end-connection` operation. The session says goodbye between commands.

use super::{ask, html, refusal, see_other, Chrome};
use crate::admin::wire::{Request, Response};
use crate::connections::Connection;
use crate::web::auth::{forbidden, form_allowed, LoggedIn};
use crate::web::WebContext;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use serde::Deserialize;

pub fn routes(config: &mut web::ServiceConfig) {
    config
        .route("/connections", web::get().to(list))
        .route("/connections", web::post().to(end));
}

/// A row: the connection and its start as UTC text.
struct Row {
    connection: Connection,
    since: String,
}

#[derive(Template)]
#[template(path = "connections.html")]
struct ConnectionsPage {
    chrome: Chrome,
    rows: Vec<Row>,
    error: Option<String>,
}

async fn page(
    context: &WebContext,
    admin: &crate::web::sessions::Admin,
    status: StatusCode,
    error: Option<String>,
) -> HttpResponse {
    let (connections, error) = match ask(context, Request::Connections).await {
        Response::Connections(connections) => (connections, error),
        other => (Vec::new(), Some(refusal(other))),
    };
    let rows = connections
        .into_iter()
        .map(|connection| Row {
            since: chrono::DateTime::from_timestamp(connection.since, 0)
                .map(|t| t.format("%Y-%m-%d %H:%M:%S UTC").to_string())
                .unwrap_or_default(),
            connection,
        })
        .collect();
    let page = ConnectionsPage {
        chrome: Chrome::of(admin, "connections"),
        rows,
        error,
    };
    html(status, &page)
}

async fn list(LoggedIn(admin): LoggedIn, context: web::Data<WebContext>) -> HttpResponse {
    page(&context, &admin, StatusCode::OK, None).await
}

#[derive(Deserialize)]
struct EndForm {
    #[serde(default)]
    csrf: String,
    id: u64,
}

async fn end(
    request: HttpRequest,
    LoggedIn(admin): LoggedIn,
    context: web::Data<WebContext>,
    form: web::Form<EndForm>,
) -> HttpResponse {
    if !form_allowed(&request, &admin, &form.csrf) {
        return forbidden();
    }
    match ask(&context, Request::EndConnection { id: form.id }).await {
        Response::Done => {
            tracing::info!(user = %admin.user, id = form.id, "connection ended in the console");
            see_other("/connections")
        }
        other => {
            page(
                &context,
                &admin,
                StatusCode::UNPROCESSABLE_ENTITY,
                Some(refusal(other)),
            )
            .await
        }
    }
}
