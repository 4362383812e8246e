"""Checkout Sessions and Customer Portal sessions for localstripe, which has neither (both answer 404 there).

Run inside localstripe's process (``localstripe_server.py`` installs them), in front of its own routes:

- ``POST /v1/checkout/sessions`` creates a Checkout Session (``mode: payment``, ``ui_mode`` embedded or hosted,
  ``line_items`` with ``price_data``, ``payment_intent_data``) backed by a localstripe PaymentIntent of the same
  amount, customer and metadata; ``GET /v1/checkout/sessions/<id>`` reads it. When that PaymentIntent succeeds
  (``credits-local pay``, or a card typed on the session's page) the session turns ``complete`` / ``paid`` and
  localstripe posts a signed ``checkout.session.completed``, after its own ``payment_intent.succeeded``, as
  Stripe does.
- ``GET /_local/checkout/<id>?client_secret=...`` is the session's payment page (what Stripe's embedded
  Checkout shows in its iframe, and its hosted page): a card form that pays the PaymentIntent, then tells the
  parent page (``postMessage``) or goes to the session's ``return_url``.
- ``POST /v1/billing_portal/sessions`` (``customer``, ``return_url``) answers a session whose ``url`` is
  ``/_local/billing_portal/<id>``: a page listing the customer's saved cards, with a link back.

Sessions live in localstripe's store, as its own objects do.
"""

from __future__ import annotations

import html
import json
import re
from typing import Any

from localstripe import resources
from localstripe.errors import UserError
from localstripe.resources import (
    Customer,
    Event,
    PaymentIntent,
    PaymentMethod,
    StripeObject,
    random_id,
    store,
)

from credits_local.stripe_js import confirm_with_card

_CHECKOUT_PAGE = re.compile(r"^/_local/checkout/(cs_\w+)$")
_CHECKOUT_PAY = re.compile(r"^/_local/checkout/(cs_\w+)/pay$")
_PORTAL_PAGE = re.compile(r"^/_local/billing_portal/(bps_\w+)$")


def _int(value: Any, name: str) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise UserError(400, f"Invalid integer: {name}") from None


