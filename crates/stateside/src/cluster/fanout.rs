//! Updates from owners to the tabs connected to other instances.
//!
//! A follower subscribes to `stateside:{digest}:updates`, where the owner's
//! fenced save publishes each batch of messages. One router task reads
//! every message this process receives and hands it to the follower's
//! outbox, which relays it to its streams with the owner's version numbers,
//! so a tab can reconnect to any instance and resume where it was. A
//! follower that missed a publish (a reconnect) notices the gap in the
//! versions and reloads the record.

use std::{sync::Arc, time::Duration};

use redis::{PushInfo, PushKind, Value};

use super::{Broadcast, RedisStore, key};
use crate::{mutex::lock, session::SessionHandle, token::SessionToken};

impl RedisStore {
    /// Starts routing what the subscriber connection receives. Once.
    pub(super) fn spawn_router(self: &Arc<Self>) {
        let Some(mut pushes) = lock(&self.pushes).take() else {
            return;
        };
        let redis = Arc::downgrade(self);
        tokio::spawn(async move {
            while let Some(push) = pushes.recv().await {
                let Some(redis) = redis.upgrade() else {
                    return;
                };
                redis.route(push);
            }
        });
    }

    fn route(self: &Arc<Self>, push: PushInfo) {
        if push.kind == PushKind::Disconnection {
            // Wake-ups may have been missed: every owner looks at its inbox.
            for lease in lock(&self.owned).values() {
                lease.wake.notify_one();
            }
            return;
        }
        if push.kind != PushKind::Message {
            return;
        }
        let [Value::BulkString(channel), Value::BulkString(payload)] = push.data.as_slice() else {
            return;
        };
        let Some((token, part)) = self.names.channel(channel) else {
            return;
        };
        match part {
            "wake" => {
                if let Some(lease) = lock(&self.owned).get(&token) {
                    lease.wake.notify_one();
                }
            }
            "updates" => match serde_json::from_slice(payload) {
                Ok(Broadcast::Saved { through, messages }) => {
                    let Some(follower) = self.follower(&token) else {
                        return;
                    };
                    if !follower.follow(messages, through) {
                        self.resync(token, follower);
                    }
                }
                Ok(Broadcast::Released) => self.keeper.notify_one(),
                Err(error) => tracing::warn!(%error, "unreadable session update"),
            },
            _ => {}
        }
    }

    /// Follows a session another instance owns: subscribes to its updates,
    /// then catches up with the record, so nothing falls between the two.
    pub(super) async fn follow(self: &Arc<Self>, token: SessionToken, session: &SessionHandle) {
        lock(&self.followed).insert(token, session.downgrade());
        self.names.learn(token);
        self.subscribe(key(&token, "updates")).await;
        self.resync(token, session.clone());
    }

    /// The follower registered for `token`, if any.
    fn follower(&self, token: &SessionToken) -> Option<SessionHandle> {
        lock(&self.followed)
            .get(token)
            .and_then(|weak| weak.upgrade())
    }

    pub(super) async fn unfollow(&self, token: &SessionToken) {
        if lock(&self.followed).remove(token).is_some() {
            self.unsubscribe(key(token, "updates")).await;
        }
    }

    /// Reloads a follower from the record, if the record is ahead of it.
    fn resync(self: &Arc<Self>, token: SessionToken, follower: SessionHandle) {
        let redis = Arc::clone(self);
        tokio::spawn(async move {
            match redis.load(&token).await {
                Ok(Some(stored)) => follower.catch_up(stored),
                Ok(None) => {}
                Err(error) => tracing::warn!(%error, "could not reload a followed session"),
            }
        });
    }

    /// Subscribes to `channel`, retrying while Redis is away: the manager
    /// resubscribes after a reconnect only what it has subscribed once.
    pub(super) async fn subscribe(&self, channel: String) {
        while let Err(error) = self.subscriber.clone().subscribe(&channel).await {
            tracing::warn!(%error, channel, "subscribing failed; retrying");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    pub(super) async fn unsubscribe(&self, channel: String) {
        if let Err(error) = self.subscriber.clone().unsubscribe(&channel).await {
            tracing::warn!(%error, channel, "unsubscribing failed");
        }
    }
}
