"""The statements issued: one row per statement, by its id (unique across accounts). The statement itself is in its
``StatementIssued`` event, which the row points at (its account's statement stream, at version ``sequence``)."""

from sqlalchemy import BigInteger, Boolean, Column, Integer, MetaData, String, Table

from billing_escrow.application.folding import Aggregate, FoldingProjection
from billing_escrow.application.rows import Writes, day, instant
from billing_escrow.domain import STATEMENT, StatementChainState, StatementIssued, apply_statement
from jinlin.events import DomainEvent
from jinlin.store import StoredEvent

metadata = MetaData()


def _apply(state: StatementChainState | None, event: DomainEvent) -> StatementChainState:
    return apply_statement(state, event)


STATEMENTS: Aggregate[StatementChainState] = Aggregate(STATEMENT, _apply)

statement_view = Table(
    "escrow_statement_view",
    metadata,
    Column("statement_id", String(100), primary_key=True),
    Column("account_id", String(100), nullable=False, index=True),
    Column("sequence", Integer, nullable=False),
    Column("kind", String(20), nullable=False),
    Column("provisional", Boolean, nullable=False),
    Column("period_start", String(10), nullable=False),
    Column("period_end", String(10), nullable=False),
    Column("created_at", String(32), nullable=False),
    Column("opening_balance_fen", BigInteger, nullable=False),
    Column("total_credits_fen", BigInteger, nullable=False),
    Column("total_debits_fen", BigInteger, nullable=False),
    Column("closing_balance_fen", BigInteger, nullable=False),
    Column("entries", Integer, nullable=False),
    Column("balanced", Boolean, nullable=False),
    Column("statement_hash", String(64), nullable=False),
    Column("previous_statement_hash", String(64), nullable=False),
    Column("event_id", String(64), nullable=False),
)


class StatementProjection(FoldingProjection[StatementChainState]):
    name = "escrow_statements"
    aggregate = STATEMENTS
    tables = (statement_view,)

    def update(
        self,
        writes: Writes,
        stored: StoredEvent,
        event: DomainEvent,
        before: StatementChainState | None,
        after: StatementChainState,
    ) -> None:
        assert isinstance(event, StatementIssued)  # the chain's fold refused anything else
        s = event.statement
        writes.insert(
            statement_view,
            {
                "statement_id": event.statement_id,
                "account_id": event.account_id,
                "sequence": event.sequence,
                "kind": s.kind.value,
                "provisional": s.provisional,
                "period_start": day(s.period_start),
                "period_end": day(s.period_end),
                "created_at": instant(s.created_at),
                "opening_balance_fen": s.opening_balance_fen,
                "total_credits_fen": s.total_credits_fen,
                "total_debits_fen": s.total_debits_fen,
                "closing_balance_fen": s.closing_balance_fen,
                "entries": len(s.entries),
                "balanced": s.reconciliation.balanced,
                "statement_hash": event.statement_hash,
                "previous_statement_hash": event.previous_statement_hash,
                "event_id": stored.id,
            },
        )
