//! A load generator for mailhive's benchmarks, run against mailhive and Dovecot alike.
//! Single-threaded tokio, so the client costs less CPU than the server it measures.
//! Every loop is bounded by a time limit and stops by itself; only loopback targets make
//! sense (the benchmarks start both servers on this machine).
//!
//! Workloads:
//! - `pop3`: full POP3 sessions — USER, PASS, STAT, UIDL, RETR of every message, QUIT.
//! - `imaps-handshake`: TLS handshakes on an implicit-TLS IMAP port, each followed by
//!   the greeting, then a close. The certificate's signature is checked, its chain is
//!   not (the servers' certificates are self-signed).
//!
//! Prints one line per run, then the median and the spread, then a machine-readable line
//! `RESULT workload=… server=… median=… min=… max=… unit=…`.

use anyhow::{bail, Context};
use clap::{Parser, ValueEnum};
use std::net::SocketAddr;
use std::rc::Rc;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Workload {
    Pop3,
    ImapsHandshake,
}

#[derive(Debug, Parser)]
#[command(about = "Drives one workload against a mail server on this machine")]
struct Args {
    #[arg(value_enum)]
    workload: Workload,
    /// Address of the server (loopback).
    #[arg(long)]
    addr: SocketAddr,
    /// Name printed in the RESULT line (mailhive, dovecot).
    #[arg(long, default_value = "server")]
    server: String,
    #[arg(long, default_value = "bench")]
    user: String,
    #[arg(long, default_value = "bench")]
    password: String,
    /// Concurrent clients.
    #[arg(long, default_value_t = 8)]
    clients: usize,
    /// Length of one run.
    #[arg(long, default_value_t = 10)]
    seconds: u64,
    /// Runs; the median is reported.
    #[arg(long, default_value_t = 3)]
    runs: usize,
}

/// A line-oriented connection.
struct Conn {
    reader: BufReader<tokio::net::tcp::OwnedReadHalf>,
    writer: tokio::net::tcp::OwnedWriteHalf,
    line: String,
}

impl Conn {
    async fn open(addr: SocketAddr) -> anyhow::Result<Conn> {
        let stream = TcpStream::connect(addr).await.context("connect")?;
        stream.set_nodelay(true)?;
        let (read, writer) = stream.into_split();
        Ok(Conn {
            reader: BufReader::new(read),
            writer,
            line: String::new(),
        })
    }

    async fn read_line(&mut self) -> anyhow::Result<&str> {
        self.line.clear();
        if self.reader.read_line(&mut self.line).await? == 0 {
            bail!("connection closed");
        }
        Ok(&self.line)
    }

    /// Sends a command and checks that the answer starts with `+OK`.
    async fn pop3(&mut self, command: &str) -> anyhow::Result<String> {
        self.writer
            .write_all(format!("{command}\r\n").as_bytes())
            .await?;
        let answer = self.read_line().await?.to_owned();
        if !answer.starts_with("+OK") {
            bail!("{command}: {answer}");
        }
        Ok(answer)
    }

    /// Reads a multi-line answer's body up to the final `.`; returns its bytes.
    async fn pop3_body(&mut self) -> anyhow::Result<u64> {
        let mut bytes = 0;
        loop {
            let line = self.read_line().await?;
            if line == ".\r\n" {
                return Ok(bytes);
            }
            bytes += line.len() as u64;
        }
    }
}

/// One full POP3 session; returns the bytes of mail retrieved.
async fn pop3_session(args: &Args) -> anyhow::Result<u64> {
    let mut conn = Conn::open(args.addr).await?;
    let greeting = conn.read_line().await?;
    if !greeting.starts_with("+OK") {
        bail!("greeting: {greeting}");
    }
    conn.pop3(&format!("USER {}", args.user)).await?;
    conn.pop3(&format!("PASS {}", args.password)).await?;
    let stat = conn.pop3("STAT").await?;
    let count: u32 = stat
        .split_whitespace()
        .nth(1)
        .context("STAT count")?
        .parse()?;
    conn.pop3("UIDL").await?;
    conn.pop3_body().await?;
    let mut bytes = 0;
    for n in 1..=count {
        conn.pop3(&format!("RETR {n}")).await?;
        bytes += conn.pop3_body().await?;
    }
    conn.pop3("QUIT").await?;
    Ok(bytes)
}

