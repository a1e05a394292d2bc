//! A spinner on stderr for runs that take more than a moment, and only on a terminal.
//! Hand-written: a progress crate would change feature flags shared with Polars and force a
//! full Polars rebuild for a dozen lines of code.

use std::io::{IsTerminal, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

pub struct Spinner {
    done: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Spinner {
    pub fn start(message: &'static str) -> Spinner {
        let done = Arc::new(AtomicBool::new(false));
        if !std::io::stderr().is_terminal() {
            return Spinner { done, thread: None };
        }
        let d = done.clone();
        let thread = std::thread::spawn(move || {
            let start = Instant::now();
            // Quick runs finish before this wakes, so they never draw anything.
            std::thread::sleep(Duration::from_millis(400));
            let frames = ['|', '/', '-', '\\'];
            let mut drawn = false;
            let mut i = 0;
            while !d.load(Ordering::SeqCst) {
                eprint!("\r{} {message} ({:.1}s)", frames[i % 4], start.elapsed().as_secs_f64());
                let _ = std::io::stderr().flush();
                drawn = true;
                i += 1;
                std::thread::sleep(Duration::from_millis(120));
            }
            if drawn {
                eprint!("\r{}\r", " ".repeat(message.len() + 16));
            }
        });
        Spinner { done, thread: Some(thread) }
    }

    pub fn finish(self) {
        self.done.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread {
            let _ = t.join();
        }
    }
}
