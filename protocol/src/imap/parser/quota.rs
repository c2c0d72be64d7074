//! The grammar of the QUOTA commands (RFC 9208 §4 and §7): GETQUOTA, GETQUOTAROOT and
//! SETQUOTA.

use super::{Cursor, Parsed};
use crate::imap::command::Command;

/// Resources one SETQUOTA may name: RFC 9208 defines four, and a name appears once.
pub const MAX_SETQUOTA_RESOURCES: usize = 16;

impl Cursor<'_> {
    /// `getquota = "GETQUOTA" SP quota-root-name`, after "GETQUOTA";
    /// `quota-root-name = astring`.
    pub(super) fn get_quota(&mut self) -> Parsed<Command> {
        self.sp()?;
        Ok(Command::GetQuota(self.text()?))
    }

    /// `getquotaroot = "GETQUOTAROOT" SP mailbox`, after "GETQUOTAROOT".
    pub(super) fn get_quota_root(&mut self) -> Parsed<Command> {
        self.sp()?;
        Ok(Command::GetQuotaRoot(self.mailbox()?))
    }

    /// `setquota = "SETQUOTA" SP quota-root-name SP setquota-list`, after "SETQUOTA";
    /// `setquota-list = "(" [setquota-resource *(SP setquota-resource)] ")"`,
    /// `setquota-resource = resource-name SP resource-limit`, `resource-limit = number64`.
    pub(super) fn set_quota(&mut self) -> Parsed<Command> {
        self.sp()?;
        let root = self.text()?;
        self.sp()?;
        let limits = self.list(true, |c| {
            let name = c.atom()?.to_ascii_uppercase();
            c.sp()?;
            Ok((name, c.number64()?))
        })?;
        if limits.len() > MAX_SETQUOTA_RESOURCES {
            return Err(format!(
                "more than {MAX_SETQUOTA_RESOURCES} resources in SETQUOTA"
            ));
        }
        Ok(Command::SetQuota { root, limits })
    }

    /// `number64 = 1*DIGIT`, at most 2^63 - 1 (RFC 9051 §9).
    fn number64(&mut self) -> Parsed<u64> {
        let digits = self.take_while(|b| b.is_ascii_digit());
        std::str::from_utf8(digits)
            .ok()
            .and_then(|d| d.parse::<i64>().ok())
            .filter(|n| *n >= 0)
            .map(|n| n as u64)
            .ok_or_else(|| "expected a number up to 2^63 - 1".into())
    }
}

#[cfg(test)]
mod tests {
    use crate::imap::command::Command;
    use crate::imap::parser::parse;
    use bytes::Bytes;

    fn command(line: &str) -> Result<Command, String> {
        parse(&Bytes::from(format!("a {line}\r\n")))
            .map(|request| request.command)
            .map_err(|e| e.to_string())
    }

    #[test]
    fn the_three_commands_parse() {
        assert_eq!(
            command("GETQUOTA \"\""),
            Ok(Command::GetQuota(String::new()))
        );
        assert_eq!(
            command("getquotaroot INBOX"),
            Ok(Command::GetQuotaRoot("INBOX".into()))
        );
        assert_eq!(
            command("SETQUOTA \"\" (storage 512 MESSAGE 9223372036854775807)"),
            Ok(Command::SetQuota {
                root: String::new(),
                limits: vec![
                    ("STORAGE".into(), 512),
                    ("MESSAGE".into(), 9_223_372_036_854_775_807)
                ]
            })
        );
        assert_eq!(
            command("SETQUOTA x ()"),
            Ok(Command::SetQuota {
                root: "x".into(),
                limits: vec![]
            })
        );
    }

    #[test]
    fn malformed_commands_are_refused() {
        for line in [
            "GETQUOTA",
            "GETQUOTAROOT",
            "SETQUOTA \"\"",
            "SETQUOTA \"\" STORAGE 5",
            "SETQUOTA \"\" (STORAGE)",
            "SETQUOTA \"\" (STORAGE -1)",
            "SETQUOTA \"\" (STORAGE 9223372036854775808)",
            "SETQUOTA \"\" (STORAGE 1 MESSAGE)",
        ] {
            assert!(command(line).is_err(), "{line}");
        }
        let many = vec!["STORAGE 1"; 17].join(" ");
        let refused = command(&format!("SETQUOTA \"\" ({many})")).unwrap_err();
        assert!(refused.contains("more than 16 resources"), "{refused}");
    }
}
