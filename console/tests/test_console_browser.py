"""The credits console in Chromium, on a host page of another origin, against the local stack."""

from __future__ import annotations

import csv
import io
import re
import urllib.request
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from playwright.sync_api import expect

from console.tests.conftest import WAIT_MS, Console, debit, eventually, grant, service

VISA = "4242424242424242"
DECLINED = "4000000000000341"  # attaches, then the charge is declined
THREE_D_SECURE = "4000002760003184"


def usage_total(console: Console, account: str) -> int:
    """The usage route's total over the last 30 days (what the usage element shows by default)."""
    today = datetime.now(UTC).date()
    span = f"from={today - timedelta(days=29)}&to={today}"
    token = console.stack.token(account)
    return int(console.stack.account("GET", f"/accounts/{account}/usage?{span}", token).body["total"])


def fill_card(console: Console, number: str) -> None:
    """The card form Stripe.js mounts (localstripe's stand-in: plain inputs in the dialog's slot)."""
    card = console.page.locator("credits-purchase-dialog .credits-card-element")
    card.locator("input[placeholder=number]").fill(number)
    card.locator("input[placeholder=exp_month]").fill("12")
    card.locator("input[placeholder=exp_year]").fill("34")
    card.locator("input[placeholder=cvc]").fill("123")


def open_purchase(console: Console) -> Any:
    console.page.locator("credits-balance-card").get_by_role("button", name="Add credits").click()
    dialog = console.page.locator("credits-purchase-dialog")
    expect(dialog.get_by_role("dialog", name="Add credits")).to_be_visible()
    return dialog


def packages(console: Console, token: str) -> Any:
    return console.stack.account("GET", "/packages", token).body


def test_balance_card_shows_exact_figures(console: Console, account: str) -> None:
    stack = console.stack
    grant(stack, account, 1_000)
    debit(stack, account, 40, "render")
    debit(stack, account, 15, "export")
    service(stack, "POST", f"/accounts/{account}/holds", {"amount": 100, "idempotency_key": "job-1"})
    stack.history(account, 4)
    console.open(account)

    card = "credits-balance-card"
    console.wait_text(console.field(card, "balance"), "945")
    console.wait_text(console.field(card, "available"), "845")
    console.wait_text(console.field(card, "held"), "100")
    console.wait_text(console.field(card, "lifetime-added"), "1,000")
    console.wait_text(console.field(card, "lifetime-spent"), "55")
    console.wait_text(console.field(card, "lifetime-expired"), "0")
    console.wait_text(console.field(card, "last-payment"), "None yet")
    expect(console.field(card, "low-balance")).to_have_count(0)
    expect(console.field(card, "runway")).to_contain_text("at your recent usage")
    expect(console.field(card, "auto-top-up")).to_have_text("Off.")
    rows = console.page.locator(f'{card} [data-field="recent"] tbody tr')
    expect(rows).to_have_count(4)
    expect(rows.nth(0)).to_contain_text("Hold")
    expect(rows.nth(3)).to_contain_text("+1,000")
    # money value at the catalog's base rate: the first custom tier's price per 1,000 credits
    catalog = packages(console, stack.token(account))
    first = min(catalog["custom"]["tiers"], key=lambda t: t["from_credits"])
    cents = round(845 * first["price_per_1000"] / 1000)
    money = console.page.locator(f"{card} [data-money]").first
    expect(money).to_have_text(f"≈ ${cents // 100}.{cents % 100:02d}")
    console.shot("balance-card")

    # a debit below the low-balance threshold (100) shows the badge once the card reloads
    debit(stack, account, 800, "render")
    console.page.evaluate("() => document.dispatchEvent(new CustomEvent('credits-refresh'))")
    console.wait_text(console.field(card, "available"), "45")
    expect(console.field(card, "low-balance")).to_have_text("Low balance")
    console.shot("low-balance")


