//! The memory a server uses: the proportional set size (PSS) of a process and all its
//! descendants, from /proc. PSS divides shared pages between the processes that map
//! them, so a server of many processes (Dovecot) is counted fairly against one of one.

use anyhow::Context;
use std::collections::HashMap;

/// PSS of `pid` and its descendants, in KiB.
pub fn tree_pss_kib(pid: u32) -> anyhow::Result<u64> {
    let mut children: HashMap<u32, Vec<u32>> = HashMap::new();
    for entry in std::fs::read_dir("/proc")? {
        let Ok(child) = entry?.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{child}/stat")) else {
            continue; // gone in between
        };
        // The parent is the second field after the command name in parentheses.
        let parent = stat
            .rsplit_once(')')
            .and_then(|(_, rest)| rest.split_whitespace().nth(1))
            .and_then(|p| p.parse::<u32>().ok());
        if let Some(parent) = parent {
            children.entry(parent).or_default().push(child);
        }
    }
    let mut total = 0;
    let mut pending = vec![pid];
    while let Some(next) = pending.pop() {
        total += pss_kib(next).with_context(|| format!("PSS of process {next}"))?;
        pending.extend(children.get(&next).into_iter().flatten());
    }
    Ok(total)
}

fn pss_kib(pid: u32) -> anyhow::Result<u64> {
    let rollup = std::fs::read_to_string(format!("/proc/{pid}/smaps_rollup"))?;
    rollup
        .lines()
        .find_map(|l| l.strip_prefix("Pss:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .context("no Pss line")
}
