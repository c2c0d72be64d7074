//! The MIME summary of a stored message (its public entry point), given messages
//! spelled with MIME's tokens (multipart boundaries, nested messages, encoded words):
//! no message panics it.

use crate::tokens::expand;
use mailhive_store::MessageSummary;

const TOKENS: [&[u8]; 20] = [
    b"Content-Type: multipart/mixed; boundary=b\r\n",
    b"Content-Type: multipart/alternative; boundary=\"b\"\r\n",
    b"Content-Type: message/rfc822\r\n",
    b"Content-Type: text/plain; charset=utf-8; format=flowed\r\n",
    b"Content-Transfer-Encoding: base64\r\n",
    b"Content-Transfer-Encoding: quoted-printable\r\n",
    b"Content-Disposition: attachment; filename*=utf-8''%C3%A9\r\n",
    b"\r\n--b\r\n",
    b"\r\n--b--\r\n",
    b"\r\n",
    b"\n",
    b"Subject: =?utf-8?b?w6k=?= =?iso-8859-1?q?=E9?=\r\n",
    b"From: \"A\" <a@example.org>, (c) b@\r\n",
    b"To: undisclosed:;\r\n",
    b"Date: Thu, 1 Jan 2024 00:00:00 +0000\r\n",
    b"MIME-Version: 1.0\r\n",
    b" folded\r\n",
    b"=C3=\r\n",
    b"aGVsbG8=\r\n",
    b"\xff\xfe",
];

#[test]
fn mime() {
    bolero::check!(name = "mime")
        .with_test_time(crate::SHORT_RUN)
        .for_each(|input: &[u8]| {
            let summary = MessageSummary::parse(&expand(input, &TOKENS));
            let _ = summary.header("Subject");
        });
}