def test_buying_a_package_with_the_test_card_raises_the_balance_without_a_reload(
    console: Console, account: str
) -> None:
    stack = console.stack
    grant(stack, account, 500)
    console.open(account)
    card = "credits-balance-card"
    console.wait_text(console.field(card, "available"), "500")

    dialog = open_purchase(console)
    catalog = packages(console, stack.token(account))
    items = sorted(catalog["items"], key=lambda p: p["credits"])
    chosen = items[1]
    expect(dialog.locator("[data-saving]").first).to_be_visible()  # a bigger package shows its saving
    dialog.locator(f'input[value="{chosen["id"]}"]').check()
    # the custom amount's live price, from the tiers
    dialog.locator("#custom-credits").fill("2500")
    expect(dialog.locator("#custom-price")).to_contain_text("$")
    dialog.locator(f'input[value="{chosen["id"]}"]').check()
    console.shot("packages")
    dialog.get_by_role("button", name="Continue to payment").click()
    expect(dialog.locator('[data-field="credits"]')).to_have_text(f"{chosen['credits']:,} credits")
    fill_card(console, VISA)
    console.shot("card-form")
    dialog.get_by_role("button", name="Pay").click()
    expect(dialog.locator('[data-state="succeeded"]')).to_contain_text(f"{chosen['credits']:,} credits added")
    console.shot("credited")
    console.wait_text(console.field(card, "available"), f"{500 + chosen['credits']:,}")
    assert console.same_document(), "the page was reloaded"
    dialog.get_by_role("button", name="Done").click()
    expect(dialog.get_by_role("dialog")).to_have_count(0)
    assert stack.account("GET", f"/accounts/{account}/balance", stack.token(account)).body["available"] == (
        500 + chosen["credits"]
    )


def test_a_declined_card_shows_the_decline_and_adds_nothing(console: Console, account: str) -> None:
    stack = console.stack
    grant(stack, account, 300)
    console.open(account)
    card = "credits-balance-card"
    console.wait_text(console.field(card, "available"), "300")
    dialog = open_purchase(console)
    dialog.get_by_role("button", name="Continue to payment").click()
    fill_card(console, DECLINED)
    dialog.get_by_role("button", name="Pay").click()
    message = dialog.locator('[data-field="message"] [role="alert"]')
    expect(message).to_contain_text("declined", timeout=WAIT_MS)
    expect(message).to_contain_text("No credits were added")
    console.shot("declined")
    token = stack.token(account)
    purchases = [e for e in stack.history(account, 1) if e["type"] == "purchase"]
    assert purchases == []
    assert stack.account("GET", f"/accounts/{account}/balance", token).body["available"] == 300
    console.page.evaluate("() => document.dispatchEvent(new CustomEvent('credits-refresh'))")
    console.wait_text(console.field(card, "available"), "300")


def test_three_d_secure_is_completed_in_stripes_challenge(console: Console, account: str) -> None:
    console.open(account)
    card = "credits-balance-card"
    console.wait_text(console.field(card, "available"), "0")
    dialog = open_purchase(console)
    dialog.get_by_role("button", name="Continue to payment").click()
    fill_card(console, THREE_D_SECURE)
    dialog.get_by_role("button", name="Pay").click()
    console.page.get_by_role("button", name="Fail authentication").click()
    message = dialog.locator('[data-field="message"] [role="alert"]')
    expect(message).to_contain_text("3-D Secure")
    expect(message).to_contain_text("No credits were added")
    console.shot("3ds-failed")
    dialog.get_by_role("button", name="Pay").click()  # again, and this time the bank's check is passed
    console.page.get_by_role("button", name="Complete authentication").click()
    expect(dialog.locator('[data-state="succeeded"]')).to_be_visible()
    console.wait_text(console.field(card, "available"), "1,000")


