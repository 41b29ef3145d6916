//! Engine figures, as monitoring and handlers read them.

mod support;

use stateside::{Cx, Engine, EngineStats, HandlerId};
use support::*;

const COUNT: HandlerId<()> = HandlerId::new("count_engine");

/// Writes the engine's figures into the log: sessions, then tasks.
async fn count_engine(mut cx: Cx<Counter>, (): ()) -> anyhow::Result<()> {
    let EngineStats { sessions, tasks } = cx.engine_stats();
    cx.log.push(format!("{sessions} {tasks}"));
    Ok(())
}

#[tokio::test]
async fn handlers_and_the_engine_read_the_same_figures() {
    let engine = Engine::new(app().on(COUNT, count_engine), config());
    let _other = engine.open().unwrap();
    let mut client = Client::connect(engine.open().unwrap());
    client.send(SLEEP_THEN_RECORD, ("slow".to_owned(), 60_000));
    client.send(COUNT, ());
    let counter: Counter = client.until(|c: &Counter| !c.log.is_empty()).await;
    assert_eq!(counter.log, ["2 1"]);
    assert_eq!(
        engine.stats(),
        EngineStats {
            sessions: 2,
            tasks: 1
        }
    );
    let task = client.session.tasks()[0].id;
    assert!(client.session.cancel(task));
    assert_eq!(
        engine.stats(),
        EngineStats {
            sessions: 2,
            tasks: 0
        }
    );
}
