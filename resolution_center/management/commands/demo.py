"""Load the demo data: two companies, their merchants, customers, payments of every method and a
case in every state, each built through the real services so the timelines are real.

Idempotent: when the demo companies already exist, nothing changes.
"""

import struct
import zlib
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from cases import services
from cases.expiry_rules import deadline_days
from cases.reviewers import reviewers_group_ensure
from notifications.models import UserPreferences
from payments.models import Company, Membership, Payment, Product
from payments.services import company_policies_update, refund_request

DEMO_PASSWORD = "demo-pass-2026"
DEMO_LOGINS = [
    ("owner@acme.test", "merchant: owner of Acme Courses"),
    ("support@acme.test", "merchant: support at Acme Courses"),
    ("owner@pixel.test", "merchant: owner of Pixel Supply Co."),
    ("dana@both.test", "merchant in both companies (admin at Pixel, support at Acme)"),
    ("carol@customer.test", "customer with cases in every state"),
    ("dave@customer.test", "customer"),
    ("erin@customer.test", "customer"),
    ("sam@both.test", "customer of Pixel and support merchant at Acme"),
    ("reviewer@platform.test", "platform reviewer (Django admin at /admin/)"),
]


def demo_png(name: str, *, width: int = 160, height: int = 100, rgb=(214, 228, 240)) -> SimpleUploadedFile:
    """A small solid-colour PNG made here (the demo ships no binary files), as an evidence upload."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    row = b"\x00" + bytes(rgb) * width
    png = (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(row * height))
        + chunk(b"IEND", b"")
    )
    return SimpleUploadedFile(name, png, content_type="image/png")


class Command(BaseCommand):
    help = "Load the demo data (idempotent) and print the demo logins."

    def handle(self, *args, **options):
        if Company.objects.filter(name="Acme Courses").exists():
            self.stdout.write("Demo data already loaded; nothing changed.")
        else:
            with transaction.atomic():
                self._load()
            # The demo's refunds were requested with its cases; send them now (the built-in gateway
            # answers at once) so the pages show them sent, with or without a task cluster running.
            services.refunds_send_due()
            self.stdout.write(self.style.SUCCESS("Demo data loaded."))
        self.stdout.write(f"\nDemo logins (password for all: {DEMO_PASSWORD}):")
        for email, role in DEMO_LOGINS:
            self.stdout.write(f"  {email:<26} {role}")

    def _user(self, email: str, first: str, **extra):
        User = get_user_model()
        user = User.objects.create_user(username=email, email=email, password=DEMO_PASSWORD, first_name=first, **extra)
        return user

    def _load(self):
        now = timezone.now()
        users = {email: self._user(email, email.split("@")[0].title()) for email, _ in DEMO_LOGINS}
        time_zones = {"carol@customer.test": "Europe/Berlin", "owner@acme.test": "America/New_York"}
        for email, user in users.items():
            UserPreferences.objects.create(user=user, time_zone=time_zones.get(email, "UTC"))
        reviewer = users["reviewer@platform.test"]
        reviewer.is_staff = True
        reviewer.save(update_fields=["is_staff"])
        # The group and its permissions come from the migration (re-created if the database was flushed).
        reviewer.groups.add(reviewers_group_ensure())

        acme = Company.objects.create(
            name="Acme Courses",
            auto_refund_card_below_cents=1000,
            auto_refund_paypal_below_cents=500,
            auto_refund_message="Sorry it did not work out. We refunded you automatically — no questions asked.",
        )
        pixel = Company.objects.create(name="Pixel Supply Co.")
        for email, company, role in [
            ("owner@acme.test", acme, "owner"),
            ("support@acme.test", acme, "support"),
            ("owner@pixel.test", pixel, "owner"),
            ("dana@both.test", pixel, "admin"),
            ("dana@both.test", acme, "support"),
            ("sam@both.test", acme, "support"),
        ]:
            Membership.objects.create(user=users[email], company=company, role=role)
        # Acme shows its refund policy and terms on the claim form; each of its cases keeps a copy.
        company_policies_update(
            company=acme,
            actor=users["owner@acme.test"],
            refund_policy_text=(
                "You can ask for a refund within 30 days of buying a course or e-book.\n\n"
                "We refund in full when a course is missing lessons or cannot be opened. We do not refund "
                "courses you have completed, or e-books after they were downloaded, unless they are faulty."
            ),
            refund_policy_url="",
            terms_text="",
            terms_url="https://acme.example/terms",
        )
        course = Product.objects.create(company=acme, name="Django Mastery course")
        ebook = Product.objects.create(company=acme, name="Async Python e-book")
        lens = Product.objects.create(company=pixel, name="50mm camera lens")
        presets = Product.objects.create(company=pixel, name="Photo preset pack")

        def pay(customer, product, amount, method="card", days_ago=5, currency="USD"):
            return Payment.objects.create(
                company=product.company,
                customer=users[customer],
                product=product,
                amount_cents=amount,
                currency=currency,
                method=method,
                paid_at=now - timedelta(days=days_ago, hours=3),
            )

        carol, dave, erin = "carol@customer.test", "dave@customer.test", "erin@customer.test"
        owner_acme, owner_pixel = users["owner@acme.test"], users["owner@pixel.test"]
        at = lambda days: now - timedelta(days=days)  # noqa: E731

        def open_case(customer, product, amount, days_ago, method="card", reason="not_as_described", text=None):
            payment = pay(customer, product, amount, method=method, days_ago=days_ago + 1)
            return services.case_open(
                customer=users[customer],
                payment=payment,
                reason=reason,
                description=text or f"The {product.name} was not what the page promised.",
                now=at(days_ago),
            )

        # Payments with no case, for "Request a refund", of every method.
        for i, method in enumerate(["card", "paypal", "splitit", "sezzle", "klarna", "afterpay", "zip"]):
            pay(carol, [course, lens, ebook, presets][i % 4], 4900 + 1000 * i, method=method, days_ago=2 + i)
        pay(carol, presets, 2500, method="crypto", days_ago=4)
        pay(carol, lens, 12900, method="card", days_ago=150)  # too old
        refunded = pay(carol, course, 7900, method="card", days_ago=20)
        refund_request(
            payment=refunded,
            amount_cents=7900,
            currency="USD",
            idempotency_key=f"demo-manual-refund-{refunded.pk}",
            initiated_by_kind="merchant",
            initiated_by=owner_acme,
            now=at(18),
        )
        pay(dave, course, 19900, days_ago=3)
        pay(erin, lens, 34900, method="paypal", days_ago=6)
        pay("sam@both.test", presets, 1900, days_ago=2)

        # A case in every state.
        open_case(carol, course, 19900, 1, reason="not_received", text="I paid but never got access to the course.")
        c = open_case(carol, lens, 34900, 3, reason="poor_quality", text="The lens arrived scratched.")
        services.case_request_info(
            case=c, actor=owner_pixel, message="Could you send a photo of the scratch?", now=at(2)
        )
        c = open_case(carol, presets, 2900, 10, reason="forgot_to_cancel")
        services.case_escalate_overdue(case=c, now=at(2))
        c = open_case(dave, lens, 44900, 12, reason="not_as_described")
        services.case_escalate_overdue(case=c, now=at(4))
        services.case_decide(
            case=c, actor=reviewer, decision="refund", note="The listing overstated the lens.", now=at(1)
        )
        c = open_case(carol, ebook, 2900, 4, method="paypal", reason="poor_quality")
        services.case_deny(
            case=c,
            actor=owner_acme,
            reason="delivered_as_described",
            message="The e-book matches its description: all 12 chapters are in the file you downloaded. "
            "The attached screenshot shows the download from your account.",
            files=[demo_png("download-log.png")],
            now=at(2),
        )
        c = open_case(erin, course, 14900, 6, reason="not_as_described")
        services.case_deny(
            case=c,
            actor=owner_acme,
            reason="outside_policy",
            message="Our refund policy was shown at checkout: completed courses are not refunded.",
            now=at(4),
        )
        services.case_appeal(
            case=c,
            actor=users[erin],
            statement="Half the videos are missing; the screenshot shows the empty lessons.",
            files=[demo_png("empty-lessons.png", rgb=(240, 222, 214))],
            now=at(3),
        )
        c = open_case(dave, course, 9900, 8, reason="unauthorized")
        services.case_accept(case=c, actor=owner_acme, note="Refunded, sorry for the trouble.", now=at(7))
        c = open_case(erin, presets, 3900, 14, reason="not_received")
        services.case_escalate_overdue(case=c, now=at(6) + timedelta(hours=1))
        services.case_decide(
            case=c, actor=reviewer, decision="credit", note="Credited as a goodwill gesture.", now=at(5)
        )
        c = open_case(dave, presets, 4900, 5, reason="forgot_to_cancel")
        services.case_withdraw(case=c, actor=users[dave], now=at(4))
        c = open_case(dave, lens, 15900, 30, reason="not_received")
        services.case_deny(
            case=c,
            actor=owner_pixel,
            reason="delivered_as_described",
            message="Tracking shows delivery to your address.",
            now=at(29),
        )
        services.case_finalize_expired(case=c, now=at(21))
        open_case(erin, ebook, 5900, 2, method="klarna", reason="forgot_to_cancel")  # financing: auto-refunded
        open_case(dave, ebook, 800, 1, method="card", reason="poor_quality")  # under Acme's card threshold
        c = open_case(carol, course, 24900, 20, reason="not_as_described")
        services.case_escalate_overdue(case=c, now=at(12))
        services.case_decide(case=c, actor=reviewer, decision="merchant_wins", note="Access logs show use.", now=at(9))
        services.case_appeal(
            case=c, actor=users[carol], statement="I never logged in, those logs are not mine.", now=at(8)
        )
        # Partial refund offers: one waiting for Carol's answer (Acme Courses), and one Dave accepted
        # (Pixel Supply Co.): his case closed with part of the payment refunded.
        c = open_case(carol, ebook, 3900, 2, reason="poor_quality", text="Two chapters of the e-book are missing.")
        services.case_offer(
            case=c,
            actor=owner_acme,
            amount_cents=1500,
            message="The missing chapters are now in your library. Would $15.00 back make up for the wait?",
            now=at(1),
        )
        c = open_case(dave, lens, 21900, 9, reason="poor_quality", text="The lens hood does not fit.")
        services.case_offer(
            case=c,
            actor=owner_pixel,
            amount_cents=4000,
            message="We can refund $40.00 for the hood and you keep the lens.",
            now=at(8),
        )
        services.case_offer_accept(case=c, actor=users[dave], now=at(7))
        # A case whose time to answer runs out about two minutes after the demo loads, so a person
        # running `make run` can watch the task cluster escalate it.
        respond_days = deadline_days("respond_by")
        payment = pay(erin, lens, 25900, days_ago=respond_days + 1)
        services.case_open(
            customer=users[erin],
            payment=payment,
            reason="not_received",
            description="The lens never arrived. (Demo: this case escalates about two minutes after start-up.)",
            now=now - timedelta(days=respond_days) + timedelta(minutes=2),
        )
