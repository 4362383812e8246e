"""The table's layout: every item's keys and every index, in one place.

One table. Items by partition key (``pk``) and sort key (``sk``); where the item is written and read is in
the module named last:

    pk                               sk                      item
    -------------------------------  ----------------------  -------------------------------------------------
    ACCOUNT#<id>                     A                       the account item (below; store/account_item.py,
                                                             store/writes.py)
    ACCOUNT#<id>                     AT                      auto top-up settings and state; in index
                                                             ``top_up`` while on (store/top_up_item.py)
    ACCOUNT#<id>                     E#<10^15 - seq>         an entry, newest first in key order (journal.py,
                                                             store/entries.py); in index ``by_type``
    ACCOUNT#<id>                     G#<burn key>            a live grant, in burn order (store/grants.py)
    ACCOUNT#<id>                     H#<hold id>             a hold, and the idempotency record of the request
                                                             that placed it (usecases/hold.py)
    ACCOUNT#<id>                     HX#<expiry>#<hold id>   an open hold, in expiry order (store/holds.py)
    ACCOUNT#<id>                     I#<idempotency key>     an idempotency record of a debit or grant, TTL
                                                             ``ttl`` (usecases/common.py)
    ACCOUNT#<id>                     N#<notification id>     an outbox item, TTL ``ttl`` (events/outbox.py)
    ACCOUNT#<id>                     P#<purchase id>         a purchase (store/purchases.py)
    ACCOUNT#<id>                     R#<grant id>#<days>     an expiry reminder; in index ``due``
                                                             (usecases/reminders.py)
    ACCOUNT#<id>                     RC                      reconciliation's checkpoint (usecases/reconcile.py)
    ACCOUNT#<id>                     U#<yyyy-mm-dd>          a day's usage rollup (journal.py)
    ACCOUNT#<id>                     UB#<batch id>           the changes of a batch of usage events, TTL
                                                             ``ttl`` (store/batches.py)
    ACCOUNT#<id>#I#<key>             I                       a hot account's idempotency record (own_record)
    ACCOUNT#<id>#I#<key>             E                       ... and its numbered entry (numbered_key)
    ACCOUNT#<id>#S<k>                S                       a hot account's spend shard k (store/shards.py)
    ACCOUNT#<id>#S<k>#B#<batch id>   B                       the changes of a shard's write of a batch of usage
                                                             events, TTL ``ttl`` (usecases/debit_many.py)
    ACCOUNT#<id>#S<k>#<first>-<last> P                       the changes of a posting of shard writes
    ACCOUNT#<id>#E<block>            E#<10^15 - seq>         a hot account's entries from ``blocks_from`` on, in
                                                             blocks of BLOCK seqs (store/entries.py)
    STRIPE#<pi_... or cs_...>        STRIPE                  which account and purchase a Stripe object pays
                                                             for (store/purchases.py)
    CHANGED#<day>#<shard>            <account id>            the accounts changed on a day (store/changed.py)
    PARKED                           <where>#<id>            what a reader could not use (store/parked.py)
    RECONCILE                        RUN                     when reconciliation last ran (usecases/reconcile.py)

The account item (``sk = "A"``) holds the account's O(1) state, whatever its age, grants or holds: figures
(balance, held, spendable, lifetime totals), limits, ``seq``, ``unsettled`` (consumption not yet allocated to
grants), the ``due`` guard, daily spend of the last 8 days (sd_<yyyymmdd>), the priorities of its live grants
(``prios``), counters (``grant_items``, ``arrived``, ``settlements``, ``pending``), grants that arrived since
the last settlement (b#<id>: their base, s#<id>: their arrival; at most MAX_PENDING), ``schema`` (the layout's
version) and ``last``: the change(s) the latest write made, for the journal (or, for a batch of usage, the
batch item that holds them).

A live grant's burn key is G#<priority>#<expiry or never>#<source rank>#<created ms>#<grant id>, so within one
priority grants are in expiry order too; a grant used up or expired is deleted by the settlement that finds it
so (its history stays in the entries). "A" sorts just before "AT" and "E#", so one Query from "A" returns the
account item, its auto top-up item and its newest entries; "UB#" sorts after every entry, so never in it.

Indexes (sparse: an item is in one only while it has the index's partition key attribute):

    index     partition key             sort key    projection  what it lists
    --------  ------------------------  ----------  ----------  ----------------------------------------------
    due       due_pk = DUE              due         keys only   accounts with something due (a grant or hold
                                                                expiring) and reminders, by moment
    top_up    top_up_pk = TOPUP         check_at    all         accounts with auto top-up on, by when the
                                                                safety net looks at them next
    by_type   type_pk = ACCOUNT#<id>    sk          all         one type's entries, newest first (a hot
              #<type>                                           account's consumption per block:
                                                                ACCOUNT#<id>#E<block>#consumption)
"""

