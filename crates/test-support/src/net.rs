//! Ports, URLs and a TCP proxy with an off switch (SPEC §9 fault tests: a database cut off,
//! or silent, and let back).

use std::net::SocketAddr;
use std::time::Duration;

use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::wait::wait_for;

/// A port nothing listens on right now (bound, read, released).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// `url` with its host and port replaced by `127.0.0.1:port`.
pub fn via_port(url: &str, port: u16) -> String {
    let mut parsed = reqwest::Url::parse(url).expect("a URL");
    parsed.set_host(Some("127.0.0.1")).expect("host settable");
    parsed.set_port(Some(port)).expect("port settable");
    parsed.to_string()
}

/// `host:port` of a database URL (port 5432 when absent).
pub fn host_port(url: &str) -> String {
    let parsed = reqwest::Url::parse(url).expect("a URL");
    format!(
        "{}:{}",
        parsed.host_str().unwrap_or("127.0.0.1"),
        parsed.port().unwrap_or(5432)
    )
}

#[derive(Debug, Clone, Copy)]
struct ProxyState {
    up: bool,
    /// Connections are kept open but nothing is forwarded.
    frozen: bool,
    /// Incremented by every cut; a connection lives only within its epoch.
    epoch: u64,
}

/// Forwards `127.0.0.1:<port>` to an upstream address. [`Self::cut`] closes every live
/// connection and stops listening (new connections are refused, as by a stopped server);
/// [`Self::resume`] listens again on the same port. [`Self::freeze`] keeps every connection
/// open and accepts new ones, but forwards nothing (a hung server, a network partition);
/// [`Self::thaw`] then closes them all (as a restarted server would) and forwards again.
#[derive(Debug)]
pub struct TcpProxy {
    port: u16,
    control: watch::Sender<ProxyState>,
    task: JoinHandle<()>,
}

impl TcpProxy {
    /// Starts forwarding to `upstream` (`host:port`).
    pub async fn start(upstream: &str) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("proxy bind");
        let port = listener.local_addr().expect("proxy addr").port();
        let (control, state) = watch::channel(ProxyState {
            up: true,
            frozen: false,
            epoch: 0,
        });
        let task = tokio::spawn(serve(listener, port, upstream.to_owned(), state));
        Self {
            port,
            control,
            task,
        }
    }

    /// The port clients connect to.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Drops every live connection and refuses new ones.
    pub fn cut(&self) {
        self.control.send_modify(|state| {
            state.up = false;
            state.epoch += 1;
        });
    }

    /// Accepts and forwards connections again.
    pub fn resume(&self) {
        self.control.send_modify(|state| state.up = true);
    }

    /// Stops forwarding while keeping every connection open, and accepts new connections
    /// without answering them.
    pub fn freeze(&self) {
        self.control.send_modify(|state| state.frozen = true);
    }

    /// Closes every connection held by [`Self::freeze`] and forwards new ones again.
    pub fn thaw(&self) {
        self.control.send_modify(|state| {
            state.frozen = false;
            state.epoch += 1;
        });
    }
}

impl Drop for TcpProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn serve(
    listener: TcpListener,
    port: u16,
    upstream: String,
    mut state: watch::Receiver<ProxyState>,
) {
    let mut listener = Some(listener);
    loop {
        let current = *state.borrow_and_update();
        if !current.up {
            // Closing the listener makes new connections fail with "connection refused".
            listener = None;
            if state.changed().await.is_err() {
                return;
            }
            continue;
        }
        let accepting = match listener.take() {
            Some(listener) => listener,
            None => rebind(port).await,
        };
        tokio::select! {
            accepted = accepting.accept() => {
                if let Ok((client, _)) = accepted {
                    let state = state.clone();
                    if current.frozen {
                        tokio::spawn(hold(vec![client], state, current.epoch));
                    } else {
                        tokio::spawn(forward(client, upstream.clone(), state, current.epoch));
                    }
                }
            }
            changed = state.changed() => {
                if changed.is_err() {
                    return;
                }
            }
        }
        listener = Some(accepting);
    }
}

/// Listens on `port` again, as soon as the kernel lets it go.
async fn rebind(port: u16) -> TcpListener {
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    wait_for(
        Duration::from_secs(2),
        &format!("the proxy can listen on {addr} again"),
        || async move { TcpListener::bind(addr).await.ok() },
    )
    .await
}

async fn forward(
    mut client: TcpStream,
    upstream: String,
    mut state: watch::Receiver<ProxyState>,
    epoch: u64,
) {
    let Ok(mut server) = TcpStream::connect(&upstream).await else {
        return;
    };
    let frozen = tokio::select! {
        _ = tokio::io::copy_bidirectional(&mut client, &mut server) => false,
        changed = state.wait_for(|s| s.epoch != epoch || s.frozen) => {
            changed.is_ok_and(|s| s.epoch == epoch)
        }
    };
    if frozen {
        hold(vec![client, server], state, epoch).await;
    }
    // The sockets are dropped here: the client sees its connection closed.
}

/// Keeps `sockets` open, silent, until the epoch ends.
async fn hold(sockets: Vec<TcpStream>, mut state: watch::Receiver<ProxyState>, epoch: u64) {
    let _ = state.wait_for(|s| s.epoch != epoch).await;
    drop(sockets);
}
