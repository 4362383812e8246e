"""Payments: the credit catalog and the Stripe adapter (client, webhook verification)."""
