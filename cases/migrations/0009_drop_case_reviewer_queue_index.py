"""Drop case_reviewer_queue (status, escalated_at WHERE status in escalated/appealed).

case_reviewer_queue_order (escalated_at, id, same condition) serves the admin queue of one state as
well (EXPLAIN on the benchmark data: 50 appeals in 0.3 ms vs 0.6 ms with this index, which also needed
an incremental sort), and every escalation by the deadline sweep paid for an entry in both.
"""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0008_case_fk_indexes_covered"),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name="case",
            name="case_reviewer_queue",
        ),
    ]
