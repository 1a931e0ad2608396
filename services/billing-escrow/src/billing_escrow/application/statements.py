"""Issuing the notary's statements of an escrow account.

- **Periodic**, for a month: the books are closed through the month's last day (in the same transaction, if they
  are not yet), then the statement covers the days from the end of the previous periodic statement (or the day the
  account was opened) to that last day. Months are stated in order: asking for a later month while an earlier one is
  unstated is refused, naming the month to state first.
- **On demand**, for any days since the account was opened; over days whose books are still open it is provisional.

A statement's id is the caller's, or derived from what was asked, so that a retry finds the statement it already
issued: a periodic one from the account and the month; an on-demand one also from the account's version, so that
asking again after new bookings issues a new statement. Ids are unique across accounts (``GET /statements/{id}``).
The ``StatementIssued`` event carries the center's Ed25519 signature of the statement (signed here, before it is
appended) and is published by the relay on ``jinlin.escrow.statement.<account_id>.issued``.
"""

import hashlib
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import select

from billing_escrow.application.context import EscrowContext
from billing_escrow.application.statement_views import statement_view
from billing_escrow.domain import (
    IdempotencyConflict,
    InvalidTransition,
    StatementKind,
    ValidationFailed,
    close_books,
    first_day,
    issue_statement,
    last_day,
    period_of,
)
from jinlin.store import Transaction


@dataclass(frozen=True)
class StatementRequest:
    kind: StatementKind
    period: str | None = None  # periodic: the month, YYYY-MM
    period_start: date | None = None  # on demand
    period_end: date | None = None
    statement_id: str | None = None


def derived_statement_id(*parts: object) -> str:
    return "st-" + hashlib.sha256("|".join(str(part) for part in parts).encode()).hexdigest()[:24]


async def _owner_of(tx: Transaction, statement_id: str) -> str | None:
    query = select(statement_view.c.account_id).where(statement_view.c.statement_id == statement_id)
    return (await tx.connection.execute(query)).scalar()


async def issue(
    tx: Transaction, context: EscrowContext, account_id: str, request: StatementRequest, at: datetime
) -> str:
    """Issue the statement asked for (or find it, on a retry); its id."""
    account = await context.accounts.get(tx.connection, account_id)
    chain = await context.statements.load(tx.connection, account_id)
    if request.kind is StatementKind.PERIODIC:
        if request.period is None or request.period_start is not None or request.period_end is not None:
            raise ValidationFailed.single("period", "a periodic statement is asked for by its month alone")
        end = last_day(request.period)
        statement_id = request.statement_id or derived_statement_id(account_id, "periodic", request.period)
    else:
        if request.period_start is None or request.period_end is None or request.period is not None:
            raise ValidationFailed.single(
                "period_start", "an on-demand statement is asked for by its first and last day"
            )
        end = request.period_end
        statement_id = request.statement_id or derived_statement_id(
            account_id, "on_demand", request.period_start, request.period_end, account.version
        )
    owner = await _owner_of(tx, statement_id)
    if owner is not None and owner != account_id:
        raise IdempotencyConflict("statement", statement_id, "is the id of another account's statement")
    if chain is not None and chain.find(statement_id) is not None:
        return statement_id  # a retry
    if request.kind is StatementKind.PERIODIC:
        assert request.period is not None
        closing = close_books(account, through=end, at=at)
        account = await context.accounts.record(tx, account_id, account, closing) or account
        last = chain.last_periodic if chain is not None else None
        start = (
            last.period_end + timedelta(days=1)
            if last is not None
            else (account.notary.opened_on if account.notary else first_day(request.period))
        )
        if start > end:
            raise InvalidTransition(
                "issue the periodic statement", f"the account is stated through {start - timedelta(days=1)}"
            )
        if start < first_day(request.period):
            raise InvalidTransition(
                "issue the periodic statement",
                f"{period_of(start)} is not stated yet",
                f"issue {period_of(start)} first",
            )
    else:
        assert request.period_start is not None
        start = request.period_start
    issued = issue_statement(
        chain, account, statement_id=statement_id, kind=request.kind, period_start=start, period_end=end, at=at
    )
    from billing_escrow.statements.render import sign_statement_event

    key = context.signing_key()
    await context.statements.record(tx, account_id, chain, [sign_statement_event(event, key) for event in issued])
    return statement_id
