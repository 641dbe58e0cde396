//! `wpc serve`: the release branch as a Claw-compatible WPC registry
//! (`GET /v1/wpc/{hash}`), a local decision point (`POST /v1/decide`) and a
//! static export of the same registry. See `docs/serve.md`.
//!
//! Who can write what: whoever can push the release branch can put anything
//! on it, so nothing is served until the whole branch verifies (every
//! envelope signed by a signer trusted at its source commit, append-only
//! history, signed revocations). A branch that moves to something that does
//! not verify leaves the last verified state served and `/health` degraded.
//! A client controls only its requests: bodies, header time and request time
//! are bounded, and a path can only name a key of the state's maps.

mod export;
mod http;
mod state;
mod store;

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use arc_swap::ArcSwap;
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use serde_json::json;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;

use crate::error::error_enum;
use crate::git::{Oid, Repo};
use crate::report::Output;
pub use export::ExportError;
pub use http::MAX_BODY_BYTES;
pub use state::{Lookup, ReleaseState, Rendering, Source, StateError};
pub use store::{BodyError, CacheLimits, EngineError};

/// The default `--listen`.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8787";

/// Limits and intervals of a running server.
#[derive(Clone, Debug)]
pub struct Options {
    pub listen: SocketAddr,
    /// Allow a non-loopback `listen`.
    pub public: bool,
    /// A client must send its request line and headers within this.
    pub header_timeout: Duration,
    /// A request must be read and answered within this (408 otherwise).
    pub request_timeout: Duration,
    /// Connections beyond this are closed as they are accepted.
    pub max_connections: usize,
    /// How often the release branch's reference is read.
    pub poll_interval: Duration,
    /// How long open connections get to finish after a shutdown signal.
    pub shutdown_grace: Duration,
    /// How many rendered bodies and compiled engines are kept.
    pub caches: CacheLimits,
}

impl Options {
    pub fn new(listen: SocketAddr, public: bool) -> Options {
        Options {
            listen,
            public,
            header_timeout: Duration::from_secs(5),
            request_timeout: Duration::from_secs(10),
            max_connections: 1024,
            poll_interval: Duration::from_millis(200),
            shutdown_grace: Duration::from_secs(10),
            caches: CacheLimits::default(),
        }
    }
}

error_enum! {
    pub enum ServeError {
        State(StateError),
        Export(ExportError),
        #[error("--listen {0} is not a loopback address; pass --public to serve to other machines")]
        NotLoopback(SocketAddr),
        #[error("cannot listen on {addr}: {source}")]
        Bind {
            addr: SocketAddr,
            source: std::io::Error,
        },
        #[error("cannot start the server: {0}")]
        Runtime(std::io::Error),
    }
}

/// Where the access log and events go: one JSON object per call, written
/// as one line by the caller.
pub type Log = Arc<dyn Fn(&str) + Send + Sync>;

/// What is served now; replaced whole, never changed in place.
struct Served {
    state: Arc<ReleaseState>,
    /// Why the branch's newest state is not the one served.
    degraded: Option<String>,
}

/// A registry serving one verified state at a time.
pub struct Registry {
    served: ArcSwap<Served>,
    log: Log,
    next_id: AtomicU64,
}

impl Registry {
    pub fn new(state: ReleaseState, log: Log) -> Arc<Registry> {
        Arc::new(Registry {
            served: ArcSwap::from_pointee(Served {
                state: Arc::new(state),
                degraded: None,
            }),
            log,
            next_id: AtomicU64::new(1),
        })
    }

    pub fn state(&self) -> Arc<ReleaseState> {
        self.served.load().state.clone()
    }

    pub fn degraded(&self) -> Option<String> {
        self.served.load().degraded.clone()
    }

    fn event(&self, event: &str, fields: serde_json::Value) {
        let mut line = json!({"time": jiff::Timestamp::now().to_string(), "event": event});
        if let (Some(line), serde_json::Value::Object(fields)) = (line.as_object_mut(), fields) {
            line.extend(fields);
        }
        (self.log)(&line.to_string());
    }

