"""The deployment's settings: the environment variables the ledger reads, read here and nowhere else.

Each setting is a small function that reads the environment when called, so a setting changed while the
process runs (a test's ``monkeypatch.setenv``, the local stack giving each function instance its own
environment) is seen by the next call. A default is the template's parameter default (template.yaml), so
code run outside Lambda behaves as a deployment with the defaults; the names without a default are the
deployment's own resources, and reading one that is not set fails loudly (KeyError).
"""

from __future__ import annotations

import os

# template.yaml's parameter defaults
DEFAULT_LOW_BALANCE_THRESHOLD = 100  # DefaultLowBalanceThreshold
ACCOUNT_CLAIM = "custom:account_id"  # AccountClaim
ROLE_CLAIM = "custom:role"  # RoleClaim
CURRENCY = "usd"  # Currency
CREDIT_CATALOG = ""  # CreditCatalog: empty for the built-in catalog
EXPIRY_SWEEP_SCHEDULE = "rate(1 hour)"  # ExpirySweepSchedule
EXPIRY_REMINDER_DAYS = "30,7,1"  # ExpiryReminderDays
AUTO_TOP_UP_COOLDOWN_MINUTES = 10  # AutoTopUpCooldownMinutes
PURCHASE_CREDIT_EXPIRY_DAYS = 365  # PurchaseCreditExpiryDays
LOG_LEVEL = "INFO"  # LogLevel
# template.yaml's Globals
SERVICE_NAME = "prepaid-credits"
METRICS_NAMESPACE = "PrepaidCredits"

# tuning the template does not set
LEDGER_WRITERS = 8
LEDGER_RESULT_WAIT_SECONDS = 2.0
CHANGED_MARKS_REMEMBERED = 10_000


def _text(name: str, default: str) -> str:
    """The variable's value; the default when it is unset or empty (an empty parameter means the default)."""
    return os.environ.get(name) or default


# --- the deployment's resources (no default) ----------------------------------------------------------


def table_name() -> str:
    return os.environ["TABLE_NAME"]


def event_bus_name() -> str:
    return os.environ["EVENT_BUS_NAME"]


def auto_top_up_queue_url() -> str:
    return os.environ["AUTO_TOP_UP_QUEUE_URL"]


def dynamodb_endpoint_url() -> str | None:
    """Where DynamoDB is, when not AWS's own endpoint (a local stack)."""
    return os.environ.get("DYNAMODB_ENDPOINT_URL") or None


# --- the template's parameters --------------------------------------------------------------------------


def default_low_balance_threshold() -> int:
    """Credits under which an account is reported low, unless it sets its own (DEFAULT_LOW_BALANCE_THRESHOLD)."""
    return int(_text("DEFAULT_LOW_BALANCE_THRESHOLD", str(DEFAULT_LOW_BALANCE_THRESHOLD)))


def account_claim() -> str:
    """The JWT claim holding the caller's account (ACCOUNT_CLAIM)."""
    return os.environ.get("ACCOUNT_CLAIM", ACCOUNT_CLAIM)


def role_claim() -> str:
    """The JWT claim holding the caller's role within the account (ROLE_CLAIM)."""
    return os.environ.get("ROLE_CLAIM", ROLE_CLAIM)


def currency() -> str:
    """Lower-case ISO currency of every price (CURRENCY)."""
    return _text("CURRENCY", CURRENCY).lower()


def credit_catalog() -> str:
    """The catalog as JSON; empty for the built-in one (CREDIT_CATALOG)."""
    return os.environ.get("CREDIT_CATALOG", CREDIT_CATALOG)


def expiry_sweep_schedule() -> str:
    """How often the expiry sweep runs, an EventBridge rate or cron expression (EXPIRY_SWEEP_SCHEDULE)."""
    return _text("EXPIRY_SWEEP_SCHEDULE", EXPIRY_SWEEP_SCHEDULE)


def expiry_reminder_days() -> str:
    """Days before a grant expires that a reminder is sent, comma-separated (EXPIRY_REMINDER_DAYS)."""
    return _text("EXPIRY_REMINDER_DAYS", EXPIRY_REMINDER_DAYS)


def purchase_credit_expiry_days() -> int:
    """Days purchased credits last from when they are credited (moments after the payment, unless Stripe's
    confirmation comes late); 0: never."""
    return int(_text("PURCHASE_CREDIT_EXPIRY_DAYS", str(PURCHASE_CREDIT_EXPIRY_DAYS)))


def stripe_secret_name() -> str | None:
    """The Secrets Manager secret holding the Stripe keys (StripeSecret)."""
    return os.environ.get("STRIPE_SECRET_NAME") or None


def stripe_key(name: str) -> str | None:
    """STRIPE_API_KEY or STRIPE_WEBHOOK_SECRET given directly (local runs, tests): they take precedence over
    the secret."""
    return os.environ.get(name) or None


def stripe_api_base() -> str:
    """Another Stripe API host (localstripe); empty for Stripe's own."""
    return os.environ.get("STRIPE_API_BASE", "")


def auto_top_up_cooldown_minutes() -> int:
    """Minutes after a failed auto top-up charge before it is tried again (AUTO_TOP_UP_COOLDOWN_MINUTES)."""
    return int(_text("AUTO_TOP_UP_COOLDOWN_MINUTES", str(AUTO_TOP_UP_COOLDOWN_MINUTES)))


# --- what every function reports under ---------------------------------------------------------------


def service_name() -> str:
    """The service the functions' logs and metrics are under (POWERTOOLS_SERVICE_NAME)."""
    return _text("POWERTOOLS_SERVICE_NAME", SERVICE_NAME)


def metrics_namespace() -> str:
    """The CloudWatch namespace of the functions' metrics (POWERTOOLS_METRICS_NAMESPACE)."""
    return _text("POWERTOOLS_METRICS_NAMESPACE", METRICS_NAMESPACE)


def log_level() -> str:
    """The functions' log level, upper case (POWERTOOLS_LOG_LEVEL)."""
    return _text("POWERTOOLS_LOG_LEVEL", LOG_LEVEL).upper()


def trace_header() -> str:
    """The X-Ray trace header Lambda sets for the invocation in progress; empty when untraced
    (_X_AMZN_TRACE_ID)."""
    return os.environ.get("_X_AMZN_TRACE_ID", "")


# --- tuning -------------------------------------------------------------------------------------------


def ledger_writers() -> int:
    """BatchWriteItem requests a large write sends side by side (LEDGER_WRITERS)."""
    return int(os.environ.get("LEDGER_WRITERS", str(LEDGER_WRITERS)))


def result_wait_seconds() -> float:
    """How long a write waits for the journal to number its entries (LEDGER_RESULT_WAIT_SECONDS)."""
    return float(os.environ.get("LEDGER_RESULT_WAIT_SECONDS", str(LEDGER_RESULT_WAIT_SECONDS)))


def changed_marks_remembered() -> int:
    """Changed-account markers a warm journal remembers before it forgets them all; 0: none, every write
    marks (CHANGED_MARKS_REMEMBERED)."""
    return int(os.environ.get("CHANGED_MARKS_REMEMBERED", str(CHANGED_MARKS_REMEMBERED)))
