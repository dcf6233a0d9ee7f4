//! The metrics endpoint: a small HTTP/1.1 server (hyper) with `/metrics` in the Prometheus text
//! format and `/healthz` for liveness probes (200 while every loop's heartbeat is fresh, 503
//! naming the stale ones otherwise). Off unless the configuration sets `metrics_listen`.

pub mod exposition;

use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::header::{HeaderValue, CONTENT_TYPE};
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;

use super::board::StatusBoard;
use super::clock::monotonic_now;

/// A client that has not sent its request headers by then is dropped, so idle connections
/// cannot pile up.
const HEADER_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Debug, thiserror::Error)]
#[error(
    "cannot listen for metrics on {addr}: {source} (check metrics_listen in the configuration)"
)]
pub struct MetricsError {
    pub addr: SocketAddr,
    pub source: io::Error,
}

pub struct MetricsServer {
    listener: TcpListener,
}

impl MetricsServer {
    pub async fn bind(addr: SocketAddr) -> Result<MetricsServer, MetricsError> {
        let listener = TcpListener::bind(addr)
            .await
            .map_err(|source| MetricsError { addr, source })?;
        Ok(MetricsServer { listener })
    }

    /// Where it listens (the real port when bound to port 0).
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Serves until `shutdown` completes.
    pub async fn serve(self, board: StatusBoard, shutdown: impl Future<Output = ()>) {
        tokio::pin!(shutdown);
        loop {
            tokio::select! {
                () = &mut shutdown => return,
                accepted = self.listener.accept() => match accepted {
                    Ok((stream, _)) => {
                        let board = board.clone();
                        tokio::spawn(async move {
                            let service = hyper::service::service_fn(move |request| {
                                let board = board.clone();
                                async move { Ok::<_, Infallible>(route(&request, &board)) }
                            });
                            let served = hyper::server::conn::http1::Builder::new()
                                .timer(TokioTimer::new())
                                .header_read_timeout(HEADER_TIMEOUT)
                                .serve_connection(TokioIo::new(stream), service)
                                .await;
                            if let Err(error) = served {
                                tracing::debug!(%error, "metrics connection ended with an error");
                            }
                        });
                    }
                    Err(error) => {
                        tracing::warn!(%error, "metrics endpoint: accept failed");
                        tokio::time::sleep(Duration::from_millis(100)).await;
                    }
                },
            }
        }
    }
}

fn route(request: &Request<Incoming>, board: &StatusBoard) -> Response<Full<Bytes>> {
    if request.method() != Method::GET && request.method() != Method::HEAD {
        return text(StatusCode::METHOD_NOT_ALLOWED, "only GET and HEAD\n".into());
    }
    match request.uri().path() {
        "/metrics" => {
            let mut response = text(StatusCode::OK, exposition::render(&board.snapshot()));
            response.headers_mut().insert(
                CONTENT_TYPE,
                HeaderValue::from_static(exposition::CONTENT_TYPE),
            );
            response
        }
        "/healthz" => {
            let liveness = board.liveness(monotonic_now());
            if liveness.is_alive() {
                text(
                    StatusCode::OK,
                    format!("ok: {} loops alive\n", liveness.loops),
                )
            } else {
                let stale: Vec<String> = liveness
                    .stale
                    .iter()
                    .map(|s| format!("{} silent for {:.3} s", s.name, s.silent_for.as_secs_f64()))
                    .collect();
                text(
                    StatusCode::SERVICE_UNAVAILABLE,
                    format!("stale: {}\n", stale.join(", ")),
                )
            }
        }
        _ => text(
            StatusCode::NOT_FOUND,
            "not found: vipd serves /metrics and /healthz\n".into(),
        ),
    }
}

fn text(status: StatusCode, body: String) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() = status;
    response.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    response
}
