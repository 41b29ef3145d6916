//! What a restored session does first, about what its last run was doing
//! when it ended (a restart, a crash, an owner lost to a Redis takeover).
//! The app's `on_restore` hooks run first in the queue. Then each task the
//! record lists as running comes back as the app decides per task kind: a
//! restartable task starts again from its original arguments, with its old
//! id; any other is lost, so its `on_lost` hook (if the app has one) runs
//! to put the state right, and the tab gets a notice. Nothing is left
//! looking as if it ran with nothing behind it.

use std::sync::Arc;

use stateside_wire::Notice;

use super::{handle::SessionHandle, inner::SessionInner};
use crate::{app::Restored, call::Job, store::record::StoredTask, task_id::TaskId};

impl SessionHandle {
    /// Runs the restore hooks and brings back the tasks a restored record
    /// listed. Called once, by the path that started the session from that
    /// record.
    pub(crate) fn resume(&self, tasks: Vec<StoredTask>) {
        self.inner.resume(tasks);
    }
}

impl SessionInner {
    fn resume(self: &Arc<Self>, tasks: Vec<StoredTask>) {
        for prepared in self.shared.app.restore_hooks() {
            self.work.enqueue(Job {
                seq: None,
                prepared,
                next: false,
            });
        }
        if tasks.is_empty() {
            return;
        }
        for StoredTask { id, handler, args } in tasks {
            let id = TaskId(id);
            let lost = match self.shared.app.restore_task(&handler, args) {
                Restored::Restart(name, start) => match self.spawn_task(name, start, Some(id)) {
                    Ok(_) => continue,
                    Err(error) => {
                        format!("the server restarted, and it could not start again: {error}")
                    }
                },
                Restored::Lost(hook) => {
                    if let Some(prepared) = hook {
                        self.work.enqueue(Job {
                            seq: None,
                            prepared,
                            next: false,
                        });
                    }
                    "the server restarted".to_owned()
                }
            };
            tracing::info!(session = %self.token.log_tag(), handler, task = id.0, "{lost}");
            let mut outbox = self.publishing.outbox();
            outbox.tasks.ended(id.0);
            outbox.notify(Notice::stopped(handler, lost));
        }
        self.persist();
    }
}
