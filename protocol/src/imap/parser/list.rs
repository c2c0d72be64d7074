//! The grammar of LIST with the options of LIST-EXTENDED (RFC 5258 §6), SPECIAL-USE
//! (RFC 6154 §6) and LIST-STATUS (RFC 5819 §5), and CREATE's special-use parameter
//! (RFC 6154 §3). Unknown options are refused: RFC 5258 §3 wants a BAD for them.

use super::{Cursor, Parsed};
use crate::imap::command::{Command, ListOptions};

/// The most patterns one LIST may give (RFC 5258 sets no limit; each costs a pass
/// over the user's mailbox names).
pub const MAX_LIST_PATTERNS: usize = 100;

impl Cursor<'_> {
    /// ```text
    /// list = "LIST" [SP list-select-opts] SP mailbox SP mbox-or-pat
    ///        [SP list-return-opts]
    /// list-select-opts = "(" [list-select-option *(SP list-select-option)] ")"
    /// mbox-or-pat = list-mailbox / patterns
    /// patterns = "(" list-mailbox *(SP list-mailbox) ")"
    /// list-return-opts = "RETURN" SP "(" [return-option *(SP return-option)] ")"
    /// ```
    pub(super) fn list_command(&mut self) -> Parsed<Command> {
        self.sp()?;
        let mut options = ListOptions::default();
        if self.peek() == Some(b'(') {
            self.selection_options(&mut options)?;
            self.sp()?;
        }
        let reference = self.mailbox()?;
        self.sp()?;
        let patterns = if self.peek() == Some(b'(') {
            self.list(false, Self::list_pattern)?
        } else {
            vec![self.list_pattern()?]
        };
        if patterns.len() > MAX_LIST_PATTERNS {
            return Err(format!("more than {MAX_LIST_PATTERNS} patterns"));
        }
        if self.eat(b' ') {
            if self.word()? != "RETURN" {
                return Err("expected RETURN".into());
            }
            self.sp()?;
            self.return_options(&mut options)?;
        }
        Ok(Command::List {
            reference,
            patterns,
            options,
        })
    }

    /// `list-select-base-opt = "SUBSCRIBED" / "SPECIAL-USE"`,
    /// `list-select-mod-opt = "RECURSIVEMATCH"`, `list-select-independent-opt =
    /// "REMOTE"`; RECURSIVEMATCH needs a base option (RFC 5258 §3.1).
    fn selection_options(&mut self, options: &mut ListOptions) -> Parsed<()> {
        for option in self.list(true, Self::word)? {
            match option.as_str() {
                "SUBSCRIBED" => {
                    options.subscribed = true;
                    options.return_subscribed = true;
                }
                "SPECIAL-USE" => options.special_use = true,
                "RECURSIVEMATCH" => options.recursive_match = true,
                // Every mailbox is local.
                "REMOTE" => {}
                other => return Err(format!("unknown LIST selection option {other}")),
            }
        }
        if options.recursive_match && !options.subscribed && !options.special_use {
            return Err("RECURSIVEMATCH needs SUBSCRIBED or SPECIAL-USE".into());
        }
        Ok(())
    }

    /// `return-option = "SUBSCRIBED" / "CHILDREN" / "SPECIAL-USE" / "STATUS" SP "("
    /// status-att *(SP status-att) ")"`. Children and special-use attributes are
    /// always given, so those two only need to be known.
    fn return_options(&mut self, options: &mut ListOptions) -> Parsed<()> {
        self.expect(b'(')?;
        while !self.eat(b')') {
            match self.word()?.as_str() {
                "SUBSCRIBED" => options.return_subscribed = true,
                "CHILDREN" | "SPECIAL-USE" => {}
                "STATUS" if options.status.is_empty() => {
                    self.sp()?;
                    options.status = self.list(false, Self::status_item)?;
                }
                "STATUS" => return Err("STATUS given twice".into()),
                other => return Err(format!("unknown LIST return option {other}")),
            }
            if self.peek() != Some(b')') {
                self.expect(b' ')?;
            }
        }
        Ok(())
    }

    /// `create = "CREATE" SP mailbox [create-params]`, with the one parameter of
    /// RFC 6154 §6: `"USE" SP "(" [use-attr *(SP use-attr)] ")"`.
    pub(super) fn create_command(&mut self) -> Parsed<Command> {
        self.sp()?;
        let mailbox = self.mailbox()?;
        let mut special_use = Vec::new();
        if self.eat(b' ') {
            self.expect(b'(')?;
            if self.word()? != "USE" {
                return Err("unknown CREATE parameter".into());
            }
            self.sp()?;
            special_use = self.list(true, Self::use_attribute)?;
            self.expect(b')')?;
        }
        Ok(Command::Create {
            mailbox,
            special_use,
        })
    }

    /// `use-attr = "\" atom`, as written.
    fn use_attribute(&mut self) -> Parsed<String> {
        self.expect(b'\\')?;
        Ok(format!("\\{}", self.atom()?))
    }
}

