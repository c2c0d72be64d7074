//! Address header fields (RFC 5322 §3.4) split into the entries of an ENVELOPE address
//! list, the way Dovecot's parser splits them, so that clients see the same names:
//! a quoted or atom phrase before `<…>` is the display name, a comment after a bare
//! addr-spec (`user@host (Name)`) is too, groups become a start and an end entry, and
//! what is broken is filled in (`MISSING_MAILBOX`, `MISSING_DOMAIN`) rather than dropped.
//!
//! One pass over the field, in time linear in its length: each address is read at most
//! three times (as a group, as a name-addr, as an addr-spec) and never beyond its own
//! end, so a field of 100,000 addresses costs what its bytes cost. The tokens are
//! [`lexer`]'s.

mod lexer;

use lexer::{Lexer, Step};

/// One entry of an ENVELOPE address list: a mailbox, or a group's start (`mailbox` is
/// the group's name and `domain` is `None`) or end (all `None`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Address {
    pub name: Option<String>,
    pub route: Option<String>,
    pub mailbox: Option<String>,
    pub domain: Option<String>,
}

/// The entries of an address header field value.
pub fn parse(field: &str) -> Vec<Address> {
    let mut parser = Parser {
        lex: Lexer::new(field.as_bytes()),
        text: Vec::new(),
        current: Address::default(),
        invalid: false,
        out: Vec::new(),
    };
    if parser.lex.skip_lwsp() == Step::More {
        parser.address_list();
    }
    parser.out
}

