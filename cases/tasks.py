"""django-q2 entry points for cases. Idempotent: a task retried after a crash gives the same result."""

from django_q.tasks import async_task

from notifications.services import notifications_deliver_due

from . import sweeps

SWEEP_TASK = "cases.tasks.deadlines_sweep"


def deadlines_sweep(helper: bool = False) -> dict:
    """Scheduled every minute (``manage.py setup_schedules``): move overdue cases, send the
    "24 hours left" reminders, and queue any email still waiting (the delivery safety net).

    When it finds a backlog it queues helper sweeps, so every worker of every running cluster takes
    batches of it; helpers skip the rows others hold locked and bring in no helpers themselves.
    """

    def bring_in_helpers() -> None:
        if not helper:
            for _ in range(sweeps.conf("FAN_OUT") - 1):
                async_task(SWEEP_TASK, True, group="deadlines")

    result = sweeps.deadlines_sweep(on_backlog=bring_in_helpers).as_dict()
    if not helper:
        result["emails_queued"] = notifications_deliver_due()
    return result
