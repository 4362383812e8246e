"""POST /webhooks/stripe (no authorizer: Stripe signs each delivery; the signature is checked first)."""

from ledger.api.http import lambda_handler, resolver
from ledger.api.purchase_models import WebhookOut
from ledger.usecases.stripe_webhook import handle, verify

# Stripe's events are larger than our API's bodies (an object with its metadata and nested objects); one
# refused for size would never be credited, however often Stripe retried it
MAX_EVENT_BYTES = 512 * 1024

app = resolver("public", max_body=MAX_EVENT_BYTES)


@app.post("/webhooks/stripe")
def post_event() -> WebhookOut:
    event = verify(app.current_event.decoded_body or "", app.current_event.headers.get("stripe-signature"))
    return WebhookOut(result=handle(event).result)


handler = lambda_handler(app)
