"""POST /webhooks/stripe (no authorizer: Stripe signs each delivery; the signature is checked first)."""

from ledger.api.http import lambda_handler, resolver
from ledger.api.purchase_models import WebhookOut
from ledger.usecases.stripe_webhook import handle, verify

app = resolver("public")


@app.post("/webhooks/stripe")
def post_event() -> WebhookOut:
    event = verify(app.current_event.decoded_body or "", app.current_event.headers.get("stripe-signature"))
    return WebhookOut(result=handle(event).result)


handler = lambda_handler(app)
