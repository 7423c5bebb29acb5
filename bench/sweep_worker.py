"""A child process of the sweep benchmark, on the scratch copy of the benchmark database.

    python -m bench.sweep_worker pool  --size N --from ISO --to ISO [--mix open=70,...] [--seed S]
    python -m bench.sweep_worker sweep --now ISO

``pool`` adds N cases whose running deadline falls between the two times. ``sweep`` is one
"cluster": it connects, prints "ready", waits for a line on stdin (so that two of them start
together), runs ``cases.sweeps.deadlines_sweep`` at the fixed clock, and prints one JSON line.
"""

import argparse
import json
import os
import sys
import time
from datetime import datetime


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "resolution_center.settings.bench")
    import django

    django.setup()
    from django.db import connection

    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="command", required=True)
    pool = sub.add_parser("pool")
    pool.add_argument("--size", type=int, required=True)
    pool.add_argument("--from", dest="start", required=True)
    pool.add_argument("--to", dest="end", required=True)
    pool.add_argument("--mix", default="")
    pool.add_argument("--seed", type=int, default=11)
    sweep = sub.add_parser("sweep")
    sweep.add_argument("--now", required=True)
    args = parser.parse_args()

    if args.command == "pool":
        from bench.dataset import overdue_pool_create

        mix = None
        if args.mix:
            mix = {name: int(weight) for name, weight in (part.split("=") for part in args.mix.split(","))}
        started = time.perf_counter()
        added = overdue_pool_create(
            size=args.size,
            deadline_between=(datetime.fromisoformat(args.start), datetime.fromisoformat(args.end)),
            mix=mix,
            seed=args.seed,
        )
        print(json.dumps({"added": added, "seconds": round(time.perf_counter() - started, 2)}), flush=True)
        return

    from cases.sweeps import conf, deadlines_sweep

    now = datetime.fromisoformat(args.now)
    connection.ensure_connection()
    print("ready", flush=True)
    sys.stdin.readline()
    started = time.perf_counter()
    result = deadlines_sweep(now=now, time_budget=3600)
    elapsed = time.perf_counter() - started
    print(json.dumps({"seconds": elapsed, "result": result.as_dict(), "batch_size": conf("BATCH_SIZE")}), flush=True)


if __name__ == "__main__":
    main()
