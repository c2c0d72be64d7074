//! The RFC 5322 lexical layer under the address grammar: atoms, dot-atoms, quoted
//! strings, comments (the last one's text kept, since it can name an address), domain
//! literals and phrases, read from a copy of the field with a NUL after its end.

/// How a step of the parse ended: the input is broken here, it ended, or more follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Step {
    Broken,
    End,
    More,
}

/// RFC 5322 atext, with every 8-bit byte counted as one.
const ATEXT: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        table[b] = c >= 0x80 || c.is_ascii_alphanumeric();
        b += 1;
    }
    let specials = b"!#$%&'*+-/=?^_`{|}~";
    let mut i = 0;
    while i < specials.len() {
        table[specials[i] as usize] = true;
        i += 1;
    }
    table
};

#[inline(always)]
fn is_atext(b: u8) -> bool {
    ATEXT[b as usize]
}

/// The RFC 5322 lexical tokens: atoms, quoted strings, comments and white space.
pub(super) struct Lexer {
    /// The field and one NUL after it, at `end`: the lexer looks one byte ahead
    /// without a check.
    data: Vec<u8>,
    end: usize,
    pub(super) pos: usize,
    /// The text of the comment skipped last.
    pub(super) last_comment: Vec<u8>,
}

impl Lexer {
    pub(super) fn new(field: &[u8]) -> Lexer {
        let mut data = Vec::with_capacity(field.len() + 1);
        data.extend_from_slice(field);
        data.push(0);
        Lexer {
            data,
            end: field.len(),
            pos: 0,
            last_comment: Vec::new(),
        }
    }

    #[inline(always)]
    pub(super) fn at_end(&self) -> bool {
        self.pos >= self.end
    }

    /// The byte at the position, NUL at the end (NUL matches nothing the parser wants).
    #[inline(always)]
    pub(super) fn peek(&self) -> u8 {
        self.data[self.pos]
    }

    pub(super) fn more(&self) -> Step {
        if self.at_end() {
            Step::End
        } else {
            Step::More
        }
    }

    /// Appends `data[start..end]` without the CR of a line break at its end.
    fn take_line(&self, out: &mut Vec<u8>, start: usize) {
        let mut end = self.pos;
        if end > start && self.data[end - 1] == b'\r' {
            end -= 1;
        }
        out.extend_from_slice(&self.data[start..end]);
    }

    /// A comment, nested ones included; its text (line breaks removed) becomes
    /// `last_comment`.
    fn skip_comment(&mut self) -> Step {
        self.last_comment.clear();
        self.pos += 1;
        let mut start = self.pos;
        let mut level = 1;
        while self.pos < self.end {
            match self.peek() {
                b'(' => level += 1,
                b')' => {
                    level -= 1;
                    if level == 0 {
                        self.last_comment
                            .extend_from_slice(&self.data[start..self.pos]);
                        self.pos += 1;
                        return self.more();
                    }
                }
                b'\n' => {
                    let mut comment = std::mem::take(&mut self.last_comment);
                    self.take_line(&mut comment, start);
                    self.last_comment = comment;
                    start = self.pos + 1;
                }
                b'\\' => {
                    self.pos += 1;
                    if self.at_end() {
                        return Step::Broken;
                    }
                    if matches!(self.peek(), b'\r' | b'\n' | 0) {
                        // Not a quoted-pair: the byte is read as it is.
                        self.pos -= 1;
                    } else {
                        self.last_comment
                            .extend_from_slice(&self.data[start..self.pos - 1]);
                        start = self.pos;
                    }
                }
                _ => {}
            }
            self.pos += 1;
        }
        Step::Broken
    }

    /// White space and comments.
    pub(super) fn skip_lwsp(&mut self) -> Step {
        while !self.at_end() {
            match self.peek() {
                b' ' | b'\t' | b'\r' | b'\n' => self.pos += 1,
                b'(' => {
                    if self.skip_comment() == Step::Broken {
                        return Step::Broken;
                    }
                }
                _ => break,
            }
        }
        self.more()
    }

    fn atom(&mut self, out: &mut Vec<u8>) -> Step {
        if !is_atext(self.peek()) {
            return Step::Broken;
        }
        let start = self.pos;
        while is_atext(self.peek()) {
            self.pos += 1;
        }
        out.extend_from_slice(&self.data[start..self.pos]);
        if self.at_end() {
            return Step::End;
        }
        self.skip_lwsp()
    }