#[cfg(test)]
mod tests {
    use crate::imap::command::{Command, ListOptions, StatusItem};
    use crate::imap::parser::parse;
    use bytes::Bytes;

    fn parsed(input: &str) -> Result<Command, String> {
        parse(&Bytes::copy_from_slice(input.as_bytes()))
            .map(|r| r.command)
            .map_err(|e| e.reason)
    }

    #[test]
    fn list_options_of_rfc5258_and_rfc5819() {
        assert_eq!(
            parsed("a LIST (SUBSCRIBED RECURSIVEMATCH remote) \"\" (\"INBOX\" %) RETURN (CHILDREN STATUS (MESSAGES UNSEEN))\r\n"),
            Ok(Command::List {
                reference: String::new(),
                patterns: vec!["INBOX".into(), "%".into()],
                options: ListOptions {
                    subscribed: true,
                    special_use: false,
                    recursive_match: true,
                    return_subscribed: true,
                    status: vec![StatusItem::Messages, StatusItem::Unseen],
                },
            })
        );
        assert_eq!(
            parsed("a LIST () \"\" * RETURN ()\r\n"),
            Ok(Command::List {
                reference: String::new(),
                patterns: vec!["*".into()],
                options: ListOptions::default(),
            })
        );
        for bad in [
            "a LIST (RECURSIVEMATCH) \"\" *\r\n",
            "a LIST (RECURSIVEMATCH REMOTE) \"\" *\r\n",
            "a LIST (IMAPTEST) \"\" *\r\n",
            "a LIST \"\" * RETURN (IMAPTEST)\r\n",
            "a LIST \"\" * RETURN (STATUS (MESSAGES BOGUS))\r\n",
            "a LIST \"\" * RETURN (STATUS (MESSAGES) STATUS (UNSEEN))\r\n",
            "a LIST \"\" ()\r\n",
        ] {
            assert!(parsed(bad).is_err(), "{bad:?} parsed");
        }
        let many = vec!["x"; super::MAX_LIST_PATTERNS + 1].join(" ");
        assert_eq!(
            parsed(&format!("a LIST \"\" ({many})\r\n")),
            Err(format!("more than {} patterns", super::MAX_LIST_PATTERNS))
        );
    }

    #[test]
    fn create_with_special_use() {
        assert_eq!(
            parsed("a CREATE MyDrafts (USE (\\Drafts \\Sent))\r\n"),
            Ok(Command::Create {
                mailbox: "MyDrafts".into(),
                special_use: vec!["\\Drafts".into(), "\\Sent".into()],
            })
        );
        assert!(parsed("a CREATE x (FOO (\\Drafts))\r\n").is_err());
        assert!(parsed("a CREATE x (USE (Drafts))\r\n").is_err());
    }
}
