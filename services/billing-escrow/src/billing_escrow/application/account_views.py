"""The escrow accounts' read models, kept in step with the account streams in the same transaction.

- ``escrow_account_view``: one row per account: its status, terms, notary file and current balances.
- ``escrow_posting_view``: the journal, one row per posting, with its effect on the bank balance.
- ``escrow_household_movement_view``: the sub-ledgers, one row per posting and household: the change to the
  household's free and reserved money, and what the posting's document says it did to the household. Balances as
  of any date are sums of these rows up to that booking date.
- ``escrow_disbursement_view``: one row per payment out, with the roles whose signature it still lacks.
"""

from sqlalchemy import BigInteger, Boolean, Column, Index, Integer, MetaData, String, Table, Text

from billing_escrow.application.folding import Aggregate, FoldingProjection
from billing_escrow.application.rows import Writes, as_json, day, instant, tokens
from billing_escrow.domain import (
    ACCOUNT,
    ESCROW_BANK,
    AccountState,
    Disbursement,
    DisbursementExecuted,
    DisbursementExpired,
    DisbursementRequested,
    DisbursementSigned,
    DisbursementVoided,
    MovementKind,
    Posting,
    apply_account,
)
from billing_escrow.domain.ledger import HOUSEHOLD_PREFIX, household_of, normal_balance
from jinlin.events import DomainEvent
from jinlin.store import StoredEvent

metadata = MetaData()

ACCOUNTS: Aggregate[AccountState] = Aggregate(ACCOUNT, apply_account)

account_view = Table(
    "escrow_account_view",
    metadata,
    Column("account_id", String(100), primary_key=True),
    Column("compound_id", String(100), nullable=False, index=True),
    Column("purpose", String(20), nullable=False),
    Column("status", String(20), nullable=False, index=True),
    Column("required_roles", String(200), nullable=False),
    Column("notary", Text),  # JSON: the notary file, once opened
    Column("holds", Text, nullable=False),  # JSON list
    Column("held_fen", BigInteger, nullable=False),
    Column("reserved_fen", BigInteger, nullable=False),
    Column("available_fen", BigInteger, nullable=False),
    Column("pending_disbursements", Integer, nullable=False),
    Column("books_closed_through", String(10)),
    Column("requested_at", String(32), nullable=False),
    Column("closed_at", String(32)),
    Column("version", Integer, nullable=False),
    Column("updated_at", String(32), nullable=False),
)

posting_view = Table(
    "escrow_posting_view",
    metadata,
    Column("account_id", String(100), primary_key=True),
    Column("movement_id", String(100), primary_key=True),
    Column("kind", String(20), primary_key=True),
    Column("booked_on", String(10), nullable=False),
    Column("recorded_at", String(32), nullable=False),
    Column("bank_change_fen", BigInteger, nullable=False),  # + money in, − money out, 0 between sub-ledgers
    Column("counterparty_id", String(100)),
    Column("counterparty_name", String(200)),
    Column("reference", String(140)),
    Column("channel", String(20)),
    Column("reverses", String(100)),
    Column("condition_code", String(100)),
    Column("memo", Text, nullable=False),
    Column("sequence", BigInteger, nullable=False),  # position in the log: the order postings were recorded in
)
Index("ix_escrow_posting_view_booked", posting_view.c.account_id, posting_view.c.booked_on)

# What a posting means for a household's money, by kind (a reversal follows what it reverses: one that moves bank
# money undoes a payment in, one that does not undoes a reallocation).
PAID_IN, REALLOCATED, PAID_OUT, RESERVED, RELEASED = "paid_in", "reallocated", "paid_out", "reserved", "released"

