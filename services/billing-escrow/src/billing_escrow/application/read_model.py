"""Every read model of the service, built once per store and shared with the commands (their state caches)."""

from dataclasses import dataclass, field

from billing_escrow.application.account_views import AccountProjection
from billing_escrow.application.handover_views import HandoverProjection
from billing_escrow.application.household_views import HouseholdProjection
from billing_escrow.application.statement_views import StatementProjection
from jinlin.store import EventStore, Projection


@dataclass(frozen=True)
class ReadModels:
    accounts: AccountProjection = field(default_factory=AccountProjection)
    households: HouseholdProjection = field(default_factory=HouseholdProjection)
    handovers: HandoverProjection = field(default_factory=HandoverProjection)
    statements: StatementProjection = field(default_factory=StatementProjection)

    def all(self) -> list[Projection]:
        return [self.accounts, self.households, self.handovers, self.statements]

    @classmethod
    def of(cls, store: EventStore) -> "ReadModels":
        """The read models a store was built with (``bootstrap.build_store``)."""
        found = {type(p): p for p in store.projections}
        try:
            return cls(
                accounts=found[AccountProjection],  # type: ignore[arg-type]
                households=found[HouseholdProjection],  # type: ignore[arg-type]
                handovers=found[HandoverProjection],  # type: ignore[arg-type]
                statements=found[StatementProjection],  # type: ignore[arg-type]
            )
        except KeyError as missing:
            raise ValueError(f"the store was built without the read model {missing}") from None
