//! TLS on rustls, TLS 1.2 and 1.3 only: the server configuration, the handshake, and
//! the certificate — the PEM chain and key of `[tls]`, or, when none is configured, a
//! self-signed certificate for the host name and `localhost` generated once into the
//! data directory and reused. [`Tls::reload`] reads the files again and swaps the
//! certificate for the handshakes that follow; connections already open keep theirs
//! (what certbot users expect of `mailhive tls reload` or SIGHUP).

use rustls::crypto::ring::default_provider;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::Duration;
use tokio::net::TcpStream;
use tokio_rustls::server::TlsStream;
use tokio_rustls::TlsAcceptor;

/// The generated certificate and key, in the data directory.
pub const GENERATED_CERT: &str = "tls-cert.pem";
pub const GENERATED_KEY: &str = "tls-key.pem";

#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("{path}: {reason}")]
    File { path: PathBuf, reason: String },
    #[error("the certificate does not go with the key: {0}")]
    Mismatch(rustls::Error),
    #[error("TLS configuration: {0}")]
    Config(#[from] rustls::Error),
    #[error("generating a self-signed certificate: {0}")]
    Generate(#[from] rcgen::Error),
}

fn file_error(path: &Path, reason: impl std::fmt::Display) -> TlsError {
    TlsError::File {
        path: path.to_owned(),
        reason: reason.to_string(),
    }
}

/// Where the certificate comes from.
#[derive(Debug, Clone)]
struct Files {
    cert: PathBuf,
    key: PathBuf,
}

/// The certificate every handshake gets, swapped by a reload.
#[derive(Debug)]
struct Current(RwLock<Arc<CertifiedKey>>);

impl ResolvesServerCert for Current {
    fn resolve(&self, _: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(self.0.read().unwrap_or_else(|p| p.into_inner()).clone())
    }
}

/// The server side of TLS.
#[derive(Debug)]
pub struct Tls {
    files: Files,
    provider: Arc<CryptoProvider>,
    current: Arc<Current>,
    config: Arc<rustls::ServerConfig>,
}

impl Tls {
    /// The configured certificate (`cert` and `key` both given), or the generated one
    /// in `data_dir`, created now if it is not there yet.
    pub fn load(cert_and_key: Option<(&Path, &Path)>, data_dir: &Path) -> Result<Tls, TlsError> {
        let files = match cert_and_key {
            Some((cert, key)) => Files {
                cert: cert.to_owned(),
                key: key.to_owned(),
            },
            None => generated(data_dir)?,
        };
        let provider = Arc::new(default_provider());
        let current = Arc::new(Current(RwLock::new(Arc::new(read_pair(
            &files, &provider,
        )?))));
        let config = rustls::ServerConfig::builder_with_provider(provider.clone())
            .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])?
            .with_no_client_auth()
            .with_cert_resolver(current.clone());
        Ok(Tls {
            files,
            provider,
            current,
            config: Arc::new(config),
        })
    }

    /// Reads the certificate and key again; the next handshakes use them. On an error
    /// the certificate in use stays.
    pub fn reload(&self) -> Result<(), TlsError> {
        let fresh = Arc::new(read_pair(&self.files, &self.provider)?);
        *self.current.0.write().unwrap_or_else(|p| p.into_inner()) = fresh;
        Ok(())
    }

    /// The server configuration, for a listener that makes its own handshakes (the web
    /// console's HTTPS); it shares the certificate, so a reload reaches it too.
    pub fn server_config(&self) -> rustls::ServerConfig {
        (*self.config).clone()
    }

    /// The TLS handshake on `tcp`, given up after `timeout`.
    pub async fn accept(
        &self,
        tcp: TcpStream,
        timeout: Duration,
    ) -> std::io::Result<TlsStream<TcpStream>> {
        let acceptor = TlsAcceptor::from(self.config.clone());
        tokio::time::timeout(timeout, acceptor.accept(tcp))
            .await
            .unwrap_or_else(|_| Err(std::io::ErrorKind::TimedOut.into()))
    }
}