class CheckoutSession(StripeObject):
    object = "checkout.session"
    _id_prefix = "cs_test_"

    def __init__(
        self,
        mode: str | None = None,
        ui_mode: str | None = None,
        customer: str | None = None,
        return_url: str | None = None,
        success_url: str | None = None,
        cancel_url: str | None = None,
        client_reference_id: str | None = None,
        metadata: dict[str, Any] | None = None,
        line_items: Any = None,
        payment_intent_data: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        if kwargs:
            raise UserError(400, "Unexpected " + ", ".join(kwargs))
        if mode != "payment":
            raise UserError(400, "credits-local's Checkout supports mode=payment only")
        ui_mode = ui_mode or "hosted"
        if ui_mode == "embedded" and not return_url:
            raise UserError(400, "return_url is required when ui_mode is embedded")
        items = list(line_items.values()) if isinstance(line_items, dict) else list(line_items or [])
        if not items:
            raise UserError(400, "line_items is required")
        amount, currency = 0, None
        for item in items:
            price = item.get("price_data") or {}
            amount += _int(price.get("unit_amount"), "unit_amount") * _int(
                item.get("quantity", 1), "quantity"
            )
            currency = currency or price.get("currency")
        if customer:
            Customer._api_retrieve(customer)  # 404 if unknown
        extra = dict(payment_intent_data or {})
        intent = PaymentIntent(
            amount=amount,
            currency=currency,
            customer=customer,
            metadata=extra.get("metadata") or metadata or {},
            setup_future_usage=extra.get("setup_future_usage"),
            description=extra.get("description"),
        )
        super().__init__()
        self.mode, self.ui_mode, self.customer = mode, ui_mode, customer
        self.return_url, self.success_url, self.cancel_url = return_url, success_url, cancel_url
        self.client_reference_id = client_reference_id
        self.metadata = metadata or {}
        self.amount_total, self.amount_subtotal, self.currency = amount, amount, currency
        self.payment_intent = intent.id
        self.client_secret = f"{self.id}_secret_{random_id(24)}"
        self.status, self.payment_status = "open", "unpaid"
        self.url: str | None = None  # the hosted page's, set once the request's base URL is known

    def _completed_url(self) -> str | None:
        target = self.return_url or self.success_url
        return target.replace("{CHECKOUT_SESSION_ID}", self.id) if target else None


class BillingPortalSession(StripeObject):
    object = "billing_portal.session"
    _id_prefix = "bps_"

    def __init__(self, customer: str | None = None, return_url: str | None = None, **kwargs: Any) -> None:
        if kwargs:
            raise UserError(400, "Unexpected " + ", ".join(kwargs))
        if not customer:
            raise UserError(400, "Missing required param: customer.")
        Customer._api_retrieve(customer)
        super().__init__()
        self.customer, self.return_url = customer, return_url
        self.url: str | None = None


def _session_of(intent_id: str) -> CheckoutSession | None:
    for value in list(store.values()):
        if isinstance(value, CheckoutSession) and value.payment_intent == intent_id:
            return value
    return None


def _complete_sessions() -> None:
    """When a session's PaymentIntent succeeds, the session completes and Stripe announces it."""
    schedule = resources.schedule_webhook

    def schedule_webhook(event: Any) -> None:
        schedule(event)
        if event.type == "payment_intent.succeeded":
            session = _session_of(event.data["object"]["id"])
            if session is not None and session.status == "open":
                session.status, session.payment_status = "complete", "paid"
                schedule(Event("checkout.session.completed", session))

    resources.schedule_webhook = schedule_webhook


def _base(request: Any) -> str:
    return f"{request.scheme}://{request.host}"


def _page(title: str, body: str) -> Any:
    from aiohttp import web

    text = f"""<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>body{{font-family:system-ui,sans-serif;margin:0;padding:20px;color:#1f2328}}h1{{font-size:18px}}
label{{display:block;margin:10px 0 4px}}input{{font:inherit;padding:6px;border:1px solid #6e7781;border-radius:4px}}
button{{font:inherit;margin-top:14px;padding:8px 16px;background:#1f5fbf;color:#fff;border:0;border-radius:6px}}
.error{{color:#b42318}}table{{border-collapse:collapse}}td,th{{padding:6px 10px;border-bottom:1px solid #d0d7de;text-align:left}}
.note{{color:#57606a;font-size:14px}}</style></head><body><main>{body}</main></body></html>"""
    return web.Response(text=text, content_type="text/html")


def _checkout_page(request: Any, session_id: str) -> Any:
    session = CheckoutSession._api_retrieve(session_id)
    if request.query.get("client_secret") != session.client_secret:
        raise UserError(401, "Invalid client_secret")
    amount = f"{session.amount_total / 100:,.2f} {str(session.currency).upper()}"
    if session.status != "open":
        return _page("Checkout", f"<h1>Checkout</h1><p>This session is {html.escape(session.status)}.</p>")
    secret = json.dumps(session.client_secret)
    body = f"""<h1>Pay {html.escape(amount)}</h1>
<p class="note">credits-local's Checkout (test mode): card 4242424242424242 pays, 4000000000000341 is declined.</p>
<form id="pay" novalidate>
  <label for="number">Card number</label><input id="number" autocomplete="cc-number" inputmode="numeric" size="19">
  <label for="exp">Expiry (MM/YY)</label><input id="exp" autocomplete="cc-exp" size="5" placeholder="12/34">
  <label for="cvc">CVC</label><input id="cvc" autocomplete="cc-csc" size="4">
  <div><button type="submit">Pay {html.escape(amount)}</button></div>
  <p id="message" role="alert" class="error"></p>
</form>
<script>
document.getElementById('pay').addEventListener('submit', async (event) => {{
  event.preventDefault();
  const [month, year] = document.getElementById('exp').value.split('/');
  const card = {{number: document.getElementById('number').value.replace(/\\s/g, ''), exp_month: month || '',
                exp_year: year ? '20' + year.trim().slice(-2) : '', cvc: document.getElementById('cvc').value}};
  const response = await fetch(location.pathname + '/pay', {{method: 'POST',
    body: JSON.stringify({{client_secret: {secret}, card}})}});
  const answer = await response.json();
  if (!response.ok) {{
    document.getElementById('message').textContent = (answer.error && answer.error.message) || 'Payment failed.';
    return;
  }}
  if (window.parent !== window) {{
    window.parent.postMessage({{localstripeCheckout: {json.dumps(session.id)}, status: answer.status,
                               return_url: answer.return_url}}, '*');
  }} else if (answer.return_url) {{
    location.assign(answer.return_url);
  }}
}});
</script>"""
    return _page("Checkout", body)


async def _checkout_pay(request: Any, session_id: str) -> Any:
    from aiohttp import web

    session = CheckoutSession._api_retrieve(session_id)
    try:
        data = json.loads(await request.text())
    except ValueError:
        raise UserError(400, "the body is not JSON") from None
    if data.get("client_secret") != session.client_secret:
        raise UserError(401, "Invalid client_secret")
    intent = PaymentIntent._api_retrieve(session.payment_intent)
    status, body = confirm_with_card(intent.id, intent.client_secret, data.get("card"))
    if status != 200:
        return web.json_response(body, status=status)
    if body.get("status") != "succeeded":
        message = "This card needs authentication, which credits-local's Checkout page does not offer."
        return web.json_response({"error": {"type": "card_error", "message": message}}, status=402)
    return web.json_response({"status": "complete", "return_url": session._completed_url()})


def _portal_page(session_id: str) -> Any:
    session = BillingPortalSession._api_retrieve(session_id)
    cards = [
        value
        for value in list(store.values())
        if isinstance(value, PaymentMethod) and value.customer == session.customer and value.type == "card"
    ]
    rows = "".join(
        f"<tr><td>{html.escape(str(card.card['brand']).title())}</td><td>•••• {html.escape(str(card.card['last4']))}</td>"
        f"<td>{int(card.card['exp_month']):02d}/{card.card['exp_year']}</td></tr>"
        for card in cards
    )
    table = (
        f'<table><caption class="note">Saved cards</caption><thead><tr><th scope="col">Brand</th>'
        f'<th scope="col">Number</th><th scope="col">Expires</th></tr></thead><tbody>{rows}</tbody></table>'
        if rows
        else '<p id="no-cards">No saved card.</p>'
    )
    back = (
        f'<p><a href="{html.escape(session.return_url)}">Return to the console</a></p>'
        if session.return_url
        else ""
    )
    body = (
        f"<h1>Payment methods</h1><p class=\"note\">credits-local's stand-in for Stripe's customer portal "
        f"(customer {html.escape(session.customer)}).</p>{table}{back}"
    )
    return _page("Payment methods", body)


def install(app: Any) -> None:
    """The API routes behind localstripe's authentication; the pages ahead of it (the browser has no key)."""
    from aiohttp import web
    from localstripe.server import get_post_data, json_response

    _complete_sessions()

    async def create_session(request: Any) -> Any:
        data = await get_post_data(request) or {}
        session = CheckoutSession(**data)
        if session.ui_mode == "hosted":
            session.url = (
                f"{_base(request)}/_local/checkout/{session.id}?client_secret={session.client_secret}"
            )
        return json_response(session._export())

    def retrieve_session(request: Any) -> Any:
        return json_response(CheckoutSession._api_retrieve(request.match_info["id"])._export())

    async def create_portal(request: Any) -> Any:
        data = await get_post_data(request) or {}
        session = BillingPortalSession(**data)
        session.url = f"{_base(request)}/_local/billing_portal/{session.id}"
        return json_response(session._export())

    app.router.add_post("/v1/checkout/sessions", create_session)
    app.router.add_get("/v1/checkout/sessions/{id}", retrieve_session)
    app.router.add_post("/v1/billing_portal/sessions", create_portal)

    @web.middleware
    async def pages(request: Any, handler: Any) -> Any:
        try:
            if request.method == "GET" and (found := _CHECKOUT_PAGE.match(request.path)):
                return _checkout_page(request, found.group(1))
            if request.method == "POST" and (found := _CHECKOUT_PAY.match(request.path)):
                return await _checkout_pay(request, found.group(1))
            if request.method == "GET" and (found := _PORTAL_PAGE.match(request.path)):
                return _portal_page(found.group(1))
        except UserError as refused:
            return refused.to_response()
        return await handler(request)

    app.middlewares.insert(0, pages)
