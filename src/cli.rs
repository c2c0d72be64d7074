//! The command line (SPEC §2) and what each command does.

pub mod deliver;
pub mod quota;
pub mod store_copy;

use crate::admin;
use crate::config::{self, Config, Protocol, ProtocolSettings, Setting};
use crate::export::export;
use crate::import::{import, MboxSource};
use crate::limiter::{Counts, ProtocolCounts};
use crate::mbox::Format;
use crate::settings::Change;
use anyhow::{bail, Context};
use clap::{Parser, Subcommand};
use indicatif::ProgressBar;
use mailhive_store::{Duplicates, MailboxName, Rights, Username};
use std::ffi::OsString;
use std::io::{BufRead, IsTerminal};
use std::path::PathBuf;

#[derive(Debug, Parser)]
#[command(
    name = "mailhive",
    version,
    about = "Self-hosted IMAP and POP3 mail backend"
)]
pub struct Cli {
    /// Configuration file (TOML); without it, built-in defaults and MAILHIVE__… variables apply.
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Command,
}

impl Cli {
    /// Parses `args` (the program name first). `--config FILE` is found wherever it
    /// stands: before the command, after its arguments, or among the `--NAME VALUE`
    /// pairs of `settings set`, which would otherwise take it for a setting.
    pub fn parse_args(args: impl IntoIterator<Item = OsString>) -> Cli {
        Cli::parse_from(config_first(args.into_iter().collect()))
    }
}

/// `args` with every `--config FILE` (or `--config=FILE`) moved to just after the program
/// name; `--` ends the search.
fn config_first(mut args: Vec<OsString>) -> Vec<OsString> {
    let mut config = Vec::new();
    let mut i = 1;
    while i < args.len() {
        let arg = args[i].to_string_lossy();
        if arg == "--" {
            break;
        }
        if arg == "--config" && i + 1 < args.len() {
            config.extend(args.drain(i..i + 2));
        } else if arg.starts_with("--config=") {
            config.push(args.remove(i));
        } else {
            i += 1;
        }
    }
    let at = args.len().min(1);
    args.splice(at..at, config);
    args
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the server.
    Serve {
        /// Create demo users and mail first (idempotent).
        #[arg(long)]
        demo: bool,
    },
    /// Manage accounts.
    #[command(subcommand)]
    User(UserCommand),
    /// Import mbox files into a mailbox.
    ImportMbox {
        #[arg(long, value_name = "NAME")]
        user: String,
        #[arg(long, value_name = "MBOX", default_value = "INBOX")]
        mailbox: String,
        #[arg(long, value_enum, default_value_t = Format::Mboxrd)]
        format: Format,
        /// Import a message also when the mailbox holds one with the same bytes and
        /// internal date (by default it is counted and skipped).
        #[arg(long)]
        allow_duplicates: bool,
        #[arg(required = true, value_name = "FILE")]
        files: Vec<PathBuf>,
    },
    /// Write a mailbox to FILE as mboxrd (FILE appears once complete and on disk).
    ExportMbox {
        #[arg(long, value_name = "NAME")]
        user: String,
        #[arg(long, value_name = "MBOX", default_value = "INBOX")]
        mailbox: String,
        #[arg(value_name = "FILE")]
        file: PathBuf,
    },
    /// Show or change the per-protocol settings; a running server applies changes at once.
    #[command(subcommand)]
    Settings(SettingsCommand),
    /// What the running server counts now: connections, logins, FETCH and SEARCH slots.
    Status,
    /// TLS certificate commands.
    #[command(subcommand)]
    Tls(TlsCommand),
    /// Who may do what in a mailbox (RFC 4314 rights, as IMAP SETACL and GETACL).
    #[command(subcommand)]
    Acl(AclCommand),
    /// Deliver one message from standard input as LMTP does (an MTA's mailbox_command);
    /// exits 67 for an unknown user, 75 for a failure to try again.
    Deliver {
        #[arg(long, value_name = "NAME")]
        user: String,
        /// The mailbox, if the account has it (else INBOX).
        #[arg(long, value_name = "MBOX")]
        mailbox: Option<String>,
    },
    /// An account's quota: usage, and limits of its own over the `[quota]` defaults.
    #[command(subcommand)]
    Quota(quota::QuotaCommand),
    /// The store as a whole.
    #[command(subcommand)]
    Store(StoreCommand),
}

