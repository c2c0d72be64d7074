//! The `mailhive` binary: parses the command line, sets up logging, runs the command and
//! turns any error into a one-line reason and a non-zero exit.

use mailhive::cli::{deliver, run, Cli, Command};

fn main() {
    let cli = Cli::parse_args(std::env::args_os());
    let default_level = match cli.command {
        Command::Serve { .. } => "info",
        _ => "warn",
    };
    mailhive::logging::init(default_level);
    // An MTA reads `deliver`'s exit status: whatever fails without one of its own is
    // worth trying again.
    let failure = match cli.command {
        Command::Deliver { .. } => deliver::EX_TEMPFAIL,
        _ => 1,
    };
    if let Err(error) = run(cli) {
        eprintln!("mailhive: {error:#}");
        let code = error
            .downcast_ref::<deliver::Sysexit>()
            .map_or(failure, |e| e.code);
        std::process::exit(code);
    }
}