/// Tokens end at ASCII bytes only, so they are whole UTF-8 text.
fn text(bytes: &[u8]) -> String {
    String::from_utf8(bytes.to_vec())
        .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

/// The address grammar over the [`Lexer`], building entries.
struct Parser {
    lex: Lexer,
    /// Scratch text of the token being read.
    text: Vec<u8>,
    current: Address,
    invalid: bool,
    out: Vec<Address>,
}

impl Parser {
    fn add(&mut self) {
        self.out.push(std::mem::take(&mut self.current));
        self.invalid = false;
    }

    /// Adds the current mailbox with what it lacks filled in.
    fn add_filled(&mut self) {
        if self.current.mailbox.is_none() {
            self.current.mailbox = Some("MISSING_MAILBOX".into());
        }
        if self.current.domain.as_deref().is_none_or(str::is_empty) {
            self.current.domain = Some("MISSING_DOMAIN".into());
        }
        self.add();
    }

    fn local_part(&mut self) -> Step {
        self.text.clear();
        let step = if self.lex.peek() == b'"' {
            self.lex.quoted_string(&mut self.text)
        } else {
            self.lex.lenient_dot_atom(&mut self.text)
        };
        if step == Step::Broken {
            return step;
        }
        self.current.mailbox = Some(text(&self.text));
        step
    }

    fn domain(&mut self) -> Step {
        self.text.clear();
        let step = self.lex.domain(&mut self.text);
        if step != Step::Broken {
            self.current.domain = Some(text(&self.text));
        }
        step
    }

    /// An obsolete route: `@a,@b` before the `:` of an angle address.
    fn route(&mut self) -> Step {
        self.text.clear();
        loop {
            if self.lex.at_end() {
                return Step::End;
            }
            if self.lex.peek() != b'@' {
                break;
            }
            if !self.text.is_empty() {
                self.text.push(b',');
            }
            self.text.push(b'@');
            let step = self.lex.domain(&mut self.text);
            if step != Step::More {
                return step;
            }
            while self.lex.skip_lwsp() == Step::More && self.lex.peek() == b',' {
                self.lex.pos += 1;
            }
        }
        self.current.route = Some(text(&self.text));
        Step::More
    }

    /// `<` [route `:`] addr-spec `>`
    fn angle_addr(&mut self) -> Step {
        self.lex.pos += 1;
        if self.lex.skip_lwsp() != Step::More {
            return Step::Broken;
        }
        if self.lex.peek() == b'@' {
            if self.route() == Step::More && self.lex.peek() == b':' {
                self.lex.pos += 1;
            } else {
                self.current.route = Some("INVALID_ROUTE".into());
                if self.lex.at_end() {
                    return Step::Broken;
                }
            }
            if self.lex.skip_lwsp() != Step::More {
                return Step::Broken;
            }
        }
        if self.lex.peek() != b'>' {
            if self.local_part() != Step::More {
                return Step::Broken;
            }
            if self.lex.peek() == b'@' && self.domain() != Step::More {
                return Step::Broken;
            }
        }
        if self.lex.peek() != b'>' {
            return Step::Broken;
        }
        self.lex.pos += 1;
        self.lex.skip_lwsp()
    }

    /// [phrase] angle-addr
    fn name_addr(&mut self) -> Step {
        self.text.clear();
        if self.lex.phrase(&mut self.text) != Step::More || self.lex.peek() != b'<' {
            return Step::Broken;
        }
        self.current.name = (!self.text.is_empty()).then(|| text(&self.text));
        if self.angle_addr() == Step::Broken {
            self.current.domain = Some("SYNTAX_ERROR".into());
            self.invalid = true;
        }
        self.lex.more()
    }

    /// local-part [`@` domain], a comment after it naming it; words without `@` are a
    /// name without an address.
    fn addr_spec(&mut self) -> Step {
        self.lex.last_comment.clear();
        let quoted = self.lex.peek() == b'"';
        let mut step = self.local_part();
        if step == Step::Broken {
            self.invalid = true;
        }
        let mut has_domain = false;
        if step != Step::End && self.lex.peek() == b'@' {
            has_domain = true;
            let domain = self.domain();
            if domain != Step::More {
                step = domain;
            }
        }
        if !self.lex.last_comment.is_empty() {
            self.current.name = Some(text(&self.lex.last_comment));
        } else if !has_domain {
            self.text.push(b' ');
            let before = self.text.len();
            self.lex.phrase(&mut self.text);
            if self.text.len() != before {
                self.current.mailbox = None;
                self.current.name = Some(text(&self.text));
            } else if !quoted {
                self.current.domain = Some(String::new());
            }
            self.invalid = true;
            step = Step::Broken;
        }
        step
    }

    /// name-addr / addr-spec
    fn mailbox(&mut self) -> Step {
        let start = self.lex.pos;
        let mut step = self.name_addr();
        if step == Step::Broken {
            self.lex.pos = start;
            step = self.addr_spec();
            let current = &mut self.current;
            if self.invalid
                && current.name.is_none()
                && current.mailbox.is_some()
                && current.domain.is_none()
            {
                current.name = current.mailbox.take();
            }
        }
        self.add_filled();
        step
    }

    /// phrase `:` [mailbox-list] `;`
    fn group(&mut self) -> Step {
        self.text.clear();
        if self.lex.phrase(&mut self.text) != Step::More || self.lex.peek() != b':' {
            return Step::Broken;
        }
        self.lex.pos += 1;
        let mut step = self.lex.skip_lwsp();
        self.current.mailbox = Some(text(&self.text));
        self.add();
        if step == Step::More && self.lex.peek() != b';' {
            loop {
                // A broken mailbox is kept as far as it was read; the list goes on.
                self.mailbox();
                if self.lex.peek() != b',' {
                    break;
                }
                self.lex.pos += 1;
                if self.lex.skip_lwsp() != Step::More {
                    step = Step::Broken;
                    break;
                }
            }
        }
        if step != Step::Broken {
            if self.lex.peek() == b';' {
                self.lex.pos += 1;
                step = self.lex.skip_lwsp();
            } else {
                step = Step::Broken;
            }
        }
        self.add();
        if step == Step::End {
            Step::End
        } else {
            Step::More
        }
    }

    fn address(&mut self) -> Step {
        let start = self.lex.pos;
        let step = self.group();
        if step != Step::Broken {
            return step;
        }
        self.lex.pos = start;
        self.mailbox()
    }

    fn address_list(&mut self) {
        loop {
            if self.address() == Step::End || self.lex.peek() != b',' {
                break;
            }
            self.lex.pos += 1;
            match self.lex.skip_lwsp() {
                Step::More => {}
                Step::Broken => {
                    // Ends with garbage.
                    self.add_filled();
                    break;
                }
                Step::End => break,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(name: Option<&str>, route: Option<&str>, mailbox: &str, domain: &str) -> Address {
        Address {
            name: name.map(str::to_owned),
            route: route.map(str::to_owned),
            mailbox: Some(mailbox.to_owned()),
            domain: Some(domain.to_owned()),
        }
    }

    fn group_start(name: &str) -> Address {
        Address {
            mailbox: Some(name.to_owned()),
            ..Address::default()
        }
    }

    #[test]
    fn display_names_in_every_form() {
        assert_eq!(
            parse(r#""Berg, Anna" <anna@example.org>, Ben (the builder) Okafor <ben@x.test>"#),
            [
                entry(Some("Berg, Anna"), None, "anna", "example.org"),
                entry(Some("Ben Okafor"), None, "ben", "x.test"),
            ]
        );
        assert_eq!(
            parse("carl@x.test (first) (Carl (C.) Dane), <bare@x.test> (not a name)"),
            [
                entry(Some("Carl (C.) Dane"), None, "carl", "x.test"),
                entry(None, None, "bare", "x.test"),
            ]
        );
        assert_eq!(
            parse(r#""Anna \"Annie\" Berg" <a@x.test>, "" <e@x.test>"#),
            [
                entry(Some(r#"Anna "Annie" Berg"#), None, "a", "x.test"),
                entry(None, None, "e", "x.test"),
            ]
        );
        assert_eq!(
            parse("Pete(A nice \\) chap) <pete(his account)@silly.test(his host)>"),
            [entry(Some("Pete"), None, "pete", "silly.test")]
        );
        assert_eq!(
            parse("<@route.test,@two.test:user@host.test>"),
            [entry(
                None,
                Some("@route.test,@two.test"),
                "user",
                "host.test"
            )]
        );
    }

    #[test]
    fn groups_have_a_start_and_an_end() {
        assert_eq!(
            parse("A Group:Ed Jones <c@a.test>,joe@where.test;, x@y.test"),
            [
                group_start("A Group"),
                entry(Some("Ed Jones"), None, "c", "a.test"),
                entry(None, None, "joe", "where.test"),
                Address::default(),
                entry(None, None, "x", "y.test"),
            ]
        );
        assert_eq!(
            parse("undisclosed-recipients:;"),
            [group_start("undisclosed-recipients"), Address::default()]
        );
    }

    #[test]
    fn what_is_missing_is_filled_in() {
        assert_eq!(
            parse("localonly, foo bar, <>"),
            [
                entry(None, None, "localonly", "MISSING_DOMAIN"),
                entry(Some("foo bar"), None, "MISSING_MAILBOX", "MISSING_DOMAIN"),
                entry(None, None, "MISSING_MAILBOX", "MISSING_DOMAIN"),
            ]
        );
        assert!(parse("").is_empty());
        assert!(parse("  (only a comment) ").is_empty());
    }

    #[test]
    fn a_huge_list_is_read_in_one_pass() {
        let field: Vec<String> = (0..100_000)
            .map(|i| format!("U {i} <u{i}@x.test>"))
            .collect();
        let parsed = parse(&field.join(", "));
        assert_eq!(parsed.len(), 100_000);
        assert_eq!(
            parsed[99_999],
            entry(Some("U 99999"), None, "u99999", "x.test")
        );
    }
}
