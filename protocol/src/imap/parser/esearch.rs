//! The grammar of extended SEARCH's return options (RFC 4466 §2.6 with RFC 4731,
//! RFC 5182, RFC 5267 §4 and RFC 9394 §3) and of CANCELUPDATE (RFC 5267 §4.3.5).

use super::{Cursor, Parsed};
use crate::imap::esearch::{PartialRange, SearchReturn};

impl Cursor<'_> {
    /// `search-return-opts = "RETURN" SP "(" [search-return-opt *(SP search-return-opt)] ")" SP`
    /// at the start of a SEARCH's arguments; `None` without it. An empty list, or one
    /// with only CONTEXT, asks for ALL (RFC 4731 §3.1).
    pub(super) fn search_return(&mut self) -> Parsed<Option<SearchReturn>> {
        const RETURN: &[u8] = b"RETURN ";
        if !self
            .rest()
            .get(..RETURN.len())
            .is_some_and(|word| word.eq_ignore_ascii_case(RETURN))
        {
            return Ok(None);
        }
        self.pos += RETURN.len();
        self.expect(b'(')?;
        let mut options = SearchReturn::default();
        let mut asked = false;
        while !self.eat(b')') {
            if asked {
                self.expect(b' ')?;
            }
            asked = true;
            match self.word()?.as_str() {
                "MIN" => options.min = true,
                "MAX" => options.max = true,
                "ALL" => options.all = true,
                "COUNT" => options.count = true,
                "SAVE" => options.save = true,
                "CONTEXT" => {}
                "UPDATE" if options.update => return Err("UPDATE given twice".into()),
                "UPDATE" => options.update = true,
                "PARTIAL" if options.partial.is_some() => return Err("PARTIAL given twice".into()),
                "PARTIAL" => {
                    self.sp()?;
                    options.partial = Some(self.partial_range()?);
                }
                other => return Err(format!("unknown SEARCH return option {other}")),
            }
        }
        if options.all && options.partial.is_some() {
            return Err("PARTIAL and ALL cannot be combined".into());
        }
        if !options.answers() && !options.save {
            options.all = true;
        }
        self.sp()?;
        Ok(Some(options))
    }

    /// `partial-range = nz-number ":" nz-number / "-" nz-number ":" "-" nz-number`
    /// (RFC 9394 §3.1); `4:2` is `2:4`, and `*` has no place.
    fn partial_range(&mut self) -> Parsed<PartialRange> {
        let last = self.eat(b'-');
        let first = self.nz_number()?;
        self.expect(b':')?;
        if last {
            self.expect(b'-')?;
        }
        let second = self.nz_number()?;
        let (low, high) = (first.min(second), first.max(second));
        Ok(if last {
            PartialRange::Last(low, high)
        } else {
            PartialRange::First(low, high)
        })
    }

    /// `"CANCELUPDATE" 1*(SP quoted)`: the tags, after the command name.
    pub(super) fn cancel_update(&mut self) -> Parsed<Vec<String>> {
        let mut tags = Vec::new();
        while self.eat(b' ') {
            let tag = String::from_utf8(self.quoted()?).map_err(|_| "tag is not UTF-8")?;
            tags.push(tag);
        }
        if tags.is_empty() {
            return Err("CANCELUPDATE needs the tag of a search".into());
        }
        Ok(tags)
    }
}

#[cfg(test)]
mod tests {
    use crate::imap::command::{Command, SearchKey};
    use crate::imap::esearch::{PartialRange, SearchReturn};
    use crate::imap::parser::parse;
    use crate::imap::sequence::SequenceSet;
    use bytes::Bytes;

    fn parsed(line: &str) -> Result<Command, String> {
        parse(&Bytes::from(format!("t {line}\r\n")))
            .map(|r| r.command)
            .map_err(|e| e.reason)
    }

    fn returns(line: &str) -> SearchReturn {
        match parsed(line) {
            Ok(Command::Search {
                returns: Some(r), ..
            }) => r,
            other => panic!("{line}: {other:?}"),
        }
    }

    #[test]
    fn reads_return_options() {
        let all = SearchReturn {
            all: true,
            ..SearchReturn::default()
        };
        assert_eq!(returns("SEARCH RETURN () ALL"), all);
        assert_eq!(returns("SEARCH return (context) ALL"), all);
        let r = returns("UID SEARCH RETURN (MIN max COUNT SAVE UPDATE) CHARSET UTF-8 SEEN");
        assert!(r.min && r.max && r.count && r.save && r.update && !r.all);
        let r = returns("SEARCH RETURN (SAVE) SEEN");
        assert!(r.save && !r.answers());
        assert_eq!(
            returns("SEARCH RETURN (PARTIAL 4:2) ALL").partial,
            Some(PartialRange::First(2, 4))
        );
        assert_eq!(
            returns("SEARCH RETURN (COUNT PARTIAL -1:-100) ALL").partial,
            Some(PartialRange::Last(1, 100))
        );
        assert!(matches!(
            parsed("SEARCH ALL"),
            Ok(Command::Search { returns: None, .. })
        ));
    }

    #[test]
    fn refuses_what_the_grammar_does_not_allow() {
        for bad in [
            "SEARCH RETURN (PARTIAL 1) ALL",
            "SEARCH RETURN (PARTIAL 1:*) ALL",
            "SEARCH RETURN (PARTIAL *:1) ALL",
            "SEARCH RETURN (PARTIAL 0:3) ALL",
            "SEARCH RETURN (PARTIAL 1:-3) ALL",
            "SEARCH RETURN (PARTIAL 1:2 PARTIAL 3:4) ALL",
            "SEARCH RETURN (ALL PARTIAL 1:2) ALL",
            "SEARCH RETURN (UPDATE UPDATE) ALL",
            "SEARCH RETURN (FOO) ALL",
            "SEARCH RETURN (MIN  MAX) ALL",
            "SEARCH RETURN (MIN) ",
            "SEARCH RETURN MIN ALL",
            "FETCH $,1 FLAGS",
            "CANCELUPDATE",
            "CANCELUPDATE tag",
        ] {
            assert!(parsed(bad).is_err(), "{bad} parsed");
        }
    }

    #[test]
    fn reads_saved_results_within_and_cancelupdate() {
        assert!(matches!(
            parsed("UID FETCH $ FLAGS"),
            Ok(Command::Fetch { set, .. }) if set.is_saved()
        ));
        let Ok(Command::Search { criteria, .. }) = parsed("SEARCH $ UID $ OLDER 60 YOUNGER 5")
        else {
            panic!("not a SEARCH")
        };
        assert_eq!(
            criteria,
            vec![
                SearchKey::Sequence(SequenceSet::SAVED),
                SearchKey::Uid(SequenceSet::SAVED),
                SearchKey::Older(60),
                SearchKey::Younger(5)
            ]
        );
        assert!(parsed("SEARCH OLDER 0").is_err());
        assert_eq!(
            parsed("CANCELUPDATE \"a1\" \"b 2\""),
            Ok(Command::CancelUpdate(vec!["a1".into(), "b 2".into()]))
        );
    }
}
