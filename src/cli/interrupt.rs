//! Ctrl-C as a clean stop: the first SIGINT sets a flag that a watcher turns into
//! `Monitor::cancel` (the job stops at its next check and keeps what it saved); a second one
//! kills the process as usual.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use pairwise_audit::Monitor;

static INTERRUPTED: AtomicBool = AtomicBool::new(false);

#[cfg(target_os = "linux")]
extern "C" fn on_sigint(_: libc::c_int) {
    INTERRUPTED.store(true, Ordering::SeqCst);
    // SAFETY: signal() is async-signal-safe; restoring the default makes a second Ctrl-C fatal.
    unsafe {
        libc::signal(libc::SIGINT, libc::SIG_DFL);
    }
}

/// Cancel `monitor` on the first Ctrl-C, for as long as the returned guard lives.
pub fn cancel_on_ctrl_c(monitor: Arc<Monitor>) -> Guard {
    #[cfg(target_os = "linux")]
    // SAFETY: the handler only stores to an atomic and calls signal(), both allowed in a
    // signal handler.
    unsafe {
        libc::signal(
            libc::SIGINT,
            on_sigint as extern "C" fn(libc::c_int) as libc::sighandler_t,
        );
    }
    let done = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&done);
    std::thread::spawn(move || {
        while !flag.load(Ordering::Relaxed) {
            if INTERRUPTED.load(Ordering::SeqCst) {
                monitor.cancel();
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    });
    Guard { done }
}

pub fn was_interrupted() -> bool {
    INTERRUPTED.load(Ordering::SeqCst)
}

pub struct Guard {
    done: Arc<AtomicBool>,
}

impl Drop for Guard {
    fn drop(&mut self) {
        self.done.store(true, Ordering::Relaxed);
    }
}
