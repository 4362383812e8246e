"""The scheduled runs against the size of the table: the expiry sweep, the auto top-up safety net and
reconciliation (with its cost against Stripe)."""

from __future__ import annotations

from bench.reconcile_scaling import PaymentsRow, ReconcileRow
from bench.report.markdown import section, table, units
from bench.safety_net_scaling import NetRow
from bench.sweep_scaling import SweepRow


def sweep_section(rows: list[SweepRow]) -> list[str]:
    return section(
        "Expiry sweep against table size",
        f"One run of the sweep function over tables of {', '.join(f'{s.accounts:,}' for s in rows)} accounts,"
        f" {rows[0].due} of them with a grant expired an"
        " hour ago, every other one with a grant expiring in 90 days (so every account is in the sparse `due`"
        " index). The accounts are copies of account items the real code wrote, put with BatchWriteItem into a"
        " single-threaded moto server; only the sweep's requests are counted.",
        table(
            [
                "Accounts",
                "Due grants",
                "Round trips",
                "Requests",
                "Index entries read",
                "Grant items read",
                "Account items read",
                "Items read per due grant",
                "RCU",
                "WCU",
                "Settled",
            ],
            [
                [
                    f"{s.accounts:,}",
                    s.due,
                    s.side.round_trips,
                    s.side.requests,
                    s.index_items,
                    s.grant_items,
                    s.account_items,
                    f"{s.per_due_grant:.2f}",
                    units(s.side.read_units),
                    s.side.write_units + s.side.index_write_units,
                    s.settled,
                ]
                for s in rows
            ],
        ),
        "The Query on the `due` index reads exactly the due entries, whatever the table holds. Each due account is"
        " then read once more (a strongly consistent GetItem: the index is eventually consistent and keys-only),"
        " and its settlement reads its grants in burn order up to the first one that survives (the due grant and"
        " the next one): with one due grant per account that is 4 items read per due grant. Grants of one account"
        " that fall due together share the index entry, the account and the survivor (10 together: 1.4 to 1.5"
        " items per due grant, in the cost against account size).",
    )


def safety_net_section(rows: list[NetRow]) -> list[str]:
    return section(
        "Auto top-up safety net against table size",
        "One scheduled run of the auto top-up function's safety net over tables where some accounts have auto"
        " top-up on, 1% of those below their threshold, and the rest of the accounts have it off. The accounts"
        " are copies of the items the real code wrote, put with BatchWriteItem into a single-threaded moto"
        " server; Stripe is localstripe. *Look*: the safety net's pages of the sparse `top_up` index and the"
        " BatchGetItem of their accounts' figures; *start*: the top-ups it started (reads, claim, outcome), with"
        " their Stripe round trips.",
        table(
            [
                "Accounts",
                "Auto top-up on",
                "Below threshold",
                "Look: round trips",
                "Look: index entries + account items read",
                "Look: RCU",
                "Items read per enabled account",
                "RCU per enabled account",
                "Started",
                "Start: DynamoDB round trips / WCU",
                "Start: Stripe round trips",
            ],
            [
                [
                    f"{n.accounts:,}",
                    f"{n.enabled:,}",
                    n.below,
                    f"{n.look.round_trips} ({n.look.requests})",
                    f"{n.index_items:,} + {n.account_items:,}",
                    units(n.look.read_units),
                    f"{n.items_per_enabled:.2f}",
                    f"{n.read_units_per_enabled:.4g}",
                    n.started,
                    f"{n.start.round_trips} / {n.start.write_units + n.start.index_write_units}",
                    n.stripe_round_trips,
                ]
                for n in rows
            ],
        ),
        "Every account with auto top-up on is in the `top_up` index while idle (it must be looked at: a lost"
        " stream batch leaves no other trace), so the look grows with the accounts that have auto top-up on and"
        " not with the table: accounts with it off are not in the index and cost nothing. The BatchGetItem reads"
        " only the few figures the rules need, but is charged for each whole account item.",
    )


def reconcile_section(rows: list[ReconcileRow], payments: PaymentsRow | None) -> list[str]:
    if not rows:
        return []
    flat = len({(r.first.round_trips // r.changed, r.again.round_trips // r.changed) for r in rows}) == 1
    return section(
        "Reconciliation against table size",
        "One scheduled run over tables of growing size, the same number of accounts changed in each (each a"
        " copy of an account"
        f" the real code wrote: a grant, debits, a hold, {rows[0].entries_per_account} entries), the rest copies"
        " of an account item alone. *Finding them*: the day's 32 marker partitions and the run's own item;"
        " *first run*: per changed account, its whole history and its grants and holds (no checkpoint yet);"
        " *next run*: the same accounts again, nothing new past their checkpoints. Only the run's own requests"
        " are counted (no Stripe: see below).",
        table(
            [
                "Accounts",
                "Changed",
                "Finding them: round trips / items read",
                "First run, per changed account: round trips / items / RCU",
                "Next run, per changed account: round trips / items / RCU",
            ],
            [
                [
                    f"{row.accounts:,}",
                    row.changed,
                    f"{row.look.round_trips} / {row.look.items_read}",
                    f"{row.first.round_trips / row.changed:.1f} / {row.first.items_read / row.changed:.1f} /"
                    f" {units(row.first.read_units / row.changed)}",
                    f"{row.again.round_trips / row.changed:.1f} / {row.again.items_read / row.changed:.1f} /"
                    f" {units(row.again.read_units / row.changed)}",
                ]
                for row in rows
            ],
        ),
        f"Per changed account the cost is {'the same at every size' if flat else '**not** the same at every size'}:"
        " the accounts that did not change are never read. Finding the changed accounts costs the 32 marker"
        " partitions of each day since the last run, one page per 1 MB of markers, whatever the table holds.",
        *([] if payments is None else [_against_stripe(payments)]),
    )


def _against_stripe(payments: PaymentsRow) -> str:
    return (
        f"Against Stripe: {payments.payments} purchases paid at localstripe and credited by the webhook,"
        f" reconciled both ways: **{payments.stripe_round_trips} Stripe round trips**"
        f" ({payments.stripe_per_payment:.2f} per payment: the list of the window's PaymentIntents, one"
        " page per 100, and each credited purchase's PaymentIntent; a charge is read apart only when Stripe"
        " gives its id rather than the charge, which localstripe does not, so real Stripe adds up to one per"
        f" payment), and {payments.dynamodb.round_trips} DynamoDB round trips"
        f" ({payments.dynamodb.round_trips / payments.payments:.1f} per payment, {units(payments.dynamodb.read_units)}"
        " RCU in all: the purchase, its grant entries by type, its refund entries, the account's purchases)."
    )