/// Accepts any certificate chain, but checks the handshake's signatures, so that the
/// client does the work a real one does.
#[derive(Debug)]
struct AnyCertificate(Arc<rustls::crypto::CryptoProvider>);

impl rustls::client::danger::ServerCertVerifier for AnyCertificate {
    fn verify_server_cert(
        &self,
        _: &rustls::pki_types::CertificateDer<'_>,
        _: &[rustls::pki_types::CertificateDer<'_>],
        _: &rustls::pki_types::ServerName<'_>,
        _: &[u8],
        _: rustls::pki_types::UnixTime,
    ) -> Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
        Ok(rustls::client::danger::ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &rustls::pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        let algorithms = &self.0.signature_verification_algorithms;
        rustls::crypto::verify_tls12_signature(message, cert, dss, algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &rustls::pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        let algorithms = &self.0.signature_verification_algorithms;
        rustls::crypto::verify_tls13_signature(message, cert, dss, algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

fn tls_connector() -> anyhow::Result<tokio_rustls::TlsConnector> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(AnyCertificate(provider)))
        .with_no_client_auth();
    Ok(tokio_rustls::TlsConnector::from(Arc::new(config)))
}

/// One TLS handshake and the IMAP greeting that follows it.
async fn imaps_handshake(args: &Args, tls: &tokio_rustls::TlsConnector) -> anyhow::Result<u64> {
    let tcp = TcpStream::connect(args.addr).await.context("connect")?;
    tcp.set_nodelay(true)?;
    let name = rustls::pki_types::ServerName::try_from("localhost")?;
    let stream = tls.connect(name, tcp).await.context("handshake")?;
    let mut reader = BufReader::new(stream);
    let mut greeting = String::new();
    reader.read_line(&mut greeting).await?;
    if !greeting.starts_with("* OK") {
        bail!("greeting: {greeting}");
    }
    Ok(0)
}

/// Runs the workload with every client for `args.seconds`; returns sessions per second.
async fn run_once(args: Rc<Args>) -> anyhow::Result<f64> {
    let tls = Rc::new(tls_connector()?);
    let deadline = Instant::now() + Duration::from_secs(args.seconds);
    let started = Instant::now();
    let clients: Vec<_> = (0..args.clients)
        .map(|_| {
            let (args, tls) = (args.clone(), tls.clone());
            tokio::task::spawn_local(async move {
                let mut sessions = 0u64;
                while Instant::now() < deadline {
                    match args.workload {
                        Workload::Pop3 => pop3_session(&args).await?,
                        Workload::ImapsHandshake => imaps_handshake(&args, &tls).await?,
                    };
                    sessions += 1;
                }
                Ok::<_, anyhow::Error>(sessions)
            })
        })
        .collect();
    let mut total = 0;
    for client in clients {
        total += client.await.context("client task failed")??;
    }
    Ok(total as f64 / started.elapsed().as_secs_f64())
}

fn main() -> anyhow::Result<()> {
    let args = Rc::new(Args::parse());
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let mut rates = Vec::new();
    for run in 1..=args.runs {
        let rate = tokio::task::LocalSet::new().block_on(&runtime, run_once(args.clone()))?;
        println!(
            "{:?} {} run {run}: {rate:.1} sessions/s",
            args.workload, args.server
        );
        rates.push(rate);
    }
    rates.sort_by(f64::total_cmp);
    let median = rates[rates.len() / 2];
    let (min, max) = (rates[0], rates[rates.len() - 1]);
    println!(
        "{:?} {}: median {median:.1} sessions/s (spread {min:.1} – {max:.1})",
        args.workload, args.server
    );
    println!(
        "RESULT workload={:?} server={} median={median:.1} min={min:.1} max={max:.1} unit=sessions/s",
        args.workload, args.server
    );
    Ok(())
}
