"""The "Reviewers" group with exactly the permissions a platform reviewer needs.

Permissions are normally created by the post_migrate signal, i.e. only after every migration has
run; they are created here first so that the group can be given them on a fresh database.
"""

from django.apps import apps as global_apps
from django.contrib.auth.management import create_permissions
from django.db import migrations
from django.db.models import Q

GROUP_NAME = "Reviewers"
# A frozen copy of cases.reviewers.REVIEWER_PERMISSIONS at the time of this migration.
PERMISSIONS = (
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


def reviewers_group_create(apps, schema_editor):
    db_alias = schema_editor.connection.alias if schema_editor is not None else "default"
    for app_label in {app_label for app_label, _ in PERMISSIONS}:
        create_permissions(global_apps.get_app_config(app_label), verbosity=0, apps=apps, using=db_alias)
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    query = Q()
    for app_label, codename in PERMISSIONS:
        query |= Q(content_type__app_label=app_label, codename=codename)
    permissions = list(Permission.objects.using(db_alias).filter(query))
    if len(permissions) != len(PERMISSIONS):
        found = {(p.content_type.app_label, p.codename) for p in permissions}
        raise RuntimeError(f"Reviewer permissions missing: {sorted(set(PERMISSIONS) - found)}")
    group, _ = Group.objects.using(db_alias).get_or_create(name=GROUP_NAME)
    group.permissions.set(permissions)


def reviewers_group_delete(apps, schema_editor):
    apps.get_model("auth", "Group").objects.using(schema_editor.connection.alias).filter(name=GROUP_NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("cases", "0002_initial"),
        ("payments", "0001_initial"),
    ]

    operations = [migrations.RunPython(reviewers_group_create, reviewers_group_delete)]
