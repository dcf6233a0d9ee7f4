use std::sync::atomic::{AtomicU16, Ordering};
use std::sync::Arc;
use std::time::Duration;

use rcgen::{BasicConstraints, CertificateParams, IsCa, KeyPair};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::sync::mpsc;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio_rustls::rustls::{self, ServerConfig};
use tokio_rustls::TlsAcceptor;

use super::next_check_event;
use crate::health::{spawn_check, CheckKind, CheckSpec, HttpCheck, TrackStatus};

/// Answers every request with the status currently in `status`, then closes the connection.
async fn answer(mut stream: impl AsyncRead + AsyncWrite + Unpin, status: u16) {
    let mut request = Vec::new();
    let mut buffer = [0u8; 1024];
    while !request.windows(4).any(|window| window == b"\r\n\r\n") {
        match stream.read(&mut buffer).await {
            Ok(0) | Err(_) => return,
            Ok(read) => request.extend_from_slice(&buffer[..read]),
        }
    }
    let response =
        format!("HTTP/1.1 {status} Whatever\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
    let _ = stream.write_all(response.as_bytes()).await;
    let _ = stream.shutdown().await;
}

/// A plain HTTP server on 127.0.0.1 whose answer the test can change.
async fn http_server(status: Arc<AtomicU16>) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            tokio::spawn(answer(stream, status.load(Ordering::Relaxed)));
        }
    });
    port
}

fn http_spec(name: &str, check: HttpCheck) -> CheckSpec {
    CheckSpec {
        name: name.into(),
        kind: CheckKind::Http(check),
        interval: Duration::from_millis(10),
        timeout: Duration::from_secs(10),
        rise: 2,
        fall: 2,
        init_fail: true,
    }
}

#[tokio::test]
async fn http_check_follows_the_status() {
    let status = Arc::new(AtomicU16::new(200));
    let port = http_server(status.clone()).await;
    let (events, mut received) = mpsc::unbounded_channel();
    let check = HttpCheck {
        url: format!("http://127.0.0.1:{port}/healthz"),
        expected_status: None,
        verify_tls: true,
        ca_file: None,
    };
    let _check = spawn_check(http_spec("http", check), events).unwrap();
    assert_eq!(next_check_event(&mut received).await.1, TrackStatus::Up);

    status.store(500, Ordering::Relaxed);
    assert_eq!(next_check_event(&mut received).await.1, TrackStatus::Down);

    status.store(204, Ordering::Relaxed);
    assert_eq!(
        next_check_event(&mut received).await.1,
        TrackStatus::Up,
        "any 2xx is healthy when no status is configured"
    );
}

#[tokio::test]
async fn http_check_with_an_expected_status_rejects_other_successes() {
    let status = Arc::new(AtomicU16::new(200));
    let port = http_server(status.clone()).await;
    let (events, mut received) = mpsc::unbounded_channel();
    let check = HttpCheck {
        url: format!("http://127.0.0.1:{port}/"),
        expected_status: Some(204),
        verify_tls: true,
        ca_file: None,
    };
    let spec = CheckSpec {
        init_fail: false,
        ..http_spec("http-204", check)
    };
    let handle = spawn_check(spec, events).unwrap();
    assert_eq!(next_check_event(&mut received).await.1, TrackStatus::Down);
    let failure = handle.snapshot().last_failure.unwrap();
    assert!(
        failure.contains("200") && failure.contains("204"),
        "{failure}"
    );

    status.store(204, Ordering::Relaxed);
    assert_eq!(next_check_event(&mut received).await.1, TrackStatus::Up);
}

/// A cluster CA and a server certificate for 127.0.0.1 signed by it, like kube-apiserver's.
struct TestPki {
    ca_pem: String,
    server_cert: CertificateDer<'static>,
    server_key: PrivatePkcs8KeyDer<'static>,
}

