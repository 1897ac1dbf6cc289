//! `serve`: the HTTP API, live logs over WebSocket and the web page, a thin
//! layer over the operations in [`crate::ops`]. It listens on 127.0.0.1
//! only, wants its token on every request (see [`guard`]), and is the only
//! command that starts an async runtime.

mod api;
mod cache;
mod guard;
mod live;
mod projects;

use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use tokio::sync::{broadcast, watch};

use crate::process;
use crate::project::{self, Project};

/// How long open connections get to finish after SIGINT/SIGTERM.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(3);

/// What every request handler shares.
pub struct Server {
    pub token: String,
    pub port: u16,
    pub projects: projects::Projects,
    /// `GET /sessions` answers, kept until their books change.
    pub sessions: cache::Sessions,
    /// The projects whose books changed (their ids), from the watcher.
    pub changes: broadcast::Sender<String>,
    /// Becomes true when the server is asked to end.
    pub shutdown: watch::Receiver<bool>,
}

impl Server {
    /// Completes once the server is asked to end.
    pub async fn ending(&self) {
        let mut shutdown = self.shutdown.clone();
        let _ = shutdown.wait_for(|stop| *stop).await.map(drop);
    }
}

/// Serves until SIGINT or SIGTERM.
pub fn run(current: Option<Project>, port: u16, open: bool) -> Result<()> {
    let home = project::scopecraft_home()?;
    let token = guard::token(&home)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the server's runtime")?;
    let served = runtime.block_on(serve(home, current, token, port, open));
    // Blocking work still under way (a stop waiting for its run) is not
    // waited for.
    runtime.shutdown_timeout(SHUTDOWN_GRACE);
    served
}

async fn serve(
    home: PathBuf,
    current: Option<Project>,
    token: String,
    port: u16,
    open: bool,
) -> Result<()> {
    let listener = tokio::net::TcpListener::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, port)))
        .await
        .with_context(|| format!("listening on 127.0.0.1:{port} (try another --port, or 0)"))?;
    let port = listener.local_addr()?.port();
    let (changes, _) = broadcast::channel(256);
    let (stop, shutdown) = watch::channel(false);
    let generations = Arc::new(cache::Generations::default());
    let _watcher = live::watch_books(&home, changes.clone(), generations.clone())?;
    let server = Arc::new(Server {
        token,
        port,
        projects: projects::Projects::new(home, current),
        sessions: cache::Sessions::new(generations),
        changes,
        shutdown: shutdown.clone(),
    });
    let url = format!("http://127.0.0.1:{port}/?token={}", server.token);
    {
        use std::io::Write;
        let mut out = std::io::stdout();
        writeln!(out, "{url}")?;
        out.flush()?;
    }
    eprintln!("scopecraft-tmux: serving on 127.0.0.1:{port}; Ctrl-C ends it");
    if open {
        open_browser(&url);
    }
    let app = api::router(server.clone());
    let mut ended = shutdown.clone();
    let serving = axum::serve(listener, app).with_graceful_shutdown(async move {
        let _ = ended.wait_for(|stop| *stop).await;
    });
    let signals = async move {
        use tokio::signal::unix::{SignalKind, signal};
        let (Ok(mut interrupt), Ok(mut terminate)) = (
            signal(SignalKind::interrupt()),
            signal(SignalKind::terminate()),
        ) else {
            return std::future::pending::<()>().await;
        };
        tokio::select! {
            _ = interrupt.recv() => {}
            _ = terminate.recv() => {}
        }
    };
    let serving = tokio::spawn(async move { serving.await });
    signals.await;
    eprintln!("scopecraft-tmux: ending the server");
    let _ = stop.send(true);
    // Open WebSockets see the shutdown and close; whatever still hangs is
    // cut off after the grace period.
    let _ = tokio::time::timeout(SHUTDOWN_GRACE, serving).await;
    Ok(())
}

/// Opens `url` in the browser (`open` on macOS, else `xdg-open`); a
/// failure is only reported.
fn open_browser(url: &str) {
    let opener = if cfg!(target_os = "macos") {
        "open"
    } else {
        "xdg-open"
    };
    let mut cmd = process::cmd(opener).arg(url);
    cmd.command_mut()
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    match cmd.spawn() {
        Ok(child) => reap(child),
        Err(err) => eprintln!("scopecraft-tmux: could not open the browser: {err:#}"),
    }
}

/// Waits for a child in the background, so that it does not linger as a
/// zombie of a server that lives on.
pub fn reap(mut child: std::process::Child) {
    std::thread::spawn(move || {
        let _ = child.wait();
    });
}
