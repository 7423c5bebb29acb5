"""The every-minute sweep and the daily housekeeping are registered idempotently by ``manage.py setup_schedules``."""

import pytest
from django.core.management import call_command
from django_q.models import Schedule

pytestmark = pytest.mark.django_db


def test_setup_schedules_registers_the_sweep_the_safety_nets_every_minute_and_housekeeping_daily():
    """After setup there are exactly seven schedules, forever: the deadline sweep, the email safety
    net (which re-queues emails still waiting), the hourly message emails that are due, the refund
    retries (refunds refused or unanswered, past their backoff) and the webhook retries (events due
    again, or whose worker was lost) every minute, and the housekeeping (old form tokens, evidence
    files without an attachment row) and the purge of API files daily."""
    call_command("setup_schedules")

    schedules = {s.name: (s.func, s.schedule_type, s.minutes, s.repeats) for s in Schedule.objects.order_by("name")}
    assert schedules == {
        "cases-housekeeping": ("cases.tasks.housekeeping_daily", Schedule.DAILY, None, -1),
        "deadlines-sweep": ("cases.tasks.deadlines_sweep", Schedule.MINUTES, 1, -1),
        "message-digests": ("notifications.tasks.message_digests_send_due", Schedule.MINUTES, 1, -1),
        "notifications-deliver-due": ("notifications.tasks.notifications_deliver_due", Schedule.MINUTES, 1, -1),
        "refunds-send-due": ("cases.tasks.refunds_send_due", Schedule.MINUTES, 1, -1),
        "uploads-purge": ("uploads.tasks.files_purge_daily", Schedule.DAILY, None, -1),
        "webhooks-deliver-due": ("webhooks.tasks.webhook_events_deliver_due", Schedule.MINUTES, 1, -1),
    }


def test_setup_schedules_run_again_keeps_one_schedule_and_its_next_run():
    """Running it on every start neither duplicates the schedule nor moves its next run."""
    call_command("setup_schedules")
    first = Schedule.objects.get(name="deadlines-sweep")

    call_command("setup_schedules")
    call_command("setup_schedules")

    [schedule] = Schedule.objects.filter(name="deadlines-sweep")
    assert (schedule.pk, schedule.next_run) == (first.pk, first.next_run)


def test_setup_schedules_repairs_a_changed_or_duplicated_schedule():
    """A schedule edited by hand (or registered twice) is put back to one, every minute."""
    call_command("setup_schedules")
    Schedule.objects.filter(name="deadlines-sweep").update(minutes=60)
    Schedule.objects.create(name="deadlines-sweep", func="cases.tasks.deadlines_sweep", schedule_type=Schedule.HOURLY)

    call_command("setup_schedules")

    [schedule] = Schedule.objects.filter(name="deadlines-sweep")
    assert (schedule.schedule_type, schedule.minutes) == (Schedule.MINUTES, 1)
