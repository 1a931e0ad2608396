"""The service's event registry and the aggregates whose streams its events belong to.

NATS subject of an event: ``jinlin.escrow.<aggregate>.<aggregate_id>.<subject_token>``, where the aggregate is one of:

==============  ==================  ===================================================================
aggregate       id                  holds
==============  ==================  ===================================================================
``account``     the account id      one escrow account: lifecycle, holds, ledger, disbursements
``household``   the household id    one household's fee schedules, meter readings and bills
``handover``    the compound id     one compound's direct-supply electricity handover
``statement``   the account id      the chain of statements issued for one escrow account
==============  ==================  ===================================================================

Statements have their own aggregate so that the notary's NATS user, limited to ``jinlin.escrow.statement.>``,
reads statements and nothing else. (The ``noqa: S105`` on each ``subject_token`` in the event modules is for
bandit's guess that a name containing "token" holds a secret; a subject token is public.)
"""

from typing import Final

from jinlin.events import EventRegistry

SERVICE: Final = "escrow"

ACCOUNT: Final = "account"
HOUSEHOLD: Final = "household"
HANDOVER: Final = "handover"
STATEMENT: Final = "statement"

registry = EventRegistry(SERVICE)