    /// Read the branch's reference once; when it moved, load and verify the
    /// new state and serve it, or keep the old one and report why not.
    /// `rejected` is the last tip that did not verify, so it is not verified
    /// again on every poll.
    pub fn refresh(&self, repo: &Repo, source: &Source, rejected: &mut Option<Oid>) {
        let served = self.served.load_full();
        let tip = match repo.branch_tip(source.branch()) {
            Ok(Some(tip)) => tip,
            Ok(None) => {
                let reason = format!("release branch `{}` does not exist", source.branch());
                return self.degrade(&served, reason);
            }
            Err(err) => return self.degrade(&served, err.to_string()),
        };
        if tip == served.state.release_commit {
            if served.degraded.is_some() {
                self.served.store(Arc::new(Served {
                    state: served.state.clone(),
                    degraded: None,
                }));
                self.event("recovered", json!({"release_commit": tip.to_string()}));
            }
            return;
        }
        if *rejected == Some(tip) {
            return;
        }
        match served.state.reload(source) {
            Ok(state) => {
                let fields = json!({
                    "release_commit": state.release_commit.to_string(),
                    "versions": state.versions(),
                });
                self.served.store(Arc::new(Served {
                    state: Arc::new(state),
                    degraded: None,
                }));
                self.event("reloaded", fields);
            }
            Err(err) => {
                *rejected = Some(tip);
                self.degrade(
                    &served,
                    format!("release commit {tip} is not served: {err}"),
                );
            }
        }
    }

    fn degrade(&self, served: &Served, reason: String) {
        if served.degraded.as_deref() == Some(reason.as_str()) {
            return;
        }
        self.event(
            "degraded",
            json!({
                "reason": reason,
                "serving": served.state.release_commit.to_string(),
            }),
        );
        self.served.store(Arc::new(Served {
            state: served.state.clone(),
            degraded: Some(reason),
        }));
    }

    /// Answer one request and log it.
    async fn handle(
        &self,
        request: hyper::Request<Incoming>,
        remote: SocketAddr,
        limit: Duration,
    ) -> http::Reply {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let started = Instant::now();
        let method = request.method().to_string();
        // A hostile path is logged, but not all of it.
        let path: String = request.uri().path().chars().take(256).collect();
        let served = self.served.load_full();
        let answer = http::respond(&served.state, served.degraded.as_deref(), request);
        let mut reply = tokio::time::timeout(limit, answer)
            .await
            .unwrap_or_else(|_| http::timed_out(limit));
        reply
            .headers_mut()
            .insert("x-request-id", hyper::header::HeaderValue::from(id));
        let bytes = hyper::body::Body::size_hint(reply.body()).exact();
        let line = json!({
            "time": jiff::Timestamp::now().to_string(),
            "id": id,
            "remote": remote.to_string(),
            "method": method,
            "path": path,
            "status": reply.status().as_u16(),
            "bytes": bytes,
            "micros": u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX),
        });
        (self.log)(&line.to_string());
        if let Some(http::Refused(reason)) = reply.extensions().get::<http::Refused>() {
            self.event("refused", json!({"id": id, "reason": reason}));
        }
        reply
    }
}

/// Refuse a non-loopback address unless `public`.
pub fn check_listen(options: &Options) -> Result<(), ServeError> {
    if options.listen.ip().is_loopback() || options.public {
        Ok(())
    } else {
        Err(ServeError::NotLoopback(options.listen))
    }
}

/// Accept connections on `listener` until `shutdown` completes, then let
/// open connections finish (up to `options.shutdown_grace`).
pub async fn serve(
    listener: TcpListener,
    registry: Arc<Registry>,
    options: &Options,
    shutdown: impl Future<Output = ()>,
) {
    let mut http1 = hyper::server::conn::http1::Builder::new();
    http1
        .timer(TokioTimer::new())
        .header_read_timeout(options.header_timeout)
        // Bounds the request line and headers; bodies are streamed.
        .max_buf_size(16 * 1024);
    let graceful = GracefulShutdown::new();
    let permits = Arc::new(Semaphore::new(options.max_connections));
    let limit = options.request_timeout;
    tokio::pin!(shutdown);
    loop {
        let (stream, remote) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(err) => {
                    // Out of descriptors and the like: pause, then go on.
                    registry.event("accept_failed", json!({"error": err.to_string()}));
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let Ok(permit) = permits.clone().try_acquire_owned() else {
            continue;
        };
        // Small responses: send them now rather than wait for more.
        let _ = stream.set_nodelay(true);
        let registry = registry.clone();
        let service = service_fn(move |request| {
            let registry = registry.clone();
            async move { Ok::<_, Infallible>(registry.handle(request, remote, limit).await) }
        });
        let connection = graceful.watch(http1.serve_connection(TokioIo::new(stream), service));
        tokio::spawn(async move {
            // A client that hangs up or times out is not an error of ours.
            let _ = connection.await;
            drop(permit);
        });
    }
    drop(listener);
    registry.event("shutting_down", json!({}));
    let _ = tokio::time::timeout(options.shutdown_grace, graceful.shutdown()).await;
}

/// Poll the branch every `interval` on a thread of its own until `stop`.
pub fn watch(
    registry: Arc<Registry>,
    source: Source,
    interval: Duration,
    stop: Arc<AtomicBool>,
) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        let mut rejected = None;
        let mut repo: Option<Repo> = None;
        while !stop.load(Ordering::Relaxed) {
            std::thread::sleep(interval);
            let opened = match repo.take() {
                Some(repo) => Ok(repo),
                None => Repo::open(&source.repo),
            };
            match opened {
                Ok(opened) => {
                    registry.refresh(&opened, &source, &mut rejected);
                    repo = Some(opened);
                }
                Err(err) => registry.degrade(&registry.served.load_full(), err.to_string()),
            }
        }
    })
}

