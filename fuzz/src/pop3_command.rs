//! POP3 command lines: no line panics the parser, and a parsed command's `Debug` never
//! shows a password or SASL response (it prints the same whatever the secret).

use mailhive_protocol::pop3::command::{parse, Command};
use mailhive_protocol::redacted::Secret;

#[test]
fn pop3_command() {
    bolero::check!(name = "pop3_command")
        .with_test_time(crate::SHORT_RUN)
        .for_each(|input: &[u8]| {
            for line in [
                input.to_vec(),
                [b"PASS ", input].concat(),
                [b"AUTH PLAIN ", input].concat(),
            ] {
                let Ok(command) = parse(&line) else { continue };
                let other = Secret("another secret".to_owned());
                let with_other = match &command {
                    Command::Pass(_) => Command::Pass(other),
                    Command::Auth {
                        mechanism,
                        initial: Some(_),
                    } => Command::Auth {
                        mechanism: mechanism.clone(),
                        initial: Some(other),
                    },
                    _ => continue,
                };
                assert_eq!(format!("{command:?}"), format!("{with_other:?}"));
            }
        });
}
