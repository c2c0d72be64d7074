//! The base subject of RFC 5256 §2.1, which SORT (SUBJECT) compares: the subject
//! without its reply and forward markers (`Re:`, `Fw:`, `Fwd:`, with `[blob]`s before
//! them), `(fwd)` trailers and a `[fwd: …]` wrapper, white space made single spaces.
//! The subject comes decoded (RFC 2047) from the summary stored at append.

/// The base subject of `subject` (decoded).
pub fn base_subject(subject: &str) -> String {
    extract(subject).0
}

/// The base subject of `subject`, and whether markers of a reply or a forward came
/// off it (`Re:`, `Fw:`, `Fwd:`, `(fwd)`, `[fwd: …]`; RFC 5256 §2.1), which THREAD
/// REFERENCES asks when it merges threads by subject.
pub fn extract(subject: &str) -> (String, bool) {
    let mut reply = false;
    // (1) Runs of white space become one space.
    let mut text = subject.split_whitespace().collect::<Vec<_>>().join(" ");
    loop {
        // (2) Trailers: "(fwd)" and white space at the end.
        loop {
            let trimmed = text.trim_end_matches(' ');
            let len = trimmed.len();
            let fwd = ends_with_fwd(trimmed);
            reply |= fwd;
            let cut = if fwd { len - 5 } else { len };
            if cut == text.len() {
                break;
            }
            text.truncate(cut);
        }
        // (3)-(5) Leaders, then a blob that does not leave the subject empty, again
        // and again.
        loop {
            let before = text.len();
            while let Some((rest, marker)) = after_leader(&text) {
                reply |= marker;
                text = rest.to_owned();
            }
            if let Some(rest) = after_blob(&text).filter(|rest| !rest.is_empty()) {
                text = rest.to_owned();
            }
            if text.len() == before {
                break;
            }
        }
        // (6) A "[fwd: …]" wrapper comes off, and the steps start again.
        let wrapped = text.len() >= 6
            && text.as_bytes()[..5].eq_ignore_ascii_case(b"[fwd:")
            && text.ends_with(']');
        if !wrapped {
            return (text, reply);
        }
        reply = true;
        text = text[5..text.len() - 1].to_owned();
    }
}

fn ends_with_fwd(text: &str) -> bool {
    let bytes = text.as_bytes();
    bytes.len() >= 5 && bytes[bytes.len() - 5..].eq_ignore_ascii_case(b"(fwd)")
}

/// `text` after `subj-leader = (*subj-blob subj-refwd) / WSP`, if it starts with one,
/// and whether that was a `subj-refwd = ("re" / ("fw" ["d"])) *WSP [subj-blob] ":"`.
fn after_leader(text: &str) -> Option<(&str, bool)> {
    if let Some(rest) = text.strip_prefix(' ') {
        return Some((rest, false));
    }
    let mut rest = text;
    while let Some(after) = after_blob(rest) {
        rest = after;
    }
    let marker = ["fwd", "fw", "re"].into_iter().find(|m| {
        rest.len() >= m.len() && rest.as_bytes()[..m.len()].eq_ignore_ascii_case(m.as_bytes())
    })?;
    rest = rest[marker.len()..].trim_start_matches(' ');
    if let Some(after) = after_blob(rest) {
        rest = after;
    }
    rest.strip_prefix(':').map(|rest| (rest, true))
}

/// `text` after `subj-blob = "[" *BLOBCHAR "]" *WSP`, if it starts with one.
fn after_blob(text: &str) -> Option<&str> {
    let inner = text.strip_prefix('[')?;
    let close = inner.find(['[', ']'])?;
    inner[close..]
        .strip_prefix(']')
        .map(|rest| rest.trim_start_matches(' '))
}

#[cfg(test)]
mod tests {
    use super::base_subject;

    #[test]
    fn strips_markers_as_rfc_5256_says() {
        for (subject, base) in [
            ("a", "a"),
            ("Re: hello", "hello"),
            ("[foo] Fwd: [bar] Re: fw: b (fWd)  (fwd)", "b"),
            ("Re: [FWD: c]", "c"),
            ("re: [fwd: [fwd: re: [fwd: babylon]]]", "babylon"),
            ("[xyz]", "[xyz]"),
            (" ", ""),
            ("RE: C", "C"),
            ("Ad: Re: Ad: x", "Ad: Re: Ad: x"),
            ("b (a)", "b (a)"),
            ("Re:\tmany \t  spaces ", "many spaces"),
            ("Fwd:Re:[list]Re : x", "x"),
            ("[bug 12] crash", "crash"),
        ] {
            assert_eq!(base_subject(subject), base, "{subject:?}");
        }
        assert!(!super::extract("[list] news").1);
        assert!(super::extract("news (fwd)").1 && super::extract("[fwd: news]").1);
        assert!(super::extract("[list] Re: news").1);
    }
}
