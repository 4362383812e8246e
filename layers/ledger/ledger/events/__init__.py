"""Messaging: notifications on EventBridge (their detail models, the outbox items that carry them, the
publisher) and the auto top-up queue on SQS (its message and its sending). What the table's stream announces
is worked out above the use cases, in ``ledger.notifications``."""
