"""Stripe.js's card payment path for localstripe's stand-in, so the console's production code runs locally.

localstripe serves a stand-in for Stripe.js at ``/js.stripe.com/v3/``: ``Stripe(key).elements().create("card")``
mounts plain inputs, but its ``confirmCardPayment`` only plays the 3-D Secure step of a PaymentIntent that a
server already confirmed (it ignores the card), and localstripe refuses a publishable key and a client
secret on ``/v1/payment_intents/:id/confirm``. Stripe.js, in a browser, confirms the PaymentIntent with the
card the customer typed, authenticated by the publishable key and the PaymentIntent's client secret.

This module gives the stand-in that path: the script served at ``/js.stripe.com/v3/`` is localstripe's, with
``confirmCardPayment(clientSecret, {payment_method: {card}})`` completed (create the card's PaymentMethod,
attach it to the PaymentIntent's customer, confirm; on ``requires_action`` localstripe's own 3-D Secure modal),
backed by one private route, ``POST /v1/payment_intents/<id>/_confirm_card`` (publishable key and client
secret, as Stripe.js authenticates); and ``initEmbeddedCheckout`` mounting the payment page of a Checkout Session
(``stripe_checkout.py``), which calls ``onComplete`` or goes to the session's ``return_url`` once paid. Declines come back as Stripe.js returns them: ``{error: {type:
"card_error", code, decline_code, message}}``.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

_CONFIRM = re.compile(r"^/v1/payment_intents/(pi_\w+)/_confirm_card$")

CONFIRM_CARD_PAYMENT = r"""
// credits-local: confirmCardPayment as Stripe.js does it in a browser (see credits_local/stripe_js.py).
(function () {
  const standIn = Stripe;
  Stripe = (apiKey, options) => {
    const stripe = standIn(apiKey, options);
    const authenticate = stripe.confirmCardPayment;  // localstripe's: the 3-D Secure modal, then _authenticate
    stripe.confirmCardPayment = async (clientSecret, data) => {
      const match = /^(pi_\w+)_secret_/.exec(clientSecret || '');
      if (!match) {
        return {error: {type: 'invalid_request_error', message: 'Invalid value for confirmCardPayment: clientSecret.'}};
      }
      const card = data && data.payment_method && data.payment_method.card;
      const value = card && card.value && card.value.card;
      if (!value || !value.number) {
        return {error: {type: 'validation_error', code: 'incomplete_number', message: 'Your card number is incomplete.'}};
      }
      let response;
      try {
        response = await fetch(`${LOCALSTRIPE_BASE_API}/v1/payment_intents/${match[1]}/_confirm_card`, {
          method: 'POST',
          body: JSON.stringify({key: apiKey, client_secret: clientSecret, card: value}),
        });
      } catch (err) {
        return {error: {type: 'api_connection_error', message: 'Could not reach Stripe: ' + err}};
      }
      const body = await response.json().catch(() => ({}));
      if (response.status !== 200 || body.error) {
        return {error: body.error || {type: 'api_error', message: `Stripe answered ${response.status}`}};
      }
      if (body.status !== 'requires_action') {
        return {paymentIntent: body};
      }
      const done = await authenticate(clientSecret, data);
      if (!done.error && done.paymentIntent && done.paymentIntent.status === 'requires_payment_method') {
        return {error: {type: 'card_error', code: 'payment_intent_authentication_failure',
          message: 'We are unable to authenticate your payment method. Please choose a different payment ' +
                   'method and try again.', payment_intent: done.paymentIntent}};
      }
      return done;
    };
    // Embedded Checkout: the session's payment page in an iframe; on payment, onComplete, else the return_url
    stripe.initEmbeddedCheckout = async (options) => {
      const secret = options.clientSecret || await options.fetchClientSecret();
      const match = /^(cs_\w+?)_secret_/.exec(secret || '');
      if (!match) throw new Error('initEmbeddedCheckout: invalid client secret');
      let frame = null;
      const origin = new URL(LOCALSTRIPE_BASE_API).origin;
      const listener = (event) => {
        const data = event.data || {};
        if (event.origin !== origin || data.localstripeCheckout !== match[1] || data.status !== 'complete') return;
        if (options.onComplete) options.onComplete();
        else if (data.return_url) window.location.assign(data.return_url);
      };
      window.addEventListener('message', listener);
      return {
        mount(target) {
          const parent = typeof target === 'string' ? document.querySelector(target) : target;
          frame = document.createElement('iframe');
          frame.src = `${LOCALSTRIPE_BASE_API}/_local/checkout/${match[1]}?client_secret=${encodeURIComponent(secret)}`;
          frame.title = 'Secure checkout';
          frame.style.cssText = 'width: 100%; height: 420px; border: 0;';
          parent.appendChild(frame);
        },
        unmount() {
          if (frame) frame.remove();
          frame = null;
        },
        destroy() {
          this.unmount();
          window.removeEventListener('message', listener);
        },
      };
    };
    return stripe;
  };
})();
"""


def script() -> str:
    """localstripe's stand-in for Stripe.js, with confirmCardPayment completed."""
    import localstripe

    return (Path(localstripe.__file__).parent / "localstripe-v3.js").read_text() + CONFIRM_CARD_PAYMENT


