"""The ledger under load: many threads debiting one account, and one hot account at its measured rates."""

from __future__ import annotations

from bench import prices
from bench.contention import Contention
from bench.hot_account import PARTITION_WCU_PER_SECOND, TRIGGER_BATCH, HotRow
from bench.report.markdown import mark, section, table
from bench.report.targets import HOT_DEBITS_TARGET, HOT_EVENTS_TARGET
from ledger.journal import MAX_POSTED_CHANGES
from ledger.store import entries as entry_store


def contention_section(c: Contention) -> list[str]:
    return section(
        "Contention",
        f"{c.threads} threads debiting one account ({c.debits} debits of 1-20 credits, {c.granted:,} credits"
        " granted) through the library against a single-threaded moto server, each request atomic as in"
        " DynamoDB. Correctness, not speed.",
        table(
            [
                "Accepted",
                "Refused (402)",
                "Transactions",
                "Cancelled",
                "Retried internally",
                "Conflicts",
                "Lowest available seen",
                "Final balance",
                "Overdrafts",
            ],
            [
                [
                    c.accepted,
                    c.refused,
                    c.transactions,
                    c.cancelled,
                    c.retried,
                    c.conflicts,
                    c.min_available,
                    c.final_balance,
                    f"**{c.overdrafts}**",
                ]
            ],
        ),
        "Overdrafts are checked against the final state: the balance must equal the grant minus every accepted"
        " debit, never below the floor (0). A serial server never reports `TransactionConflict`; DynamoDB"
        " would under this load, and the ledger retries those with backoff (counted under *Retried*).",
    )


def hot_measured_section(rows: list[HotRow]) -> list[str]:
    if not rows:
        return []
    return section(
        "Hot account, measured",
        "One account, funded, made hot (spend shards, chosen at random) or not, and warmed up (every shard has"
        " borrowed once); the real functions run a series of single debits or batches of 100 usage events on it,"
        " then the journal runs over the stream as its trigger delivers it (batches of up to"
        f" {TRIGGER_BATCH} records of one stream shard, each hot partition key on a stream shard of its own) until"
        " nothing is left. Every write is captured with its key. Per event: the write units on the hottest key"
        " the account keeps writing (its own partition `ACCOUNT#<id>`, its shards `ACCOUNT#<id>#S<k>`), on the"
        " hottest of their items, and on the hottest index partition it keeps writing (`by_type` of the account"
        f" and a type). The account sustains {PARTITION_WCU_PER_SECOND:,} WCU/s divided by the largest of the"
        " three (DynamoDB's limit per partition and per item). Every other key (an idempotency record, a batch"
        " item, a posting, a block of entries `ACCOUNT#<id>#E<n>` and its `by_type` partition) is written a"
        ' bounded number of times in its life; "life WCU" is the most any of them takes in all (a block: per'
        f" entry x {entry_store.BLOCK} entries): under {PARTITION_WCU_PER_SECOND:,} it can never need more than"
        " one second's allowance.",
        "A run of a hundred debits over 8 shards posts groups of about a dozen writes: each posting (an account"
        " item write, a usage rollup) is then shared by few events. At the target rates every shard's stream"
        f" shard receives hundreds of writes a second, so every trigger batch is full ({TRIGGER_BATCH} shard"
        f" writes, at most {MAX_POSTED_CHANGES:,} changes per posting), and a hundred random choices a second"
        " spread over the shards within a few percent of their share. The last column counts the postings'"
        " measured write units over full groups, and each shard's share of the shards' measured write units"
        " plus 10% (two standard deviations at 2,500 debits/s over 8 shards); everything else as measured.",
        table(
            [
                "Case",
                "Events",
                "Round trips / event",
                "Journal's sequential requests / event",
                "WCU / event (all)",
                "Hottest kept key",
                "WCU / event on it",
                "Hottest kept item",
                "WCU / event on it",
                "Index WCU / event",
                "Life WCU",
                "Writes, $ / million events",
                "Sustained / s (this run)",
                "Sustained / s (full trigger batches)",
            ],
            [
                [
                    r.case,
                    f"{r.events:,}",
                    f"{r.round_trips:.2f}",
                    f"{r.journal_sequential:.3f}",
                    f"{r.write_units:.2f}",
                    f"`{r.hottest_key}`",
                    f"{r.key_wcu:.2f}",
                    f"`{r.hottest_item}`",
                    f"{r.item_wcu:.2f}",
                    f"{r.index_wcu:.2f}",
                    f"{r.own_key_life_wcu:,.0f}",
                    f"${prices.DYNAMODB_WRITE.of(r.write_units * 1_000_000):.2f}",
                    f"{r.sustained:,}",
                    f"**{r.sustained_full_batches:,}**",
                ]
                for r in rows
            ],
        ),
        table(["Target", "Measured", ""], _hot_targets(rows)),
        "With shards and entry blocks, what limits a hot account is its hottest shard item (its share of the"
        " debits) and its account partition (postings, rollups, lending); more shards raise the first.",
        "The journal takes the account item's records one after another (one stream shard, in order), so its"
        " requests per event on that path bound how fast it numbers one account's history: a hot account's"
        " posting puts its entries and the numbered entries beside their records 25 per request, several"
        " requests side by side, instead of one update per event.",
    )


def _hot_targets(rows: list[HotRow]) -> list[list[str]]:
    single = next(r for r in rows if r.shards and r.case.startswith("single"))
    batched = next(r for r in rows if r.shards and r.case.startswith("batches"))
    return [
        [
            f"hot account: ≥ {HOT_DEBITS_TARGET:,} single debits/s",
            f"{single.sustained_full_batches:,}/s",
            mark(single.sustained_full_batches >= HOT_DEBITS_TARGET),
        ],
        [
            f"hot account: ≥ {HOT_EVENTS_TARGET:,} batched usage events/s",
            f"{batched.sustained_full_batches:,}/s",
            mark(batched.sustained_full_batches >= HOT_EVENTS_TARGET),
        ],
    ]
