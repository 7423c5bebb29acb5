"""`make bench`: the Resolution Center under load at a platform's scale, in one command.

    .venv/bin/python bench/run.py          (or: make bench)

Environment (all optional):
  DATABASE_URL          postgres://… for PostgreSQL; default: SQLite file var/bench.sqlite3.
                        Use a database of its own: the benchmark fills it with its dataset.
  BENCH_SCALE           dataset size as a fraction of the default (1.0 = 1,000,000 payments)
  BENCH_DURATION        seconds of load per page (default 10), after 2 seconds of warm-up
  BENCH_CONNECTIONS     wrk's fixed concurrency (default 8)
  BENCH_SWEEP_CASES     overdue cases per sweep run (default 100,000 × BENCH_SCALE)
  BENCH_MONEY_SWEEP_CASES  reviewer refunds the sweep makes final in its refund run
                        (default 20,000 × BENCH_SCALE, at least 2,000)
  BENCH_SKIP_SWEEP=1    leave the sweep out

What it does: migrates, generates the dataset if it is missing, collects static files, signs in
the benchmark's users, starts gunicorn (production settings over plain HTTP, 2 sync workers, no
worker recycling so memory growth would show), drives each page with wrk at the fixed
concurrency, counts each page's queries, times the deadline sweep with one and with two
processes on a scratch copy of the database, and writes one table to bench/results/latest.md
(and bench/results/<database>.md).
"""

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = ROOT / ".venv" / "bin"
PYTHON = str(VENV_BIN / "python") if (VENV_BIN / "python").exists() else sys.executable
RESULTS = ROOT / "bench" / "results"
SETTINGS = "resolution_center.settings.bench"

SCALE = float(os.environ.get("BENCH_SCALE", "1"))
DURATION = int(os.environ.get("BENCH_DURATION", "10"))
WARMUP = 2
CONNECTIONS = int(os.environ.get("BENCH_CONNECTIONS", "8"))
SWEEP_CASES = int(os.environ.get("BENCH_SWEEP_CASES", str(max(1000, round(100_000 * SCALE)))))
# Enough refunds for the refund run to last seconds, not milliseconds: a rate, not a start-up cost.
MONEY_SWEEP_CASES = int(os.environ.get("BENCH_MONEY_SWEEP_CASES", str(max(2_000, round(20_000 * SCALE)))))
SKIP_SWEEP = os.environ.get("BENCH_SKIP_SWEEP") == "1"

GOAL_READ = 0.5
GOAL_WRITE = 0.2
GOAL_DEEP_PAGE = 1.5
GOAL_SWEEP_RATE = 10_000
# Reviewer refunds made final by the sweep, requested, sent and recorded, with the built-in gateway
# (payments.gateways.DatabaseRefundGateway: no network, so this is our own cost per refund).
GOAL_REFUND_RATE = 2_000


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", flush=True)


def database_url() -> str:
    url = os.environ.get("DATABASE_URL") or f"sqlite:///{ROOT / 'var' / 'bench.sqlite3'}"
    os.environ["DATABASE_URL"] = url
    return url


def ensure_wrk() -> str:
    found = shutil.which("wrk")
    if found:
        return found
    if os.geteuid() == 0 and shutil.which("apt-get"):
        log("wrk is missing; installing Debian's package")
        for step in (["apt-get", "install", "-y", "-q", "wrk"], ["apt-get", "update", "-q"]):
            subprocess.run(step, check=False, stdout=subprocess.DEVNULL)
            found = shutil.which("wrk")
            if found:
                break
        if not found:  # the package lists were stale: install again after the update
            subprocess.run(["apt-get", "install", "-y", "-q", "wrk"], check=False, stdout=subprocess.DEVNULL)
            found = shutil.which("wrk")
    if not found:
        sys.exit("wrk is not installed: `apt-get install wrk` (Debian's package), then run `make bench` again.")
    return found


def manage(*args: str, env: dict | None = None) -> None:
    subprocess.run([PYTHON, "manage.py", *args], cwd=ROOT, check=True, env=env or os.environ.copy())


