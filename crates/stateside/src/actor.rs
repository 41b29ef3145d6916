//! The per-session foreground processor: one tokio task that runs the
//! session's foreground events one at a time, in order.
//!
//! Chained events go to the back of the line, behind everything that had
//! arrived by the time their parent finished. That is a breadth-first order,
//! the one Reflex's `test_event_chain` pins down.

use std::{
    collections::VecDeque,
    panic::AssertUnwindSafe,
    sync::{Arc, Weak, atomic::Ordering},
    time::Instant,
};

use futures::FutureExt;
use stateside_wire::Notice;
use tokio::sync::{mpsc, oneshot};
use tracing::{Instrument, warn};

use crate::{
    app::{Call, Prepared},
    cx::{CxCore, Finished},
    session::{Outcome, SessionInner},
};

/// A foreground unit of work: a client event (with its seq) or a chained one.
pub(crate) struct Job {
    pub(crate) seq: Option<u64>,
    pub(crate) prepared: Prepared,
}

pub(crate) async fn run(mut mailbox: mpsc::UnboundedReceiver<Job>, session: Weak<SessionInner>) {
    let mut line = VecDeque::new();
    loop {
        if line.is_empty() {
            match mailbox.recv().await {
                Some(job) => line.push_back(job),
                None => return,
            }
        }
        while let Ok(job) = mailbox.try_recv() {
            line.push_back(job);
        }
        let Some(job) = line.pop_front() else {
            continue;
        };
        let Some(session) = session.upgrade() else {
            return;
        };
        let chained = run_job(&session, job).await;
        session.queued.fetch_sub(1, Ordering::Relaxed);
        while let Ok(job) = mailbox.try_recv() {
            line.push_back(job);
        }
        for job in chained {
            session.queued.fetch_add(1, Ordering::Relaxed);
            line.push_back(job);
        }
    }
}

/// Runs one job and returns the events it chained.
async fn run_job(session: &Arc<SessionInner>, job: Job) -> Vec<Job> {
    let Prepared {
        handler,
        call,
        supersede_key,
    } = job.prepared;
    let call = match call {
        Call::Foreground(call) => call,
        Call::Background(call) => {
            session.spawn_task(handler, call, supersede_key);
            if let Some(seq) = job.seq {
                session.publish_applied(seq, None);
            }
            return Vec::new();
        }
    };
    let span = tracing::info_span!("event", session = %session.token.log_tag(), handler);
    async move {
        let queued_at = Instant::now();
        let states = Arc::clone(&session.states).lock_owned().await;
        let locked_at = Instant::now();
        let (done, finished) = oneshot::channel();
        let outcome = AssertUnwindSafe(call(CxCore::new(
            states,
            Arc::clone(session),
            handler,
            done,
        )))
        .catch_unwind()
        .await;
        // The context hands the lock back when it drops, which is at the
        // latest when the handler's future is gone.
        let Ok(Finished {
            mut states,
            actions,
            chained,
        }) = finished.await
        else {
            unreachable!("a dropped context always sends its lock back");
        };
        let failure = failure_notice(handler, outcome);
        let failed = failure.is_some();
        session.settle(
            &mut states,
            Outcome {
                handler,
                seq: job.seq,
                actions,
                failure,
                discard: false,
                cancelled: None,
            },
        );
        drop(states);
        let held = locked_at.elapsed();
        if held > session.config.lock_hold_warning {
            warn!(
                held_ms = held.as_millis() as u64,
                "handler held the session lock too long"
            );
        }
        tracing::debug!(
            wait_us = (locked_at - queued_at).as_micros() as u64,
            run_us = held.as_micros() as u64,
            "event done"
        );
        if failed { Vec::new() } else { chained }
    }
    .instrument(span)
    .await
}

/// The notice for a failed handler, logged with the handler's name.
pub(crate) fn failure_notice(
    handler: &'static str,
    outcome: std::thread::Result<anyhow::Result<()>>,
) -> Option<Notice> {
    let message = match outcome {
        Ok(Ok(())) => return None,
        Ok(Err(error)) => format!("{error:#}"),
        Err(panic) => panic_message(&*panic),
    };
    tracing::error!(handler, %message, "handler failed; its changes were rolled back");
    Some(Notice {
        handler: handler.to_owned(),
        message,
    })
}

fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    let text = panic
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| panic.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("a panic with no message");
    format!("panicked: {text}")
}
