//! Crash test: a child process appends from three threads and prints `ACK uid seed` once
//! each append has returned; the parent SIGKILLs it at a random moment, reopens the store
//! and checks that every acknowledged message is there, byte for byte. Twenty rounds.
//!
//! Runs without libtest: the binary is both the parent (no arguments) and, re-executed
//! with `child DIR FIRST_SEED`, the appender.

use mailhive_store::{Flags, InternalDate, MailboxName, NewMessage, Store, Username};
use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const ROUNDS: u64 = 20;
const WRITERS: u64 = 3;

/// The message for `seed`: its size varies from tiny to several body chunks.
fn message_for(seed: u64) -> Vec<u8> {
    let size = match seed % 7 {
        0 => 600_000,
        1 | 2 => 20_000,
        _ => 300,
    };
    let mut raw =
        format!("Subject: crash test {seed}\r\nMessage-ID: <{seed}@crash>\r\n\r\n").into_bytes();
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    while raw.len() < size {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        raw.push(b"abcdefghijklmnopqrstuvwxyz \r\n"[(x % 29) as usize]);
    }
    raw
}

fn user() -> Username {
    Username::parse("crash").unwrap()
}

fn child(dir: &str, first_seed: u64) {
    let store = Store::open(dir.as_ref()).expect("child opens the store");
    let inbox = store
        .mailbox(&user(), &MailboxName::inbox())
        .unwrap()
        .unwrap()
        .id;
    std::thread::scope(|s| {
        for writer in 0..WRITERS {
            let store = &store;
            s.spawn(move || {
                for n in 0.. {
                    let seed = first_seed + n * WRITERS + writer;
                    let raw = message_for(seed);
                    let m = NewMessage {
                        raw: &raw,
                        flags: Flags::default(),
                        internal_date: InternalDate::now(),
                    };
                    let uid = store.append(inbox, &[m], &user()).unwrap().unwrap()[0];
                    let mut out = std::io::stdout().lock();
                    writeln!(out, "ACK {uid} {seed}").unwrap();
                    out.flush().unwrap();
                }
            });
        }
    });
}

fn parent() -> Result<(), String> {
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let path = dir
        .path()
        .to_str()
        .ok_or("temp path is not UTF-8")?
        .to_owned();
    {
        let store = Store::open(dir.path()).map_err(|e| e.to_string())?;
        store
            .add_user(&user(), "pw")
            .map_err(|e| e.to_string())?
            .map_err(|e| e.to_string())?;
    }
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let mut acked: Vec<(u32, u64)> = Vec::new();
    let mut rng = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_err(|e| e.to_string())?
        .as_nanos() as u64
        | 1;
    for round in 0..ROUNDS {
        let mut proc = Command::new(&exe)
            .args(["child", &path, &(round * 1_000_000).to_string()])
            .stdout(Stdio::piped())
            .spawn()
            .map_err(|e| e.to_string())?;
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        let lifetime = Duration::from_millis(150 + rng % 600);
        let stdout = proc.stdout.take().ok_or("no child stdout")?;
        let reader = std::thread::spawn(move || {
            BufReader::new(stdout)
                .lines()
                .map_while(Result::ok)
                .filter_map(|line| {
                    let mut parts = line.strip_prefix("ACK ")?.split(' ');
                    Some((parts.next()?.parse().ok()?, parts.next()?.parse().ok()?))
                })
                .collect::<Vec<(u32, u64)>>()
        });
        let started = Instant::now();
        while started.elapsed() < lifetime {
            std::thread::sleep(Duration::from_millis(10));
        }
        proc.kill().map_err(|e| e.to_string())?; // SIGKILL
        proc.wait().map_err(|e| e.to_string())?;
        let round_acks = reader.join().map_err(|_| "reader panicked")?;
        acked.extend(round_acks.iter().copied());

        let store =
            Store::open(dir.path()).map_err(|e| format!("round {round}: reopen failed: {e}"))?;
        let inbox = store
            .mailbox(&user(), &MailboxName::inbox())
            .map_err(|e| e.to_string())?
            .ok_or("INBOX lost")?;
        for &(uid, seed) in &acked {
            let info = store
                .message(inbox.id, uid)
                .map_err(|e| e.to_string())?
                .ok_or(format!(
                    "round {round}: acknowledged UID {uid} (seed {seed}) is missing"
                ))?;
            let body = store.read_body(info.blob).map_err(|e| e.to_string())?;
            if body != message_for(seed) {
                return Err(format!("round {round}: UID {uid} (seed {seed}) is damaged"));
            }
        }
        let max_uid = acked.iter().map(|a| a.0).max().unwrap_or(0);
        if inbox.uid_next <= max_uid {
            return Err(format!(
                "round {round}: UIDNEXT {} not above acknowledged UID {max_uid}",
                inbox.uid_next
            ));
        }
        eprintln!(
            "crash round {round}: killed after {lifetime:?}, {} acknowledged in all, all present",
            acked.len()
        );
    }
    if acked.is_empty() {
        return Err("no append was acknowledged in any round".into());
    }
    Ok(())
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("child") {
        let (Some(dir), Some(seed)) = (args.get(2), args.get(3).and_then(|s| s.parse().ok()))
        else {
            eprintln!("usage: crash child DIR FIRST_SEED");
            std::process::exit(2);
        };
        child(dir, seed);
        return;
    }
    if args.iter().skip(1).any(|a| a == "--list") {
        println!("sigkill_during_concurrent_appends: test");
        return;
    }
    match parent() {
        Ok(()) => println!("crash: 1 passed, 0 failed"),
        Err(reason) => {
            println!("crash: 0 passed, 1 failed");
            eprintln!("sigkill_during_concurrent_appends failed: {reason}");
            std::process::exit(1);
        }
    }
}