# --- gunicorn ------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    def __init__(self, port: int, log_path: Path):
        self.port = port
        self.log_path = log_path
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        command = [str(VENV_BIN / "gunicorn")]
        if (ROOT / "gunicorn.conf.py").exists():
            command += ["-c", "gunicorn.conf.py"]
        command += [
            "--workers",
            "2",
            "--worker-class",
            "sync",
            "--max-requests",
            "0",  # no recycling: a leak must show in the memory columns, not be hidden by restarts
            "--bind",
            f"127.0.0.1:{self.port}",
            "--access-logfile",
            str(self.log_path.with_suffix(".access.log")),
            "--error-logfile",
            str(self.log_path),
            "--log-level",
            "warning",
            "resolution_center.wsgi:application",
        ]
        env = {**os.environ, "DJANGO_SETTINGS_MODULE": SETTINGS}
        self.process = subprocess.Popen(command, cwd=ROOT, env=env, start_new_session=True)
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/healthz", timeout=2) as answer:
                    if answer.status == 200:
                        return
            except OSError:
                time.sleep(0.3)
        self.stop()
        sys.exit(f"gunicorn did not answer /healthz within a minute; see {self.log_path}")

    def worker_pids(self) -> list[int]:
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        return sorted(int(pid) for pid in children.read_text().split()) if children.exists() else []

    def worker_rss_mb(self) -> list[float]:
        sizes = []
        for pid in self.worker_pids():
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    sizes.append(int(line.split()[1]) / 1024)
        return sizes

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


# --- wrk -----------------------------------------------------------------------------------------


def wrk(wrk_path: str, port: int, target, *, seconds: int, connections: int, post_file: Path | None = None) -> dict:
    url = f"http://127.0.0.1:{port}{target.path or '/'}"
    command = [wrk_path, "-t1", f"-c{connections}", f"-d{seconds}s", "--timeout", "10s"]
    env = os.environ.copy()
    if post_file is not None:
        command += ["-s", "bench/wrk/post_cycle.lua"]
        env["BENCH_POST_FILE"] = str(post_file)
    else:
        command += ["-s", "bench/wrk/get.lua", "-H", target.header or f"Cookie: {target.cookie}"]
    command.append(url)
    output = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, check=True).stdout
    for line in output.splitlines():
        if line.startswith("BENCH_JSON "):
            return json.loads(line.removeprefix("BENCH_JSON "))
    raise RuntimeError(f"wrk printed no result:\n{output}")


# --- the sweep -----------------------------------------------------------------------------------


class ScratchDatabase:
    """A copy of the benchmark database for the sweep, so the dataset the pages read stays as it
    was (the sweep moves cases and writes timeline rows nobody can delete)."""

    def __init__(self, url: str):
        self.source_url = url
        parsed = urlparse(url)
        self.postgres = parsed.scheme.startswith("postgres")
        if self.postgres:
            self.source_name = parsed.path.lstrip("/")
            self.name = f"{self.source_name}_sweep"
            self.url = parsed._replace(path=f"/{self.name}").geturl()
        else:
            self.source_path = Path("/" + parsed.path.lstrip("/"))  # sqlite:////abs/path
            self.path = self.source_path.with_name(self.source_path.stem + "-sweep.sqlite3")
            self.url = f"sqlite:///{self.path}"

    def _admin(self, statement: str) -> None:
        import psycopg

        parsed = urlparse(self.source_url)
        admin = parsed._replace(path="/postgres").geturl()
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(statement)

    def create(self) -> None:
        self.drop()
        if self.postgres:
            self._admin(f'CREATE DATABASE "{self.name}" TEMPLATE "{self.source_name}" STRATEGY FILE_COPY')
        else:
            import sqlite3

            with sqlite3.connect(self.source_path) as conn:
                conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            shutil.copyfile(self.source_path, self.path)

    def drop(self) -> None:
        if self.postgres:
            self._admin(f'DROP DATABASE IF EXISTS "{self.name}"')
        else:
            for suffix in ("", "-wal", "-shm"):
                Path(f"{self.path}{suffix}").unlink(missing_ok=True)


