"""django-q2 entry points for cases. Idempotent: a task retried after a crash gives the same result."""

from django_q.tasks import async_task

from . import services, sweeps

SWEEP_TASK = "cases.tasks.deadlines_sweep"


def deadlines_sweep(helper: bool = False) -> dict:
    """Scheduled every minute (``manage.py setup_schedules``): move overdue cases and send the
    "24 hours left" reminders.

    When it finds a backlog it queues helper sweeps, so every worker of every running cluster takes
    batches of it; helpers skip the rows others hold locked and bring in no helpers themselves.
    """

    def bring_in_helpers() -> None:
        if not helper:
            for _ in range(sweeps.conf("FAN_OUT") - 1):
                async_task(SWEEP_TASK, True, group="deadlines")

    return sweeps.deadlines_sweep(on_backlog=bring_in_helpers).as_dict()


def housekeeping_daily() -> dict:
    """Scheduled daily (``manage.py setup_schedules``): delete one-time form tokens older than a day
    and evidence files that no attachment row refers to (cases.services.housekeeping)."""
    return services.housekeeping_run().as_dict()


def refunds_send(refund_ids: list[int]) -> dict:
    """Queued when a transaction that requested refunds commits: ask the processor for them."""
    return services.refunds_send(refund_ids=refund_ids).as_dict()


def refunds_send_due() -> dict:
    """Scheduled every minute (``manage.py setup_schedules``): ask the processor again for every
    refund that is due (refused or unanswered before, past its backoff; or left by a dead worker)."""
    return services.refunds_send_due().as_dict()
