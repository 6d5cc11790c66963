//! The `conduit-devserver` binary: parses options, serves, prints the listening line, and
//! stops cleanly on Ctrl-C / SIGTERM (Close with allowReconnect to every client first).

use std::io::Write;
use std::time::Duration;

fn main() {
    let config = match conduit_devserver::config::parse_args(std::env::args().skip(1)) {
        Ok(c) => c,
        Err(e) => {
            if e.is_empty() {
                print!("{}", conduit_devserver::config::USAGE);
                return;
            }
            eprintln!(
                "conduit-devserver: {e}\n\n{}",
                conduit_devserver::config::USAGE
            );
            std::process::exit(2);
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("conduit-devserver: cannot start the runtime: {e}");
            std::process::exit(1);
        }
    };
    runtime.block_on(async move {
        let running = match conduit_devserver::start(config).await {
            Ok(r) => r,
            Err(e) => {
                eprintln!("conduit-devserver: cannot listen: {e}");
                std::process::exit(1);
            }
        };
        println!("conduit-devserver listening on http://{}", running.addr);
        let _ = std::io::stdout().flush();
        let stdin_eof = async {
            if running.app.config.exit_on_stdin_eof {
                let (tx, rx) = tokio::sync::oneshot::channel::<()>();
                std::thread::spawn(move || {
                    let mut sink = [0u8; 256];
                    let mut stdin = std::io::stdin();
                    while matches!(std::io::Read::read(&mut stdin, &mut sink), Ok(n) if n > 0) {}
                    let _ = tx.send(());
                });
                let _ = rx.await;
            } else {
                std::future::pending::<()>().await;
            }
        };
        tokio::select! {
            _ = shutdown_signal() => {}
            _ = stdin_eof => {}
        }
        running.app.log(format_args!("shutting down"));
        running.app.begin_shutdown();
        // Let the Close messages and close frames go out.
        tokio::time::sleep(Duration::from_millis(300)).await;
        running.task.abort();
    });
    std::process::exit(0);
}

async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