    /// Atoms joined by dots, with white space allowed around the dots (RFC 822).
    fn dot_atom(&mut self, out: &mut Vec<u8>) -> Step {
        if !is_atext(self.peek()) {
            return Step::Broken;
        }
        let mut start = self.pos;
        self.pos += 1;
        while self.pos < self.end {
            if is_atext(self.peek()) {
                self.pos += 1;
                continue;
            }
            if start == self.pos {
                return Step::Broken;
            }
            out.extend_from_slice(&self.data[start..self.pos]);
            let step = self.skip_lwsp();
            if step != Step::More {
                return step;
            }
            if self.peek() != b'.' {
                return Step::More;
            }
            self.pos += 1;
            out.push(b'.');
            if self.skip_lwsp() != Step::More {
                return Step::Broken;
            }
            start = self.pos;
        }
        out.extend_from_slice(&self.data[start..self.pos]);
        Step::End
    }

    /// A local part that may hold dots anywhere (`a..b`, `.a.`), as mail in the wild has.
    pub(super) fn lenient_dot_atom(&mut self, out: &mut Vec<u8>) -> Step {
        let mut step = Step::Broken;
        loop {
            while self.peek() == b'.' {
                out.push(b'.');
                self.pos += 1;
                if self.at_end() {
                    return Step::End;
                }
                step = Step::More;
            }
            if self.peek() == b'@' {
                break;
            }
            step = self.atom(out);
            if step != Step::More || self.peek() != b'.' {
                break;
            }
        }
        step
    }

    pub(super) fn quoted_string(&mut self, out: &mut Vec<u8>) -> Step {
        self.pos += 1;
        let mut start = self.pos;
        while self.pos < self.end {
            match self.peek() {
                b'"' => {
                    out.extend_from_slice(&self.data[start..self.pos]);
                    self.pos += 1;
                    return self.skip_lwsp();
                }
                b'\n' => {
                    self.take_line(out, start);
                    start = self.pos + 1;
                }
                b'\\' => {
                    self.pos += 1;
                    if self.at_end() {
                        return Step::Broken;
                    }
                    if matches!(self.peek(), b'\r' | b'\n' | 0) {
                        self.pos -= 1;
                    } else {
                        out.extend_from_slice(&self.data[start..self.pos - 1]);
                        start = self.pos;
                    }
                }
                _ => {}
            }
            self.pos += 1;
        }
        Step::Broken
    }

    /// Atext and dots, possibly none.
    fn atom_or_dots(&mut self, out: &mut Vec<u8>) -> Step {
        let start = self.pos;
        while is_atext(self.peek()) || self.peek() == b'.' {
            self.pos += 1;
        }
        out.extend_from_slice(&self.data[start..self.pos]);
        if self.at_end() {
            return Step::End;
        }
        self.skip_lwsp()
    }

    /// Words (atoms, quoted strings, dots) joined by single spaces.
    pub(super) fn phrase(&mut self, out: &mut Vec<u8>) -> Step {
        if self.at_end() {
            return Step::End;
        }
        if self.peek() == b'.' {
            return Step::Broken;
        }
        loop {
            let step = if self.peek() == b'"' {
                self.quoted_string(out)
            } else {
                self.atom_or_dots(out)
            };
            if step != Step::More {
                return step;
            }
            let next = self.peek();
            if !is_atext(next) && next != b'"' && next != b'.' {
                break;
            }
            out.push(b' ');
        }
        self.skip_lwsp()
    }

    fn domain_literal(&mut self, out: &mut Vec<u8>) -> Step {
        let mut start = self.pos;
        self.pos += 1;
        while self.pos < self.end {
            match self.peek() {
                b'[' => return Step::Broken,
                b']' => {
                    out.extend_from_slice(&self.data[start..=self.pos]);
                    self.pos += 1;
                    return self.skip_lwsp();
                }
                b'\n' => {
                    self.take_line(out, start);
                    start = self.pos + 1;
                }
                b'\\' => {
                    // The backslash stays in the domain.
                    self.pos += 1;
                    if self.at_end() {
                        return Step::Broken;
                    }
                    if matches!(self.peek(), b'\r' | b'\n' | 0) {
                        out.extend_from_slice(&self.data[start..self.pos]);
                        start = self.pos;
                        self.pos -= 1;
                    }
                }
                _ => {}
            }
            self.pos += 1;
        }
        Step::Broken
    }

    /// `@` and a domain.
    pub(super) fn domain(&mut self, out: &mut Vec<u8>) -> Step {
        self.pos += 1;
        if self.skip_lwsp() != Step::More {
            return Step::Broken;
        }
        if self.peek() == b'[' {
            self.domain_literal(out)
        } else {
            self.dot_atom(out)
        }
    }
}
