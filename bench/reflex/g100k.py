#!/usr/bin/env python3
"""g100k on Reflex's backend: append round trips on a list of 100,000 items.

Stateside's side is `stateside-bench run --tests g100k` (bench/src/workloads.rs,
`list_append_at`); this is Reflex's, with the anchor's own client (its
`scripts/bench.py`: the `Session`, the meter, the percentile rule and the byte
count of g, unchanged) against the anchor's unchanged benchapp.

The list is filled with one `set_items` event: the setter Reflex writes for
every var when REFLEX_STATE_AUTO_SETTERS is on (g100k.sh sets it, and raises
REFLEX_SOCKET_MAX_HTTP_BUFFER_SIZE, 1 MB by default, for that event's 1.3 MB).
The benchapp has no other way to grow its list but `append_item`, whose every
update resends the whole list, so filling it by appends would cost about
65 GB of JSON. Then `--appends` `append_item` round trips are timed, as g
times them, and the row has g's keys.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time


def load_anchor(anchor: str):
    sys.path.insert(0, os.path.join(anchor, "scripts"))
    import bench  # the anchor's scripts/bench.py

    return bench


async def run(anchor, url: str, size: int, appends: int) -> dict:
    worker, _procs = anchor.find_server_procs(url, None)
    await anchor.warmup(url)
    s = anchor.Session(url, connect_timeout=120.0)
    await s.connect()
    t0 = time.perf_counter()
    fut = s.wait_items(size)
    await s.send("set_items", value=[f"item-{i:05d}" for i in range(size)])
    await asyncio.wait_for(fut, 600)
    fill_s = time.perf_counter() - t0
    lats = []
    with anchor.Meter(worker) as m:
        for i in range(size, size + appends):
            fut = s.wait_items(i + 1)
            t0 = time.perf_counter()
            await s.send("append_item", item=f"item-{i:05d}")
            lats.append(await asyncio.wait_for(fut, 120) - t0)
    await s.close()
    return {
        "test": "g100k append_item RT",
        "n": appends,
        "list_items": size,
        "fill_s": fill_s,
        "total_s": m.wall,
        "events_per_s": appends / m.wall,
        "p50_ms": 1000 * anchor.pct(lats, 50),
        "p99_ms": 1000 * anchor.pct(lats, 99),
        "max_ms": 1000 * max(lats),
        "last_delta_bytes": s.last_delta_bytes,
        "exact": s.items_len == size + appends,
        "server_cpu_ms_per_event": 1000 * m.server_cpu / appends,
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--anchor", required=True, help="the Reflex anchor's folder (scripts/bench.py)")
    ap.add_argument("--url", default="http://127.0.0.1:8765")
    ap.add_argument("--size", type=int, default=100_000, help="the list's length before the timed appends")
    ap.add_argument("--appends", type=int, default=500, help="append_item round trips timed")
    ap.add_argument("--json-out", default=None)
    args = ap.parse_args()
    anchor = load_anchor(args.anchor)
    row = asyncio.run(run(anchor, args.url, args.size, args.appends))
    row["loadavg1_at_end"] = os.getloadavg()[0]
    print(json.dumps(row), flush=True)
    if args.json_out:
        with open(args.json_out, "w") as f:
            json.dump([row], f, indent=1)


if __name__ == "__main__":
    main()