def _worker(args: list[str], url: str) -> subprocess.Popen:
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": SETTINGS, "DATABASE_URL": url}
    return subprocess.Popen(
        [PYTHON, "-m", "bench.sweep_worker", *args],
        cwd=ROOT,
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )


def pool_add(url: str, size: int, start: datetime, end: datetime, mix: str = "", seed: int = 11) -> dict:
    args = ["pool", "--size", str(size), "--from", start.isoformat(), "--to", end.isoformat(), "--seed", str(seed)]
    if mix:
        args += ["--mix", mix]
    process = _worker(args, url)
    out, _ = process.communicate()
    if process.returncode != 0:
        raise RuntimeError("adding the sweep's pool failed")
    return json.loads(out.strip().splitlines()[-1])


def sweep_run(url: str, now: datetime, processes: int) -> dict:
    """Start ``processes`` sweeps at the same clock together; wall time from the go signal."""
    workers = [_worker(["sweep", "--now", now.isoformat()], url) for _ in range(processes)]
    for worker in workers:
        if worker.stdout.readline().strip() != "ready":
            raise RuntimeError("a sweep worker did not start")
    started = time.perf_counter()
    for worker in workers:
        worker.stdin.write("go\n")
        worker.stdin.flush()
    results = []
    for worker in workers:
        out, _ = worker.communicate()
        if worker.returncode != 0:
            raise RuntimeError("a sweep worker failed")
        results.append(json.loads(out.strip().splitlines()[-1]))
    elapsed = time.perf_counter() - started
    totals: dict[str, int] = {}
    for result in results:
        for key, value in result["result"].items():
            totals[key] = totals.get(key, 0) + value
    return {
        "seconds": elapsed,
        "totals": totals,
        "per_process": [r["result"] for r in results],
        "batch_size": results[0].get("batch_size"),
    }


@dataclass
class SweepRow:
    label: str
    cases: int
    seconds: float
    detail: str

    @property
    def rate(self) -> float:
        return self.cases / self.seconds if self.seconds else 0.0


def sweep_benchmark(url: str) -> list[SweepRow]:
    scratch = ScratchDatabase(url)
    log(f"sweep: copying the database to {scratch.name if scratch.postgres else scratch.path}")
    scratch.create()
    rows = []
    try:
        t1 = datetime.now().astimezone().replace(microsecond=0)
        t2, t3 = t1 + timedelta(minutes=10), t1 + timedelta(minutes=20)
        # A first, untimed sweep at T1 moves whatever the dataset itself has due by then (it ages
        # after generation) and sends the reminders due at T1, so the timed runs move only pools.
        log("sweep: settling the dataset's own due work (untimed)")
        sweep_run(scratch.url, t1, 1)
        log(f"sweep: adding {SWEEP_CASES:,} cases overdue at T1")
        pool_add(scratch.url, SWEEP_CASES, t1 - timedelta(days=2), t1 - timedelta(seconds=1), seed=21)
        log("sweep: one process")
        one = sweep_run(scratch.url, t1, 1)
        moved = one["totals"]["escalated"] + one["totals"]["denied"] + one["totals"]["finalized"]
        rows.append(SweepRow("Deadline sweep, 1 cluster", moved, one["seconds"], _detail(one)))
        log(f"sweep: adding {SWEEP_CASES:,} cases overdue at T2")
        pool_add(scratch.url, SWEEP_CASES, t1 + timedelta(seconds=1), t2 - timedelta(seconds=1), seed=22)
        log("sweep: two processes")
        two = sweep_run(scratch.url, t2, 2)
        moved = two["totals"]["escalated"] + two["totals"]["denied"] + two["totals"]["finalized"]
        split = " / ".join(str(sum(p[k] for k in ("escalated", "denied", "finalized"))) for p in two["per_process"])
        rows.append(SweepRow("Deadline sweep, 2 clusters", moved, two["seconds"], f"{_detail(two)}; split {split}"))
        log(f"sweep: adding {MONEY_SWEEP_CASES:,} reviewer refunds whose appeal window closed")
        pool_add(scratch.url, MONEY_SWEEP_CASES, t2, t3 - timedelta(seconds=1), mix="accepted=1", seed=23)
        money = sweep_run(scratch.url, t3, 1)
        refunded = money["totals"]["refunded"]
        row = SweepRow("Sweep, refunds made final (1 cluster)", refunded, money["seconds"], "")
        batch = money["batch_size"]
        met = "met" if row.rate >= GOAL_REFUND_RATE else "**not met**"
        row.detail = (
            f"{refunded:,} reviewer refunds made final, requested, sent (built-in gateway) and recorded "
            f"in batches of {batch:,}: {row.rate:,.0f} refunds/s; goal ≥ {GOAL_REFUND_RATE:,}/s {met}"
        )
        rows.append(row)
    finally:
        scratch.drop()
    return rows


