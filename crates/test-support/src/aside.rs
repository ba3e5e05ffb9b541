//! Running async clean-up from `Drop`, which cannot be async and may run inside a runtime
//! (or while a test unwinds from a panic).

use std::future::Future;

/// Runs `fut` to completion on a private single-threaded runtime on a fresh thread, and waits
/// for it. Returns `None` when the runtime cannot be built or the clean-up panicked: callers
/// in `Drop` report that and go on, never panic again.
pub fn block_on_aside<T, Fut>(fut: Fut) -> Option<T>
where
    T: Send + 'static,
    Fut: Future<Output = T> + Send + 'static,
{
    std::thread::spawn(move || {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .ok()
            .map(|runtime| runtime.block_on(fut))
    })
    .join()
    .ok()
    .flatten()
}
