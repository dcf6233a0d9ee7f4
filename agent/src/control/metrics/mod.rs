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
            let liveness = board.liveness(crate::clock::now());
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::control::fixtures::board_with_one_instance;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpStream;

    /// One HTTP/1.1 exchange; returns the status code, the headers block and the body.
    async fn fetch(addr: SocketAddr, method: &str, path: &str) -> (u16, String, String) {
        let mut stream = TcpStream::connect(addr).await.unwrap();
        let request =
            format!("{method} {path} HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n");
        stream.write_all(request.as_bytes()).await.unwrap();
        let mut answer = String::new();
        stream.read_to_string(&mut answer).await.unwrap();
        let (head, body) = answer.split_once("\r\n\r\n").expect("a complete response");
        let code = head.split(' ').nth(1).unwrap().parse().unwrap();
        (code, head.to_ascii_lowercase(), body.to_string())
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn scrape_over_http() {
        let (board, _feed) = board_with_one_instance();
        // Long enough that no scheduling stall makes the first probe fail; the stale probe below
        // waits this long.
        let heartbeat = board.heartbeat("eth0 loop", Duration::from_secs(2));

        let server = MetricsServer::bind("127.0.0.1:0".parse().unwrap())
            .await
            .unwrap();
        let addr = server.local_addr().unwrap();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(server.serve(board.clone(), async {
            let _ = stopped.await;
        }));

        let (code, head, body) = fetch(addr, "GET", "/metrics").await;
        assert_eq!(code, 200);
        assert!(
            head.contains("content-type: text/plain; version=0.0.4"),
            "{head}"
        );
        assert!(
            body.contains("vipd_instance_state{vrrp_instance=\"vi_1\",state=\"INITIALIZE\"} 1\n"),
            "{body}"
        );
        assert!(
            body.contains("vipd_detection_latency_seconds_count{vrrp_instance=\"vi_1\"} 0\n"),
            "{body}"
        );
        let without_uptime = |text: &str| -> Vec<String> {
            text.lines()
                .filter(|l| !l.starts_with("vipd_uptime_seconds "))
                .map(str::to_string)
                .collect()
        };
        assert_eq!(
            without_uptime(&body),
            without_uptime(&exposition::render(&board.snapshot())),
            "the body is the board's exposition"
        );

        heartbeat.beat(crate::clock::now());
        let (code, _, body) = fetch(addr, "GET", "/healthz").await;
        assert_eq!((code, body.as_str()), (200, "ok: 1 loops alive\n"));

        // The loop dies without retiring its heartbeat; the probe notices once it is overdue.
        drop(heartbeat);
        let mut waited = Duration::ZERO;
        let body = loop {
            let (code, _, body) = fetch(addr, "GET", "/healthz").await;
            if code == 503 {
                break body;
            }
            assert!(waited < Duration::from_secs(30), "healthz never went stale");
            tokio::time::sleep(Duration::from_millis(20)).await;
            waited += Duration::from_millis(20);
        };
        assert!(body.starts_with("stale: eth0 loop silent for "), "{body}");

        assert_eq!(fetch(addr, "GET", "/").await.0, 404);
        assert_eq!(fetch(addr, "POST", "/metrics").await.0, 405);
        let (code, _, body) = fetch(addr, "HEAD", "/metrics").await;
        assert_eq!((code, body.as_str()), (200, ""));

        stop.send(()).unwrap();
        // Port reuse by parallel tests makes "nothing listens there now" unprovable; serve
        // returning is what shutdown promises.
        task.await.unwrap();
    }
}
