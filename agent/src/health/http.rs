//! The built-in HTTP(S) check: one GET, success when the status is the expected one (or any
//! 2xx when none is configured, as keepalived's `HTTP_GET` without `status_code`).
//!
//! The Kubernetes case is the reason this exists: kube-apiserver serves
//! `https://127.0.0.1:6443/healthz` with a certificate from the cluster's own CA, so TLS
//! verification is configurable: off accepts any certificate (the check is about liveness of
//! a local process, not about its identity), on verifies against the system roots plus an
//! optional CA file (`/etc/kubernetes/pki/ca.crt`).
//!
//! Every probe opens a fresh connection (no idle pool): a server that still answers on an old
//! keep-alive connection but no longer accepts new ones is not healthy. Redirects are not
//! followed: the status the server answers is the one compared.

use std::path::PathBuf;

use reqwest::{redirect, Certificate, Client, Url};

use super::failure::ProbeFailure;

/// What to GET and what counts as healthy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpCheck {
    /// `http://` or `https://` URL.
    pub url: String,
    /// `None`: any 2xx status.
    pub expected_status: Option<u16>,
    /// `false` accepts any certificate (self-signed, expired, wrong name).
    pub verify_tls: bool,
    /// PEM file with extra trusted CA certificates, used when verifying.
    pub ca_file: Option<PathBuf>,
}

/// Why an HTTP check cannot be set up.
#[derive(Debug, thiserror::Error)]
pub enum HttpSetupError {
    #[error("invalid check URL {url:?}: {reason}")]
    Url { url: String, reason: String },
    #[error("check URL {0:?} must start with http:// or https://")]
    Scheme(String),
    #[error("cannot read CA file {path}: {source}")]
    CaFile {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("CA file {path} holds no usable PEM certificate: {source}")]
    CaPem {
        path: PathBuf,
        #[source]
        source: reqwest::Error,
    },
    #[error("cannot build the HTTP client: {0}")]
    Client(#[source] reqwest::Error),
}

/// A built HTTP check: the client is made once, each probe is one request.
pub(crate) struct HttpProber {
    client: Client,
    url: Url,
    expected_status: Option<u16>,
}

impl HttpProber {
    pub(crate) fn new(check: &HttpCheck) -> Result<Self, HttpSetupError> {
        let url: Url = check.url.parse().map_err(|error| HttpSetupError::Url {
            url: check.url.clone(),
            reason: format!("{error}"),
        })?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(HttpSetupError::Scheme(check.url.clone()));
        }
        let mut builder = Client::builder()
            .redirect(redirect::Policy::none())
            .pool_max_idle_per_host(0)
            // A health check of a local service must not go through a proxy from the environment.
            .no_proxy()
            .danger_accept_invalid_certs(!check.verify_tls);
        if let Some(path) = &check.ca_file {
            let pem = std::fs::read(path).map_err(|source| HttpSetupError::CaFile {
                path: path.clone(),
                source,
            })?;
            for certificate in
                Certificate::from_pem_bundle(&pem).map_err(|source| HttpSetupError::CaPem {
                    path: path.clone(),
                    source,
                })?
            {
                builder = builder.add_root_certificate(certificate);
            }
        }
        Ok(Self {
            client: builder.build().map_err(HttpSetupError::Client)?,
            url,
            expected_status: check.expected_status,
        })
    }

    pub(crate) async fn probe(&self) -> Result<(), ProbeFailure> {
        let response = self
            .client
            .get(self.url.clone())
            .send()
            .await
            .map_err(ProbeFailure::Http)?;
        let status = response.status();
        let healthy = match self.expected_status {
            Some(expected) => status.as_u16() == expected,
            None => status.is_success(),
        };
        if healthy {
            Ok(())
        } else {
            Err(ProbeFailure::Status {
                got: status.as_u16(),
                expected: self
                    .expected_status
                    .map_or_else(|| "2xx".to_owned(), |code| code.to_string()),
            })
        }
    }
}
