//! Sequence sets: parsing never panics, members stay within the numbers in use, and a
//! set of UIDs written compactly parses back to the same UIDs.

use mailhive_protocol::imap::sequence::{compact, SequenceSet};

/// The largest number in use when members are listed.
const LAST: u32 = 5_000;

#[test]
fn sequence() {
    bolero::check!(name = "sequence")
        .with_test_time(crate::SHORT_RUN)
        .for_each(|input: &[u8]| {
            if let Some(set) = SequenceSet::parse(input) {
                let members = set.members(LAST);
                assert!(members.windows(2).all(|w| w[0] < w[1]), "not ascending");
                assert!(members.iter().all(|&n| (1..=LAST).contains(&n)));
                assert!(members.iter().all(|&n| set.contains(n, LAST)));
            }
            let mut uids: Vec<u32> = input
                .chunks_exact(4)
                .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
                .filter(|&n| n > 0)
                .collect();
            uids.sort_unstable();
            uids.dedup();
            let Some(&last) = uids.last() else { return };
            let text = compact(&uids);
            let parsed = SequenceSet::parse(text.as_bytes());
            let set = parsed.unwrap_or_else(|| panic!("{text:?} does not parse"));
            assert_eq!(set.members(last), uids, "{text}");
        });
}
