//! The `mailhive` binary: parses the command line, sets up logging, runs the command and
//! turns any error into a one-line reason and a non-zero exit.

use mailhive::cli::{run, Cli, Command};

fn main() {
    let cli = Cli::parse_args(std::env::args_os());
    let default_level = match cli.command {
        Command::Serve { .. } => "info",
        _ => "warn",
    };
    mailhive::logging::init(default_level);
    if let Err(error) = run(cli) {
        eprintln!("mailhive: {error:#}");
        std::process::exit(1);
    }
}
