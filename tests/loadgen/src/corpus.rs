//! A synthetic mailbox for the SEARCH benchmark, the same for both servers: plain-text
//! messages of about 1.7 KB with words drawn from a fixed list by a fixed-seed
//! generator, written as an mbox (for mailhive's import) and as a maildir (for
//! Dovecot). One message in a thousand holds the word `quetzal` in its body, one in
//! fifty `invoice` in its subject; half are \Seen and one in twenty \Flagged.

use std::fmt::Write as _;
use std::io::Write;
use std::path::Path;

const WORDS: &[&str] = &[
    "about",
    "after",
    "again",
    "agenda",
    "almost",
    "along",
    "amount",
    "answer",
    "april",
    "around",
    "asked",
    "august",
    "balance",
    "before",
    "behind",
    "better",
    "between",
    "board",
    "budget",
    "building",
    "business",
    "called",
    "cannot",
    "change",
    "check",
    "client",
    "coffee",
    "company",
    "contract",
    "could",
    "course",
    "data",
    "delivery",
    "design",
    "detail",
    "during",
    "early",
    "either",
    "email",
    "enough",
    "evening",
    "every",
    "family",
    "final",
    "follow",
    "friday",
    "garden",
    "great",
    "group",
    "happy",
    "having",
    "heard",
    "house",
    "important",
    "issue",
    "itself",
    "joined",
    "kitchen",
    "later",
    "launch",
    "leave",
    "letter",
    "little",
    "looking",
    "lunch",
    "market",
    "meeting",
    "might",
    "minutes",
    "monday",
    "month",
    "morning",
    "never",
    "night",
    "number",
    "office",
    "order",
    "other",
    "paper",
    "people",
    "period",
    "place",
    "plan",
    "please",
    "point",
    "price",
    "project",
    "quarter",
    "question",
    "quick",
    "really",
    "reason",
    "report",
    "review",
    "right",
    "river",
    "round",
    "sales",
    "school",
    "second",
    "server",
    "service",
    "should",
    "since",
    "small",
    "something",
    "sound",
    "spring",
    "still",
    "street",
    "study",
    "summer",
    "system",
    "table",
    "taking",
    "thanks",
    "their",
    "there",
    "these",
    "thing",
    "think",
    "those",
    "three",
    "thursday",
    "ticket",
    "today",
    "together",
    "tomorrow",
    "travel",
    "tuesday",
    "under",
    "until",
    "update",
    "using",
    "version",
    "visit",
    "water",
    "wednesday",
    "week",
    "weekend",
    "where",
    "which",
    "while",
    "winter",
    "without",
    "work",
    "world",
    "would",
    "write",
    "year",
    "yesterday",
];

/// The rare word in bodies and the frequent one in subjects.
pub const BODY_WORD: &str = "quetzal";
pub const SUBJECT_WORD: &str = "invoice";

struct Words(u64);

impl Words {
    fn next(&mut self) -> &'static str {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        WORDS[(self.0 % WORDS.len() as u64) as usize]
    }

    fn line(&mut self, count: usize) -> String {
        (0..count)
            .map(|_| self.next())
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// Message `n`: its text (LF line endings), \Seen and \Flagged.
fn message(n: u64, words: &mut Words) -> (String, bool, bool) {
    let mut subject = words.line(5);
    if n % 50 == 7 {
        subject.push_str(&format!(" {SUBJECT_WORD}"));
    }
    let day = 1 + n % 28;
    let mut text = String::new();
    let _ = write!(
        text,
        "Date: Mon, {day:02} Jun 2025 09:{:02}:00 +0000\nFrom: Sender {} <sender{}@example.org>\n\
         To: Search <search@example.net>\nSubject: {subject}\nMessage-ID: <{n}@corpus.example>\n\
         MIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n",
        n % 60,
        n % 500,
        n % 500
    );
    // Threads of four for THREAD REFERENCES: each message after the first answers the
    // one before it.
    if !n.is_multiple_of(4) {
        let root = n - n % 4;
        let _ = writeln!(
            text,
            "References: <{root}@corpus.example> <{}@corpus.example>",
            n - 1
        );
    }
    text.push('\n');
    for line in 0..25 {
        let mut words_in_line = words.line(9);
        if n % 1000 == 500 && line == 12 {
            words_in_line.push_str(&format!(" {BODY_WORD}"));
        }
        text.push_str(&words_in_line);
        text.push('\n');
    }
    (text, n.is_multiple_of(2), n % 20 == 3)
}

/// Writes `count` messages as an mbox at `mbox` and a maildir at `maildir`.
pub fn write(count: u64, mbox: &Path, maildir: &Path) -> anyhow::Result<()> {
    let mut words = Words(0x9e37_79b9_7f4a_7c15);
    let mut out = std::io::BufWriter::new(std::fs::File::create(mbox)?);
    for dir in ["cur", "new", "tmp"] {
        std::fs::create_dir_all(maildir.join(dir))?;
    }
    for n in 0..count {
        let (text, seen, flagged) = message(n, &mut words);
        let status = match (seen, flagged) {
            (true, true) => "Status: RO\nX-Status: F\n",
            (true, false) => "Status: RO\n",
            (false, true) => "X-Status: F\n",
            (false, false) => "",
        };
        // The status headers are in both, so that both servers hold the same bytes.
        let (headers, body) = text.split_once("\n\n").unwrap_or((&text, ""));
        let full = format!("{headers}\n{status}\n{body}");
        writeln!(out, "From sender@example.org Mon Jun  2 09:00:00 2025")?;
        writeln!(out, "{full}")?;
        let flags = match (seen, flagged) {
            (true, true) => "FS",
            (true, false) => "S",
            (false, true) => "F",
            (false, false) => "",
        };
        let name = format!("{}.M{n}P1.corpus:2,{flags}", 1_700_000_000 + n);
        std::fs::write(maildir.join("cur").join(name), &full)?;
    }
    out.flush()?;
    Ok(())
}
