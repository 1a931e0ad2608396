"""The mediation service's NATS contract: what it publishes on ``jinlin.mediation.>`` and what it consumes.

``python -m jinlin.contracts mediation`` writes it to ``docs/events/``; a test fails when those files drift.
"""

from jinlin.contracts import Aggregate, ConsumedEvent, Consumption, ServiceContract
from mediation.application import escalations
from mediation.application.escalations import EscalationData
from mediation.application.fulfilments import durables
from mediation.domain import AGGREGATE, SERVICE, CaseEvent, registry

VERSION = "1.1.0"
"""The version of the contract (not of the code): bump the major part for a change consumers must follow."""

COMPLAINTS_STREAM = "COMPLAINTS"


def _case_events() -> list[type[CaseEvent]]:
    return [model for model in registry.models() if issubclass(model, CaseEvent)]


def _fulfilments() -> list[Consumption]:
    return [
        Consumption(
            durable=durable,
            stream=stream,
            filter_subjects=tuple(event.filter_subject for event in events),
            description="Events of another service that fulfil agreement terms naming them (Term.fulfilled_by: "
            "service, event_type, match). Only open obligations of agreements in effect are fulfilled, each once; "
            "an event recorded before the agreement took effect fulfils none of its terms. An event of an unknown "
            "type or version, or without the fields its schema requires, is dead-lettered.",
            events=[
                ConsumedEvent(
                    event_type=event.event_type,
                    address=event.address,
                    parameters=dict(event.parameters),
                    data_model=event.data_model,
                    summary=event.summary,
                )
                for event in events
            ],
        )
        for durable, stream, events in durables()
    ]


CONTRACT = ServiceContract(
    service=SERVICE,
    title="jinlin mediation: events",
    version=VERSION,
    description=(
        "What the mediation service (people's mediation: cases, consultation meetings, the agreement and the "
        "obligations someone carries out) publishes on its MEDIATION stream, and what it consumes: the complaints "
        "desk's escalations, which open cases, and other services' events that fulfil agreement terms. Every "
        "message is a CloudEvent whose caseid is the case id (for a referred case, the complaints desk's case id). "
        "Residents appear only as a person reference and a sealed name (`person_name_enc`); a party's access to their "
        "own case only as the SHA-256 of its secret (`token_sha256`). See docs/events/README.md."
    ),
    registry=registry,
    aggregates=[
        Aggregate(
            token=AGGREGATE,
            id_name="case_id",
            id_description="The case's id (the complaints desk's case id for a referral, m-<yyyymmdd>-<hex> for a "
            "direct application), also the CloudEvent subject and caseid.",
            events=_case_events(),
        )
    ],
    consumes=[
        Consumption(
            durable=escalations.DURABLE,
            stream=COMPLAINTS_STREAM,
            filter_subjects=(escalations.FILTER,),
            description="Each escalation opens the case named by its case_id once: the other complaints of the same "
            "escalation, and redeliveries, open nothing more, whatever state the case is in (a complaint the case did "
            "not have yet joins it, ComplaintsJoinedCase; a case declined or ended without agreement is reopened, "
            "CaseReopened). An escalation that brings complaints to a case whose agreement already took effect, or "
            "one that is not valid, is dead-lettered.",
            events=[
                ConsumedEvent(
                    event_type=escalations.ESCALATED,
                    address=escalations.ADDRESS,
                    parameters={"complaint_id": "The escalated complaint (one event per complaint of the case)."},
                    data_model=EscalationData,
                    summary="A complaint (with the rest of its case) was escalated to mediation: opens the case "
                    "(CaseOpened, caseid = data.case_id, causationid = this event's id) with the parties as named, "
                    "sealed names copied as they are.",
                )
            ],
        ),
        *_fulfilments(),
    ],
    servers={
        "embedded": {
            "host": "127.0.0.1:14222",
            "protocol": "nats",
            "description": "The nats-server `jinlin up` starts (docker compose: nats:4222, with per-service users).",
        }
    },
)
