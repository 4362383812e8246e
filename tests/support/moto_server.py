"""The single-threaded moto server of the local stack, for tests that need atomic DynamoDB calls."""

from credits_local.moto_engine import moto_server

__all__ = ["moto_server"]
