"""The refund part of the sweep benchmark on its own: how many reviewer refunds the deadline sweep
makes final per second (requested set-based with the move, sent through the built-in gateway after
commit, answers recorded set-based). Goal: at least 2,000/s.

    python -m bench.refund_rate [--refunds 5000]         # make bench-refunds

On a scratch copy of the benchmark database (bench/run.py's ScratchDatabase; generate the dataset
first, e.g. ``python manage.py generate_dataset --scale 0.05``), it settles what the dataset has
due, adds the pool of accepted cases whose appeal window closed, analyses the tables on PostgreSQL
(autovacuum is off on these machines), and times one sweep over them. DATABASE_URL as for
``make bench``.
"""

import argparse
import os
from datetime import datetime, timedelta


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "resolution_center.settings.bench")
    from bench.run import GOAL_REFUND_RATE, ScratchDatabase, database_url, pool_add, sweep_run

    parser = argparse.ArgumentParser()
    parser.add_argument("--refunds", type=int, default=5000)
    args = parser.parse_args()
    scratch = ScratchDatabase(database_url())
    scratch.create()
    try:
        t1 = datetime.now().astimezone().replace(microsecond=0)
        t2 = t1 + timedelta(minutes=20)
        sweep_run(scratch.url, t1, 1)
        pool_add(scratch.url, args.refunds, t1 + timedelta(minutes=1), t2 - timedelta(seconds=1), mix="accepted=1")
        if scratch.postgres:
            import psycopg

            with psycopg.connect(scratch.url, autocommit=True) as conn:
                conn.execute("VACUUM ANALYZE")
        run = sweep_run(scratch.url, t2, 1)
        refunded = run["totals"]["refunded"]
        rate = refunded / run["seconds"]
        where = "PostgreSQL" if scratch.postgres else "SQLite"
        verdict = "met" if rate >= GOAL_REFUND_RATE else "not met"
        print(
            f"{where}: {refunded:,} refunds made final in {run['seconds']:.2f} s = {rate:,.0f}/s "
            f"(batches of {run['batch_size']}; goal {GOAL_REFUND_RATE:,}/s: {verdict})"
        )
    finally:
        scratch.drop()


if __name__ == "__main__":
    main()