household_movement_view = Table(
    "escrow_household_movement_view",
    metadata,
    Column("account_id", String(100), primary_key=True),
    Column("movement_id", String(100), primary_key=True),
    Column("kind", String(20), primary_key=True),
    Column("household_id", String(100), primary_key=True),
    Column("category", String(20), nullable=False),
    Column("booked_on", String(10), nullable=False),
    Column("recorded_at", String(32), nullable=False),
    Column("free_change_fen", BigInteger, nullable=False),
    Column("reserved_change_fen", BigInteger, nullable=False),
    Column("effect_fen", BigInteger, nullable=False),  # what the document says: + credited, − charged
    Column("reference", String(140)),
    Column("memo", Text, nullable=False),
    Column("sequence", BigInteger, nullable=False),
)
Index(
    "ix_escrow_household_movement_view_household",
    household_movement_view.c.account_id,
    household_movement_view.c.household_id,
    household_movement_view.c.booked_on,
)
Index("ix_escrow_household_movement_view_by_household", household_movement_view.c.household_id)

disbursement_view = Table(
    "escrow_disbursement_view",
    metadata,
    Column("account_id", String(100), primary_key=True),
    Column("disbursement_id", String(100), primary_key=True),
    Column("compound_id", String(100), nullable=False, index=True),
    Column("purpose", String(20), nullable=False),
    Column("status", String(20), nullable=False, index=True),
    Column("amount_fen", BigInteger, nullable=False),
    Column("payee", Text, nullable=False),  # JSON
    Column("condition_code", String(100), nullable=False, index=True),
    Column("condition_text", Text, nullable=False),
    Column("evidence", Text, nullable=False),  # JSON list
    Column("charges", Text, nullable=False),  # JSON list
    Column("requested_by", String(100), nullable=False),
    Column("required_roles", String(200), nullable=False),
    Column("missing_roles", String(200), nullable=False),  # ",notary," while the notary has not signed
    Column("signatures", Text, nullable=False),  # JSON list
    Column("fully_signed", Boolean, nullable=False),
    Column("expires_at", String(32), nullable=False, index=True),
    Column("requested_at", String(32), nullable=False),
    Column("resolved_at", String(32)),
    Column("executed_on", String(10)),
    Column("bank_reference", String(140)),
    Column("void_reason", Text),
    Column("account_version", Integer, nullable=False),
)

_DISBURSEMENT_EVENTS = (
    DisbursementRequested,
    DisbursementSigned,
    DisbursementExecuted,
    DisbursementVoided,
    DisbursementExpired,
)


def account_row(state: AccountState) -> dict[str, object]:
    notary = state.notary
    return {
        "account_id": state.account_id,
        "compound_id": state.compound_id,
        "purpose": state.purpose.value,
        "status": state.status.value,
        "required_roles": tokens(state.terms.required_roles),
        "notary": None
        if notary is None
        else as_json(
            {
                "notary_reference": notary.notary_reference,
                "supervising_notary_id": notary.supervising_notary_id,
                "supervising_notary_name": notary.supervising_notary_name,
                "bank_account": notary.bank_account.model_dump(mode="json"),
                "opened_at": instant(notary.opened_at),
            }
        ),
        "holds": as_json(
            [
                {"hold_id": h.hold_id, "reason": h.reason, "placed_at": instant(h.placed_at)}
                for h in sorted(state.holds.values(), key=lambda h: h.placed_at)
            ]
        ),
        "held_fen": state.held,
        "reserved_fen": state.reserved,
        "available_fen": state.available,
        "pending_disbursements": len(state.pending_disbursements),
        "books_closed_through": day(state.books_closed_through),
        "requested_at": instant(state.requested_at),
        "closed_at": instant(state.closed_at),
        "version": state.version,
        "updated_at": instant(state.updated_at),
    }


