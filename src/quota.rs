//! Quota as the administrator writes and reads it (SPEC §7): the `[quota]` section of
//! the configuration, sizes with `K`, `M` and `G`, and the text `quota show` prints.
//! The usage and the check live in the store (`mailhive_store::quota`); the IMAP
//! answers in `imap/quota.rs`.

use mailhive_store::{Quota, QuotaLimits};
use std::collections::BTreeMap;
use std::fmt::Write;

/// Reads `storage` and `messages` of the `[quota]` section; what is wrong goes to `errors`.
/// Both default to 0, unlimited.
pub fn config_section(
    mut table: BTreeMap<String, config::Value>,
    errors: &mut Vec<String>,
) -> QuotaLimits {
    let mut limits = QuotaLimits::default();
    if let Some(value) = table.remove("storage") {
        match value
            .into_string()
            .map_err(|e| e.to_string())
            .and_then(|t| parse_size(&t))
        {
            Ok(bytes) => limits.storage = bytes,
            Err(e) => errors.push(format!("quota.storage: {e}")),
        }
    }
    if let Some(value) = table.remove("messages") {
        match value.into_uint() {
            Ok(n) => limits.messages = n,
            Err(_) => errors
                .push("quota.messages must be a whole number of messages (0 = unlimited)".into()),
        }
    }
    for key in table.keys() {
        errors.push(format!("unknown key quota.{key}"));
    }
    limits
}

/// A size in bytes: a whole number, or one followed by `K`, `M` or `G` (KiB, MiB, GiB;
/// lower case too). `0` is unlimited.
pub fn parse_size(text: &str) -> Result<u64, String> {
    let bad = || {
        format!(
            "{text:?} is not a size: use a number of bytes, or one with K, M or G (KiB, MiB, GiB)"
        )
    };
    let text = text.trim();
    let shift = match text.chars().last().map(|c| c.to_ascii_uppercase()) {
        Some('K') => 10,
        Some('M') => 20,
        Some('G') => 30,
        _ => 0,
    };
    // The suffix, when there is one, is one ASCII byte.
    let digits = if shift == 0 {
        text
    } else {
        &text[..text.len() - 1]
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    let number: u64 = digits.parse().map_err(|_| bad())?;
    number
        .checked_mul(1 << shift)
        .ok_or_else(|| format!("{text:?} is too large"))
}

/// A limit as people read it: `unlimited` for 0, else the number and its unit.
pub fn limit_text(limit: u64, unit: &str) -> String {
    if limit == 0 {
        "unlimited".into()
    } else {
        format!("{limit}{unit}")
    }
}

/// `quota show`: usage and limits, one `Name : value` a line; a limit says whether it is
/// the account's own (`set`) or the `[quota]` default (`default`).
pub fn show_text(quota: &Quota) -> String {
    let source = |own: Option<u64>| if own.is_some() { "set" } else { "default" };
    let mut out = String::new();
    let _ = writeln!(out, "StorageUsed : {} bytes", quota.usage.bytes);
    let _ = writeln!(
        out,
        "StorageLimit : {} ({})",
        limit_text(quota.limits.storage, " bytes"),
        source(quota.overrides.storage)
    );
    let _ = writeln!(out, "MessagesUsed : {}", quota.usage.messages);
    let _ = writeln!(
        out,
        "MessagesLimit : {} ({})",
        limit_text(quota.limits.messages, ""),
        source(quota.overrides.messages)
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_take_binary_suffixes() {
        assert_eq!(parse_size("0"), Ok(0));
        assert_eq!(parse_size("1000"), Ok(1000));
        assert_eq!(parse_size("10K"), Ok(10 << 10));
        assert_eq!(parse_size("5m"), Ok(5 << 20));
        assert_eq!(parse_size("2G"), Ok(2 << 30));
        for bad in ["", "K", "-1", "1.5M", "10T", "1 0", "0x10"] {
            assert!(parse_size(bad).is_err(), "{bad:?}");
        }
        assert!(parse_size("99999999999999999999G").is_err());
        assert!(parse_size("17179869184G")
            .unwrap_err()
            .contains("too large"));
    }

    #[test]
    fn the_section_is_checked_key_by_key() {
        let table = |pairs: &[(&str, config::Value)]| {
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.clone()))
                .collect::<BTreeMap<_, _>>()
        };
        let mut errors = Vec::new();
        let limits = config_section(
            table(&[("storage", "1G".into()), ("messages", 5000.into())]),
            &mut errors,
        );
        assert_eq!(
            (limits, errors.is_empty()),
            (
                QuotaLimits {
                    storage: 1 << 30,
                    messages: 5000
                },
                true
            )
        );
        let mut errors = Vec::new();
        config_section(
            table(&[
                ("storage", "lots".into()),
                ("messages", "-3".into()),
                ("bytes", 1.into()),
            ]),
            &mut errors,
        );
        assert_eq!(errors.len(), 3, "{errors:?}");
        assert!(errors[0].starts_with("quota.storage: \"lots\" is not a size"));
        assert!(errors[1].starts_with("quota.messages must be a whole number"));
        assert_eq!(errors[2], "unknown key quota.bytes");
    }
}
