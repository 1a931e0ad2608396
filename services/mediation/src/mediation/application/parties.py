"""Parties as the desk names them, and their names: sealed with mediation's own vault, opened only for those entitled.

A mediator names a new party as an organisation (in clear) or a person, whose name is sealed at once under a new
person reference with a key of this service: events and read models only ever hold the sealed text. Names that came
with a referral were sealed by the complaints service, whose keys stay there: mediation shows them as withheld.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Final

from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncConnection

from jinlin.store import Transaction
from mediation.application.context import MediationContext
from mediation.domain import PartyDetails, PartyKind, Problem, ValidationFailed
from mediation.domain.parties import Party

WITHHELD: Final = "（已脱敏）"
"""Shown instead of a resident's name: the reader is not entitled, the key is elsewhere, or it was erased."""
NOT_GIVEN: Final = "（未登记姓名）"


@dataclass(frozen=True)
class NamedParty:
    kind: PartyKind
    organisation: str | None = None
    person_name: str | None = None


async def seal_parties(
    tx: Transaction, context: MediationContext, named: Sequence[NamedParty], field: str = "parties"
) -> list[PartyDetails]:
    """Each party as the domain takes it, a person's name sealed under a fresh reference; every problem at once."""
    parties: list[PartyDetails] = []
    problems: list[Problem] = []
    for index, party in enumerate(named):
        where = f"{field}.{index}" if field == "parties" else field
        if party.person_name is not None and party.organisation is not None:
            problems.append(Problem(where, "name either an organisation or a person, not both"))
            continue
        try:
            if party.person_name is not None:
                person_ref = context.vault.new_person_ref()
                sealed = await context.vault.seal(tx.connection, person_ref, party.person_name)
                parties.append(PartyDetails(kind=party.kind, person_ref=person_ref, person_name_enc=sealed))
            else:
                parties.append(PartyDetails(kind=party.kind, organisation=party.organisation))
        except ValidationError as error:
            problems.extend(
                Problem(where, detail["msg"])
                for detail in error.errors(include_url=False, include_input=False, include_context=False)
            )
    if problems:
        raise ValidationFailed(problems)
    return parties


async def opened_name(conn: AsyncConnection, context: MediationContext, party: Party | PartyDetails) -> str | None:
    """The person's name when this service holds its key, else ``None``."""
    if party.person_ref is None or party.person_name_enc is None:
        return None
    return await context.vault.open(conn, party.person_ref, party.person_name_enc)


async def display_names(
    conn: AsyncConnection, context: MediationContext, parties: Mapping[str, Party], *, entitled: bool
) -> dict[str, str]:
    """Party id → what a document shows: the organisation, the opened name (if ``entitled``), or withheld."""
    names = {}
    for party_id, party in parties.items():
        if party.organisation is not None:
            names[party_id] = party.organisation
        elif party.person_name_enc is None:
            names[party_id] = NOT_GIVEN
        else:
            name = await opened_name(conn, context, party) if entitled else None
            names[party_id] = name if name is not None else WITHHELD
    return names


async def names_for_party(
    conn: AsyncConnection, context: MediationContext, parties: Mapping[str, Party], party_id: str
) -> dict[str, str]:
    """What a party sees of the case's parties: organisations, their own name (when this service can open it), and
    every other person withheld, whatever their kind."""
    names = await display_names(conn, context, parties, entitled=False)
    own = parties.get(party_id)
    if own is not None:
        names |= await display_names(conn, context, {party_id: own}, entitled=True)
    return names