from __future__ import annotations

import json
import re

from ledger.domain.changes import digest
from ledger.domain.errors import InvalidRequest

SCHEMA_VERSION = 2  # the account layout: grants and holds in their own items

# --- an account's partition -----------------------------------------------------------------------------

ACCOUNT_PREFIX = "ACCOUNT#"
ACCOUNT_ID = re.compile(r"^[^#\x00-\x1f\x7f]{1,128}$")
ACCOUNT_SK = "A"


def account_pk(account_id: str) -> str:
    if not ACCOUNT_ID.match(account_id):
        raise InvalidRequest("account_id must be 1-128 characters, without '#' or control characters")
    return f"{ACCOUNT_PREFIX}{account_id}"


def account_id_of(pk: str) -> str:
    return pk.removeprefix(ACCOUNT_PREFIX)


def account_key(account_id: str) -> dict[str, str]:
    return {"pk": account_pk(account_id), "sk": ACCOUNT_SK}


TOP_UP_SK = "AT"


def top_up_key(account_id: str) -> dict[str, str]:
    return {"pk": account_pk(account_id), "sk": TOP_UP_SK}


SEQ_SPAN = 10**15
ENTRY_PREFIX = "E#"
LAST_ENTRY_SK = ENTRY_PREFIX + "~"  # sorts after every entry: the end of a Query from the account item


def entry_sk(seq: int) -> str:
    return f"{ENTRY_PREFIX}{SEQ_SPAN - seq:015d}"


def seq_of_entry_sk(sk: str) -> int:
    return SEQ_SPAN - int(sk[2:])


GRANT_PREFIX = "G#"
NEVER_EXPIRES = 99_999_999_999  # sorts never-expiring grants after every expiry (epoch seconds, 11 digits)


def grant_range(priority: int) -> str:
    """The prefix of the live grants of one priority (in expiry order within it)."""
    return f"{GRANT_PREFIX}{priority:04d}#"


def grant_sk(priority: int, expires_at: int | None, rank: int, created_at: int, grant_id: str) -> str:
    """A live grant's key: lexicographic order is burn order (see domain/grants.py: burn_key)."""
    expiry = NEVER_EXPIRES if expires_at is None else expires_at
    return f"{grant_range(priority)}{expiry:011d}#{rank}#{created_at:013d}#{grant_id}"


def hold_sk(hold_id: str) -> str:
    return f"H#{hold_id}"


HOLD_EXPIRY_PREFIX = "HX#"


def hold_expiry_sk(expires_at: int, hold_id: str) -> str:
    return f"{HOLD_EXPIRY_PREFIX}{expires_at:011d}#{hold_id}"


def hold_expiry_key(account_id: str, hold_id: str, expires_at: int) -> dict[str, str]:
    return {"pk": account_pk(account_id), "sk": hold_expiry_sk(expires_at, hold_id)}


def idempotency_sk(key: str) -> str:
    return f"I#{key}"


OUTBOX_PREFIX = "N#"


def outbox_sk(notification_id: str) -> str:
    return OUTBOX_PREFIX + notification_id


PURCHASE_PREFIX = "P#"


def purchase_sk(purchase_id: str) -> str:
    return PURCHASE_PREFIX + purchase_id


def purchase_key(account_id: str, purchase_id: str) -> dict[str, str]:
    return {"pk": account_pk(account_id), "sk": purchase_sk(purchase_id)}


REMINDER_PREFIX = "R#"


def reminder_sk(grant_id: str, days: int) -> str:
    return f"{REMINDER_PREFIX}{grant_id}#{days}"


CHECKPOINT_SK = "RC"  # reconciliation's checkpoint in the account's partition


def usage_sk(day: str) -> str:
    return f"U#{day}"


def batch_sk(batch_id: str) -> str:
    return f"UB#{batch_id}"


