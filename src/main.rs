//! The `mailhive` binary: parses the command line, sets up logging, runs the command and
//! turns any error into a one-line reason and a non-zero exit.

use mailhive::cli::{run, Cli, Command};
use tracing_subscriber::EnvFilter;

fn main() {
    let cli = Cli::parse_args(std::env::args_os());
    let default_level = match cli.command {
        Command::Serve { .. } => "info",
        _ => "warn",
    };
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default_level)),
        )
        .with_writer(std::io::stderr)
        .init();
    if let Err(error) = run(cli) {
        eprintln!("mailhive: {error:#}");
        std::process::exit(1);
    }
}
