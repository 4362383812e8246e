"""localstripe for the local stack: on 127.0.0.1, with its store in the stack's state directory.

localstripe writes its store to /tmp/localstripe.pickle whatever flags it gets, so two stacks would share
(and overwrite) one store. Run as ``python -m credits_local.localstripe_server PORT STORE`` this module
starts localstripe with the store at STORE instead, bound to 127.0.0.1 only, starting empty (the ledger
starts empty too), and accepting the PaymentIntent parameters our purchases send that it does not model.
localstripe is GPL-licensed: a development tool here, never part of the functions.
"""

from __future__ import annotations

import argparse
import pickle
import socket
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from credits_local.children import Child, child, ignore_interrupts, report_port

API_KEY = "sk_test_local"
WEBHOOK_ID = "credits-local"


def _patch(store_path: Path) -> None:
    """The store at ``store_path``, starting empty; PaymentIntents take the parameters our purchases send
    that localstripe does not model (``setup_future_usage``, ``description``); a PaymentIntent declined at
    confirmation answers as Stripe does, a ``card_error`` naming the PaymentIntent (``error.payment_intent``),
    not localstripe's bare ``invalid_request_error``."""
    from localstripe import resources
    from localstripe.errors import UserError

    def dump_to_disk(store: resources.Store) -> None:
        with store_path.open("wb") as file:
            pickle.dump(dict(store), file, protocol=pickle.HIGHEST_PROTOCOL)

    resources.Store.dump_to_disk = dump_to_disk
    resources.Store.try_load_from_disk = lambda store: None
    store_path.unlink(missing_ok=True)
    create = resources.PaymentIntent.__init__

    def payment_intent(
        self: Any, *args: Any, setup_future_usage: Any = None, description: Any = None, **kwargs: Any
    ) -> None:
        create(self, *args, **kwargs)
        self.setup_future_usage, self.description = setup_future_usage, description

    resources.PaymentIntent.__init__ = payment_intent
    report_failure = resources.PaymentIntent._report_failure

    def declined(self: Any) -> None:
        try:
            report_failure(self)
        except UserError as error:
            error.body["error"].update(
                type="card_error",
                payment_intent={
                    "id": self.id,
                    "object": "payment_intent",
                    "amount": self.amount,
                    "currency": self.currency,
                    "status": "requires_payment_method",
                    "metadata": self.metadata,
                },
            )
            raise

    resources.PaymentIntent._report_failure = declined


def serve(port: int, store_path: Path) -> None:
    from aiohttp import web
    from localstripe.server import app

    from credits_local import stripe_checkout, stripe_js

    ignore_interrupts()
    _patch(store_path)
    stripe_js.install(app)  # Stripe.js's confirmCardPayment with a card, for the console
    stripe_checkout.install(app)  # Checkout Sessions and Customer Portal sessions, which localstripe lacks
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port))
    report_port(sock.getsockname()[1])
    web.run_app(app, sock=sock, access_log=None, print=None, shutdown_timeout=1)


@contextmanager
def localstripe_process(store_path: Path, port: int = 0) -> Iterator[Child]:
    with child("localstripe", "credits_local.localstripe_server", [str(port), str(store_path)]) as process:
        yield process


def register_webhook(stripe_url: str, webhook_url: str, secret: str) -> None:
    """Have localstripe post every event, signed with ``secret``, to ``webhook_url``."""
    data = urllib.parse.urlencode({"url": webhook_url, "secret": secret}).encode()
    request = urllib.request.Request(
        f"{stripe_url}/_config/webhooks/{WEBHOOK_ID}",
        data=data,
        headers={"Authorization": f"Bearer {API_KEY}"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10):
        pass


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("port", type=int)
    parser.add_argument("store", type=Path)
    args = parser.parse_args()
    serve(args.port, args.store)


if __name__ == "__main__":
    main()