# --- a hot account's partition keys of their own --------------------------------------------------------

RECORD_SK = "I"


def own_record(key: str) -> str:
    """A record on a partition key of its own (a hot account's usage: store/shards.py), as ``Change.record``
    names it: the suffix of its partition key."""
    return f"#I#{key}"


def record_key(account_id: str, record: str) -> dict[str, str]:
    """The key of the item ``Change.record`` names: a sort key in the account's partition, or (starting with
    ``#``) a partition key of its own."""
    if record.startswith("#"):
        return {"pk": account_pk(account_id) + record, "sk": RECORD_SK}
    return {"pk": account_pk(account_id), "sk": record}


NUMBERED_SK = "E"


def numbered_key(account_id: str, record: str) -> dict[str, str] | None:
    """Where the journal puts the numbered entry of a change whose record has a partition key of its own
    (beside the record, so a retry reads both with one Query); None for a record in the account's partition,
    whose entry the journal sets on the record itself."""
    if not record.startswith("#"):
        return None
    return {"pk": account_pk(account_id) + record, "sk": NUMBERED_SK}


SHARD_SK = "S"


def shard_pk(account_id: str, shard: int) -> str:
    """The partition key of a hot account's spend shard (store/shards.py)."""
    return f"{account_pk(account_id)}#S{shard}"


def shard_key(account_id: str, shard: int) -> dict[str, str]:
    return {"pk": shard_pk(account_id, shard), "sk": SHARD_SK}


def shard_of(pk: str) -> tuple[str, int] | None:
    """(account id, shard) of a shard item's partition key; None for any other key."""
    head, sep, tail = pk.rpartition("#S")
    if not sep or not head.startswith(ACCOUNT_PREFIX) or not tail.isdigit() or "#" in head[8:]:
        return None
    return head.removeprefix(ACCOUNT_PREFIX), int(tail)


def shard_batch_pk(account_id: str, shard: int, batch_id: str) -> str:
    """Where a shard's write of a batch of usage events keeps their changes (sort key SHARD_BATCH_SK)."""
    return f"{shard_pk(account_id, shard)}#B#{batch_id}"


SHARD_BATCH_SK = "B"


def posting_key(account_id: str, shard: int, first: int, last: int) -> dict[str, str]:
    """Where a posting of shard writes ``first``..``last`` keeps their changes: a partition key of its own."""
    return {"pk": f"{shard_pk(account_id, shard)}#{first}-{last}", "sk": "P"}


BLOCK = 200  # seqs per block of a hot account's entries (store/entries.py says why)


def block_pk(account_id: str, block: int) -> str:
    return f"{account_pk(account_id)}#E{block}"


# --- partitions of their own ----------------------------------------------------------------------------

PAYMENT_SK = "STRIPE"


def payment_pk(stripe_id: str) -> str:
    return f"STRIPE#{stripe_id}"


def payment_key(stripe_id: str) -> dict[str, str]:
    return {"pk": payment_pk(stripe_id), "sk": PAYMENT_SK}


def changed_pk(day: str, shard: int) -> str:
    return f"CHANGED#{day}#{shard:02d}"


PARKED_PK = "PARKED"


PARKED_ID = re.compile(r"[A-Za-z0-9_.:-]{1,255}")  # what stands as itself in a parked item's key


def parked_sk(where: str, ident: str) -> str:
    """``<where>#<ident>``; an ident that could not be part of a key as it is (too long, not plain text, a lone
    surrogate) stands as its digest, so whatever a reader was given can be parked."""
    if not PARKED_ID.fullmatch(ident):
        ident = "digest-" + digest(json.dumps(ident))  # json escapes what is not ASCII
    return f"{where}#{ident}"


RUN_PK, RUN_SK = "RECONCILE", "RUN"

# --- indexes --------------------------------------------------------------------------------------------

DUE_INDEX = "due"
DUE_PK = "DUE"  # the value of ``due_pk`` on every item in the index

TOP_UP_INDEX = "top_up"
TOP_UP_INDEX_PK = "TOPUP"  # the value of ``top_up_pk`` on every item in the index

BY_TYPE_INDEX = "by_type"
TYPE_PK = "type_pk"  # the index's partition key attribute


def type_pk(partition: str, entry_type: str) -> str:
    """An entry's partition in ``by_type``: the partition key of its place, then its type."""
    return f"{partition}#{entry_type}"
