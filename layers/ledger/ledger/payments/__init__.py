"""Payments: the credit catalog, and Stripe: what the ledger asks of it (gateway.py), the client and its
configuration (stripe_api.py), the webhook deliveries."""
