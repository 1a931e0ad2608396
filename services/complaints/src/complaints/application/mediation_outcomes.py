"""The policy that follows the mediation service's decisions, consumed from its stream by their published contract.

- ``jinlin.mediation.AgreementTookEffect.v1`` (data: ``agreement_id``, ``complaint_ids``): the linked complaints are
  resolved by agreement, and their call-back is pending.
- ``jinlin.mediation.CaseEndedWithoutAgreement.v1`` (data: ``complaint_ids``, ``reason``): they go back to their
  handler with a fresh deadline.

Every effect is idempotent twice over: the consumer remembers processed event ids, and a complaint no longer in
mediation is left alone.
"""

from collections.abc import Callable
from datetime import datetime
from functools import partial
from typing import Any

from complaints.application.changes import change
from complaints.application.context import ComplaintsContext
from complaints.application.loading import load_complaint
from complaints.domain import ComplaintEvent, ComplaintState, record_mediation_agreement, return_from_mediation
from complaints.domain.status import Status
from jinlin.events import CloudEvent
from jinlin.messaging import PermanentError
from jinlin.runtime.service_runtime import Subscription
from jinlin.store import Transaction

AGREEMENT_TOOK_EFFECT = "jinlin.mediation.AgreementTookEffect.v1"
ENDED_WITHOUT_AGREEMENT = "jinlin.mediation.CaseEndedWithoutAgreement.v1"
DURABLE = "complaints-mediation-outcomes"

Decide = Callable[[ComplaintState, datetime], list[ComplaintEvent]]


def _complaint_ids(data: dict[str, Any]) -> list[str]:
    ids = data.get("complaint_ids")
    if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
        raise PermanentError("complaint_ids is missing or not a list of ids")
    return ids


class MediationOutcomes:
    def __init__(self, context: ComplaintsContext) -> None:
        self.context = context

    async def __call__(self, tx: Transaction, event: CloudEvent) -> None:
        if event.type == AGREEMENT_TOOK_EFFECT:
            agreement_id = event.data.get("agreement_id")
            if not isinstance(agreement_id, str):
                raise PermanentError("agreement_id is missing")
            await self._each_escalated(
                tx,
                _complaint_ids(event.data),
                lambda state, at: record_mediation_agreement(state, agreement_id=agreement_id, at=at),
            )
        elif event.type == ENDED_WITHOUT_AGREEMENT:
            reason = str(event.data.get("reason") or "")[:2000]
            await self._each_escalated(
                tx, _complaint_ids(event.data), lambda state, at: return_from_mediation(state, reason=reason, at=at)
            )

    async def _each_escalated(self, tx: Transaction, complaint_ids: list[str], decide: Decide) -> None:
        for complaint_id in complaint_ids:
            state = await load_complaint(tx, complaint_id)
            if state is None or state.status is not Status.ESCALATED:
                continue
            at = max(self.context.clock(), state.updated_at)
            await change(tx, complaint_id, partial(_decide_at, decide, at))


def _decide_at(decide: Decide, at: datetime, state: ComplaintState) -> list[ComplaintEvent]:
    return decide(state, at)


def mediation_subscription(stream: str, context: ComplaintsContext) -> Subscription:
    return Subscription(
        durable=DURABLE,
        stream=stream,
        filter_subjects=("jinlin.mediation.>",),
        handler=MediationOutcomes(context),
    )
