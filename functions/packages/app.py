"""GET /packages: the credit packages and custom-amount pricing (any signed-in caller, JWT)."""

from ledger.api.http import lambda_handler, resolver
from ledger.api.purchase_models import PackagesOut
from ledger.payments.catalog import catalog

app = resolver("signed_in")


@app.get("/packages")
def get_packages() -> PackagesOut:
    return PackagesOut.of(catalog())


handler = lambda_handler(app)