/// The certificate chain and key of `files`, checked to go together.
fn read_pair(files: &Files, provider: &CryptoProvider) -> Result<CertifiedKey, TlsError> {
    let chain = CertificateDer::pem_file_iter(&files.cert)
        .map_err(|e| file_error(&files.cert, e))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| file_error(&files.cert, e))?;
    if chain.is_empty() {
        return Err(file_error(&files.cert, "no certificate in the file"));
    }
    let key = PrivateKeyDer::from_pem_file(&files.key).map_err(|e| file_error(&files.key, e))?;
    CertifiedKey::from_der(chain, key, provider).map_err(TlsError::Mismatch)
}

/// The generated certificate's files in `data_dir`, made if missing: self-signed, for
/// this host's name, `localhost` and the loopback addresses.
fn generated(data_dir: &Path) -> Result<Files, TlsError> {
    let files = Files {
        cert: data_dir.join(GENERATED_CERT),
        key: data_dir.join(GENERATED_KEY),
    };
    if files.cert.exists() && files.key.exists() {
        return Ok(files);
    }
    let host = host_name().unwrap_or_else(|| "localhost".into());
    let mut names = vec!["localhost".to_owned(), "127.0.0.1".into(), "::1".into()];
    if host != "localhost" {
        names.insert(0, host.clone());
    }
    let mut params = rcgen::CertificateParams::new(names)?;
    params.distinguished_name = rcgen::DistinguishedName::new();
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, host);
    params
        .distinguished_name
        .push(rcgen::DnType::OrganizationName, "mailhive (self-signed)");
    let key = rcgen::KeyPair::generate()?;
    let cert = params.self_signed(&key)?;
    write_private(&files.key, key.serialize_pem().as_bytes())?;
    std::fs::write(&files.cert, cert.pem()).map_err(|e| file_error(&files.cert, e))?;
    tracing::info!(cert = %files.cert.display(), "generated a self-signed TLS certificate");
    Ok(files)
}

/// Writes a file only its owner may read.
fn write_private(path: &Path, bytes: &[u8]) -> Result<(), TlsError> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
        .and_then(|mut file| file.write_all(bytes))
        .map_err(|e| file_error(path, e))
}

/// This machine's host name, if it has a usable one.
pub(crate) fn host_name() -> Option<String> {
    let name = std::fs::read_to_string("/proc/sys/kernel/hostname").ok()?;
    let name = name.trim();
    (!name.is_empty()).then(|| name.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_generated_certificate_is_made_once_and_reused() {
        let dir = tempfile::tempdir().unwrap();
        let tls = Tls::load(None, dir.path()).unwrap();
        let first = std::fs::read(dir.path().join(GENERATED_CERT)).unwrap();
        drop(tls);
        Tls::load(None, dir.path()).unwrap().reload().unwrap();
        assert_eq!(
            std::fs::read(dir.path().join(GENERATED_CERT)).unwrap(),
            first
        );
        let mode = std::fs::metadata(dir.path().join(GENERATED_KEY)).unwrap();
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(mode.permissions().mode() & 0o777, 0o600);
    }

    #[test]
    fn a_key_that_does_not_match_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let other = tempfile::tempdir().unwrap();
        Tls::load(None, dir.path()).unwrap();
        Tls::load(None, other.path()).unwrap();
        let cert = dir.path().join(GENERATED_CERT);
        let key = other.path().join(GENERATED_KEY);
        let error = Tls::load(Some((&cert, &key)), dir.path()).unwrap_err();
        assert!(matches!(error, TlsError::Mismatch(_)), "{error}");
        let missing = dir.path().join("missing.pem");
        let error = Tls::load(Some((&missing, &key)), dir.path()).unwrap_err();
        assert!(error.to_string().contains("missing.pem"), "{error}");
    }
}
