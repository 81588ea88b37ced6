//! A real webhook receiver on loopback: verifies every delivery's Standard Webhooks
//! signature, records it, and answers as each test scripts it (500, a hang past the
//! timeout, 429 with `Retry-After`, 410), or is down (listener closed) for a while.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use baton_relay::WebhookSecret;
use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

/// How the receiver answers one delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    /// This status, empty body.
    Status(u16),
    /// 429 with `Retry-After: <seconds>`.
    TooManyRequests {
        /// The `Retry-After` seconds.
        retry_after_s: u64,
    },
    /// Never answers (until the connection is dropped by the sender).
    Hang,
    /// 307 to `http://127.0.0.1:<port>/hook`, another receiver.
    RedirectTo {
        /// The other receiver's port.
        port: u16,
    },
}

/// One delivery as received.
#[derive(Debug, Clone)]
pub struct Received {
    /// `webhook-id`.
    pub id: String,
    /// The raw body.
    pub body: String,
    /// `webhook-timestamp` (0 when missing or malformed).
    pub timestamp: u64,
    /// `webhook-signature`, as sent.
    pub signature: String,
    /// Whether the signature verified with the receiver's secret.
    pub signature_valid: bool,
    /// When it arrived.
    pub at: Instant,
    /// What the receiver answered.
    pub answer: Answer,
}

#[derive(Default)]
struct Shared {
    script: VecDeque<Answer>,
    received: Vec<Received>,
}

/// The receiver; stops listening when dropped.
pub struct Receiver {
    /// Its port on 127.0.0.1.
    pub port: u16,
    secret: WebhookSecret,
    shared: Arc<Mutex<Shared>>,
    server: Option<JoinHandle<()>>,
}

impl Receiver {
    /// Starts on a free port with a fresh secret; answers 204 unless scripted.
    pub async fn start() -> Receiver {
        let listener = TcpListener::bind(("127.0.0.1", 0)).await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let key: Vec<u8> = (0..32u8)
            .map(|i| i.wrapping_mul(37).wrapping_add(port as u8))
            .collect();
        let mut receiver = Receiver {
            port,
            secret: WebhookSecret::from_key(key),
            shared: Arc::default(),
            server: None,
        };
        receiver.serve(listener);
        receiver
    }

    /// `http://127.0.0.1:PORT/hook`.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}/hook", self.port)
    }

    /// The `whsec_` secret the sender must use.
    pub fn whsec(&self) -> String {
        self.secret.to_whsec()
    }

    /// Answers the next deliveries in this order, then 204 again.
    pub fn script(&self, answers: impl IntoIterator<Item = Answer>) {
        self.shared.lock().unwrap().script.extend(answers);
    }

    /// Everything received so far.
    pub fn received(&self) -> Vec<Received> {
        self.shared.lock().unwrap().received.clone()
    }

    /// Closes the listener and every connection: senders get connection errors.
    pub fn go_down(&mut self) {
        if let Some(server) = self.server.take() {
            server.abort();
        }
    }

    /// Listens again on the same port.
    pub async fn come_up(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(10);
        let listener = loop {
            match TcpListener::bind(("127.0.0.1", self.port)).await {
                Ok(listener) => break listener,
                Err(err) if Instant::now() < deadline => {
                    eprintln!("receiver: rebinding {}: {err}", self.port);
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                Err(err) => panic!("receiver: cannot rebind {}: {err}", self.port),
            }
        };
        self.serve(listener);
    }

    /// Polls until `check` holds on the received deliveries, or panics after `timeout`.
    pub async fn wait_until(
        &self,
        what: &str,
        timeout: Duration,
        check: impl Fn(&[Received]) -> bool,
    ) -> Vec<Received> {
        let deadline = Instant::now() + timeout;
        loop {
            let received = self.received();
            if check(&received) {
                return received;
            }
            assert!(
                Instant::now() < deadline,
                "receiver {}: timed out waiting for {what}; received {:?}",
                self.port,
                received
                    .iter()
                    .map(|r| (&r.id, r.answer))
                    .collect::<Vec<_>>()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    fn serve(&mut self, listener: TcpListener) {
        let shared = Arc::clone(&self.shared);
        let secret = self.secret.clone();
        self.server = Some(tokio::spawn(async move {
            let mut connections = tokio::task::JoinSet::new();
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                let shared = Arc::clone(&shared);
                let secret = secret.clone();
                connections.spawn(async move {
                    let service = hyper::service::service_fn(move |request| {
                        handle(request, Arc::clone(&shared), secret.clone())
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
            // Aborting this task drops the JoinSet, which aborts every connection.
        }));
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.go_down();
    }
}

/// This machine's clock in Unix seconds, as `webhook-timestamp` counts.
pub fn unix_seconds() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

async fn handle(
    request: Request<Incoming>,
    shared: Arc<Mutex<Shared>>,
    secret: WebhookSecret,
) -> Result<Response<Full<Bytes>>, hyper::Error> {
    let header = |name: &str| {
        request
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    let (id, timestamp, signature) = (
        header("webhook-id"),
        header("webhook-timestamp"),
        header("webhook-signature"),
    );
    let body = request.into_body().collect().await?.to_bytes();
    let now = unix_seconds();
    let timestamp = timestamp.parse::<u64>().unwrap_or(0);
    let signature_valid = secret
        .verify(&id, timestamp, &signature, &body, now)
        .is_ok();
    let answer = {
        let mut shared = shared.lock().unwrap();
        let answer = shared.script.pop_front().unwrap_or(Answer::Status(204));
        shared.received.push(Received {
            id,
            body: String::from_utf8_lossy(&body).into_owned(),
            timestamp,
            signature,
            signature_valid,
            at: Instant::now(),
            answer,
        });
        answer
    };
    let response = match answer {
        Answer::Status(status) => Response::builder().status(status),
        Answer::TooManyRequests { retry_after_s } => Response::builder()
            .status(429)
            .header("retry-after", retry_after_s.to_string()),
        Answer::Hang => {
            tokio::time::sleep(Duration::from_secs(3_600)).await;
            Response::builder().status(204)
        }
        Answer::RedirectTo { port } => Response::builder()
            .status(307)
            .header("location", format!("http://127.0.0.1:{port}/hook")),
    };
    Ok(response.body(Full::new(Bytes::new())).unwrap())
}
