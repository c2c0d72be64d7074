//! Sequence sets (`1:4,7,9:*`), for message sequence numbers and UIDs alike.

/// One end of a range: a number or `*` (the largest number in use).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bound {
    Number(u32),
    Last,
}

/// A parsed sequence set, as ranges in the order given (`4:2` is the same as `2:4`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SequenceSet(pub Vec<(Bound, Bound)>);

impl SequenceSet {
    /// `$`, the result saved by an earlier `SEARCH RETURN (SAVE)` (RFC 5182): a set
    /// without ranges, which nothing else parses to. The server replaces it with the
    /// saved messages before a command runs; left as it is, it names no message.
    pub const SAVED: SequenceSet = SequenceSet(Vec::new());

    /// Whether this is `$` (see [`SequenceSet::SAVED`]).
    pub fn is_saved(&self) -> bool {
        self.0.is_empty()
    }

    /// The set of `numbers` (ascending), in as few ranges as they allow.
    pub fn of(numbers: &[u32]) -> SequenceSet {
        SequenceSet(
            runs(numbers)
                .map(|(low, high)| (Bound::Number(low), Bound::Number(high)))
                .collect(),
        )
    }

    /// The ranges with `*` replaced by `last` and each range ordered low to high.
    pub fn ranges(&self, last: u32) -> impl Iterator<Item = (u32, u32)> + '_ {
        self.0.iter().map(move |&(a, b)| {
            let resolve = |bound| match bound {
                Bound::Number(n) => n,
                Bound::Last => last,
            };
            let (a, b) = (resolve(a), resolve(b));
            (a.min(b), a.max(b))
        })
    }

    /// Whether `n` is in the set when the largest number in use is `last`.
    pub fn contains(&self, n: u32, last: u32) -> bool {
        self.ranges(last)
            .any(|(low, high)| (low..=high).contains(&n))
    }

    /// The members of the set within `1..=last`, ascending and without repeats.
    pub fn members(&self, last: u32) -> Vec<u32> {
        let mut ranges: Vec<(u32, u32)> = self
            .ranges(last)
            .filter_map(|(low, high)| {
                let high = high.min(last);
                (low <= high).then_some((low.max(1), high))
            })
            .collect();
        ranges.sort_unstable();
        let mut out: Vec<u32> = Vec::new();
        for (low, high) in ranges {
            let from = out.last().map_or(low, |&l| low.max(l.saturating_add(1)));
            if from <= high {
                out.extend(from..=high);
            }
        }
        out
    }

    /// Parses `1:4,7,*` (no spaces).
    pub fn parse(text: &[u8]) -> Option<SequenceSet> {
        let bound = |t: &[u8]| -> Option<Bound> {
            if t == b"*" {
                return Some(Bound::Last);
            }
            if t.is_empty() || t.len() > 10 || !t.iter().all(u8::is_ascii_digit) || t[0] == b'0' {
                return None;
            }
            std::str::from_utf8(t).ok()?.parse().ok().map(Bound::Number)
        };
        let mut ranges = Vec::new();
        for item in text.split(|&b| b == b',') {
            let mut ends = item.splitn(2, |&b| b == b':');
            let first = bound(ends.next()?)?;
            let second = match ends.next() {
                Some(t) => bound(t)?,
                None => first,
            };
            ranges.push((first, second));
        }
        Some(SequenceSet(ranges))
    }
}

/// The runs of consecutive numbers in `numbers` (ascending), as (first, last).
fn runs(numbers: &[u32]) -> impl Iterator<Item = (u32, u32)> + '_ {
    let mut i = 0;
    std::iter::from_fn(move || {
        let start = *numbers.get(i)?;
        let mut end = start;
        while i + 1 < numbers.len() && numbers[i + 1] == end.wrapping_add(1) {
            i += 1;
            end = numbers[i];
        }
        i += 1;
        Some((start, end))
    })
}

/// Writes `uids` (ascending) compactly as a sequence set: `1:3,7,9:10`.
pub fn compact(uids: &[u32]) -> String {
    let mut out = String::new();
    for (start, end) in runs(uids) {
        if !out.is_empty() {
            out.push(',');
        }
        if start == end {
            out.push_str(&start.to_string());
        } else {
            out.push_str(&format!("{start}:{end}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_resolves_and_compacts() {
        let set = SequenceSet::parse(b"4:2,7,9:*,3").unwrap();
        assert_eq!(set.members(10), vec![2, 3, 4, 7, 9, 10]);
        assert_eq!(set.members(5), vec![2, 3, 4, 5]);
        assert!(set.contains(10, 10));
        assert!(!set.contains(8, 10));
        assert_eq!(compact(&[1, 2, 3, 7, 9, 10]), "1:3,7,9:10");
        assert_eq!(SequenceSet::of(&[1, 2, 3, 7]).members(10), vec![1, 2, 3, 7]);
        assert!(SequenceSet::SAVED.is_saved() && !set.is_saved());
        for bad in [
            &b""[..],
            b"0",
            b"1:",
            b",1",
            b"1,,2",
            b"a",
            b"1:2:3",
            b"99999999999",
        ] {
            assert_eq!(SequenceSet::parse(bad), None, "{}", bad.escape_ascii());
        }
    }
}
