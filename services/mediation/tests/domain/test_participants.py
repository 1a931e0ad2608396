"""The parties (added, removed, told their rights) and the mediator."""

from collections.abc import Callable
from typing import Any

import pytest
from pydantic import ValidationError

from mediation.domain import (
    InvalidTransition,
    Mediator,
    MediatorAssigned,
    MediatorReassigned,
    NotAParty,
    PartyAdded,
    PartyDetails,
    PartyKind,
    Route,
    ValidationFailed,
    add_party,
    assign_mediator,
    end_without_agreement,
    inform_of_rights,
    remove_party,
)

Desk = Any
MEDIATOR_ZHANG = Mediator(id="staff-zhang", name="张调解员")
MEDIATOR_LIU = Mediator(id="staff-liu", name="刘调解员")
COMMUNITY = PartyDetails(kind=PartyKind.COMMUNITY_COMMITTEE, organisation="金园社区居委会")


def test_a_party_joins_under_the_next_id(desk: Callable[..., Desk]) -> None:
    d = desk()
    [added] = d.do(add_party, party=COMMUNITY)
    assert isinstance(added, PartyAdded)
    assert added.party.party_id == "party-5"
    assert d.state.parties["party-5"].party.details() == COMMUNITY
    assert d.state.parties["party-5"].joined_at == d.now


def test_a_removed_partys_id_is_never_reused(desk: Callable[..., Desk]) -> None:
    d = desk()
    d.do(remove_party, party_id="party-4", reason="代表更换")
    assert "party-4" not in d.state.parties
    d.do(add_party, party=COMMUNITY)
    assert list(d.state.parties) == ["party-1", "party-2", "party-3", "party-5"]


def test_the_same_party_does_not_join_twice(desk: Callable[..., Desk], parties: tuple[PartyDetails, ...]) -> None:
    d = desk()
    # The same person, whatever the ciphertext of their name: the person reference is who they are.
    again = PartyDetails(kind=PartyKind.RESIDENT, person_ref="p-7", person_name_enc="enc:v1:k-p-7:b3RoZXJjaXBoZXI")
    for party in (parties[0], again):
        with pytest.raises(InvalidTransition, match="already party"):
            d.do(add_party, party=party)


def test_a_person_is_never_named_in_clear() -> None:
    with pytest.raises(ValidationError, match="is a person"):
        PartyDetails(kind=PartyKind.RESIDENT, organisation="张三")
    with pytest.raises(ValidationError, match="phone number"):
        PartyDetails(kind=PartyKind.RESIDENT, person_ref="p-1", person_name_enc="0086-138-0013-8000")
    with pytest.raises(ValidationError, match="is an organisation"):
        PartyDetails(kind=PartyKind.UTILITY, person_ref="p-1")


def test_removing_needs_a_party_and_a_reason(desk: Callable[..., Desk]) -> None:
    d = desk()
    with pytest.raises(NotAParty, match="party-9 is not a party of the case"):
        d.do(remove_party, party_id="party-9", reason="x")
    with pytest.raises(ValidationFailed, match="reason"):
        d.do(remove_party, party_id="party-4", reason="")


def test_a_party_named_in_the_agreement_draft_stays(drafted: Desk) -> None:
    with pytest.raises(InvalidTransition, match="named in agreement agreement-1"):
        drafted.do(remove_party, party_id="party-1", reason="x")
    drafted.do(remove_party, party_id="party-4", reason="未参与协议")  # not named in it


def test_a_case_keeps_one_party(desk: Callable[..., Desk]) -> None:
    d = desk()
    for party_id in ("party-1", "party-2", "party-3"):
        d.do(remove_party, party_id=party_id, reason="x")
    with pytest.raises(InvalidTransition, match="at least one party"):
        d.do(remove_party, party_id="party-4", reason="x")


def test_the_parties_are_settled_once_the_agreement_took_effect(agreed: Desk) -> None:
    with pytest.raises(InvalidTransition):
        agreed.do(add_party, party=COMMUNITY)
    with pytest.raises(InvalidTransition):
        agreed.do(remove_party, party_id="party-4", reason="x")


def test_telling_a_party_their_rights_is_recorded_with_its_time(desk: Callable[..., Desk]) -> None:
    d = desk()
    d.later(hours=2).do(inform_of_rights, party_id="party-2", note="书面告知书已签收")
    assert d.state.parties["party-2"].rights_informed_at == d.now
    assert d.state.parties["party-1"].rights_informed_at is None
    with pytest.raises(NotAParty):
        d.do(inform_of_rights, party_id="party-9")


def test_a_mediator_is_assigned_then_reassigned(desk: Callable[..., Desk]) -> None:
    d = desk()
    [assigned] = d.do(assign_mediator, mediator=MEDIATOR_ZHANG)
    assert isinstance(assigned, MediatorAssigned)
    with pytest.raises(InvalidTransition, match="already its mediator"):
        d.do(assign_mediator, mediator=MEDIATOR_ZHANG)
    [reassigned] = d.do(assign_mediator, mediator=MEDIATOR_LIU, reason="回避")
    assert isinstance(reassigned, MediatorReassigned)
    assert reassigned.previous_mediator == MEDIATOR_ZHANG
    assert d.state.mediator == MEDIATOR_LIU


def test_nobody_is_assigned_to_an_ended_case(accepted: Desk) -> None:
    accepted.do(end_without_agreement, reason="x", routes_advised=[Route.ARBITRATION])
    with pytest.raises(InvalidTransition):
        accepted.do(assign_mediator, mediator=MEDIATOR_ZHANG)
    with pytest.raises(InvalidTransition):
        accepted.do(inform_of_rights, party_id="party-1")
