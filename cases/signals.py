"""What the cases app tells the layers above it, inside the transaction that made the change.

``cases`` never imports ``notifications`` (the layers go one way, see pyproject.toml's import-linter
contract); notifications connects its recorders to these signals in its AppConfig.ready, and they run
synchronously in the sender's transaction, so a notification commits or rolls back with its event.
The rules of who hears what live in notifications.routing, not here.
"""

from django.dispatch import Signal

# Sent with ``events``: the CaseEvent rows just appended (saved, with primary keys), and
# ``told_by_change``: True for the "message" row of a message posted with a state change (a request
# for information, a reply to it, ...), whose news the state change's own row carries.
case_events_appended = Signal()

# Sent by the deadline sweep with ``event`` (an unsaved CaseEvent shaped like the rows appended by
# SQL), ``case_ids`` (every case that got that row) and ``outcome`` (the cases' outcome, or "").
case_events_appended_in_bulk = Signal()
