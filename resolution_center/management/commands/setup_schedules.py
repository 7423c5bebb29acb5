"""Register the task cluster's schedules. Idempotent: run it on every start (``make run`` does) or
deploy; it creates what is missing, corrects what changed, and never duplicates a schedule."""

from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone
from django_q.models import Schedule

SCHEDULES = [
    {
        "name": "deadlines-sweep",
        "func": "cases.tasks.deadlines_sweep",
        "schedule_type": Schedule.MINUTES,
        "minutes": 1,
        "repeats": -1,
    },
    {
        "name": "notifications-deliver-due",
        "func": "notifications.tasks.notifications_deliver_due",
        "schedule_type": Schedule.MINUTES,
        "minutes": 1,
        "repeats": -1,
    },
    {
        # The hourly message emails (one per case and recipient, listing what arrived) that are due.
        "name": "message-digests",
        "func": "notifications.tasks.message_digests_send_due",
        "schedule_type": Schedule.MINUTES,
        "minutes": 1,
        "repeats": -1,
    },
    {
        # Refunds the processor refused or did not answer, past their backoff; a dead worker's.
        "name": "refunds-send-due",
        "func": "cases.tasks.refunds_send_due",
        "schedule_type": Schedule.MINUTES,
        "minutes": 1,
        "repeats": -1,
    },
    {
        # Webhook events whose retry is due, or whose task or worker was lost (webhooks.delivery).
        "name": "webhooks-deliver-due",
        "func": "webhooks.tasks.webhook_events_deliver_due",
        "schedule_type": Schedule.MINUTES,
        "minutes": 1,
        "repeats": -1,
    },
    {
        # Old one-time form tokens and evidence files without an attachment row.
        "name": "cases-housekeeping",
        "func": "cases.tasks.housekeeping_daily",
        "schedule_type": Schedule.DAILY,
        "repeats": -1,
    },
    {
        # API files never uploaded, refused, or past their retention.
        "name": "uploads-purge",
        "func": "uploads.tasks.files_purge_daily",
        "schedule_type": Schedule.DAILY,
        "repeats": -1,
    },
]


class Command(BaseCommand):
    help = (
        "Create or update the task cluster's schedules (the deadline sweep, the email safety net, the hourly "
        "message emails, the refund retries and the webhook retries, every minute; housekeeping and the API "
        "files' purge, daily)."
    )

    @transaction.atomic
    def handle(self, *args, **options):
        for spec in SCHEDULES:
            existing = list(Schedule.objects.select_for_update().filter(name=spec["name"]).order_by("pk"))
            if not existing:
                Schedule.objects.create(**spec, next_run=timezone.now())
                self.stdout.write(f"Schedule {spec['name']}: created.")
                continue
            schedule, duplicates = existing[0], existing[1:]
            for duplicate in duplicates:
                duplicate.delete()
            changed = [field for field, value in spec.items() if getattr(schedule, field) != value]
            for field in changed:
                setattr(schedule, field, spec[field])
            if changed:
                schedule.save(update_fields=changed)
            status = "updated" if changed or duplicates else "already up to date"
            self.stdout.write(f"Schedule {spec['name']}: {status}.")