def _detail(run: dict) -> str:
    totals = run["totals"]
    return f"{totals['escalated']:,} escalated, {totals['denied']:,} denied, {totals['finalized']:,} made final"


# --- the report ----------------------------------------------------------------------------------


def ms(microseconds: float) -> str:
    return f"{microseconds / 1000:.1f}"


def render(context: dict) -> str:
    lines = [
        f"# Benchmark: {context['database']}",
        "",
        f"Run {context['when']} on {context['machine']}. wrk: {CONNECTIONS} connections, 1 thread, "
        f"{DURATION}s per row after {WARMUP}s of warm-up; gunicorn: 2 sync workers, production settings "
        "over plain HTTP (resolution_center/settings/bench.py). Latencies in milliseconds.",
        "",
        f"Dataset: {context['dataset']}",
        "",
        "| page | requests/s | p50 | p95 | p99 | × baseline | queries/request | goal | met |",
        "|---|---:|---:|---:|---:|---:|---:|---|---|",
    ]
    for row in context["rows"]:
        if row.get("skipped"):
            lines.append(f"| {row['label']} | – | – | – | – | – | – | {row['goal']} | {row['skipped']} |")
            continue
        result = row["result"]
        ratio = row.get("ratio", 1.0)
        queries = "–" if row["queries"] is None else str(row["queries"])
        bad = round(result["bad_status"] + result["connect_errors"] + result["read_errors"] + result["timeouts"])
        label = row["label"] + (f" ({bad} failed)" if bad else "")
        lines.append(
            f"| {label} | {result['rps']:.0f} | {ms(result['p50'])} | {ms(result['p95'])} | {ms(result['p99'])} "
            f"| {ratio:.2f} | {queries} | {row['goal']} | {row['met']} |"
        )
    lines += ["", "| other goal | measured | goal | met |", "|---|---|---|---|"]
    lines += [f"| {label} | {measured} | {goal} | {met} |" for label, measured, goal, met in context["others"]]
    if context["sweep"]:
        lines += ["", "| sweep | cases moved | seconds | cases/s | what |", "|---|---:|---:|---:|---|"]
        for row in context["sweep"]:
            lines.append(f"| {row.label} | {row.cases:,} | {row.seconds:.2f} | {row.rate:,.0f} | {row.detail} |")
    lines += ["", *context["notes"], ""]
    return "\n".join(lines)


