"""Shared by the PostgreSQL race tests: run calls in real threads, each on its own connection."""

import threading

from django.db import connections

from resolution_center.exceptions import ApplicationError


def race(*calls):
    """Run every call in its own thread and connection, all released at once; return
    ("ok", result) / ("refused", ApplicationError) / ("crashed", exception) per call, in order."""
    barrier = threading.Barrier(len(calls))
    results: list = [None] * len(calls)

    def run(index, call):
        try:
            barrier.wait(timeout=30)
            results[index] = ("ok", call())
        except ApplicationError as error:
            results[index] = ("refused", error)
        except BaseException as error:  # noqa: BLE001 - reported and asserted on below
            results[index] = ("crashed", error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert not any(thread.is_alive() for thread in threads), "a racing thread hung"
    crashed = [r[1] for r in results if r[0] == "crashed"]
    assert not crashed, f"racing threads crashed instead of refusing cleanly: {crashed!r}"
    return results