def _error(status: int, error: dict[str, Any]) -> Any:
    from aiohttp import web

    return web.json_response({"error": error}, status=status)


def confirm_with_card(intent_id: str, secret: Any, card: Any) -> tuple[int, dict[str, Any]]:
    """Confirm a PaymentIntent, authenticated by its client secret, with a card typed by the customer: the
    status and body Stripe answers (the PaymentIntent, or ``{"error": ...}``)."""
    from localstripe.errors import UserError
    from localstripe.resources import PaymentIntent, PaymentMethod, store

    def error(status: int, **fields: Any) -> tuple[int, dict[str, Any]]:
        return status, {"error": {"type": "invalid_request_error", **fields}}

    try:
        intent = PaymentIntent._api_retrieve(intent_id)
        if secret != intent.client_secret:
            return error(401, message="Invalid client_secret")
        if intent.status not in ("requires_payment_method", "requires_confirmation"):
            message = f"This PaymentIntent's status is {intent.status}: it cannot be confirmed."
            return error(400, code="payment_intent_unexpected_state", message=message)
        try:
            fields = {k: str(card.get(k, "")) for k in ("number", "exp_month", "exp_year", "cvc")}
            method = PaymentMethod(type="card", card=fields)
        except (UserError, AttributeError, ValueError):
            message = "Your card's details are incomplete or incorrect."
            return error(402, type="card_error", code="incorrect_number", message=message)
        if intent.customer:
            PaymentMethod._api_attach(method.id, customer=intent.customer)
        PaymentIntent._api_update(intent_id, payment_method=method.id)
        if intent.latest_charge is not None and intent.latest_charge.status == "failed":
            intent.latest_charge = None  # a new attempt after a decline, as Stripe allows
        return 200, PaymentIntent._api_confirm(intent_id)._export()
    except UserError as refused:
        body = dict(refused.body)
        if refused.code == 402:
            body["error"] = {**body["error"], "type": "card_error", "decline_code": "generic_decline"}
        return refused.code, body
    finally:
        store.dump_to_disk()


async def _confirm_card(request: Any, intent_id: str) -> Any:
    from aiohttp import web

    try:
        data = json.loads(await request.text())
    except ValueError:
        return _error(400, {"type": "invalid_request_error", "message": "the body is not JSON"})
    key = data.get("key")
    if not (isinstance(key, str) and key.startswith("pk_")):
        return _error(401, {"type": "invalid_request_error", "message": "Invalid API Key provided"})
    status, body = confirm_with_card(intent_id, data.get("client_secret"), data.get("card"))
    return web.json_response(body, status=status)


def install(app: Any) -> None:
    """Serve the completed stand-in and its route ahead of localstripe's own (before it authenticates)."""
    from aiohttp import web

    @web.middleware
    async def card_payments(request: Any, handler: Any) -> Any:
        if request.method == "GET" and request.path == "/js.stripe.com/v3/":
            return web.Response(text=script(), content_type="application/javascript")
        found = _CONFIRM.match(request.path)
        if found and request.method == "POST":
            return await _confirm_card(request, found.group(1))  # localstripe adds the CORS headers
        return await handler(request)

    app.middlewares.insert(0, card_payments)