#[derive(Debug, Subcommand)]
pub enum StoreCommand {
    /// Copy everything into the empty store that another config file names (sled to
    /// PostgreSQL or back), keeping UIDVALIDITY, UIDs and modseqs.
    Copy {
        #[arg(long, value_name = "OTHER.toml")]
        to: PathBuf,
    },
}

#[derive(Debug, Subcommand)]
pub enum AclCommand {
    /// Gives USER these rights on OWNER's MBOX (letters of `lrswipkxtea`; `+lr` adds,
    /// `-w` takes away, an empty string removes every right).
    Set {
        #[arg(long, value_name = "USER")]
        owner: String,
        #[arg(long, value_name = "MBOX")]
        mailbox: String,
        #[arg(long, value_name = "USER")]
        user: String,
        #[arg(long, allow_hyphen_values = true)]
        rights: String,
    },
    /// Lists who holds which rights on OWNER's MBOX.
    Show {
        #[arg(long, value_name = "USER")]
        owner: String,
        #[arg(long, value_name = "MBOX")]
        mailbox: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum TlsCommand {
    /// Makes the running server read its certificate and key again (new handshakes use
    /// them; open connections go on). SIGHUP does the same.
    Reload,
}

/// The protocol whose settings a command is about.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum ProtocolArg {
    Imap,
    Pop3,
}

impl From<ProtocolArg> for Protocol {
    fn from(arg: ProtocolArg) -> Protocol {
        match arg {
            ProtocolArg::Imap => Protocol::Imap,
            ProtocolArg::Pop3 => Protocol::Pop3,
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum SettingsCommand {
    /// Every setting of the protocol: `Name : value (source)`.
    Show {
        #[arg(value_enum)]
        protocol: ProtocolArg,
    },
    /// Sets values, given as `--max-connections 5` (or `--max-connections=5`).
    Set {
        #[arg(value_enum)]
        protocol: ProtocolArg,
        #[arg(
            required = true,
            num_args = 1..,
            trailing_var_arg = true,
            allow_hyphen_values = true,
            value_name = "--NAME VALUE"
        )]
        values: Vec<String>,
    },
    /// Drops persisted values, back to the configuration or the default.
    Reset {
        #[arg(value_enum)]
        protocol: ProtocolArg,
        #[arg(required = true, value_name = "NAME")]
        names: Vec<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create an account.
    Add {
        name: String,
        /// Read the password from the first line of standard input.
        #[arg(long)]
        password_stdin: bool,
        /// Make the account an administrator (it may log in to the web console).
        #[arg(long)]
        admin: bool,
    },
    /// Give an account the administrator flag (`on`) or take it away (`off`).
    Admin { name: String, flag: Switch },
    /// Change an account's password.
    Passwd {
        name: String,
        #[arg(long)]
        password_stdin: bool,
    },
    /// Delete an account and all its mail.
    Remove { name: String },
    /// List accounts.
    List,
}

/// `on` or `off`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Switch {
    On,
    Off,
}

fn username(name: &str) -> anyhow::Result<Username> {
    Username::parse(name).map_err(|e| anyhow::anyhow!("{name:?}: {e}"))
}

fn read_password(from_stdin: bool) -> anyhow::Result<String> {
    let password = if from_stdin {
        let mut line = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .context("cannot read the password")?;
        line.trim_end_matches(['\r', '\n']).to_owned()
    } else {
        if !std::io::stdin().is_terminal() {
            bail!("no terminal to ask for the password on: use --password-stdin");
        }
        let first = rpassword::prompt_password("Password: ")?;
        if rpassword::prompt_password("Again: ")? != first {
            bail!("the passwords differ");
        }
        first
    };
    if password.is_empty() {
        bail!("the password is empty");
    }
    Ok(password)
}

/// Runs one command; errors come back with a one-line reason.
pub fn run(cli: Cli) -> anyhow::Result<()> {
    let config = config::load(cli.config.as_deref())?;
    match cli.command {
        Command::Serve { demo } => crate::serve::run(&config, demo),
        Command::User(command) => user_command(&config, command),
        Command::ImportMbox {
            user,
            mailbox,
            format,
            allow_duplicates,
            files,
        } => {
            let user = username(&user)?;
            let mailbox = mailbox_name(&mailbox)?;
            let max = max_message_size(&config);
            let sources = files
                .iter()
                .map(|path| MboxSource::open(path, format, max))
                .collect::<Result<Vec<_>, _>>()?;
            let admin = admin::connect(&config)?;
            let summary = import(
                admin.as_ref(),
                &user,
                &mailbox,
                sources,
                if allow_duplicates {
                    Duplicates::Store
                } else {
                    Duplicates::Skip
                },
                &ProgressBar::new(0),
            )?;
            println!("{summary} into {user}/{mailbox}");
            Ok(())
        }
        Command::ExportMbox {
            user,
            mailbox,
            file,
        } => {
            let user = username(&user)?;
            if let Some(shared) = mailbox.strip_prefix("#users/") {
                let (owner, name) = shared.split_once('/').unwrap_or((shared, "INBOX"));
                bail!("{mailbox:?} is {owner:?}'s mailbox: export it as its owner (--user {owner:?} --mailbox {name:?})");
            }
            let mailbox = mailbox_name(&mailbox)?;
            let admin = admin::connect(&config)?;
            let summary = export(admin.as_ref(), &user, &mailbox, &file, &ProgressBar::new(0))?;
            println!("{summary} from {user}/{mailbox} to {}", file.display());
            Ok(())
        }
        Command::Settings(command) => settings_command(&config, command),
        Command::Status => {
            print!("{}", status_text(&admin::connect(&config)?.status()?));
            Ok(())
        }
        Command::Acl(command) => acl_command(&config, command),
        Command::Deliver { user, mailbox } => deliver::run(&config, &user, mailbox.as_deref()),
        Command::Store(StoreCommand::Copy { to }) => store_copy::run(&config, &to),
        Command::Quota(command) => quota::run(&config, command),
        Command::Tls(TlsCommand::Reload) => {
            admin::connect(&config)?.reload_tls()?;
            println!("TLS certificate reloaded");
            Ok(())
        }
    }
}

fn mailbox_name(name: &str) -> anyhow::Result<MailboxName> {
    MailboxName::parse(name).map_err(|e| anyhow::anyhow!("{name:?}: {e}"))
}

/// `identifier rights`, one a line.
fn acl_text(entries: &[(String, Rights)]) -> String {
    entries
        .iter()
        .map(|(who, rights)| format!("{who} {rights}\n"))
        .collect()
}

fn acl_command(config: &Config, command: AclCommand) -> anyhow::Result<()> {
    let admin = admin::connect(config)?;
    match command {
        AclCommand::Set {
            owner,
            mailbox,
            user,
            rights,
        } => {
            let (owner, mailbox, grantee) =
                (username(&owner)?, mailbox_name(&mailbox)?, username(&user)?);
            if grantee == owner {
                bail!("{owner} owns {mailbox}: the owner's rights cannot be changed");
            }
            let current = admin
                .acl(&owner, &mailbox)?
                .into_iter()
                .find(|(who, _)| who == grantee.as_str())
                .map(|(_, rights)| rights)
                .unwrap_or_default();
            let letters = |text: &str| {
                Rights::parse(text)
                    .map_err(|c| anyhow::anyhow!("{c:?} is not a right (use lrswipkxtea)"))
            };
            let rights = if let Some(added) = rights.strip_prefix('+') {
                current.with(letters(added)?)
            } else if let Some(removed) = rights.strip_prefix('-') {
                current.without(letters(removed)?)
            } else {
                letters(&rights)?
            };
            admin.set_acl(&owner, &mailbox, &grantee, rights)?;
            print!("{}", acl_text(&admin.acl(&owner, &mailbox)?));
        }
        AclCommand::Show { owner, mailbox } => {
            let entries = admin.acl(&username(&owner)?, &mailbox_name(&mailbox)?)?;
            print!("{}", acl_text(&entries));
        }
    }
    Ok(())
}

/// `Name : value (source)`, one setting a line, as `settings show` prints them.
fn settings_text(settings: &ProtocolSettings, only: Option<&[Setting]>) -> String {
    settings
        .entries()
        .filter(|(setting, ..)| only.is_none_or(|only| only.contains(setting)))
        .map(|(setting, value, source)| {
            format!(
                "{} : {} ({})\n",
                setting.name(),
                setting.display(value),
                source.name()
            )
        })
        .collect()
}

fn settings_command(config: &Config, command: SettingsCommand) -> anyhow::Result<()> {
    let admin = admin::connect(config)?;
    match command {
        SettingsCommand::Show { protocol } => {
            let settings = admin.settings(config.settings(protocol.into()))?;
            print!("{}", settings_text(&settings, None));
        }
        SettingsCommand::Set { protocol, values } => {
            let protocol = Protocol::from(protocol);
            let values = parse_assignments(protocol, &values)?;
            let changed: Vec<Setting> = values.iter().map(|&(s, _)| s).collect();
            let settings =
                admin.change_settings(config.settings(protocol), &Change::Set(values))?;
            print!("{}", settings_text(&settings, Some(&changed)));
        }
        SettingsCommand::Reset { protocol, names } => {
            let protocol = Protocol::from(protocol);
            let settings = names
                .iter()
                .map(|name| setting_of(protocol, name))
                .collect::<anyhow::Result<Vec<_>>>()?;
            let after = admin
                .change_settings(config.settings(protocol), &Change::Reset(settings.clone()))?;
            print!("{}", settings_text(&after, Some(&settings)));
        }
    }
    Ok(())
}

/// The setting called `name` (display name, config key or flag) of `protocol`.
fn setting_of(protocol: Protocol, name: &str) -> anyhow::Result<Setting> {
    let setting = Setting::find(name).ok_or_else(|| anyhow::anyhow!("{name}: no such setting"))?;
    if setting.spec(protocol).is_none() {
        bail!("{} is not a {} setting", setting.name(), protocol.key());
    }
    Ok(setting)
}

/// `--NAME VALUE` and `--NAME=VALUE` pairs, every value checked against its range; all
/// problems are reported together, and nothing is set if there is one.
fn parse_assignments(protocol: Protocol, args: &[String]) -> anyhow::Result<Vec<(Setting, u64)>> {
    let mut values = Vec::new();
    let mut errors = Vec::new();
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        let Some(flag) = arg.strip_prefix("--") else {
            errors.push(format!("{arg:?}: expected --NAME VALUE"));
            continue;
        };
        let (name, text) = match flag.split_once('=') {
            Some((name, text)) => (name, Some(text.to_owned())),
            None => (flag, args.next().cloned()),
        };
        let Some(text) = text else {
            errors.push(format!("--{name} needs a value"));
            continue;
        };
        let checked = setting_of(protocol, name)
            .map_err(|e| e.to_string())
            .and_then(|setting| Ok((setting, config::parse_value(protocol, setting, &text)?)));
        match checked {
            Ok(value) => values.push(value),
            Err(e) => errors.push(e),
        }
    }
    if !errors.is_empty() {
        bail!("nothing changed: {}", errors.join("; "));
    }
    Ok(values)
}

/// `mailhive status`: one line per protocol, one for the slots.
fn status_text(counts: &Counts) -> String {
    let protocol = |name: &str, c: &ProtocolCounts| {
        format!(
            "{name}: {} connections from {} addresses, {} logins of {} users; \
             failed logins counting against {} addresses and {} accounts\n",
            c.connections, c.addresses, c.logins, c.users, c.failing_addresses, c.failing_users
        )
    };
    format!(
        "{}{}lmtp: {} connections\nslots: {} FETCHes running, {} queued; {} SEARCHes running, {} queued\n",
        protocol("imap", &counts.imap),
        protocol("pop3", &counts.pop3),
        counts.lmtp_connections,
        counts.fetches_running,
        counts.fetches_queued,
        counts.searches_running,
        counts.searches_queued
    )
}

fn max_message_size(config: &Config) -> usize {
    config
        .settings(Protocol::Imap)
        .get(Setting::MaxMessageSize)
        .unwrap_or(u64::MAX) as usize
}

fn user_command(config: &Config, command: UserCommand) -> anyhow::Result<()> {
    match command {
        UserCommand::Add {
            name,
            password_stdin,
            admin,
        } => {
            let user = username(&name)?;
            let password = read_password(password_stdin)?;
            admin::connect(config)?.add_account(&user, &password, admin)?;
            let role = if admin { " as an administrator" } else { "" };
            println!("user {user} added{role}");
        }
        UserCommand::Admin { name, flag } => {
            let user = username(&name)?;
            let on = flag == Switch::On;
            admin::connect(config)?.set_admin(&user, on)?;
            let now = if on {
                "an administrator"
            } else {
                "not an administrator"
            };
            println!("{user} is {now}");
        }
        UserCommand::Passwd {
            name,
            password_stdin,
        } => {
            let user = username(&name)?;
            let password = read_password(password_stdin)?;
            admin::connect(config)?.set_password(&user, &password)?;
            println!("password of {user} changed");
        }
        UserCommand::Remove { name } => {
            let user = username(&name)?;
            admin::connect(config)?.remove_user(&user)?;
            println!("user {user} removed");
        }
        UserCommand::List => {
            for (user, admin) in admin::connect(config)?.users()? {
                let role = if admin { " (admin)" } else { "" };
                println!("{user}{role}");
            }
        }
    }
    Ok(())
}