/// SIGTERM or Ctrl-C.
pub async fn shutdown_signal() {
    let interrupt = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                term.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => {}
        () = terminate => {}
    }
}

/// What the command line asked of `wpc serve` (without `--export`).
#[derive(Debug)]
pub struct Plan {
    /// A non-loopback address is refused unless `public`.
    pub listen: SocketAddr,
    pub public: bool,
    /// KiB of rendered policy bodies kept in memory.
    pub body_cache_kib: u64,
    /// Compiled policies kept in memory.
    pub engine_cache: usize,
    /// The time limits of a request; `None` keeps [`Options::new`]'s.
    pub header_timeout_ms: Option<u64>,
    pub request_timeout_ms: Option<u64>,
}

impl Plan {
    fn options(&self) -> Options {
        let mut options = Options::new(self.listen, self.public);
        if let Some(ms) = self.header_timeout_ms {
            options.header_timeout = Duration::from_millis(ms);
        }
        if let Some(ms) = self.request_timeout_ms {
            options.request_timeout = Duration::from_millis(ms);
        }
        options.caches = CacheLimits {
            body_bytes: self.body_cache_kib.saturating_mul(1024),
            engines: self.engine_cache,
        };
        options
    }
}

/// `wpc serve`: verify and load the branch, then serve it until SIGTERM or
/// Ctrl-C (nothing to print then).
pub fn run(source: Source, plan: &Plan, log: Log) -> Result<Output, ServeError> {
    let options = plan.options();
    check_listen(&options)?;
    match ReleaseState::load_with(&source, options.caches) {
        Ok(state) => serve_until_stopped(state, source, &options, log).map(|()| Output::default()),
        Err(err) => unverified(err),
    }
}

/// `wpc serve --export DIR`: the verified branch written as static files
/// to `dir`, and what was written.
pub fn export(source: &Source, dir: &Path) -> Result<Output, ServeError> {
    match ReleaseState::load(source) {
        Ok(state) => {
            let exported = export::export(&state, dir)?;
            Ok(Output::stdout(format!(
                "exported {} documents of {} at {} to {}\n",
                exported.documents,
                state.branch,
                state.release_commit,
                dir.display()
            )))
        }
        Err(err) => unverified(err),
    }
}

/// A branch that does not verify is the failing output naming why (exit
/// 1), as for `wpc release verify`; any other error stays one (exit 2).
fn unverified(err: StateError) -> Result<Output, ServeError> {
    match err {
        StateError::Unverified { .. } => Ok(Output::failure(format!("error: {err}\n"))),
        err => Err(err.into()),
    }
}

/// Listen, follow the branch, and serve `state` until SIGTERM or Ctrl-C.
/// Logs `listening` with the bound address first (so port 0 can be used).
fn serve_until_stopped(
    state: ReleaseState,
    source: Source,
    options: &Options,
    log: Log,
) -> Result<(), ServeError> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(ServeError::Runtime)?;
    runtime.block_on(async {
        let listener =
            TcpListener::bind(options.listen)
                .await
                .map_err(|source| ServeError::Bind {
                    addr: options.listen,
                    source,
                })?;
        let addr = listener.local_addr().map_err(ServeError::Runtime)?;
        let registry = Registry::new(state, log);
        let served = registry.state();
        registry.event(
            "listening",
            json!({
                "addr": addr.to_string(),
                "branch": served.branch,
                "release_commit": served.release_commit.to_string(),
                "versions": served.versions(),
            }),
        );
        let stop = Arc::new(AtomicBool::new(false));
        let watcher = watch(
            registry.clone(),
            source,
            options.poll_interval,
            stop.clone(),
        );
        serve(listener, registry.clone(), options, shutdown_signal()).await;
        stop.store(true, Ordering::Relaxed);
        let _ = watcher.join();
        registry.event("stopped", json!({}));
        Ok(())
    })
}