def test_auto_top_up_saved_within_ranges_and_refused_outside(console: Console, account: str) -> None:
    stack = console.stack
    token = stack.token(account)
    # a card on file: the first purchase, paid with the test card
    purchase = stack.account("POST", f"/accounts/{account}/purchases", token, {"credits": 1000}).body
    stack.cli("pay", purchase["purchase_id"])
    eventually(
        lambda: (
            stack.account("GET", f"/accounts/{account}/purchases/{purchase['purchase_id']}", token).body[
                "status"
            ]
            == "succeeded"
        )
    )
    console.open(account)
    console.page.locator("credits-balance-card").get_by_role("button", name="Auto top-up").click()
    dialog = console.page.locator("credits-auto-top-up-dialog")
    expect(dialog.locator('[data-field="payment-method"]')).to_contain_text("card of your latest purchase")
    save = dialog.get_by_role("button", name="Save")

    dialog.get_by_label("Top up automatically when my balance runs low").check()
    dialog.locator("#amount").fill("100001")
    expect(dialog.locator("#amount-error")).to_contain_text("from 1 to 100,000")
    expect(save).to_be_disabled()
    dialog.locator("#amount").fill("500")
    dialog.locator("#threshold").fill("600")
    expect(dialog.locator("#threshold-error")).to_contain_text("cannot be more than the amount")
    expect(save).to_be_disabled()
    console.shot("out-of-range")

    # within the form's ranges, but under Stripe's minimum charge: the API refuses, and says why
    dialog.locator("#threshold").fill("0")
    dialog.locator("#amount").fill("1")
    expect(save).to_be_enabled()
    save.click()
    expect(dialog.locator('[data-field="message"] [role="alert"]')).to_contain_text("at least")
    assert stack.account("GET", f"/accounts/{account}/auto-top-up", token).body["enabled"] is False

    dialog.locator("#threshold").fill("200")
    dialog.locator("#amount").fill("2000")
    save.click()
    expect(dialog.locator('[data-field="message"]')).to_have_text("Saved.")
    expect(dialog.locator('[data-field="payment-method"]')).to_contain_text("Visa ending in 4242")
    console.shot("saved")
    saved = stack.account("GET", f"/accounts/{account}/auto-top-up", token).body
    assert (saved["enabled"], saved["threshold"], saved["amount"]) == (True, 200, 2000)
    expect(console.field("credits-balance-card", "auto-top-up")).to_contain_text(
        "adds 2,000 credits", timeout=WAIT_MS
    )


def test_history_is_paged_to_the_end_with_no_gap_or_repeat(console: Console, account: str) -> None:
    stack = console.stack
    grant(stack, account, 5_000)
    for i in range(16):
        debit(stack, account, 10 + i, "render" if i % 2 else "export")
    everything = stack.history(account, 17)
    assert len(everything) == 17
    console.open(account)
    history = console.page.locator("credits-history")
    rows = history.locator("tbody tr")
    expect(rows).to_have_count(5)
    seen: list[str] = []
    page_number = 1
    while True:
        expect(history.locator('[data-field="page"]')).to_have_text(f"Page {page_number}")
        seen += [rows.nth(i).get_attribute("data-entry") or "" for i in range(rows.count())]
        next_button = history.get_by_role("button", name="Next")
        if next_button.is_disabled():
            break
        next_button.click()
        page_number += 1
    console.shot("last-page")
    assert seen == [entry["id"] for entry in everything]
    assert page_number == 4
    # running balances as the API reports them, signed amounts
    first_row = history.locator("tbody tr").last  # the oldest: the grant
    expect(first_row.locator("[data-amount]")).to_have_text("+5,000")
    expect(first_row.locator("[data-balance]")).to_have_text("5,000")

    history.get_by_label("Type").select_option("grant")
    expect(rows).to_have_count(1)
    with console.page.expect_download() as download:
        history.get_by_role("button", name="Download CSV").click()
    lines = list(csv.DictReader(io.StringIO(Path(download.value.path()).read_text())))
    assert [line["id"] for line in lines] == [e["id"] for e in everything if e["type"] == "grant"]


