"""The billing-escrow service's NATS contract: what it publishes on ``jinlin.escrow.>``. It consumes nothing.

``python -m jinlin.contracts billing-escrow`` writes it to ``docs/events/``; a test fails when those files drift.
Two parts matter most to others: ``jinlin.escrow.handover.<compound_id>.arrears_paid`` (the mediation service
fulfils an agreement's term with it, matching ``compound_id``), and ``jinlin.escrow.statement.<account_id>.issued``
(the notary's NATS user reads these and nothing else).
"""

from billing_escrow.domain.account_events import AccountEvent
from billing_escrow.domain.events import ACCOUNT, HANDOVER, HOUSEHOLD, SERVICE, STATEMENT, registry
from billing_escrow.domain.handover_events import HandoverEvent
from billing_escrow.domain.household_events import HouseholdEvent
from billing_escrow.domain.statement_events import StatementEvent
from jinlin.contracts import Aggregate, ServiceContract
from jinlin.events import DomainEvent

VERSION = "1.0.0"
"""The version of the contract (not of the code): bump the major part for a change consumers must follow."""


def _events_of(base: type[DomainEvent]) -> list[type[DomainEvent]]:
    return [model for model in registry.models() if issubclass(model, base)]


CONTRACT = ServiceContract(
    service=SERVICE,
    title="jinlin billing-escrow: events",
    version=VERSION,
    description=(
        "What the billing-escrow service publishes on its ESCROW stream: escrow accounts under the notary's "
        "supervision and their double-entry ledger (money in integer fen of CNY), households' bills, the "
        "direct-supply electricity handover of a compound, and the signed statements for the notary. "
        "See docs/events/README.md."
    ),
    registry=registry,
    aggregates=[
        Aggregate(
            token=ACCOUNT,
            id_name="account_id",
            id_description="The escrow account's id, also the CloudEvent subject.",
            events=_events_of(AccountEvent),
        ),
        Aggregate(
            token=HOUSEHOLD,
            id_name="household_id",
            id_description="The household's id, also the CloudEvent subject.",
            events=_events_of(HouseholdEvent),
        ),
        Aggregate(
            token=HANDOVER,
            id_name="compound_id",
            id_description="The compound whose supply is handed over to the power company, also the subject.",
            events=_events_of(HandoverEvent),
        ),
        Aggregate(
            token=STATEMENT,
            id_name="account_id",
            id_description="The escrow account the statements are for (the notary reads only these subjects).",
            events=_events_of(StatementEvent),
        ),
    ],
    consumes=[],
    servers={
        "embedded": {
            "host": "127.0.0.1:14222",
            "protocol": "nats",
            "description": "The nats-server `jinlin up` starts (docker compose: nats:4222, with per-service users).",
        }
    },
)
