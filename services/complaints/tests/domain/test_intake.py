"""Filing a complaint: channels, location, category answers, priority, and all problems reported at once."""

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest

from complaints.domain import (
    Catalogue,
    Channel,
    ComplaintFiled,
    DeadlineRule,
    Open311Status,
    Priority,
    Status,
    ValidationFailed,
    file_complaint,
    replay,
)

Filing = Callable[..., list[Any]]


@pytest.fixture
def filing(catalogue: Catalogue, t0: datetime, answers_for: Callable[[str], dict[str, object]]) -> Filing:
    def file(**overrides: Any) -> list[Any]:
        arguments: dict[str, Any] = {
            "complaint_id": "c-20250303-0001",
            "category_code": "electricity",
            "answers": answers_for("electricity"),
            "description": "物业拖欠电费，供电公司通知停电",
            "channel": Channel.PHONE,
            "compound_id": "jinyuan-huating",
            "reporter_ref": "p-7f3a",
            "at": t0,
        }
        arguments.update(overrides)
        return file_complaint(catalogue, **arguments)

    return file


def _fields(failure: pytest.ExceptionInfo[ValidationFailed]) -> set[str]:
    return {problem.field for problem in failure.value.problems}


def test_a_filed_complaint_starts_its_own_case_and_waits_for_the_desk(filing: Filing, t0: datetime) -> None:
    [filed] = filing(answers={"issue": "arrears", "households_affected": 96})
    assert isinstance(filed, ComplaintFiled)
    state = replay([filed])
    assert state.status is Status.FILED
    assert state.case_id == state.complaint_id == "c-20250303-0001"
    assert state.open311_status is Open311Status.OPEN
    assert state.version == 1
    assert state.answers == {"issue": "arrears", "households_affected": 96}
    assert state.deadline_rule is DeadlineRule.UTILITY
    assert state.clock.due_at == t0 + timedelta(hours=24)
    assert state.filed_at == state.updated_at == t0


@pytest.mark.parametrize("channel", [Channel.WALK_IN, Channel.PHONE, Channel.WEB, Channel.STAFF_ON_BEHALF])
def test_every_channel_but_the_hotline_files_without_a_hotline_reference(filing: Filing, channel: Channel) -> None:
    [filed] = filing(channel=channel)
    assert filed.channel is channel
    assert filed.hotline_reference is None
    with pytest.raises(ValidationFailed) as refused:
        filing(channel=channel, hotline_reference="20250303000123")
    assert _fields(refused) == {"hotline_reference"}


def test_a_12345_referral_needs_the_hotlines_reference(filing: Filing) -> None:
    [filed] = filing(channel=Channel.HOTLINE_12345, hotline_reference="TC-20250303-000123")
    assert replay([filed]).hotline_reference == "TC-20250303-000123"
    with pytest.raises(ValidationFailed) as refused:
        filing(channel=Channel.HOTLINE_12345)
    assert _fields(refused) == {"hotline_reference"}
    with pytest.raises(ValidationFailed) as refused:
        filing(channel=Channel.HOTLINE_12345, hotline_reference="no spaces please")
    assert _fields(refused) == {"hotline_reference"}


def test_the_channel_and_priority_may_come_as_their_text(filing: Filing) -> None:
    [filed] = filing(channel="web", priority="urgent")
    assert (filed.channel, filed.priority) == (Channel.WEB, Priority.URGENT)
    with pytest.raises(ValidationFailed) as refused:
        filing(channel="fax", priority="asap")
    assert [problem.field for problem in refused.value.problems] == ["channel", "priority"]


def test_a_unit_is_in_a_building(filing: Filing) -> None:
    [filed] = filing(building="3栋", unit="2单元301")
    assert (filed.building, filed.unit) == ("3栋", "2单元301")
    [compound_wide] = filing()
    assert (compound_wide.building, compound_wide.unit) == (None, None)
    with pytest.raises(ValidationFailed) as refused:
        filing(unit="301")
    assert _fields(refused) == {"unit"}


def test_the_answers_are_checked_against_the_categorys_questions(filing: Filing) -> None:
    with pytest.raises(ValidationFailed) as refused:
        filing(answers={"issue": "broken_heart"})
    assert _fields(refused) == {"answers.issue"}


def test_every_problem_is_reported_at_once(filing: Filing) -> None:
    with pytest.raises(ValidationFailed) as refused:
        filing(
            complaint_id="Not A Token",
            category_code="parking",
            description="   ",
            compound_id="",
            channel=Channel.HOTLINE_12345,
        )
    assert _fields(refused) == {"complaint_id", "category_code", "description", "compound_id", "hotline_reference"}


def test_filing_time_must_carry_its_timezone(filing: Filing) -> None:
    with pytest.raises(ValidationFailed) as refused:
        filing(at=datetime(2025, 3, 3, 9, 0))
    assert _fields(refused) == {"at"}


def test_the_description_is_trimmed_and_bounded(filing: Filing) -> None:
    [filed] = filing(description="  停电了  ")
    assert filed.description == "停电了"
    with pytest.raises(ValidationFailed):
        filing(description="长" * 4001)
