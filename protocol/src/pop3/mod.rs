//! POP3 (RFC 1939) with the extensions of RFC 2449 (CAPA, response codes) and RFC 5034
//! (SASL). [`command`] parses one command line; [`response`] encodes answers.

pub mod command;
pub mod response;
