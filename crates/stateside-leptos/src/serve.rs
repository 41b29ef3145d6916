//! Running an app's router until the process is told to stop, then
//! shutting the engine down in its two steps, so every server built on
//! Stateside stops the same way: streams end (or the HTTP server's graceful
//! shutdown would wait on them forever), queued handlers finish within the
//! grace, and the store gets every change.

use std::{net::SocketAddr, time::Duration};

use axum::{Router, serve::ListenerExt};
use stateside::Engine;

/// Serves `router` on `addr` until SIGTERM or Ctrl-C, then drains `engine`
/// for up to `grace` (see [`Engine::drain`]).
///
/// Connections get `TCP_NODELAY`: an update is one small write that must
/// leave at once, and with the client's delayed ACK, Nagle would add up to
/// 40 ms to a round trip. Each connection carries its peer's address, which
/// the limits per client count.
pub async fn serve(
    router: Router,
    addr: SocketAddr,
    engine: Engine,
    grace: Duration,
) -> std::io::Result<()> {
    let listener = tokio::net::TcpListener::bind(addr).await?.tap_io(|tcp| {
        if let Err(error) = tcp.set_nodelay(true) {
            tracing::warn!(%error, "could not set TCP_NODELAY");
        }
    });
    tracing::info!("listening on http://{addr}");
    let app = router.into_make_service_with_connect_info::<SocketAddr>();
    axum::serve(listener, app)
        .with_graceful_shutdown(terminated(engine.clone()))
        .await?;
    // Connections are closed; let queued handlers finish, then stop tasks.
    engine.drain(grace).await;
    tracing::info!("stopped");
    Ok(())
}

/// Resolves on SIGTERM or Ctrl-C, after closing the engine to new events
/// and ending its streams.
async fn terminated(engine: Engine) {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = signal(SignalKind::terminate()).expect("SIGTERM handler installs");
    tokio::select! {
        _ = term.recv() => {}
        _ = tokio::signal::ctrl_c() => {}
    }
    tracing::info!("shutting down");
    engine.close();
}
