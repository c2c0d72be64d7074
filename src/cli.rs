//! The command line (SPEC §2) and what each command does.

use crate::admin;
use crate::config::{self, Config, Protocol, Setting};
use crate::import::{import, MboxSource};
use crate::mbox::Format;
use anyhow::{bail, Context};
use clap::{Parser, Subcommand};
use indicatif::ProgressBar;
use mailhive_store::{MailboxName, Username};
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
        #[arg(required = true, value_name = "FILE")]
        files: Vec<PathBuf>,
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
    },
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
            files,
        } => {
            let user = username(&user)?;
            let mailbox =
                MailboxName::parse(&mailbox).map_err(|e| anyhow::anyhow!("{mailbox:?}: {e}"))?;
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
                &ProgressBar::new(0),
            )?;
            println!("{summary} into {user}/{mailbox}");
            Ok(())
        }
    }
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
        } => {
            let user = username(&name)?;
            let password = read_password(password_stdin)?;
            admin::connect(config)?.add_user(&user, &password)?;
            println!("user {user} added");
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
            for user in admin::connect(config)?.users()? {
                println!("{user}");
            }
        }
    }
    Ok(())
}
