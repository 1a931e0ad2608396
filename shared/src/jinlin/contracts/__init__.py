"""Each service's NATS contract as documents: an AsyncAPI 3.0 document and a JSON Schema per event.

A service declares a :class:`ServiceContract` (its ``EventRegistry``, the aggregate each event belongs to, and the
events of other services it consumes) in ``<package>.contracts`` as ``CONTRACT``. From it come
``docs/events/<service>/asyncapi.json``, ``docs/events/<service>/<EventName>.v<N>.schema.json`` and the shared
``docs/events/cloudevent.schema.json``. ``python -m jinlin.contracts <service>`` rewrites them; each service has a
test that fails, with a diff, when the checked-in files drift from the code (:func:`drift`).

Why the documents are built here and not by FastStream (0.7.8), which ADR 4 had planned to use: FastStream's
AsyncAPI 3 export cannot state the contract consumers depend on.

- No channel parameters: an address such as ``jinlin.complaints.complaint.{complaint_id}.filed`` comes out without
  the ``parameters`` object that AsyncAPI 3 requires for it (the field is commented out in FastStream's model).
- No message headers and no content type: the ``Content-Type: application/cloudevents+json`` and ``Nats-Msg-Id``
  headers cannot be declared, and every message claims ``application/json``.
- A correlation id that does not exist: each message names ``$message.header#/correlation_id`` (FastStream's own
  header, which the relay never sends) instead of the CloudEvent's ``caseid``.
- Bindings and protocol versions ``"custom"``; subscribers need a handler function to be described at all; and
  the dead-letter channel has no place.

A document with those faults passes the AsyncAPI JSON Schema yet misleads every reader, so the document is built
from the same :class:`~jinlin.events.EventRegistry` the store and the relay use, and checked against the official
AsyncAPI 3.0.0 JSON Schema and for declared parameters by the tests.
"""

from jinlin.contracts.asyncapi import asyncapi_document, dangling_references, undeclared_parameters
from jinlin.contracts.files import drift, render, write
from jinlin.contracts.model import Aggregate, ConsumedEvent, Consumption, ServiceContract, address_parameters
from jinlin.contracts.schemas import draft_7_violations, envelope_schema

__all__ = [
    "Aggregate",
    "ConsumedEvent",
    "Consumption",
    "ServiceContract",
    "address_parameters",
    "asyncapi_document",
    "dangling_references",
    "draft_7_violations",
    "drift",
    "envelope_schema",
    "render",
    "undeclared_parameters",
    "write",
]
