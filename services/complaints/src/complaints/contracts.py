"""The complaints service's NATS contract: what it publishes on ``jinlin.complaints.>`` and what it consumes.

``python -m jinlin.contracts complaints`` writes it to ``docs/events/``; a test fails when those files drift.
"""

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from complaints.application.mediation_outcomes import (
    AGREEMENT_TOOK_EFFECT,
    DURABLE,
    ENDED_WITHOUT_AGREEMENT,
)
from complaints.domain import AGGREGATE, SERVICE, ComplaintEvent, registry
from complaints.domain.erasure import PERSON_AGGREGATE, PersonalDataErased
from complaints.domain.identifiers import Identifier
from jinlin.contracts import Aggregate, ConsumedEvent, Consumption, ServiceContract

VERSION = "1.0.0"
"""The version of the contract (not of the code): bump the major part for a change consumers must follow."""

MEDIATION_STREAM = "MEDIATION"
CASE_PARAMETER = {"case_id": "The mediation case (the caseid the complaints were escalated with)."}


class AgreementTookEffectData(BaseModel):
    """The fields of the mediation service's AgreementTookEffect that complaints acts on; it may carry more."""

    model_config = ConfigDict(extra="allow", title="AgreementTookEffect (as complaints reads it)")

    agreement_id: Identifier
    complaint_ids: Annotated[list[Identifier], Field(min_length=1)]


class CaseEndedWithoutAgreementData(BaseModel):
    """The fields of the mediation service's CaseEndedWithoutAgreement that complaints acts on; it may carry more."""

    model_config = ConfigDict(extra="allow", title="CaseEndedWithoutAgreement (as complaints reads it)")

    complaint_ids: Annotated[list[Identifier], Field(min_length=1)]
    reason: str = Field(default="", description="Recorded on each complaint (the first 2000 characters).")


def _complaint_events() -> list[type[ComplaintEvent]]:
    return [model for model in registry.models() if issubclass(model, ComplaintEvent)]


CONTRACT = ServiceContract(
    service=SERVICE,
    title="jinlin complaints: events",
    version=VERSION,
    description=(
        "What the complaints service (intake to call-back, 12345 referrals, the Open311 face) publishes on its "
        "COMPLAINTS stream, and the mediation outcomes it acts on. Every message is a CloudEvent whose caseid is the "
        "complaint's case; residents' names and phone numbers appear only sealed (`*_enc`) with a person reference, "
        "unreadable once the person's key is erased. See docs/events/README.md."
    ),
    registry=registry,
    aggregates=[
        Aggregate(
            token=AGGREGATE,
            id_name="complaint_id",
            id_description="The complaint's id (c-<yyyymmdd>-<hex>), also the CloudEvent subject.",
            events=_complaint_events(),
        ),
        Aggregate(
            token=PERSON_AGGREGATE,
            id_name="person_ref",
            id_description="A person's reference (the id of their encryption key), also the CloudEvent subject.",
            events=[PersonalDataErased],
        ),
    ],
    consumes=[
        Consumption(
            durable=DURABLE,
            stream=MEDIATION_STREAM,
            filter_subjects=("jinlin.mediation.>",),
            description="Other mediation events are acknowledged and ignored. A complaint no longer in mediation is "
            "left as it is, so a late or repeated outcome changes nothing.",
            events=[
                ConsumedEvent(
                    event_type=AGREEMENT_TOOK_EFFECT,
                    address="jinlin.mediation.case.{case_id}.agreement_took_effect",
                    parameters=CASE_PARAMETER,
                    data_model=AgreementTookEffectData,
                    summary="An agreement took effect: each listed complaint still in mediation is resolved by "
                    "agreement (ComplaintResolvedByAgreement) and its call-back is due.",
                ),
                ConsumedEvent(
                    event_type=ENDED_WITHOUT_AGREEMENT,
                    address="jinlin.mediation.case.{case_id}.ended_without_agreement",
                    parameters=CASE_PARAMETER,
                    data_model=CaseEndedWithoutAgreementData,
                    summary="Mediation ended without agreement: each listed complaint still in mediation goes back to "
                    "its handler with a fresh deadline (ComplaintReturnedFromMediation).",
                ),
            ],
        )
    ],
    servers={
        "embedded": {
            "host": "127.0.0.1:14222",
            "protocol": "nats",
            "description": "The nats-server `jinlin up` starts (docker compose: nats:4222, with per-service users).",
        }
    },
)