fn test_pki() -> TestPki {
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca_key = KeyPair::generate().unwrap();
    let ca = ca_params.self_signed(&ca_key).unwrap();
    let server_key = KeyPair::generate().unwrap();
    let server = CertificateParams::new(vec!["127.0.0.1".to_owned()])
        .unwrap()
        .signed_by(&server_key, &ca, &ca_key)
        .unwrap();
    TestPki {
        ca_pem: ca.pem(),
        server_cert: server.der().clone(),
        server_key: PrivatePkcs8KeyDer::from(server_key.serialize_der()),
    }
}

/// An HTTPS server on 127.0.0.1 answering 200 with the test PKI's server certificate.
async fn https_server(pki: &TestPki) -> u16 {
    let config =
        ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(
                vec![pki.server_cert.clone()],
                PrivateKeyDer::Pkcs8(pki.server_key.clone_key()),
            )
            .unwrap();
    let acceptor = TlsAcceptor::from(Arc::new(config));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                // A client that rejects the certificate aborts the handshake: nothing to answer.
                if let Ok(tls) = acceptor.accept(stream).await {
                    answer(tls, 200).await;
                }
            });
        }
    });
    port
}

fn https_check(port: u16, verify_tls: bool, ca_file: Option<std::path::PathBuf>) -> HttpCheck {
    HttpCheck {
        url: format!("https://127.0.0.1:{port}/healthz"),
        expected_status: Some(200),
        verify_tls,
        ca_file,
    }
}

/// The Kubernetes case: a certificate no public root vouches for is accepted when
/// verification is off.
#[tokio::test]
async fn https_with_verification_off_accepts_an_unknown_certificate() {
    let pki = test_pki();
    let port = https_server(&pki).await;
    let (events, mut received) = mpsc::unbounded_channel();
    let _check = spawn_check(https_spec(https_check(port, false, None)), events).unwrap();
    assert_eq!(next_check_event(&mut received).await.1, TrackStatus::Up);
}

#[tokio::test]
async fn https_with_verification_on_rejects_an_unknown_certificate() {
    let pki = test_pki();
    let port = https_server(&pki).await;
    let (events, mut received) = mpsc::unbounded_channel();
    let spec = CheckSpec {
        init_fail: false,
        ..https_spec(https_check(port, true, None))
    };
    let check = spawn_check(spec, events).unwrap();
    assert_eq!(next_check_event(&mut received).await.1, TrackStatus::Down);
    let snapshot = check.snapshot();
    assert_eq!(snapshot.successes, 0);
    assert!(snapshot
        .last_failure
        .unwrap()
        .contains("HTTP request failed"));
}

#[tokio::test]
async fn https_with_verification_on_trusts_a_configured_ca() {
    let pki = test_pki();
    let port = https_server(&pki).await;
    let dir = tempfile::tempdir().unwrap();
    let ca_file = dir.path().join("ca.crt");
    std::fs::write(&ca_file, &pki.ca_pem).unwrap();
    let (events, mut received) = mpsc::unbounded_channel();
    let _check = spawn_check(https_spec(https_check(port, true, Some(ca_file))), events).unwrap();
    assert_eq!(next_check_event(&mut received).await.1, TrackStatus::Up);
}

fn https_spec(check: HttpCheck) -> CheckSpec {
    http_spec("https", check)
}

#[test]
fn bad_urls_and_ca_files_are_setup_errors() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let _guard = runtime.enter();
    let (events, _received) = mpsc::unbounded_channel();
    for (url, ca_file) in [
        ("not a url", None),
        ("ftp://127.0.0.1/", None),
        ("https://127.0.0.1/", Some("/nonexistent/ca.crt".into())),
    ] {
        let check = HttpCheck {
            url: url.into(),
            expected_status: None,
            verify_tls: true,
            ca_file,
        };
        let error = spawn_check(http_spec("bad", check), events.clone()).err();
        assert!(error.is_some(), "{url} should be refused");
    }
}
