"""The platform's "Reviewers" group and exactly the permissions a reviewer needs.

The group is created by the migration ``cases/0003_reviewers_group`` (which keeps its own frozen
copy of this list, as migrations must). ``reviewers_group_ensure`` restores it where the database
was emptied after migrating (the demo on a flushed database, transactional tests).
"""

from django.contrib.auth.models import Group, Permission
from django.db.models import Q

REVIEWERS_GROUP = "Reviewers"

# (app_label, codename): look at every case, its timeline, messages and evidence and the money
# rows behind it; decide. Nothing here adds, changes or deletes a row through the admin.
REVIEWER_PERMISSIONS = (
    ("cases", "view_case"),
    ("cases", "view_caseevent"),
    ("cases", "view_message"),
    ("cases", "view_attachment"),
    ("cases", "decide_case"),
    ("payments", "view_payment"),
    ("payments", "view_refund"),
    ("payments", "view_balancecredit"),
    ("payments", "view_company"),
)


def reviewer_permissions():
    query = Q()
    for app_label, codename in REVIEWER_PERMISSIONS:
        query |= Q(content_type__app_label=app_label, codename=codename)
    return Permission.objects.filter(query)


def reviewers_group_ensure() -> Group:
    """The Reviewers group with exactly the reviewer permissions (created if missing)."""
    group, _ = Group.objects.get_or_create(name=REVIEWERS_GROUP)
    group.permissions.set(reviewer_permissions())
    return group
