//! The web console over real sockets, as a browser without JavaScript uses it: who
//! gets in (administrators only, through IMAP's login path and its brute-force
//! counts; plain HTTP as `tls.plaintext_auth` allows), what everyone else gets (the
//! login page or 403, never data), the cookies' attributes, the CSRF token and the
//! cross-site checks on every form, and the pages' changes reaching the running server.

use crate::harness::{Env, LineClient, Server};
use crate::http::{get, request, Response};
use std::net::SocketAddr;

/// A browser's state: its cookies for the console.
#[derive(Default)]
struct Browser {
    cookies: Vec<(String, String)>,
}

impl Browser {
    fn cookie_header(&self) -> String {
        self.cookies
            .iter()
            .map(|(n, v)| format!("{n}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    /// Keeps the cookies `answer` sets (and drops the ones it removes).
    fn keep(&mut self, answer: &Response) {
        for (name, value) in &answer.headers {
            if name != "set-cookie" {
                continue;
            }
            let pair = value.split(';').next().unwrap_or_default();
            let (cookie, content) = pair.split_once('=').expect("name=value");
            self.cookies.retain(|(n, _)| n != cookie);
            if !content.is_empty() {
                self.cookies.push((cookie.to_owned(), content.to_owned()));
            }
        }
    }

    fn get(&mut self, addr: SocketAddr, path: &str) -> Response {
        let cookies = self.cookie_header();
        let answer = get(addr, path, &[("Cookie", &cookies)]);
        self.keep(&answer);
        answer
    }

    /// POSTs `fields` as a form sent from the console's own page.
    fn post(&mut self, addr: SocketAddr, path: &str, fields: &[(&str, &str)]) -> Response {
        let origin = format!("http://{addr}");
        self.post_with(addr, path, fields, &[("Origin", &origin)])
    }

    fn post_with(
        &mut self,
        addr: SocketAddr,
        path: &str,
        fields: &[(&str, &str)],
        headers: &[(&str, &str)],
    ) -> Response {
        let body = form(fields);
        let cookies = self.cookie_header();
        let mut all = vec![
            ("Cookie", cookies.as_str()),
            ("Content-Type", "application/x-www-form-urlencoded"),
        ];
        all.extend_from_slice(headers);
        let answer = request(addr, "POST", path, &all, &body);
        self.keep(&answer);
        answer
    }

    /// Logs in as `user`; the answer to the form.
    fn log_in(&mut self, addr: SocketAddr, user: &str, password: &str) -> Response {
        let page = self.get(addr, "/login");
        let csrf = csrf(&page.body);
        self.post(
            addr,
            "/login",
            &[("csrf", &csrf), ("user", user), ("password", password)],
        )
    }
}

fn form(fields: &[(&str, &str)]) -> String {
    fields
        .iter()
        .map(|(n, v)| format!("{}={}", encode(n), encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

fn encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The value of the first hidden `csrf` field of a page.
fn csrf(page: &str) -> String {
    let start = page
        .find("name=\"csrf\" value=\"")
        .map(|i| i + "name=\"csrf\" value=\"".len())
        .unwrap_or_else(|| panic!("no csrf field in {page}"));
    page[start..]
        .split('"')
        .next()
        .unwrap_or_default()
        .to_owned()
}

/// The fields a browser sends for the form of class `class` on `page`: every named
/// input with its value, checkboxes only when checked.
fn form_fields(page: &str, class: &str) -> Vec<(String, String)> {
    let start = page
        .find(&format!("class=\"{class}\""))
        .unwrap_or_else(|| panic!("no form {class} in {page}"));
    let form = &page[start
        ..page[start..]
            .find("</form>")
            .map_or(page.len(), |e| start + e)];
    let attribute = |input: &str, name: &str| {
        let key = format!("{name}=\"");
        input.find(&key).map(|i| {
            input[i + key.len()..]
                .split('"')
                .next()
                .unwrap_or_default()
                .to_owned()
        })
    };
    form.split("<input")
        .skip(1)
        .filter_map(|input| {
            let input = input.split('>').next().unwrap_or_default();
            let name = attribute(input, "name")?;
            if input.contains("type=\"checkbox\"") && !input.contains(" checked") {
                return None;
            }
            Some((name, attribute(input, "value").unwrap_or_default()))
        })
        .collect()
}

/// An environment with the administrator `root` and the user `alice`.
fn accounts(env: &Env) {
    env.ok(
        &["user", "add", "root", "--admin", "--password-stdin"],
        "rootpw\n",
    );
    env.add_user("alice", "alicepw");
}

/// A running server with [`accounts`], and a browser logged in as its administrator.
fn administrator_logged_in() -> (Env, Server, Browser) {
    let env = Env::new();
    accounts(&env);
    let server = env.serve(&[]);
    let mut admin = Browser::default();
    assert_eq!(admin.log_in(server.web, "root", "rootpw").status, 303);
    (env, server, admin)
}

fn assert_login_page(answer: &Response) {
    assert_eq!(answer.status, 303, "{answer:?}");
    assert_eq!(answer.header("location"), Some("/login"), "{answer:?}");
    assert!(!answer.body.contains("alice"), "{answer:?}");
}

const PAGES: [&str; 6] = [
    "/",
    "/settings/imap",
    "/settings/pop3",
    "/users",
    "/users/remove?name=alice",
    "/sharing?owner=alice&mailbox=INBOX",
];

#[test]
fn without_a_session_every_page_sends_to_the_login_page() {
    let env = Env::new();
    accounts(&env);
    let server = env.serve(&[]);
    let mut forged = Browser {
        cookies: vec![("mailhive_session".into(), "00".repeat(32))],
    };
    for path in PAGES {
        assert_login_page(&get(server.web, path, &[]));
        assert_login_page(&forged.get(server.web, path));
    }
    let add = [
        ("csrf", "x"),
        ("action", "add"),
        ("name", "eve"),
        ("password", "pw"),
    ];
    assert_login_page(&forged.post(server.web, "/users", &add));
    assert_login_page(&Browser::default().post(server.web, "/users", &add));
    assert_eq!(env.ok(&["user", "list"], ""), "alice\nroot (admin)\n");
    let login = get(server.web, "/login", &[]);
    assert_eq!(login.status, 200);
    assert!(login.body.contains("name=\"user\""), "{login:?}");
    assert!(login.body.contains("name=\"password\""), "{login:?}");
}

#[test]
fn only_administrators_log_in_and_their_cookie_is_locked_down() {
    let env = Env::new();
    accounts(&env);
    let server = env.serve(&[]);
    let mut user = Browser::default();
    let refused = user.log_in(server.web, "alice", "alicepw");
    assert_eq!(refused.status, 401, "{refused:?}");
    assert!(refused.body.contains("class=\"error\""), "{refused:?}");
    assert!(!user.cookies.iter().any(|(n, _)| n == "mailhive_session"));
    assert_login_page(&user.get(server.web, "/users"));
    let wrong = Browser::default().log_in(server.web, "root", "not-it");
    assert_eq!(wrong.status, 401, "{wrong:?}");

    let mut admin = Browser::default();
    let welcome = admin.log_in(server.web, "root", "rootpw");
    assert_eq!(welcome.status, 303, "{welcome:?}");
    assert_eq!(welcome.header("location"), Some("/"));
    let session = welcome
        .headers
        .iter()
        .find(|(n, v)| n == "set-cookie" && v.starts_with("mailhive_session="))
        .map(|(_, v)| v.clone())
        .expect("a session cookie");
    assert!(session.contains("HttpOnly"), "{session}");
    assert!(session.contains("SameSite=Strict"), "{session}");
    assert!(!session.contains("Secure"), "plain HTTP: {session}");
    let id = &session["mailhive_session=".len()..session.find(';').expect("attributes")];
    assert_eq!(id.len(), 64, "{session}");
    for path in PAGES {
        let page = admin.get(server.web, path);
        assert_eq!(page.status, 200, "{path}: {page:?}");
        assert!(
            !page.body.contains("<script>"),
            "no inline script: {page:?}"
        );
    }
    let dashboard = admin.get(server.web, "/");
    assert!(dashboard.body.contains("Dashboard"), "{dashboard:?}");
    // alice's right password and root's wrong one failed, root's login worked.
    assert!(
        dashboard
            .body
            .contains("Console logins in the last minute: 1 ok, 2 failed"),
        "{dashboard:?}"
    );

    // Taking the flag away ends the access at the next request.
    env.ok(&["user", "admin", "root", "off"], "");
    assert_login_page(&admin.get(server.web, "/"));
}

#[test]
fn every_form_needs_its_token_and_its_own_site() {
    let (env, server, mut admin) = administrator_logged_in();
    let token = csrf(&admin.get(server.web, "/users").body);
    let add = |csrf: &'static str| {
        [
            ("csrf", csrf),
            ("action", "add"),
            ("name", "bob"),
            ("password", "bobpw"),
        ]
    };
    let leaked = |answer: &Response| answer.body.contains("alice") || answer.body.contains("bob");
    for answer in [
        admin.post(server.web, "/users", &add("")[1..]),
        admin.post(server.web, "/users", &add("")),
        admin.post(server.web, "/users", &add("0123456789abcdef")),
    ] {
        assert_eq!(answer.status, 403, "{answer:?}");
        assert!(!leaked(&answer), "{answer:?}");
    }
    let good: &'static str = Box::leak(token.clone().into_boxed_str());
    for headers in [
        [("Origin", "http://evil.example")],
        [("Referer", "http://evil.example/form.html")],
        [("Sec-Fetch-Site", "cross-site")],
        [("Sec-Fetch-Site", "same-site")],
        [("Origin", "null")],
    ] {
        let answer = admin.post_with(server.web, "/users", &add(good), &headers);
        assert_eq!(answer.status, 403, "{headers:?}: {answer:?}");
        assert!(!leaked(&answer), "{answer:?}");
    }
    // A login form from another site is refused too, before any password is checked.
    let mut other = Browser::default();
    let login_token = csrf(&other.get(server.web, "/login").body);
    let answer = other.post_with(
        server.web,
        "/login",
        &[
            ("csrf", &login_token),
            ("user", "root"),
            ("password", "rootpw"),
        ],
        &[("Origin", "http://evil.example")],
    );
    assert_eq!(answer.status, 403, "{answer:?}");
    let answer = Browser::default().post(
        server.web,
        "/login",
        &[
            ("csrf", &login_token),
            ("user", "root"),
            ("password", "rootpw"),
        ],
    );
    assert_eq!(
        answer.status, 403,
        "a login token without its cookie: {answer:?}"
    );
    assert_eq!(env.ok(&["user", "list"], ""), "alice\nroot (admin)\n");

    // What Chromium sends with the console's own form under Referrer-Policy: no-referrer.
    let chromium = [("Sec-Fetch-Site", "same-origin"), ("Origin", "null")];
    let added = admin.post_with(server.web, "/users", &add(good), &chromium);
    assert_eq!(added.status, 303, "{added:?}");
    assert_eq!(env.ok(&["user", "list"], ""), "alice\nbob\nroot (admin)\n");
    let mut imap = LineClient::imap_login(server.imap, "bob", "bobpw");
    imap.imap_ok("LOGOUT");

    let logout = admin.post(server.web, "/logout", &[("csrf", good)]);
    assert_eq!(logout.status, 303, "{logout:?}");
    assert_login_page(&admin.get(server.web, "/users"));
}

#[test]
fn console_login_failures_count_with_imaps() {
    let env =
        Env::with_imap_settings("max_login_failures_from_single_ip = 2\nlogin_failure_delay = 0");
    accounts(&env);
    let server = env.serve(&[]);
    for _ in 0..2 {
        let wrong = Browser::default().log_in(server.web, "root", "guess");
        assert_eq!(wrong.status, 401, "{wrong:?}");
    }
    let cooled = Browser::default().log_in(server.web, "root", "rootpw");
    assert_eq!(cooled.status, 429, "{cooled:?}");
    assert!(cooled.body.contains("Too many failed logins"), "{cooled:?}");
    let mut imap = LineClient::connect(server.imap);
    imap.expect_prefix("* OK");
    imap.send("a LOGIN alice alicepw");
    imap.expect("a NO [UNAVAILABLE] Too many failed logins; try again later");
}

#[test]
fn settings_are_edited_in_place_and_a_bad_value_changes_nothing() {
    let (env, server, mut admin) = administrator_logged_in();
    let page = admin.get(server.web, "/settings/imap");
    assert!(
        page.body
            .contains("name=\"max_connections\" value=\"2000\""),
        "{page:?}"
    );
    assert!(
        page.body
            .contains("name=\"idle_enabled\" value=\"true\" checked"),
        "{page:?}"
    );
    assert!(page.body.contains("1 – 2147483647"), "{page:?}");
    let mut fields = form_fields(&page.body, "settings");
    let set = |fields: &mut Vec<(String, String)>, key: &str, value: &str| {
        fields
            .iter_mut()
            .find(|(n, _)| n == key)
            .unwrap_or_else(|| panic!("no field {key}"))
            .1 = value.to_owned();
    };
    set(&mut fields, "max_failed_logins", "5");
    set(&mut fields, "max_connections", "0");
    let pairs: Vec<(&str, &str)> = fields
        .iter()
        .map(|(n, v)| (n.as_str(), v.as_str()))
        .collect();
    let refused = admin.post(server.web, "/settings/imap", &pairs);
    assert_eq!(refused.status, 422, "{refused:?}");
    assert!(
        refused.body.contains(
            "<span class=\"error\">MaxConnections = 0 is out of range: it must be between 1 and 2147483647</span>"
        ),
        "{refused:?}"
    );
    let show = env.ok(&["settings", "show", "imap"], "");
    assert!(show.contains("MaxConnections : 2000 (default)"), "{show}");
    assert!(show.contains("MaxFailedLogins : 3 (default)"), "{show}");

    set(&mut fields, "max_connections", "1");
    let pairs: Vec<(&str, &str)> = fields
        .iter()
        .map(|(n, v)| (n.as_str(), v.as_str()))
        .collect();
    let saved = admin.post(server.web, "/settings/imap", &pairs);
    assert_eq!(saved.status, 303, "{saved:?}");
    let show = env.ok(&["settings", "show", "imap"], "");
    assert!(show.contains("MaxConnections : 1 (set)"), "{show}");
    assert!(show.contains("MaxFailedLogins : 5 (set)"), "{show}");
    assert!(show.contains("IdleEnabled : true (default)"), "{show}");
    let _first = LineClient::imap_login(server.imap, "alice", "alicepw");
    let mut second = LineClient::connect(server.imap);
    second.expect("* BYE [UNAVAILABLE] Too many connections to this server");
}

#[test]
fn users_are_listed_with_their_usage_and_given_a_quota() {
    let (env, server, mut admin) = administrator_logged_in();
    let token = csrf(&admin.get(server.web, "/users").body);
    let post = |admin: &mut Browser, fields: &[(&str, &str)]| {
        let mut all = vec![("csrf", token.as_str())];
        all.extend_from_slice(fields);
        admin.post(server.web, "/users", &all)
    };
    let quota = |name| [("action", "quota"), ("name", name)];
    let set = post(
        &mut admin,
        &[&quota("alice")[..], &[("storage", "1K"), ("messages", "5")]].concat(),
    );
    assert_eq!(set.status, 303, "{set:?}");
    let page = admin.get(server.web, "/users");
    assert!(
        page.body
            .contains("<td>alice</td><td>user</td>\n<td>0 bytes / 1024 bytes</td><td>0 / 5</td>"),
        "{page:?}"
    );
    let shown = env.ok(&["quota", "show", "--user", "alice"], "");
    assert!(shown.contains("MessagesLimit : 5 (set)"), "{shown}");
    // A bad size, or no limit at all, is said next to the form and changes nothing.
    for fields in [
        [
            &quota("alice")[..],
            &[("storage", "12Q"), ("messages", "9")],
        ]
        .concat(),
        quota("alice").to_vec(),
    ] {
        let refused = post(&mut admin, &fields);
        assert_eq!(refused.status, 422, "{refused:?}");
        assert!(refused.body.contains("class=\"error\""), "{refused:?}");
    }
    let shown = env.ok(&["quota", "show", "--user", "alice"], "");
    assert!(shown.contains("MessagesLimit : 5 (set)"), "{shown}");
    // A user added with limits has them at once.
    let added = post(
        &mut admin,
        &[
            ("action", "add"),
            ("name", "dave"),
            ("password", "davepw"),
            ("messages", "3"),
        ],
    );
    assert_eq!(added.status, 303, "{added:?}");
    let shown = env.ok(&["quota", "show", "--user", "dave"], "");
    assert!(shown.contains("MessagesLimit : 3 (set)"), "{shown}");
}

#[test]
fn sharing_entries_are_added_and_removed() {
    let (env, server, mut admin) = administrator_logged_in();
    let token = csrf(&admin.get(server.web, "/sharing").body);
    let grant = |rights: &'static str| -> Vec<(&'static str, String)> {
        vec![
            ("owner", "alice".into()),
            ("mailbox", "INBOX".into()),
            ("user", "root".into()),
            ("rights", rights.into()),
        ]
    };
    let post = |admin: &mut Browser, fields: Vec<(&'static str, String)>| {
        let mut all: Vec<(&str, &str)> = vec![("csrf", token.as_str())];
        all.extend(fields.iter().map(|(n, v)| (*n, v.as_str())));
        admin.post(server.web, "/sharing", &all)
    };
    let set = post(&mut admin, grant("lr"));
    assert_eq!(set.status, 303, "{set:?}");
    assert_eq!(
        set.header("location"),
        Some("/sharing?owner=alice&mailbox=INBOX")
    );
    let page = admin.get(server.web, "/sharing?owner=alice&mailbox=INBOX");
    assert!(
        page.body.contains("<td>root</td><td><code>lr</code></td>"),
        "{page:?}"
    );
    let shown = env.ok(
        &["acl", "show", "--owner", "alice", "--mailbox", "INBOX"],
        "",
    );
    assert!(shown.contains("root lr"), "{shown}");
    let refused = post(&mut admin, grant("lrZ"));
    assert_eq!(refused.status, 422, "{refused:?}");
    assert!(refused.body.contains("class=\"error\""), "{refused:?}");
    assert_eq!(post(&mut admin, grant("")).status, 303);
    let page = admin.get(server.web, "/sharing?owner=alice&mailbox=INBOX");
    assert!(!page.body.contains("<td>root</td>"), "{page:?}");
}

#[test]
fn a_session_is_listed_and_ended_from_the_connections_page() {
    let (_env, server, mut admin) = administrator_logged_in();
    let mut imap = LineClient::imap_login(server.imap, "alice", "alicepw");
    imap.imap_ok("SELECT INBOX");
    let mut pop3 = LineClient::connect(server.pop3);
    pop3.expect_prefix("+OK");
    let dashboard = admin.get(server.web, "/");
    for (protocol, listener) in [("imap", server.imap), ("pop3", server.pop3)] {
        let row = format!("<tr><td>{protocol}</td><td>{listener}</td><td>1</td></tr>");
        assert!(dashboard.body.contains(&row), "{row} in {dashboard:?}");
    }
    let page = admin.get(server.web, "/connections");
    assert_eq!(page.status, 200, "{page:?}");
    assert!(
        page.body.contains("<td>imap</td>\n<td>alice</td>"),
        "{page:?}"
    );
    assert!(page.body.contains("<td>selected</td>"), "{page:?}");
    assert!(page.body.contains("<td>pop3</td>\n<td></td>"), "{page:?}");
    assert!(page.body.contains("<td>authorization</td>"), "{page:?}");
    let token = csrf(&page.body);
    let ids: Vec<String> = page
        .body
        .split("name=\"id\" value=\"")
        .skip(1)
        .map(|rest| rest.split('"').next().unwrap_or_default().to_owned())
        .collect();
    assert_eq!(ids.len(), 2, "{page:?}");
    let refused = admin.post(
        server.web,
        "/connections",
        &[("csrf", &token), ("id", "999999")],
    );
    assert_eq!(refused.status, 422, "{refused:?}");
    assert!(
        refused.body.contains("no connection 999999 is open"),
        "{refused:?}"
    );
    let forged = admin.post(
        server.web,
        "/connections",
        &[("csrf", "0"), ("id", &ids[0])],
    );
    assert_eq!(forged.status, 403, "{forged:?}");
    let ended = admin.post(
        server.web,
        "/connections",
        &[("csrf", &token), ("id", &ids[0])],
    );
    assert_eq!(ended.status, 303, "{ended:?}");
    imap.expect("* BYE [UNAVAILABLE] Session ended by the administrator");
    imap.expect_closed();
    let ended = admin.post(
        server.web,
        "/connections",
        &[("csrf", &token), ("id", &ids[1])],
    );
    assert_eq!(ended.status, 303, "{ended:?}");
    pop3.expect("-ERR [SYS/TEMP] Session ended by the administrator");
    pop3.expect_closed();
    let counts = server.counts_until(|c| c.is_idle());
    assert!(counts.is_idle(), "{counts:?}");
    let page = admin.get(server.web, "/connections");
    assert!(
        page.body.contains("No IMAP or POP3 session is open."),
        "{page:?}"
    );
}

/// `curl` over HTTPS (the self-signed certificate accepted) with `args`; the answer's
/// head and body.
fn curl_https(args: &[&str]) -> String {
    let out = std::process::Command::new("curl")
        .args(["--silent", "--show-error", "--insecure", "--include"])
        .args(args)
        .output()
        .expect("run curl");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn where_plaintext_is_refused_logins_need_https_and_get_a_secure_cookie() {
    let env = Env::with_tls_and_web(
        "plaintext_auth = \"never\"",
        "tls_listen = [\"127.0.0.1:0\"]",
    );
    accounts(&env);
    let server = env.serve(&[]);
    let mut plain = Browser::default();
    let page = plain.get(server.web, "/login");
    assert!(page.body.contains("use the HTTPS listener"), "{page:?}");
    assert!(!page.body.contains("name=\"password\""), "{page:?}");
    // With the form's own token (from its cookie), the password is still not taken.
    let token = plain
        .cookies
        .iter()
        .find(|(n, _)| n == "mailhive_login")
        .map(|(_, v)| v.clone())
        .expect("the login form's cookie");
    let fields = [
        ("csrf", token.as_str()),
        ("user", "root"),
        ("password", "rootpw"),
    ];
    let refused = plain.post(server.web, "/login", &fields);
    assert_eq!(refused.status, 403, "{refused:?}");
    assert!(
        refused.body.contains("Logging in needs HTTPS"),
        "{refused:?}"
    );
    assert!(!plain.cookies.iter().any(|(n, _)| n == "mailhive_session"));

    let https = server.webs.expect("an HTTPS listener");
    let jar = env.dir.path().join("cookies");
    let jar = jar.to_str().expect("a path");
    let url = format!("https://{https}");
    let page = curl_https(&["--cookie-jar", jar, &format!("{url}/login")]);
    assert!(page.contains("name=\"password\""), "{page}");
    assert!(page.contains("; Secure"), "{page}");
    let token = csrf(&page);
    let answer = curl_https(&[
        "--cookie",
        jar,
        "--header",
        &format!("Origin: {url}"),
        "--data",
        &format!("csrf={token}&user=root&password=rootpw"),
        &format!("{url}/login"),
    ]);
    assert!(
        answer.starts_with("HTTP/1.1 303") || answer.starts_with("HTTP/2 303"),
        "{answer}"
    );
    let session = answer
        .lines()
        .find(|l| {
            l.to_ascii_lowercase()
                .starts_with("set-cookie: mailhive_session=")
        })
        .unwrap_or_else(|| panic!("no session cookie in {answer}"));
    for attribute in ["HttpOnly", "SameSite=Strict", "Secure"] {
        assert!(session.contains(attribute), "{session}");
    }
}

#[test]
fn the_dashboard_names_cooled_down_addresses() {
    let env =
        Env::with_imap_settings("max_login_failures_from_single_ip = 2\nlogin_failure_delay = 0");
    accounts(&env);
    let server = env.serve(&[]);
    let mut admin = Browser::default();
    assert_eq!(admin.log_in(server.web, "root", "rootpw").status, 303);
    let quiet = admin.get(server.web, "/");
    assert!(quiet.body.contains("Cooled down: no address"), "{quiet:?}");
    let mut guesser = LineClient::connect_from("127.0.0.2", server.imap);
    guesser.expect_prefix("* OK");
    for tag in ["g1", "g2"] {
        guesser.send(&format!("{tag} LOGIN alice guess"));
        guesser.expect_prefix(&format!("{tag} NO [AUTHENTICATIONFAILED]"));
    }
    let dashboard = admin.get(server.web, "/");
    assert!(
        dashboard
            .body
            .contains("Cooled down: <span class=\"cooled\">127.0.0.2</span>"),
        "{dashboard:?}"
    );
}
