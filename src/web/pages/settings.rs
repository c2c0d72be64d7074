//! `/settings/imap` and `/settings/pop3`: every setting of the protocol with its value,
//! source and range, edited in place. A field is named by its config key; a switch is
//! a checkbox. Saving checks every field first, with the parser the config file and the
//! CLI use: a bad value is shown next to its field with its range, and nothing of the
//! form is changed. The values that differ from the running ones then go to the admin
//! socket's `settings set` operation, which persists them and applies them at once.

use super::{ask, html, refusal, see_other, Chrome};
use crate::admin::wire::{settings_from_wire, Request, Response};
use crate::config::{parse_value, Kind, Protocol, ProtocolSettings, Setting};
use crate::web::auth::{forbidden, form_allowed, LoggedIn};
use crate::web::WebContext;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use std::collections::HashMap;

pub fn routes(config: &mut web::ServiceConfig) {
    config
        .route("/settings/{protocol}", web::get().to(show))
        .route("/settings/{protocol}", web::post().to(save));
}

/// One row of the form.
struct Row {
    name: &'static str,
    key: &'static str,
    switch: bool,
    /// As shown in the field: the running value, or what was sent when the form failed.
    value: String,
    source: &'static str,
    range: String,
    error: Option<String>,
}

#[derive(Template)]
#[template(path = "settings.html")]
struct SettingsPage {
    chrome: Chrome,
    name: &'static str,
    key: &'static str,
    rows: Vec<Row>,
    error: Option<String>,
    saved: bool,
}

fn protocol_of(path: &str) -> Option<(Protocol, &'static str)> {
    match Protocol::from_key(path)? {
        Protocol::Imap => Some((Protocol::Imap, "IMAP")),
        Protocol::Pop3 => Some((Protocol::Pop3, "POP3")),
    }
}

fn range(protocol: Protocol, setting: Setting) -> String {
    match (setting.kind(), setting.spec(protocol)) {
        (Kind::Switch, _) => "true or false".into(),
        (kind, Some(spec)) => {
            let unit = if kind == Kind::Seconds { " s" } else { "" };
            format!("{} – {}{unit}", spec.min, spec.max)
        }
        (_, None) => String::new(),
    }
}

fn rows(settings: &ProtocolSettings) -> Vec<Row> {
    settings
        .entries()
        .map(|(setting, value, source)| Row {
            name: setting.name(),
            key: setting.key(),
            switch: setting.kind() == Kind::Switch,
            value: setting.display(value),
            source: source.name(),
            range: range(settings.protocol, setting),
            error: None,
        })
        .collect()
}

/// The running server's settings of `protocol`.
async fn current(context: &WebContext, protocol: Protocol) -> Result<ProtocolSettings, String> {
    let request = Request::Settings {
        protocol: protocol.key().into(),
    };
    match ask(context, request).await {
        Response::Settings(entries) => settings_from_wire(protocol, &entries),
        other => Err(refusal(other)),
    }
}

async fn show(
    LoggedIn(admin): LoggedIn,
    context: web::Data<WebContext>,
    path: web::Path<String>,
    query: web::Query<HashMap<String, String>>,
) -> HttpResponse {
    let Some((protocol, name)) = protocol_of(&path) else {
        return HttpResponse::NotFound().finish();
    };
    let (rows, error) = match current(&context, protocol).await {
        Ok(settings) => (rows(&settings), None),
        Err(e) => (Vec::new(), Some(e)),
    };
    let page = SettingsPage {
        chrome: Chrome::of(&admin, protocol.key()),
        name,
        key: protocol.key(),
        rows,
        error,
        saved: query.contains_key("saved"),
    };
    html(StatusCode::OK, &page)
}

async fn save(
    request: HttpRequest,
    LoggedIn(admin): LoggedIn,
    context: web::Data<WebContext>,
    path: web::Path<String>,
    form: web::Form<HashMap<String, String>>,
) -> HttpResponse {
    let Some((protocol, name)) = protocol_of(&path) else {
        return HttpResponse::NotFound().finish();
    };
    let form = form.into_inner();
    if !form_allowed(&request, &admin, form.get("csrf").map_or("", |s| s)) {
        return forbidden();
    }
    let settings = match current(&context, protocol).await {
        Ok(settings) => settings,
        Err(e) => return HttpResponse::ServiceUnavailable().body(e),
    };
    let mut rows = rows(&settings);
    let mut changed = Vec::new();
    for row in &mut rows {
        let Some(setting) = Setting::find(row.key) else {
            continue;
        };
        // An unticked checkbox is not sent: the switch is off.
        let sent = match (row.switch, form.get(row.key)) {
            (true, sent) => if sent.is_some() { "true" } else { "false" }.to_owned(),
            (false, Some(sent)) => sent.clone(),
            (false, None) => row.value.clone(),
        };
        match parse_value(protocol, setting, &sent) {
            Ok(value) if Some(value) != settings.get(setting) => {
                changed.push((setting.key().to_owned(), value))
            }
            Ok(_) => {}
            Err(e) => row.error = Some(e),
        }
        row.value = sent;
    }
    let failed = rows.iter().any(|r| r.error.is_some());
    if !failed && changed.is_empty() {
        return see_other(&format!("/settings/{}?saved", protocol.key()));
    }
    let error = if failed {
        Some("Nothing was changed: correct the values marked below.".to_owned())
    } else {
        let request = Request::ChangeSettings {
            protocol: protocol.key().into(),
            set: changed,
            reset: Vec::new(),
        };
        match ask(&context, request).await {
            Response::Settings(_) => {
                tracing::info!(user = %admin.user, protocol = protocol.key(), "settings changed in the console");
                return see_other(&format!("/settings/{}?saved", protocol.key()));
            }
            other => Some(refusal(other)),
        }
    };
    let page = SettingsPage {
        chrome: Chrome::of(&admin, protocol.key()),
        name,
        key: protocol.key(),
        rows,
        error,
        saved: false,
    };
    html(StatusCode::UNPROCESSABLE_ENTITY, &page)
}
