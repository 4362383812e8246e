"""Notifications on EventBridge: their detail models, the outbox items that carry them, and the publisher.
What the table's stream announces is worked out above the use cases, in ``ledger.notifications``."""
