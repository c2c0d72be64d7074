//! `/`: what the server does now — connections, logins and the busiest users and
//! addresses per protocol, FETCH and SEARCH slots, LMTP deliveries, the store's size.
//! The counts come from the Limiter through the admin socket's `status` operation; the
//! totals since start from [`crate::metrics`], the rates per minute from their samples.

use super::{ask, html, refusal, Chrome};
use crate::admin::wire::{Request, Response};
use crate::connections::Connection;
use crate::limiter::{Counts, ProtocolCounts};
use crate::metrics::{self, DeliveryResult, LoginResult};
use crate::web::auth::LoggedIn;
use crate::web::probe::store_totals;
use crate::web::rates::LoginRates;
use crate::web::WebContext;
use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use askama::Template;
use std::collections::BTreeMap;

pub fn routes(config: &mut web::ServiceConfig) {
    config.route("/", web::get().to(dashboard));
}

/// One protocol's card.
struct ProtocolCard {
    name: &'static str,
    key: &'static str,
    counts: ProtocolCounts,
    logins_ok: u64,
    logins_failed: u64,
    logins_refused: u64,
    /// Logins ok and failed within about the last minute.
    per_minute: (u64, u64),
}

impl ProtocolCard {
    fn new(
        name: &'static str,
        key: &'static str,
        counts: ProtocolCounts,
        rates: &LoginRates,
    ) -> ProtocolCard {
        ProtocolCard {
            per_minute: rates.per_minute(key),
            name,
            key,
            counts,
            logins_ok: metrics::logins(key, LoginResult::Ok),
            logins_failed: metrics::logins(key, LoginResult::Failed),
            logins_refused: metrics::logins(key, LoginResult::Refused),
        }
    }
}

#[derive(Template)]
#[template(path = "dashboard.html")]
struct Dashboard {
    chrome: Chrome,
    protocols: Vec<ProtocolCard>,
    counts: Counts,
    /// Sessions open per protocol and listener.
    listeners: Vec<(String, String, u64)>,
    /// Console logins ok and failed within about the last minute.
    web_per_minute: (u64, u64),
    deliveries_ok: u64,
    deliveries_failed: u64,
    deliveries_refused: u64,
    store_messages: u64,
    store_bytes: u64,
    store_on_disk: u64,
}

async fn dashboard(LoggedIn(admin): LoggedIn, context: web::Data<WebContext>) -> HttpResponse {
    let counts = match ask(&context, Request::Status).await {
        Response::Status(counts) => *counts,
        other => return failed(&refusal(other)),
    };
    let listeners = match ask(&context, Request::Connections).await {
        Response::Connections(open) => per_listener(&open),
        other => return failed(&refusal(other)),
    };
    let store = context.store().clone();
    let sizes = web::block(move || {
        let (messages, bytes) = store_totals(&store)?;
        Ok::<_, mailhive_store::StoreError>((messages, bytes, store.size_on_disk()?))
    })
    .await;
    let (store_messages, store_bytes, store_on_disk) = match sizes {
        Ok(Ok(sizes)) => sizes,
        Ok(Err(e)) => return failed(&e),
        Err(e) => return failed(&e),
    };
    let page = Dashboard {
        chrome: Chrome::of(&admin, "dashboard"),
        protocols: vec![
            ProtocolCard::new("IMAP", "imap", counts.imap.clone(), &context.rates),
            ProtocolCard::new("POP3", "pop3", counts.pop3.clone(), &context.rates),
        ],
        web_per_minute: context.rates.per_minute("web"),
        counts,
        listeners,
        deliveries_ok: metrics::deliveries(DeliveryResult::Ok),
        deliveries_failed: metrics::deliveries(DeliveryResult::Failed),
        deliveries_refused: metrics::deliveries(DeliveryResult::Refused),
        store_messages,
        store_bytes,
        store_on_disk,
    };
    html(StatusCode::OK, &page)
}

/// How many of `open` came in on each protocol's listeners.
fn per_listener(open: &[Connection]) -> Vec<(String, String, u64)> {
    let mut counts = BTreeMap::<(&str, &str), u64>::new();
    for connection in open {
        *counts
            .entry((&connection.protocol, &connection.listener))
            .or_default() += 1;
    }
    counts
        .into_iter()
        .map(|((protocol, listener), n)| (protocol.to_owned(), listener.to_owned(), n))
        .collect()
}

fn failed(error: &dyn std::fmt::Display) -> HttpResponse {
    tracing::error!(%error, "the dashboard cannot be made");
    HttpResponse::ServiceUnavailable()
        .content_type("text/plain; charset=utf-8")
        .body("The server's counts are not available now")
}
