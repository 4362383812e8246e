"""Notifications: their detail models, the outbox items that carry them, their derivation from the account's
stream images, and the EventBridge publisher."""
