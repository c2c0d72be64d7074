//! Extended SEARCH on the wire: the return options a SEARCH may carry (MIN, MAX, COUNT
//! and ALL of RFC 4731, SAVE of RFC 5182, PARTIAL and UPDATE of RFC 5267 with the
//! negative ranges of RFC 9394; CONTEXT is a hint and changes nothing), and the
//! `* ESEARCH` response that answers them, its tag quoted like every string a client
//! sent. Results are ascending (mailbox order, RFC 5267 §4.4).

use super::response;
use super::sequence::compact;

/// `RETURN (...)` of an extended SEARCH.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SearchReturn {
    pub min: bool,
    pub max: bool,
    pub all: bool,
    pub count: bool,
    /// Keep the result for `$` (RFC 5182).
    pub save: bool,
    /// Keep the result up to date with ADDTO and REMOVEFROM (RFC 5267 §4.3).
    pub update: bool,
    pub partial: Option<PartialRange>,
}

impl SearchReturn {
    /// Whether the answer carries an `* ESEARCH` line: not for SAVE alone (RFC 5182
    /// §2.1, as Dovecot).
    pub fn answers(&self) -> bool {
        self.min || self.max || self.all || self.count || self.update || self.partial.is_some()
    }

    /// Whether SAVE keeps only the lowest and highest messages: MIN or MAX without a
    /// return option that names every match (RFC 5182 §2.4).
    pub fn saves_only_ends(&self) -> bool {
        (self.min || self.max) && !self.all && !self.count && self.partial.is_none()
    }
}

/// `PARTIAL` ranges of results, 1-based: `First(1, 100)` is `1:100`, the first hundred;
/// `Last(1, 100)` is `-1:-100`, the last hundred (RFC 9394 §3.1). Kept low to high.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PartialRange {
    First(u32, u32),
    Last(u32, u32),
}

impl PartialRange {
    /// The part of `results` (ascending) the range names, possibly empty.
    pub fn window<'a, T>(&self, results: &'a [T]) -> &'a [T] {
        let len = results.len();
        let (start, end) = match *self {
            PartialRange::First(low, high) => (low as usize - 1, high as usize),
            PartialRange::Last(low, high) => (
                len.saturating_sub(high as usize),
                len.saturating_sub(low as usize - 1),
            ),
        };
        let end = end.min(len);
        results.get(start.min(end)..end).unwrap_or_default()
    }

    fn write(&self, out: &mut String) {
        match *self {
            PartialRange::First(low, high) => out.push_str(&format!("{low}:{high}")),
            PartialRange::Last(low, high) => out.push_str(&format!("-{low}:-{high}")),
        }
    }
}

/// One `* ESEARCH (TAG "a1") [UID] ...` line, built item by item.
#[derive(Debug)]
pub struct Esearch {
    line: String,
}

impl Esearch {
    /// The line for the command tagged `tag`; `uid` when its numbers are UIDs.
    pub fn new(tag: &str, uid: bool) -> Esearch {
        let mut quoted = Vec::new();
        response::string(&mut quoted, tag.as_bytes());
        let mut line = format!("* ESEARCH (TAG {})", String::from_utf8_lossy(&quoted));
        if uid {
            line.push_str(" UID");
        }
        Esearch { line }
    }

    /// `NAME n`: MIN, MAX, COUNT.
    pub fn number(mut self, name: &str, n: u64) -> Self {
        self.line.push_str(&format!(" {name} {n}"));
        self
    }

    /// `ALL set`, left out when nothing matched (RFC 4731 §3.1).
    pub fn all(mut self, numbers: &[u32]) -> Self {
        if !numbers.is_empty() {
            self.line.push_str(" ALL ");
            self.line.push_str(&compact(numbers));
        }
        self
    }

    /// `PARTIAL (range set)`, `NIL` for an empty part (RFC 5267 §4.4).
    pub fn partial(mut self, range: PartialRange, numbers: &[u32]) -> Self {
        self.line.push_str(" PARTIAL (");
        range.write(&mut self.line);
        self.line.push(' ');
        if numbers.is_empty() {
            self.line.push_str("NIL");
        } else {
            self.line.push_str(&compact(numbers));
        }
        self.line.push(')');
        self
    }

    /// `ADDTO (0 set)` or `REMOVEFROM (0 set)` of an updated context, left out when
    /// empty: position 0, as a SEARCH context is unordered (RFC 5267 §4.3.2).
    pub fn update(mut self, name: &str, numbers: &[u32]) -> Self {
        if !numbers.is_empty() {
            self.line
                .push_str(&format!(" {name} (0 {})", compact(numbers)));
        }
        self
    }

    /// `ADDTO (position n ...)` or `REMOVEFROM (position n ...)` of an updated SORT
    /// context, one pair per message in the order the client applies them, left out
    /// when empty: positions are 1-based places in the sorted results (RFC 5267
    /// §4.3.3–4.3.4).
    pub fn update_at(mut self, name: &str, pairs: &[(u32, u32)]) -> Self {
        if !pairs.is_empty() {
            let items: Vec<String> = pairs.iter().map(|(at, n)| format!("{at} {n}")).collect();
            self.line
                .push_str(&format!(" {name} ({})", items.join(" ")));
        }
        self
    }

    /// The line, CRLF-terminated.
    pub fn finish(mut self) -> Vec<u8> {
        self.line.push_str("\r\n");
        self.line.into_bytes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partial_windows_count_from_either_end() {
        let results = [10, 20, 30, 40, 50];
        assert_eq!(PartialRange::First(1, 1).window(&results), &[10]);
        assert_eq!(PartialRange::First(2, 4).window(&results), &[20, 30, 40]);
        assert_eq!(PartialRange::First(4, 9).window(&results), &[40, 50]);
        assert!(PartialRange::First(6, 6).window(&results).is_empty());
        assert_eq!(PartialRange::Last(1, 2).window(&results), &[40, 50]);
        assert_eq!(
            PartialRange::Last(2, 100).window(&results),
            &[10, 20, 30, 40]
        );
        assert!(PartialRange::Last(6, 9).window(&results).is_empty());
        assert!(PartialRange::Last(1, 5).window(&[] as &[u32]).is_empty());
    }

    #[test]
    fn writes_every_item_with_the_tag_quoted() {
        let line = Esearch::new("a\"1", true)
            .number("MIN", 2)
            .all(&[2, 3, 4, 9])
            .partial(PartialRange::Last(1, 3), &[])
            .number("COUNT", 4)
            .update("ADDTO", &[])
            .finish();
        assert_eq!(
            String::from_utf8(line).unwrap(),
            "* ESEARCH (TAG \"a\\\"1\") UID MIN 2 ALL 2:4,9 PARTIAL (-1:-3 NIL) COUNT 4\r\n"
        );
        let line = Esearch::new("t", false)
            .all(&[])
            .update("REMOVEFROM", &[1, 2]);
        assert_eq!(
            line.finish(),
            b"* ESEARCH (TAG \"t\") REMOVEFROM (0 1:2)\r\n"
        );
        let line = Esearch::new("s", true)
            .update_at("REMOVEFROM", &[(2, 7)])
            .update_at("ADDTO", &[(1, 9), (4, 3)])
            .update_at("ADDTO", &[]);
        assert_eq!(
            line.finish(),
            b"* ESEARCH (TAG \"s\") UID REMOVEFROM (2 7) ADDTO (1 9 4 3)\r\n"
        );
    }
}