def main() -> None:
    url = database_url()
    os.environ["DJANGO_SETTINGS_MODULE"] = SETTINGS
    sys.path.insert(0, str(ROOT))
    os.chdir(ROOT)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (ROOT / "var").mkdir(exist_ok=True)
    wrk_path = ensure_wrk()
    vendor = "PostgreSQL" if url.startswith("postgres") else "SQLite"
    log(f"database: {vendor} ({url.split('@')[-1]}), scale {SCALE}")

    manage("migrate", "--noinput", "-v0")
    manage("collectstatic", "--noinput", "-v0")

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from bench import prepare
    from bench.dataset import dataset_exists
    from payments.models import Payment

    generated = ""
    if not dataset_exists():
        if Payment.objects.exists():
            sys.exit(
                "This database holds data that is not the benchmark's; point DATABASE_URL at a database of its own."
            )
        log("generating the dataset")
        started = time.perf_counter()
        call_command("generate_dataset", scale=SCALE)
        generated = f" (generated in this run in {time.perf_counter() - started:.0f}s)"
    counts = {
        "payments": Payment.objects.count(),
    }
    from cases.models import Case, CaseEvent

    counts["cases"] = Case.objects.count()
    counts["events"] = CaseEvent.objects.count()
    dataset = (
        f"{counts['payments']:,} payments, {counts['cases']:,} cases, {counts['events']:,} timeline events{generated}."
    )

    log("preparing sessions, claims to file and cases to reply on")
    expected_posts = max(500, 150 * (DURATION + WARMUP))
    targets = prepare.build_targets(claims=expected_posts, replies=500, run_label=time.strftime("%Y%m%d%H%M%S"))
    # What autovacuum would have done on a live database: fresh statistics and visibility maps
    # (index-only scans) after the rows this and earlier runs added.
    from bench.dataset import analyze

    analyze()
    log("counting queries per page")
    for target in targets:
        if target.path or target.posts:
            target.queries, status = prepare.count_queries(target)
            if status >= 400:
                sys.exit(f"{target.label} answered {status} in the query-count pass; fix that first.")
    connection.close()

    port = free_port()
    server = Server(port, RESULTS / "gunicorn.log")
    log(f"starting gunicorn on 127.0.0.1:{port}")
    server.start()
    rows, notes, others = [], [], []
    post_files = []
    try:
        for target in targets:
            if target.path and not target.posts:
                wrk(wrk_path, port, target, seconds=WARMUP, connections=2)
        rss_start = server.worker_rss_mb()
        # The baseline runs right before every page: other work on a shared machine moves both
        # alike, and each page is compared with the baseline measured next to it.
        baseline_target, baseline_runs = targets[0], []
        for target in targets[1:]:
            goal = {"read": f"≥ {GOAL_READ}×", "write": f"≥ {GOAL_WRITE}×"}[target.kind]
            if target.note:
                rows.append({"label": target.label, "goal": goal, "skipped": target.note, "kind": target.kind})
                continue
            post_file = None
            if target.posts:
                from bench.prepare import RESERVED_POSTS

                with tempfile.NamedTemporaryFile("w", suffix=".tsv", delete=False) as handle:
                    for path, cookie, body in target.posts[:-RESERVED_POSTS]:
                        handle.write(f"{path}\t{cookie}\t{body}\n")
                post_file = Path(handle.name)
                post_files.append(post_file)
            log(f"load: baseline, then {target.label}")
            baseline = wrk(wrk_path, port, baseline_target, seconds=DURATION, connections=CONNECTIONS)
            baseline_runs.append(baseline)
            result = wrk(wrk_path, port, target, seconds=DURATION, connections=CONNECTIONS, post_file=post_file)
            rows.append(
                {
                    "label": target.label,
                    "result": result,
                    "queries": target.queries,
                    "goal": goal,
                    "key": target.key,
                    "kind": target.kind,
                    "baseline_rps": baseline["rps"],
                }
            )
            # A claim can be filed once per payment; messages may repeat on a case.
            if target.key == "claim" and result["requests"] > len(target.posts) - RESERVED_POSTS:
                notes.append(f"- {target.label}: more requests than prepared targets; the repeats were refused.")
        baseline_row = {
            "label": f"{baseline_target.label}, mean of {len(baseline_runs)} runs",
            "result": {
                key: sum(run[key] for run in baseline_runs) / len(baseline_runs)
                for key in ("rps", "p50", "p95", "p99", "bad_status", "connect_errors", "read_errors", "timeouts")
            },
            "queries": baseline_target.queries,
            "goal": "",
            "met": "",
            "kind": "baseline",
        }
        rows.insert(0, baseline_row)
        rps = [run["rps"] for run in baseline_runs]
        notes.append(
            f"- Baseline requests/s ranged {min(rps):.0f}–{max(rps):.0f} over the run (other work on the "
            "machine); each page's ratio is to the baseline run just before it."
        )
        rss_end = server.worker_rss_mb()
    finally:
        server.stop()
        for post_file in post_files:
            post_file.unlink(missing_ok=True)

    baseline_rps = baseline_row["result"]["rps"]
    for row in rows:
        if row.get("skipped") or row["kind"] == "baseline":
            row.setdefault("met", "")
            continue
        row["ratio"] = row["result"]["rps"] / row["baseline_rps"]
        needed = GOAL_READ if row["kind"] == "read" else GOAL_WRITE
        failed = row["result"]["bad_status"] > 0
        row["met"] = "yes" if row["ratio"] >= needed and not failed else "**no**"
    by_key = {row.get("key"): row for row in rows if "result" in row}
    if "list_all_p1" in by_key and "list_all_p1000" in by_key:
        first, deep = by_key["list_all_p1"]["result"], by_key["list_all_p1000"]["result"]
        cost = first["rps"] / deep["rps"]
        others.append(
            (
                "Page 1,000 vs page 1 (time per request, closed included)",
                f"{cost:.2f}× (p50 {ms(deep['p50'])} vs {ms(first['p50'])} ms)",
                f"≤ {GOAL_DEEP_PAGE}×",
                "yes" if cost <= GOAL_DEEP_PAGE else "**no**",
            )
        )
    growth = [end - start for start, end in zip(rss_start, rss_end, strict=False)]
    flat = all(g <= max(10.0, 0.1 * s) for g, s in zip(growth, rss_start, strict=False))
    others.append(
        (
            "Web worker memory (RSS), start → end of the load",
            ", ".join(f"{s:.0f} → {e:.0f} MB" for s, e in zip(rss_start, rss_end, strict=False)),
            "flat (growth ≤ 10 MB or 10%)",
            "yes" if flat and rss_start else "**no**",
        )
    )
    sweep_rows: list[SweepRow] = []
    if SKIP_SWEEP:
        notes.append("- The sweep was skipped (BENCH_SKIP_SWEEP=1).")
    else:
        try:
            sweep_rows = sweep_benchmark(url)
        except (ImportError, RuntimeError) as error:
            notes.append(f"- The sweep could not be timed: {error}")
    if len(sweep_rows) >= 2:
        one, two = sweep_rows[0], sweep_rows[1]
        others.append(
            (
                "Sweep rate, 1 cluster",
                f"{one.rate:,.0f} cases/s",
                f"≥ {GOAL_SWEEP_RATE:,}/s",
                "yes" if one.rate >= GOAL_SWEEP_RATE else "**no**",
            )
        )
        others.append(
            (
                "Sweep, 2 clusters vs 1",
                f"{two.rate:,.0f} vs {one.rate:,.0f} cases/s ({two.rate / one.rate:.2f}×)",
                "faster",
                "yes" if two.rate > one.rate else "**no**",
            )
        )
    if len(sweep_rows) >= 3:
        money = sweep_rows[2]
        others.append(
            (
                "Sweep, reviewer refunds made final (built-in gateway)",
                f"{money.rate:,.0f} refunds/s ({money.cases:,} refunds)",
                f"≥ {GOAL_REFUND_RATE:,}/s",
                "yes" if money.rate >= GOAL_REFUND_RATE else "**no**",
            )
        )
    context = {
        "database": vendor,
        "scale": SCALE,
        "when": time.strftime("%Y-%m-%d %H:%M"),
        "machine": f"{os.cpu_count()} cores (shared)",
        "dataset": dataset,
        "rows": rows,
        "baseline_rps": baseline_rps,
        "others": others,
        "sweep": sweep_rows,
        "notes": [
            *notes,
            "- Queries per request: one request after a warm-up one, through Django's test client with "
            "CaptureQueriesContext (PostgreSQL's per-request connection health check is not counted).",
        ],
    }
    report = render(context)
    print()
    print(report)
    (RESULTS / "latest.md").write_text(report)
    (RESULTS / f"{vendor.lower()}.md").write_text(report)
    log(f"written to {RESULTS / 'latest.md'} and {RESULTS / (vendor.lower() + '.md')}")


if __name__ == "__main__":
    main()