def disbursement_row(state: AccountState, disbursement: Disbursement) -> dict[str, object]:
    order = disbursement.order
    return {
        "account_id": state.account_id,
        "disbursement_id": disbursement.disbursement_id,
        "compound_id": state.compound_id,
        "purpose": state.purpose.value,
        "status": disbursement.status.value,
        "amount_fen": disbursement.amount_fen,
        "payee": as_json(order.payee.model_dump(mode="json")),
        "condition_code": order.condition.code,
        "condition_text": order.condition.text,
        "evidence": as_json(list(order.evidence)),
        "charges": as_json([c.model_dump(mode="json") for c in disbursement.charges]),
        "requested_by": order.requested_by,
        "required_roles": tokens(disbursement.required_roles),
        "missing_roles": tokens(disbursement.missing_roles if disbursement.is_pending else ()),
        "signatures": as_json([s.model_dump(mode="json") for s in disbursement.signatures]),
        "fully_signed": disbursement.fully_signed,
        "expires_at": instant(disbursement.expires_at),
        "requested_at": instant(disbursement.requested_at),
        "resolved_at": instant(disbursement.resolved_at),
        "executed_on": day(disbursement.executed_on),
        "bank_reference": disbursement.bank_reference,
        "void_reason": disbursement.void_reason,
        "account_version": state.version,
    }


def category_of(posting: Posting) -> str:
    match posting.kind:
        case MovementKind.PAYMENT_IN:
            return PAID_IN
        case MovementKind.REALLOCATION:
            return REALLOCATED
        case MovementKind.REVERSAL:
            return PAID_IN if posting.touches_bank else REALLOCATED
        case MovementKind.RESERVATION:
            return RESERVED
        case MovementKind.RELEASE:
            return RELEASED
        case _:
            return PAID_OUT


def household_changes(posting: Posting) -> dict[str, tuple[int, int, int]]:
    """Per household: the change to its free money, to its reserved money, and the document's effect on it."""
    changes: dict[str, list[int]] = {}
    for leg in posting.legs:
        household = household_of(leg.account)
        if household is None:
            continue
        slot = 0 if leg.account.startswith(HOUSEHOLD_PREFIX) else 1
        changes.setdefault(household, [0, 0, 0])[slot] += normal_balance(leg.account, leg.signed)
    for effect in posting.household_effects:
        changes.setdefault(effect.household_id, [0, 0, 0])[2] += effect.amount_fen
    return {household: (free, reserved, effect) for household, (free, reserved, effect) in changes.items()}


class AccountProjection(FoldingProjection[AccountState]):
    name = "escrow_accounts"
    aggregate = ACCOUNTS
    tables = (account_view, posting_view, household_movement_view, disbursement_view)

    def update(
        self,
        writes: Writes,
        stored: StoredEvent,
        event: DomainEvent,
        before: AccountState | None,
        after: AccountState,
    ) -> None:
        writes.upsert(account_view, account_row(after), ["account_id"])
        if len(after.postings) > (len(before.postings) if before is not None else 0):
            self._post(writes, after.account_id, after.postings[-1], stored.sequence)
        if isinstance(event, _DISBURSEMENT_EVENTS):
            disbursement = after.disbursements[event.disbursement_id]
            writes.upsert(disbursement_view, disbursement_row(after, disbursement), ["account_id", "disbursement_id"])

    def _post(self, writes: Writes, account_id: str, posting: Posting, sequence: int) -> None:
        common = {
            "account_id": account_id,
            "movement_id": posting.movement_id,
            "kind": posting.kind.value,
            "booked_on": day(posting.booked_on),
            "recorded_at": instant(posting.recorded_at),
            "reference": posting.reference,
            "memo": posting.memo,
            "sequence": sequence,
        }
        writes.insert(
            posting_view,
            {
                **common,
                "bank_change_fen": normal_balance(ESCROW_BANK, posting.effect_on(ESCROW_BANK)),
                "counterparty_id": posting.counterparty_id,
                "counterparty_name": posting.counterparty_name,
                "channel": posting.channel.value if posting.channel else None,
                "reverses": posting.reverses,
                "condition_code": posting.condition.code if posting.condition else None,
            },
        )
        category = category_of(posting)
        writes.insert(
            household_movement_view,
            *(
                {
                    **common,
                    "household_id": household,
                    "category": category,
                    "free_change_fen": free,
                    "reserved_change_fen": reserved,
                    "effect_fen": effect,
                }
                for household, (free, reserved, effect) in sorted(household_changes(posting).items())
            ),
        )
