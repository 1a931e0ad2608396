"""The chain of statements issued for one escrow account (aggregate ``statement``, id = the account id).

Rules of issuing:

- the account was opened at the notary office; the period lies within the days since, and is over or is today;
- a **periodic** statement covers days whose books are closed (``close_books``), and starts the day after the previous
  periodic statement ended (the first one: the day the account was opened), so no day is ever left unstated;
- an **on-demand** statement may cover any such period; over days whose books are still open it is ``provisional``;
- sequence numbers count from 1 without gaps; each statement carries the hash of the one before (64 zeros for the
  first), so the chain shows a statement that is missing, altered or out of order;
- the same ``statement_id`` issued again for the same period and kind records nothing (a retry).
"""

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta

from billing_escrow.domain.account_state import AccountState
from billing_escrow.domain.commanding import coerce, in_order
from billing_escrow.domain.errors import HistoryError, IdempotencyConflict, InvalidTransition, ValidationFailed
from billing_escrow.domain.identifiers import require_identifier
from billing_escrow.domain.statement import StatementKind, statement_hash
from billing_escrow.domain.statement_builder import build_statement
from billing_escrow.domain.statement_events import StatementIssued
from billing_escrow.domain.utc import business_date, require_date, require_utc
from jinlin.events import GENESIS_HASH, DomainEvent


@dataclass(frozen=True)
class IssuedStatement:
    statement_id: str
    sequence: int
    kind: StatementKind
    period_start: date
    period_end: date
    statement_hash: str


@dataclass(frozen=True)
class StatementChainState:
    account_id: str
    version: int
    updated_at: datetime
    issued: tuple[IssuedStatement, ...]

    @property
    def last_hash(self) -> str:
        return self.issued[-1].statement_hash if self.issued else GENESIS_HASH

    @property
    def next_sequence(self) -> int:
        return len(self.issued) + 1

    @property
    def last_periodic(self) -> IssuedStatement | None:
        return next((s for s in reversed(self.issued) if s.kind is StatementKind.PERIODIC), None)

    def find(self, statement_id: str) -> IssuedStatement | None:
        return next((s for s in self.issued if s.statement_id == statement_id), None)


def _issued(event: StatementIssued) -> IssuedStatement:
    return IssuedStatement(
        statement_id=event.statement_id,
        sequence=event.sequence,
        kind=event.statement.kind,
        period_start=event.statement.period_start,
        period_end=event.statement.period_end,
        statement_hash=event.statement_hash,
    )


def apply_statement(state: StatementChainState | None, event: DomainEvent) -> StatementChainState:
    """Fold one statement in, refusing a history whose chain is broken (a damaged or tampered store)."""
    if not isinstance(event, StatementIssued):
        raise HistoryError(f"{type(event).__name__} is not a statement event")
    if state is not None and event.account_id != state.account_id:
        raise HistoryError(f"statement of account {event.account_id} in the chain of {state.account_id}")
    expected_sequence = 1 if state is None else state.next_sequence
    expected_previous = GENESIS_HASH if state is None else state.last_hash
    s = event.statement
    if event.sequence != expected_sequence or s.sequence != event.sequence:
        raise HistoryError(f"statement {event.statement_id} is out of sequence")
    if event.previous_statement_hash != expected_previous or s.previous_statement_hash != expected_previous:
        raise HistoryError(f"statement {event.statement_id} does not chain to its predecessor")
    if statement_hash(s) != event.statement_hash or s.statement_id != event.statement_id:
        raise HistoryError(f"statement {event.statement_id} does not match its hash")
    if s.account_id != event.account_id:
        raise HistoryError(f"statement {event.statement_id} is of another account")
    issued = _issued(event)
    if state is None:
        return StatementChainState(event.account_id, 1, event.occurred_at, (issued,))
    return replace(state, version=state.version + 1, updated_at=event.occurred_at, issued=(*state.issued, issued))


def apply_statement_events(
    state: StatementChainState | None, events: Iterable[DomainEvent]
) -> StatementChainState | None:
    for event in events:
        state = apply_statement(state, event)
    return state


def replay_statements(events: Iterable[DomainEvent]) -> StatementChainState | None:
    """The chain rebuilt from its events; ``None`` when no statement was issued yet (an empty chain is valid)."""
    return apply_statement_events(None, events)


def issue_statement(
    chain: StatementChainState | None,
    account: AccountState,
    *,
    statement_id: str,
    kind: StatementKind,
    period_start: date,
    period_end: date,
    at: datetime,
) -> list[StatementIssued]:
    """Issue the next statement of ``account`` (``chain`` is ``None`` before the first)."""
    at = require_utc(at) if chain is None else in_order(at, chain.updated_at, "statement chain")
    statement_id = require_identifier(statement_id, "statement_id")
    kind = coerce(StatementKind, kind, "kind")
    period_start = require_date(period_start, "period_start")
    period_end = require_date(period_end, "period_end")
    if chain is not None and chain.account_id != account.account_id:
        raise ValidationFailed.single("account", "is not the account of this statement chain")
    earlier = chain.find(statement_id) if chain is not None else None
    if earlier is not None:
        if (earlier.kind, earlier.period_start, earlier.period_end) == (kind, period_start, period_end):
            return []
        raise IdempotencyConflict("statement", statement_id)
    if account.notary is None:
        raise InvalidTransition("issue a statement", f"the account is {account.status}", "it was never opened")
    if period_end < period_start:
        raise ValidationFailed.single("period_end", "is before period_start")
    if period_start < account.notary.opened_on:
        raise ValidationFailed.single("period_start", "is before the account was opened")
    if period_end > business_date(at):
        raise ValidationFailed.single("period_end", "is in the future")
    if kind is StatementKind.PERIODIC:
        closed = account.books_closed_through
        if closed is None or period_end > closed:
            raise InvalidTransition("issue a periodic statement", "the books are open", "close the books first")
        last = chain.last_periodic if chain is not None else None
        expected_start = last.period_end + timedelta(days=1) if last is not None else account.notary.opened_on
        if period_start != expected_start:
            raise ValidationFailed.single("period_start", f"must be {expected_start.isoformat()}, so no day is skipped")
    sequence = chain.next_sequence if chain is not None else 1
    previous = chain.last_hash if chain is not None else GENESIS_HASH
    statement = build_statement(
        account,
        statement_id=statement_id,
        sequence=sequence,
        kind=kind,
        period_start=period_start,
        period_end=period_end,
        previous_statement_hash=previous,
        created_at=at,
    )
    return [
        StatementIssued(
            account_id=account.account_id,
            occurred_at=at,
            statement_id=statement_id,
            sequence=sequence,
            statement_hash=statement_hash(statement),
            previous_statement_hash=previous,
            statement=statement,
        )
    ]
