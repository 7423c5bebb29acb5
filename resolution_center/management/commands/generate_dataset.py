"""Fill the database with a platform-scale dataset for the benchmark (see README, "Benchmark").

Default scale: 1,000,000 payments, 100,000 cases over every state (20,000 of them at one busy
company), about 1,000,000 timeline events, 5,000 companies, 200,000 customers. ``--scale 0.01``
makes a hundredth of that for a quick run. Every user's password is ``bench-pass-2026``.
"""

import time

from django.core.management.base import BaseCommand, CommandError

from bench.dataset import BUSY_COMPANY_NAME, Scale, dataset_exists, generate


class Command(BaseCommand):
    help = "Generate the benchmark dataset with bulk inserts (COPY on PostgreSQL)."

    def add_arguments(self, parser):
        parser.add_argument("--scale", type=float, default=1.0, help="fraction of the default size (e.g. 0.01)")
        parser.add_argument("--seed", type=int, default=7)
        parser.add_argument(
            "--if-missing", action="store_true", help="do nothing when the dataset is already loaded (used by bench)"
        )

    def handle(self, *args, scale: float, seed: int, if_missing: bool, **options):
        if scale <= 0 or scale > 10:
            raise CommandError("--scale must be above 0 and at most 10.")
        if dataset_exists():
            if if_missing:
                self.stdout.write("The benchmark dataset is already loaded; nothing changed.")
                return
            raise CommandError(
                f'A benchmark dataset is already loaded ("{BUSY_COMPANY_NAME}" exists); use a fresh database.'
            )
        size = Scale.of(scale)
        self.stdout.write(
            f"Generating {size.payments:,} payments, {size.cases:,} cases ({size.busy_cases:,} at the busy company), "
            f"{size.companies:,} companies, {size.customers:,} customers…"
        )
        started = time.perf_counter()
        counts = generate(scale=size, seed=seed, log=self.stdout.write)
        elapsed = time.perf_counter() - started
        for table, count in sorted(counts.items()):
            self.stdout.write(f"  {table:<32} {count:>10,}")
        self.stdout.write(self.style.SUCCESS(f"Dataset generated in {elapsed:.1f}s."))
