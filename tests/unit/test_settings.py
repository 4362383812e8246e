"""The ledger's settings default to template.yaml's parameter defaults, and a changed variable is seen at once."""

from __future__ import annotations

import pytest

from credits_local.template import template
from ledger import settings

# setting -> the template parameter whose default it takes, and the setting's value with nothing set
DEFAULTS = {
    "default_low_balance_threshold": ("DefaultLowBalanceThreshold", settings.default_low_balance_threshold),
    "account_claim": ("AccountClaim", settings.account_claim),
    "role_claim": ("RoleClaim", settings.role_claim),
    "currency": ("Currency", settings.currency),
    "credit_catalog": ("CreditCatalog", settings.credit_catalog),
    "expiry_sweep_schedule": ("ExpirySweepSchedule", settings.expiry_sweep_schedule),
    "expiry_reminder_days": ("ExpiryReminderDays", settings.expiry_reminder_days),
    "auto_top_up_cooldown_minutes": ("AutoTopUpCooldownMinutes", settings.auto_top_up_cooldown_minutes),
    "log_level": ("LogLevel", settings.log_level),
    "purchase_credit_expiry_days": ("PurchaseCreditExpiryDays", settings.purchase_credit_expiry_days),
}
VARIABLES = {
    "DEFAULT_LOW_BALANCE_THRESHOLD",
    "ACCOUNT_CLAIM",
    "ROLE_CLAIM",
    "CURRENCY",
    "CREDIT_CATALOG",
    "EXPIRY_SWEEP_SCHEDULE",
    "EXPIRY_REMINDER_DAYS",
    "AUTO_TOP_UP_COOLDOWN_MINUTES",
    "PURCHASE_CREDIT_EXPIRY_DAYS",
    "POWERTOOLS_LOG_LEVEL",
    "POWERTOOLS_SERVICE_NAME",
    "POWERTOOLS_METRICS_NAMESPACE",
}


@pytest.mark.parametrize("name", sorted(DEFAULTS))
def test_a_default_is_the_template_parameters_default(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    for variable in VARIABLES:
        monkeypatch.delenv(variable, raising=False)
    parameter, read = DEFAULTS[name]
    assert str(read()) == str(template()["Parameters"][parameter]["Default"])


def test_the_globals_pass_every_parameter_to_the_variable_the_settings_read() -> None:
    variables = template()["Globals"]["Function"]["Environment"]["Variables"]
    for variable in VARIABLES - {"EXPIRY_SWEEP_SCHEDULE"}:  # only the reconcile function reads that one
        assert variable in variables, variable


def test_what_the_functions_report_under_defaults_to_the_globals(monkeypatch: pytest.MonkeyPatch) -> None:
    for variable in VARIABLES:
        monkeypatch.delenv(variable, raising=False)
    variables = template()["Globals"]["Function"]["Environment"]["Variables"]
    assert settings.service_name() == variables["POWERTOOLS_SERVICE_NAME"]
    assert settings.metrics_namespace() == variables["POWERTOOLS_METRICS_NAMESPACE"]


def test_a_variable_set_while_running_is_read_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DEFAULT_LOW_BALANCE_THRESHOLD", "250")
    assert settings.default_low_balance_threshold() == 250
    monkeypatch.setenv("DEFAULT_LOW_BALANCE_THRESHOLD", "0")
    assert settings.default_low_balance_threshold() == 0
