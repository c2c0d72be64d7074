//! What monitoring reads: `GET /healthz` (200 `ok` while the store answers, 503
//! otherwise) and `GET /metrics` (OpenMetrics text of [`crate::metrics`], behind the
//! optional bearer token `[web] metrics_token`).

use super::WebContext;
use crate::limiter::Snapshot;
use crate::metrics::{self, Gauges};
use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use mailhive_store::{Store, StoreError};

pub fn routes(config: &mut web::ServiceConfig) {
    config
        .route("/healthz", web::get().to(healthz))
        .route("/metrics", web::get().to(scrape));
}

async fn healthz(context: web::Data<WebContext>) -> HttpResponse {
    let store = context.store().clone();
    match web::block(move || store.size_on_disk()).await {
        Ok(Ok(_)) => HttpResponse::Ok().content_type("text/plain").body("ok"),
        Ok(Err(e)) => unavailable(&e),
        Err(e) => unavailable(&e),
    }
}

fn unavailable(error: &dyn std::fmt::Display) -> HttpResponse {
    tracing::error!(%error, "health check: the store does not answer");
    HttpResponse::ServiceUnavailable()
        .content_type("text/plain")
        .body("the store does not answer")
}

async fn scrape(request: HttpRequest, context: web::Data<WebContext>) -> HttpResponse {
    if let Some(token) = &context.metrics_token {
        if !bearer_matches(&request, token) {
            return HttpResponse::Unauthorized()
                .insert_header((header::WWW_AUTHENTICATE, "Bearer"))
                .finish();
        }
    }
    let counts = match context.admin.limiter.send(Snapshot).await {
        Ok(counts) => counts,
        Err(e) => return unavailable(&e),
    };
    let store = context.store().clone();
    let (store_messages, store_bytes) = match web::block(move || store_totals(&store)).await {
        Ok(Ok(totals)) => totals,
        Ok(Err(e)) => return unavailable(&e),
        Err(e) => return unavailable(&e),
    };
    let text = metrics::encode(&Gauges {
        counts,
        store_messages,
        store_bytes,
    });
    HttpResponse::Ok()
        .content_type("application/openmetrics-text; version=1.0.0; charset=utf-8")
        .body(text)
}

/// Whether the request carries `Authorization: Bearer TOKEN`, compared in time that
/// does not depend on where the first difference is.
fn bearer_matches(request: &HttpRequest, token: &str) -> bool {
    let given = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or_default();
    given.len() == token.len()
        && given
            .bytes()
            .zip(token.bytes())
            .fold(0u8, |diff, (a, b)| diff | (a ^ b))
            == 0
}

/// Messages and bytes in every mailbox of every account: one read of each mailbox's
/// record (its counters), none of a message.
pub fn store_totals(store: &Store) -> Result<(u64, u64), StoreError> {
    let (mut messages, mut bytes) = (0, 0);
    for user in store.users()? {
        for mailbox in store.mailboxes(&user)? {
            messages += u64::from(mailbox.messages);
            bytes += mailbox.bytes;
        }
    }
    Ok((messages, bytes))
}