def test_usage_chart_totals_equal_the_usage_route(console: Console, account: str) -> None:
    stack = console.stack
    grant(stack, account, 5_000)
    for amount, operation in [(40, "render"), (15, "export"), (25, "render"), (7, "transcode")]:
        debit(stack, account, amount, operation)
    # the usage rollups are written from the ledger's stream, a moment behind the debits
    assert eventually(lambda: usage_total(console, account) == 87)
    console.open(account)
    usage = console.page.locator("credits-usage")
    expect(usage.locator('[data-field="total"]')).to_have_text("87")
    today = stack.account("GET", f"/accounts/{account}/balance", stack.token(account))
    assert today.status == 200
    chart = usage.locator("svg[role=img]")
    expect(chart).to_be_visible()
    # the route's figures for the same range as the element asked
    asked = console.page.evaluate("() => document.querySelector('credits-usage').range")
    route = stack.account(
        "GET", f"/accounts/{account}/usage?from={asked['from']}&to={asked['to']}", stack.token(account)
    ).body
    shown = {
        usage.locator("tbody tr").nth(i).get_attribute("data-operation"): int(
            usage.locator("tbody tr").nth(i).locator("[data-total]").inner_text().replace(",", "")
        )
        for i in range(usage.locator("tbody tr").count())
    }
    assert shown == route["by_operation"] == {"render": 65, "export": 15, "transcode": 7}
    assert route["total"] == 87
    # the bars add up to the same totals (each bar's title: "<day>, <operation>: <credits>")
    titles = usage.locator("svg rect title").all_text_contents()
    by_operation: dict[str, int] = {}
    for title in titles:
        operation, credits = title.split(", ", 1)[1].rsplit(": ", 1)
        by_operation[operation] = by_operation.get(operation, 0) + int(credits.replace(",", ""))
    assert by_operation == route["by_operation"]
    console.shot("usage")


def test_a_member_sees_that_only_owners_and_admins_can_see_credits(console: Console, account: str) -> None:
    grant(console.stack, account, 100)
    console.open(account, role="member")
    for element in ("credits-balance-card", "credits-usage", "credits-history", "credits-limits"):
        expect(console.page.locator(f'{element} [data-state="forbidden"]').first).to_contain_text(
            "Only owners and admins can see credits."
        )
    console.shot("member")
    assert console.axe() == []


def test_no_serious_or_critical_accessibility_violations(console: Console, account: str) -> None:
    stack = console.stack
    grant(stack, account, 1_000)
    debit(stack, account, 30, "render")
    stack.history(account, 2)
    assert eventually(lambda: usage_total(console, account) == 30)
    console.open(account)
    expect(console.field("credits-balance-card", "available")).to_have_text("970")
    expect(console.page.locator("credits-history tbody tr")).to_have_count(2)
    expect(console.page.locator('credits-usage [data-field="total"]')).to_have_text("30")
    expect(console.page.locator("credits-limits").get_by_role("button", name="Save limits")).to_be_visible()
    # axe-core sees into the components' shadow roots: an unlabelled input there is found
    console.page.evaluate(
        "() => document.querySelector('credits-limits').shadowRoot.append(document.createElement('input'))"
    )
    assert [v["id"] for v in console.axe()] == ["label"]
    console.page.evaluate(
        "() => document.querySelector('credits-limits').shadowRoot.lastElementChild.remove()"
    )
    assert console.axe() == []
    dialog = open_purchase(console)
    expect(dialog.get_by_role("button", name="Continue to payment")).to_be_visible()
    assert console.axe() == []
    # keyboard: Escape closes the dialog and focus returns to the button that opened it
    console.page.keyboard.press("Escape")
    expect(dialog.get_by_role("dialog")).to_have_count(0)
    dialog = open_purchase(console)
    dialog.get_by_role("button", name="Continue to payment").click()
    expect(dialog.get_by_role("button", name="Pay")).to_be_visible()
    # Stripe's card form is Stripe's own (an iframe in production): not ours to audit
    assert console.axe(exclude=[".credits-card-element"]) == []
    dialog.get_by_role("button", name="Close").click()
    console.page.locator("credits-balance-card").get_by_role("button", name="Auto top-up").click()
    expect(
        console.page.locator("credits-auto-top-up-dialog").get_by_role("button", name="Save")
    ).to_be_visible()
    assert console.axe() == []


