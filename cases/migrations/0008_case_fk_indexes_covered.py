"""Drop the single-column indexes on cases_case.company_id and customer_id.

Every lookup by company is served by case_company_status_deadline / case_company_deadline /
case_company_opened (all lead with company_id), every lookup by customer by case_customer_opened; the
two extra indexes only cost every write, above all the deadline sweep's UPDATE of thousands of rows
(status and next_deadline_at change, so no update is HOT and each index gets a new entry).

Only the indexes are dropped: Django's AlterField would also drop and re-add the foreign keys, which
re-checks every row of the table under lock.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0007_reviewer_queue_company_index"),
        ("payments", "0001_initial"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="case",
                    name="company",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="cases",
                        to="payments.company",
                    ),
                ),
                migrations.AlterField(
                    model_name="case",
                    name="customer",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="cases",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            database_operations=[
                migrations.RunSQL(
                    'DROP INDEX IF EXISTS "cases_case_company_id_0d4c7ae8"',
                    'CREATE INDEX "cases_case_company_id_0d4c7ae8" ON "cases_case" ("company_id")',
                ),
                migrations.RunSQL(
                    'DROP INDEX IF EXISTS "cases_case_customer_id_3e0cf925"',
                    'CREATE INDEX "cases_case_customer_id_3e0cf925" ON "cases_case" ("customer_id")',
                ),
            ],
        ),
    ]
