//! The console's pages, server-rendered from askama templates (`templates/`, checked
//! when the crate compiles; every value escaped as HTML), one module per page. What a
//! page changes it asks for through the admin socket's own operations
//! ([`crate::admin::server::answer`]), so the console, the CLI and the socket share one
//! code path per change.

mod connections;
mod dashboard;
mod settings;
mod sharing;
mod users;

use super::WebContext;
use crate::admin::server::answer;
use crate::admin::wire::{Request, Response};
use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpResponse};
use askama::Template;

pub fn routes(config: &mut web::ServiceConfig) {
    config
        .configure(dashboard::routes)
        .configure(settings::routes)
        .configure(connections::routes)
        .configure(users::routes)
        .configure(sharing::routes)
        .route("/static/console.js", web::get().to(script))
        .route("/static/console.css", web::get().to(style));
}

/// What the layout shows around every page: who is logged in, the token its forms
/// carry, and which page this is (for the navigation).
#[derive(Debug)]
pub struct Chrome {
    pub user: Option<String>,
    pub csrf: String,
    pub page: &'static str,
}

impl Chrome {
    /// The chrome of a page that needs no login (the login page), with its form token.
    pub fn anonymous(csrf: String) -> Chrome {
        Chrome {
            user: None,
            csrf,
            page: "login",
        }
    }

    pub fn of(admin: &super::sessions::Admin, page: &'static str) -> Chrome {
        Chrome {
            user: Some(admin.user.to_string()),
            csrf: admin.csrf.clone(),
            page,
        }
    }
}

/// `page` rendered, with `status`.
pub fn html(status: StatusCode, page: &impl Template) -> HttpResponse {
    match page.render() {
        Ok(body) => HttpResponse::build(status)
            .content_type("text/html; charset=utf-8")
            .body(body),
        Err(e) => {
            tracing::error!(error = %e, "a console page did not render");
            HttpResponse::InternalServerError().finish()
        }
    }
}

/// A redirect after a POST that worked (so a reload does not send it again).
pub fn see_other(location: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, location))
        .finish()
}

/// Carries out an admin request as the admin socket would.
pub async fn ask(context: &WebContext, request: Request) -> Response {
    answer(&context.admin, request).await
}

/// The text of a refused or failed answer, for the page to show.
pub fn refusal(response: Response) -> String {
    match response {
        Response::Refused(text) | Response::Failed(text) => text,
        Response::UnknownUser(name) => format!("{name}: no such user"),
        other => format!("unexpected answer {other:?}"),
    }
}

async fn script() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/javascript; charset=utf-8")
        .body(include_str!("../static/console.js"))
}

async fn style() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/css; charset=utf-8")
        .body(include_str!("../static/console.css"))
}
