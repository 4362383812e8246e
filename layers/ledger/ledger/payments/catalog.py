"""The catalog: preset packages (bulk pricing) and custom amounts priced by the tier they fall in.

The price never falls as the amount rises (``PRICE_RULE``): a custom amount costs its tier's
``price_per_1000`` per 1,000 credits, rounded up, but never more than a larger offer, that is the first amount
of a later tier or a package of at least as many credits. So 4,999 credits cost what 5,000 do (45.00 with the
built-in catalog), not 49.99. A catalog whose packages would make fewer credits cost more is refused.

Prices are integers in the currency's minor unit. A deployment sets its own catalog as JSON in the
CREDIT_CATALOG environment variable (the template's CreditCatalog parameter) and its currency in CURRENCY.
"""

from __future__ import annotations

import json
from functools import cache
from typing import Annotated, Any, ClassVar

from ledger import settings
from ledger.domain.errors import InvalidRequest, NotFound
from ledger.shapes import Closed, Rule, checked

MAX_CREDITS = 100_000
PRICE_RULE = "tier_rate_capped_by_larger_offers"


@checked
class Package(Closed):
    strict: ClassVar[bool] = True

    id: Annotated[str, Rule(pattern=r"^[A-Za-z0-9_\-]{1,64}$")]
    credits: Annotated[int, Rule(ge=1, le=MAX_CREDITS)]
    price: Annotated[int, Rule(ge=1)]


@checked
class Tier(Closed):
    """Custom amounts from ``from_credits`` up cost ``price_per_1000`` minor units per 1,000 credits."""

    strict: ClassVar[bool] = True

    from_credits: Annotated[int, Rule(ge=1)]
    price_per_1000: Annotated[int, Rule(ge=1)]


@checked
class Custom(Closed):
    strict: ClassVar[bool] = True

    min_credits: Annotated[int, Rule(ge=1, le=MAX_CREDITS)]
    max_credits: Annotated[int, Rule(ge=1, le=MAX_CREDITS)]
    tiers: Annotated[list[Tier], Rule(min_length=1)]

    def __post_init__(self) -> None:
        if self.min_credits > self.max_credits:
            raise ValueError("min_credits must not exceed max_credits")
        starts = [t.from_credits for t in self.tiers]
        if starts != sorted(set(starts)) or starts[0] > self.min_credits:
            raise ValueError("tiers must be in increasing from_credits order, the first covering min_credits")


@checked
class Catalog(Closed):
    """Made from a deployment's JSON (``Catalog(**document)``): every field checked, strictly, then the rules
    between them."""

    strict: ClassVar[bool] = True

    currency: Annotated[str, Rule(pattern=r"^[a-z]{3}$")] = "usd"
    packages: list[Package]
    custom: Custom

    def __post_init__(self) -> None:
        """No package costs more than an offer of more credits (another package, or a custom amount)."""
        for package in self.packages:
            larger = [p.price for p in self.packages if p.credits > package.credits]
            if package.credits < self.custom.max_credits:
                larger.append(self._price(max(package.credits + 1, self.custom.min_credits)))
            if larger and package.price > min(larger):
                raise ValueError(f"package {package.id!r} costs more than an offer of more credits")

    def package(self, package_id: str) -> Package:
        for package in self.packages:
            if package.id == package_id:
                return package
        raise NotFound(f"no package {package_id!r}", package_id=package_id)

    def custom_price(self, credits: int) -> int:
        low, high = self.custom.min_credits, self.custom.max_credits
        if not low <= credits <= high:
            raise InvalidRequest(f"credits must be from {low} to {high}", min_credits=low, max_credits=high)
        return self._price(credits)

    def top_up_price(self, credits: int) -> int:
        """An auto top-up is priced like a custom amount, from 1 credit up (below the custom minimum, at the
        first tier's rate)."""
        if not 1 <= credits <= MAX_CREDITS:
            raise InvalidRequest(f"credits must be from 1 to {MAX_CREDITS}")
        return self._price(credits)

    def _tier_price(self, credits: int) -> int:
        tiers = [t for t in self.custom.tiers if t.from_credits <= credits] or self.custom.tiers[:1]
        return -(-credits * tiers[-1].price_per_1000 // 1000)  # rounded up to a whole minor unit

    def _price(self, credits: int) -> int:
        """The tier's price, capped by every larger offer: a later tier's first amount, a package of at least
        as many credits. Non-decreasing in ``credits``: an amount in a tier pays at most what the tier's
        larger amounts pay, and an amount below a tier's start at most what that start pays."""
        offers = [self._tier_price(credits)]
        offers += [
            self._tier_price(t.from_credits)
            for t in self.custom.tiers
            if credits < t.from_credits <= self.custom.max_credits
        ]
        offers += [p.price for p in self.packages if p.credits >= credits]
        return min(offers)


DEFAULT = {
    "packages": [
        {"id": "credits-1000", "credits": 1_000, "price": 1_000},
        {"id": "credits-5000", "credits": 5_000, "price": 4_500},
        {"id": "credits-20000", "credits": 20_000, "price": 16_000},
        {"id": "credits-100000", "credits": 100_000, "price": 70_000},
    ],
    "custom": {
        "min_credits": 100,
        "max_credits": MAX_CREDITS,
        "tiers": [
            {"from_credits": 1, "price_per_1000": 1_000},
            {"from_credits": 5_000, "price_per_1000": 900},
            {"from_credits": 20_000, "price_per_1000": 800},
            {"from_credits": 100_000, "price_per_1000": 700},
        ],
    },
}


@cache
def _parse(document: str, currency: str) -> Catalog:
    data: dict[str, Any] = json.loads(document) if document.strip() else DEFAULT
    if not isinstance(data, dict):
        raise ValueError("the catalog must be a JSON object")
    return Catalog(**({**data, "currency": currency} if currency else data))


def catalog() -> Catalog:
    """The deployment's catalog (validated once per document; a bad one fails loudly at first use)."""
    return _parse(settings.credit_catalog(), settings.currency())
