"""Send due refunds to the payment processor now, in this process (what the task cluster's
every-minute "refunds-send-due" schedule does). For operators after an outage, and for the tests
that kill a worker mid-call."""

from django.core.management.base import BaseCommand

from cases.services import refunds_send, refunds_send_due


class Command(BaseCommand):
    help = "Send every due refund (or the given ones) to the payment processor and record the answers."

    def add_arguments(self, parser):
        parser.add_argument("refund_ids", nargs="*", type=int, help="Only these refunds (default: every due one).")

    def handle(self, *args, refund_ids, **options):
        result = refunds_send(refund_ids=refund_ids) if refund_ids else refunds_send_due()
        self.stdout.write(
            f"Refunds sent: {result.sent}; delayed (asked again later): {result.delayed}; "
            f"skipped (settled or held by another worker): {result.skipped}."
        )
