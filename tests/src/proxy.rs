//! A TCP proxy on loopback that a test can take down and bring back, to play an edge
//! that is unreachable for a while, or one whose answers are lost on the way back.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

/// Forwards `127.0.0.1:port` to a target port until stopped.
pub struct Proxy {
    /// The port it listens on (the same after a restart).
    pub port: u16,
    target: u16,
    listener: Mutex<Option<JoinHandle<()>>>,
    connections: Arc<Mutex<Vec<JoinHandle<()>>>>,
    losing_answers: Arc<AtomicBool>,
}

impl Proxy {
    /// Starts forwarding a free port to `target`.
    pub async fn start(target: u16) -> Proxy {
        let listener = TcpListener::bind(("127.0.0.1", 0)).await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let proxy = Proxy {
            port,
            target,
            listener: Mutex::default(),
            connections: Arc::default(),
            losing_answers: Arc::default(),
        };
        proxy.serve(listener);
        proxy
    }

    /// Closes the listener and every open connection: the edge is "down".
    pub fn stop(&self) {
        if let Some(listener) = self.listener.lock().unwrap().take() {
            listener.abort();
        }
        self.close_connections();
    }

    fn close_connections(&self) {
        for connection in self.connections.lock().unwrap().drain(..) {
            connection.abort();
        }
    }

    /// Listens again on the same port: the edge is "back".
    pub async fn resume(&self) {
        let listener = TcpListener::bind(("127.0.0.1", self.port)).await.unwrap();
        self.serve(listener);
    }

    /// While `true`, requests reach the edge, which carries them out, but each
    /// connection closes as soon as the edge starts answering: the client sees the
    /// network fail and never learns what happened, as when a phone loses its signal
    /// mid-request. CORS preflights are still answered (and their connection closed
    /// after), so that a browser sends the request itself. Open connections close, so
    /// that no request can take one opened before.
    pub fn lose_answers(&self, losing: bool) {
        self.losing_answers.store(losing, Ordering::SeqCst);
        self.close_connections();
    }

    fn serve(&self, listener: TcpListener) {
        let target = self.target;
        let connections = Arc::clone(&self.connections);
        let losing_answers = Arc::clone(&self.losing_answers);
        let accept = tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                let losing = losing_answers.load(Ordering::SeqCst);
                let connection = tokio::spawn(async move {
                    if let Ok(mut outbound) = TcpStream::connect(("127.0.0.1", target)).await {
                        if losing {
                            lose_answer(inbound, outbound).await;
                        } else {
                            let _ =
                                tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                        }
                    }
                });
                connections.lock().unwrap().push(connection);
            }
        });
        *self.listener.lock().unwrap() = Some(accept);
    }
}

/// Forwards one connection's request and drops the answer (see [`Proxy::lose_answers`]).
async fn lose_answer(inbound: TcpStream, outbound: TcpStream) {
    let mut method = [0u8; 8];
    let Ok(peeked) = inbound.peek(&mut method).await else {
        return;
    };
    let preflight = method[..peeked].starts_with(b"OPTIONS ");
    let (mut from_client, mut to_client) = inbound.into_split();
    let (mut from_edge, mut to_edge) = outbound.into_split();
    let request = tokio::spawn(async move {
        let _ = tokio::io::copy(&mut from_client, &mut to_edge).await;
    });
    let mut answer = Vec::new();
    let mut chunk = [0u8; 4096];
    while let Ok(read) = from_edge.read(&mut chunk).await {
        if read == 0 || !preflight {
            break;
        }
        answer.extend_from_slice(&chunk[..read]);
        // A preflight's answer has no body: it ends with its headers.
        if answer.windows(4).any(|w| w == b"\r\n\r\n") {
            let _ = to_client.write_all(&answer).await;
            break;
        }
    }
    request.abort();
}