def test_the_api_answers_cors_for_the_console_origins_only(console: Console) -> None:
    def preflight(origin: str) -> dict[str, str]:
        request = urllib.request.Request(
            console.stack.url + "/accounts/acme/balance",
            method="OPTIONS",
            headers={
                "origin": origin,
                "access-control-request-method": "GET",
                "access-control-request-headers": "authorization",
            },
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            assert response.status == 204
            return {k.lower(): v for k, v in response.headers.items()}

    allowed = preflight(console.host)
    assert allowed["access-control-allow-origin"] == console.host
    assert "authorization" in allowed["access-control-allow-headers"]
    assert "access-control-allow-origin" not in preflight("https://elsewhere.example.com")
    # an unauthorized answer carries the header too, so the page can read the 401
    reply = console.stack.request("GET", "/accounts/acme/balance", headers={"origin": console.host})
    assert reply.status == 401
    assert {k.lower(): v for k, v in reply.headers.items()}["access-control-allow-origin"] == console.host


def test_the_demo_console_signs_in_and_composes_every_component(console: Console) -> None:
    page = console.page
    page.goto(console.stack.url + "/console")
    expect(page.locator("#who")).to_have_text("Signed in to acme as owner")
    page.get_by_role("button", name="Grant 1,000 credits").click()
    expect(page.locator("#tool-status")).to_have_text("Balance 1000")
    page.get_by_role("button", name="Use 40 credits (render)").click()
    expect(page.locator("#tool-status")).to_have_text("Balance 960")
    page.get_by_role("button", name="Use 15 credits (export)").click()
    expect(page.locator("#tool-status")).to_have_text("Balance 945")
    expect(console.field("credits-balance-card", "available")).to_have_text("945")
    expect(page.locator("credits-history tbody tr")).to_have_count(3)
    expect(page.locator('credits-usage [data-field="total"]')).to_have_text("55")
    console.shot("demo-console")
    assert console.axe() == []
    page.locator("#role").select_option("member")
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator('credits-balance-card [data-state="forbidden"]').first).to_be_visible()
    refused = console.stack.request(
        "POST",
        "/console/sign-in",
        b'{"account": "acme", "role": "root"}',
        {"content-type": "application/json"},
    )
    assert refused.status == 400


def test_embedded_checkout_pays_and_the_card_is_then_in_the_billing_portal(
    console: Console, account: str
) -> None:
    page = console.page
    console.open(account)
    card = "credits-balance-card"
    console.wait_text(console.field(card, "available"), "0")
    page.evaluate(
        "() => document.querySelector('credits-purchase-dialog').setAttribute('payment', 'checkout')"
    )
    dialog = open_purchase(console)
    dialog.get_by_role("button", name="Continue to payment").click()
    checkout = page.frame_locator("credits-purchase-dialog .credits-card-element iframe")
    checkout.get_by_label("Card number").fill(VISA)
    checkout.get_by_label("Expiry (MM/YY)").fill("12/34")
    checkout.get_by_label("CVC").fill("123")
    console.shot("embedded-checkout")
    checkout.get_by_role("button", name="Pay 10.00 USD").click()
    # Checkout goes to the purchase's return URL: the page loads again and the dialog picks the purchase up
    expect(dialog.locator('[data-state="succeeded"]')).to_contain_text("1,000 credits added")
    console.wait_text(console.field(card, "available"), "1,000")
    assert "credits_checkout" not in page.url
    console.shot("checkout-credited")
    dialog.get_by_role("button", name="Done").click()

    page.locator(card).get_by_role("button", name="Auto top-up").click()
    page.locator("credits-auto-top-up-dialog").get_by_role("button", name="Manage payment methods").click()
    expect(page.get_by_role("heading", name="Payment methods")).to_be_visible()
    expect(page.get_by_role("cell", name="•••• 4242")).to_be_visible()
    console.shot("billing-portal")
    page.get_by_role("link", name="Return to the console").click()
    console.wait_text(console.field(card, "available"), "1,000")


