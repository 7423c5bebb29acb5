"""``manage.py api_key_create --company <id> --scope write`` prints a new key, for scripts.

The key acts as one of the company's owners or admins (``--user`` picks which; by default the
first one found), as a key made on the Developers page acts as the member who made it."""

from django.core.management.base import BaseCommand, CommandError

from api.credentials import api_key_create
from api.models import Scope
from payments.models import Company, Membership
from resolution_center.exceptions import ApplicationError


class Command(BaseCommand):
    help = "Make an API key for a company and print it (it is shown once)."

    def add_arguments(self, parser):
        parser.add_argument("--company", type=int, required=True, help="The company's id.")
        parser.add_argument("--scope", choices=Scope.values, default=Scope.READ)
        parser.add_argument("--name", default="Made with manage.py")
        parser.add_argument("--user", help="Username of the owner or admin the key acts as.")

    def handle(self, *args, company, scope, name, user, **options):
        found = Company.objects.filter(pk=company).first()
        if found is None:
            raise CommandError(f"There is no company {company}.")
        managers = Membership.objects.filter(company=found, role__in=Membership.MANAGING_ROLES).select_related("user")
        if user:
            managers = managers.filter(user__username=user)
        membership = managers.order_by("role", "pk").first()
        if membership is None:
            raise CommandError(f"{found.name} has no owner or admin{f' named {user}' if user else ''} to act as.")
        try:
            _, secret = api_key_create(company=found, actor=membership.user, name=name, scope=scope)
        except ApplicationError as refused:
            raise CommandError(refused.message) from None
        self.stdout.write(secret)
