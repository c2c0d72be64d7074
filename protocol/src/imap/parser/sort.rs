//! The grammar of SORT and THREAD (RFC 5256 §5, with the keys of RFC 5957).

use super::{Cursor, Parsed};
use crate::imap::command::{Command, SortCriterion, SortKey, ThreadAlgorithm};

impl Cursor<'_> {
    /// `sort = ["UID" SP] "SORT" SP [search-return-opts SP] sort-criteria SP
    /// search-criteria`, after "SORT" (RFC 5256, with RFC 5267 §3);
    /// `search-criteria = charset 1*(SP search-key)`.
    pub(super) fn sort(&mut self, uid: bool) -> Parsed<Command> {
        self.sp()?;
        let returns = self.search_return()?;
        let program = self.list(false, Self::sort_criterion)?;
        self.sp()?;
        let charset = self.text()?.to_ascii_uppercase();
        self.sp()?;
        let criteria = self.search_program()?;
        Ok(Command::Sort {
            uid,
            program,
            charset,
            criteria,
            returns,
        })
    }

    /// `thread = ["UID" SP] "THREAD" SP thread-alg SP search-criteria`, after "THREAD".
    pub(super) fn thread(&mut self, uid: bool) -> Parsed<Command> {
        self.sp()?;
        let algorithm = match self.word()?.as_str() {
            "ORDEREDSUBJECT" => ThreadAlgorithm::OrderedSubject,
            "REFERENCES" => ThreadAlgorithm::References,
            other => return Err(format!("unsupported thread algorithm {other}")),
        };
        self.sp()?;
        let charset = self.text()?.to_ascii_uppercase();
        self.sp()?;
        let criteria = self.search_program()?;
        Ok(Command::Thread {
            uid,
            algorithm,
            charset,
            criteria,
        })
    }

    /// `sort-criterion = ["REVERSE" SP] sort-key`
    fn sort_criterion(&mut self) -> Parsed<SortCriterion> {
        let mut name = self.word()?;
        let reverse = name == "REVERSE";
        if reverse {
            self.sp()?;
            name = self.word()?;
        }
        let key = match name.as_str() {
            "ARRIVAL" => SortKey::Arrival,
            "CC" => SortKey::Cc,
            "DATE" => SortKey::Date,
            "DISPLAYFROM" => SortKey::DisplayFrom,
            "DISPLAYTO" => SortKey::DisplayTo,
            "FROM" => SortKey::From,
            "SIZE" => SortKey::Size,
            "SUBJECT" => SortKey::Subject,
            "TO" => SortKey::To,
            other => return Err(format!("unknown sort key {other}")),
        };
        Ok(SortCriterion { reverse, key })
    }
}

#[cfg(test)]
mod tests {
    use crate::imap::command::{Command, SearchKey, SortCriterion, SortKey};
    use crate::imap::parser::parse;
    use bytes::Bytes;

    fn parsed(line: &str) -> Result<Command, String> {
        parse(&Bytes::from(format!("t {line}\r\n")))
            .map(|r| r.command)
            .map_err(|e| e.reason)
    }

    #[test]
    fn reads_sort_programs() {
        assert_eq!(
            parsed("UID SORT (REVERSE date subject) utf-8 UNDELETED"),
            Ok(Command::Sort {
                uid: true,
                program: vec![
                    SortCriterion {
                        reverse: true,
                        key: SortKey::Date
                    },
                    SortCriterion {
                        reverse: false,
                        key: SortKey::Subject
                    }
                ],
                charset: "UTF-8".into(),
                criteria: vec![SearchKey::NotFlag(crate::imap::command::Flag::Deleted)],
                returns: None
            })
        );
        assert!(matches!(
            parsed("SORT RETURN (MIN COUNT) (ARRIVAL) UTF-8 ALL"),
            Ok(Command::Sort { returns: Some(r), .. }) if r.min && r.count && !r.all
        ));
        assert!(matches!(
            parsed("UID THREAD orderedsubject UTF-8 ALL"),
            Ok(Command::Thread { uid: true, .. })
        ));
        for bad in [
            "THREAD REFS UTF-8 ALL",
            "THREAD ORDEREDSUBJECT ALL",
            "SORT () UTF-8 ALL",
            "SORT (REVERSE) UTF-8 ALL",
            "SORT (SUBJECT) ALL",
            "SORT (THREAD) UTF-8 ALL",
            "SORT SUBJECT UTF-8 ALL",
        ] {
            assert!(parsed(bad).is_err(), "{bad} parsed");
        }
    }
}