def test_numbers_money_and_dates_follow_the_hosts_locale(console: Console, account: str) -> None:
    grant(console.stack, account, 12_345)
    console.stack.history(account, 1)
    console.open(account, locale="de-DE")
    card = "credits-balance-card"
    console.wait_text(console.field(card, "available"), "12.345")
    expect(console.page.locator(f"{card} [data-money]").first).to_have_text("≈ 123,45 $")
    expect(console.page.locator(f'{card} [data-field="recent"] [data-amount]').first).to_have_text("+12.345")
    console.shot("de-DE")


def test_credits_slow_to_arrive_get_a_clear_message(console: Console, account: str) -> None:
    page = console.page
    console.open(account)
    console.wait_text(console.field("credits-balance-card", "available"), "0")
    page.evaluate(
        "() => document.querySelector('credits-purchase-dialog').setAttribute('credit-timeout', '1500')"
    )

    def still_pending(route: Any) -> None:  # the webhook has not arrived yet, as far as the page can tell
        response = route.fetch()
        route.fulfill(response=response, json={**response.json(), "status": "pending"})

    page.route(re.compile(r".*/accounts/[^/]+/purchases/pur_[0-9a-f]+$"), still_pending)
    dialog = open_purchase(console)
    dialog.get_by_role("button", name="Continue to payment").click()
    fill_card(console, VISA)
    dialog.get_by_role("button", name="Pay").click()
    expect(dialog.locator('[data-state="timeout"]')).to_contain_text("taking longer than usual")
    console.shot("timeout")


def test_empty_and_error_states(console: Console, account: str) -> None:
    page = console.page
    console.open(account)
    expect(page.locator('credits-history [data-state="empty"]')).to_have_text("No transactions yet.")
    expect(page.locator('credits-usage [data-state="empty"]')).to_have_text("No usage in this range.")
    expect(page.locator('credits-balance-card [data-state="empty"]')).to_have_text("No transactions yet.")
    # the API unreachable: every element says so and offers to try again
    page.evaluate("() => CreditsConsole.configure({api: 'http://127.0.0.1:9'})")
    for element in ("credits-balance-card", "credits-usage", "credits-history", "credits-limits"):
        error = page.locator(f'{element} [data-state="error"][role="alert"]')
        expect(error).to_contain_text("could not be reached")
    console.shot("unreachable")
    assert console.axe() == []
    page.evaluate(f"() => CreditsConsole.configure({{api: {console.stack.url!r}}})")
    console.wait_text(console.field("credits-balance-card", "available"), "0")


def test_the_card_counts_credits_expiring_in_the_next_30_days(console: Console, account: str) -> None:
    stack = console.stack
    now = datetime.now(UTC)
    for amount, days in [(200, 10), (50, 25), (300, 60)]:
        expires = (now + timedelta(days=days)).strftime("%Y-%m-%dT%H:%M:%SZ")
        payload = {
            "amount": amount,
            "source": "promotional",
            "idempotency_key": uuid.uuid4().hex,
            "expires_at": expires,
        }
        service(stack, "POST", f"/accounts/{account}/grants", payload)
    stack.history(account, 3)
    console.open(account)
    console.wait_text(console.field("credits-balance-card", "available"), "550")
    console.wait_text(console.field("credits-balance-card", "expiring"), "250")
