//! Looking into the test's Redis as an operator would, to see what the
//! engine left there. Only the engine's tests link the `redis` crate, so
//! this is apart from [`RedisServer`], which the server's tests share.

use std::time::Duration;

use stateside::SessionToken;

use super::redis_server::RedisServer;

impl RedisServer {
    /// A raw connection, to look at what the engine left in Redis.
    pub async fn connection(&self) -> redis::aio::MultiplexedConnection {
        let client = redis::Client::open(self.url()).unwrap();
        client.get_multiplexed_async_connection().await.unwrap()
    }

    /// Waits until nobody holds `token`'s lease.
    pub async fn until_unowned(&self, token: &SessionToken) {
        let mut connection = self.connection().await;
        tokio::time::timeout(Duration::from_secs(30), async {
            loop {
                let owner: Option<String> = redis::cmd("GET")
                    .arg(stateside::RedisStore::key(token, "owner"))
                    .query_async(&mut connection)
                    .await
                    .unwrap();
                if owner.is_none() {
                    return;
                }
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        })
        .await
        .expect("the lease ran out");
    }
}
