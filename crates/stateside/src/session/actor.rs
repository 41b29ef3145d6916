//! The per-session foreground processor: one tokio task that runs the
//! session's foreground events one at a time, in order.
//!
//! Chained events go to the back of the line, behind everything that had
//! arrived by the time their parent finished. That is a breadth-first order,
//! the one Reflex's `test_event_chain` pins down. A failed handler's chained
//! events go the way of its state changes: those emitted before its last
//! flush were published with it and still run, later ones are dropped.

use std::{
    collections::VecDeque,
    panic::AssertUnwindSafe,
    sync::{Arc, Weak},
};

use futures::FutureExt;
use stateside_wire::Notice;
use tokio::{
    sync::{mpsc, oneshot},
    time::Instant,
};
use tracing::Instrument;

use super::{handle::SessionHandle, inner::SessionInner};
use crate::{
    call::{Call, CxCore, Finished, Job, Prepared},
    login::LoginRequired,
    section::{Outcome, Section},
};

pub(super) async fn run(
    mut mailbox: mpsc::UnboundedReceiver<Box<Job>>,
    session: Weak<SessionInner>,
) {
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
        // Boxed, so an idle actor (the usual state) is small: its future
        // would otherwise hold a running job's state at all times.
        let chained = Box::pin(run_job(&session, *job)).await;
        while let Ok(job) = mailbox.try_recv() {
            line.push_back(job);
        }
        let (next, later): (Vec<_>, Vec<_>) = chained.into_iter().partition(|job| job.next);
        for job in next.into_iter().rev() {
            session.work.job_added();
            line.push_front(Box::new(job));
        }
        for job in later {
            session.work.job_added();
            line.push_back(Box::new(job));
        }
        // After the chained jobs count, so the session never looks quiet
        // while work passes from a parent to its children.
        session.work.job_done();
        session.work.touch();
    }
}

/// Runs one job and returns the events it chained.
async fn run_job(session: &Arc<SessionInner>, job: Job) -> Vec<Job> {
    let Prepared { handler, call } = job.prepared;
    let call = match call {
        Call::Foreground(call) => call,
        Call::Background(start) => {
            session.start_for_event(job.seq, handler, start);
            return Vec::new();
        }
    };
    let span = tracing::info_span!("event", session = %session.token.log_tag(), handler);
    async move {
        let queued_at = Instant::now();
        let states = session.lock.acquire(handler).await;
        let locked_at = Instant::now();
        let (done, finished) = oneshot::channel();
        let outcome = AssertUnwindSafe(call(CxCore::new(
            Section::new(states),
            Box::new(SessionHandle::from(Arc::clone(session))),
            handler,
            done,
        )))
        .catch_unwind()
        .await;
        // The context hands the lock back when it drops, which is at the
        // latest when the handler's future is gone.
        let Ok(Finished {
            section,
            mut chained,
            flushed,
        }) = finished.await
        else {
            unreachable!("a dropped context always sends its lock back");
        };
        let (mut states, actions, mut shared) = section.into_parts();
        let failure = failure_notice(handler, outcome);
        let outcome_label = if failure.is_some() { "error" } else { "ok" };
        let published = session.settle(
            &mut states,
            Outcome {
                handler,
                seq: job.seq,
                actions,
                failure,
                discard: false,
                cancelled: None,
                shared: &mut shared,
            },
        );
        drop(shared);
        metrics::counter!("stateside_events_total", "handler" => handler, "outcome" => outcome_label)
            .increment(1);
        drop(states);
        tracing::debug!(
            wait_us = (locked_at - queued_at).as_micros() as u64,
            run_us = locked_at.elapsed().as_micros() as u64,
            "event done"
        );
        if !published {
            chained.truncate(flushed);
        }
        chained
    }
    .instrument(span)
    .await
}

/// The notice for a failed handler, logged with the handler's name.
pub(super) fn failure_notice(
    handler: &'static str,
    outcome: std::thread::Result<anyhow::Result<()>>,
) -> Option<Notice> {
    let message = match outcome {
        Ok(Ok(())) => return None,
        // Meant for the user, and no fault of the server's: said as it is.
        Ok(Err(error)) if error.is::<LoginRequired>() => {
            tracing::debug!(handler, "refused: not logged in");
            return Some(Notice::refused(handler, error.to_string()));
        }
        Ok(Err(error)) => format!("{error:#}"),
        Err(panic) => panic_message(&*panic),
    };
    // The browser gets an error id, the log the whole chain under it.
    let message = crate::incident(
        handler,
        format!("handler failed; its changes were rolled back: {message}"),
    );
    Some(Notice::failed(handler, message))
}

fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    let text = panic
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| panic.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("a panic with no message");
    format!("panicked: {text}")
}
