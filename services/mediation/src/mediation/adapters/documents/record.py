"""The case record (人民调解案件记录): how the case came (application or referral), its acceptance or refusal, the
parties and when they were told their rights, the mediator, each meeting with invitations, RSVPs, attendance and
minutes, the agreement, each obligation and its outcome, follow-up visits, the end, and the whole timeline."""

from collections.abc import Mapping, Sequence

from jinlin.store import StoredEvent
from mediation.adapters.documents.agreement import party_label, terms_table
from mediation.adapters.documents.labels import (
    KINDS,
    MEETING_STATUSES,
    OBLIGATION_STATUSES,
    ORIGINS,
    OUTCOMES,
    ROUTES,
    RSVPS,
    STATUSES,
    datetime_cn,
    event_label,
    occurred_at,
)
from mediation.adapters.documents.model import (
    Block,
    Cell,
    Document,
    Fields,
    Look,
    Paragraph,
    Section,
    Subheading,
    Table,
)
from mediation.domain import CaseState, Meeting, Obligation

TITLE = "人民调解案件记录"
Names = Mapping[str, str]


def _status(state: CaseState) -> str:
    return STATUSES.get(state.status.value, state.status.value)


def _origin(state: CaseState, names: Names) -> Section:
    rows = [("来源", ORIGINS.get(state.origin.value, state.origin.value)), ("事由", state.reason)]
    if state.complaint_ids:
        rows.append(("投诉编号", "、".join(state.complaint_ids)))
    if state.applicant_party_id:
        rows.append(("申请人", party_label(names, state.applicant_party_id)))
    if state.referred_by:
        reference = f"（文号：{state.referral_reference}）" if state.referral_reference else ""
        rows.append(("移送单位", state.referred_by + reference))
    if state.compound_id:
        rows.append(("小区", state.compound_id))
    rows.append(("立案时间", datetime_cn(state.opened_at)))
    return Section("origin", "一、案件来源（申请或移送）", (Fields(tuple(rows)),))


def _acceptance(state: CaseState) -> Section:
    lines = []
    if state.accepted_at is not None:
        lines.append(f"受理时间：{datetime_cn(state.accepted_at)}；调解期限至：{datetime_cn(state.due_at)}")
    if state.decline_reason is not None:
        lines.append(f"不予受理。理由：{state.decline_reason}")
    if not lines:
        lines.append("尚未受理。")
    if state.rounds > 1:
        lines.append(f"本案经再次移送，共 {state.rounds} 轮调解。")
    return Section("acceptance", "二、受理", tuple(Paragraph.of(line) for line in lines))


def _parties(state: CaseState, names: Names) -> Section:
    rows = tuple(
        (
            Cell(party_id),
            Cell(KINDS.get(record.party.kind.value, record.party.kind.value)),
            Cell(names.get(party_id, party_id)),
            Cell(datetime_cn(record.joined_at)),
            Cell(f"已告知（{datetime_cn(record.rights_informed_at)}）" if record.rights_informed_at else "未告知"),
        )
        for party_id, record in state.parties.items()
    )
    mediator = f"人民调解员：{state.mediator.name}" if state.mediator else "尚未指定人民调解员。"
    table = Table(("当事人", "类别", "名称或姓名", "加入时间", "告知权利义务"), rows, (14, 16, 30, 18, 22))
    return Section("parties", "三、当事人及权利义务告知", (table, Paragraph.of(mediator)))


def _meeting(meeting: Meeting, names: Names) -> list[Block]:
    status = MEETING_STATUSES.get(meeting.status.value, meeting.status.value)
    blocks: list[Block] = [
        Subheading(f"{meeting.meeting_id}：{datetime_cn(meeting.starts_at)}，{meeting.place}（{status}）"),
        Paragraph.of(f"议程：{'；'.join(meeting.agenda)}"),
    ]
    if meeting.times_rescheduled:
        blocks.append(Paragraph.of(f"改期 {meeting.times_rescheduled} 次。"))
    if meeting.cancellation_reason:
        blocks.append(Paragraph.of(f"取消原因：{meeting.cancellation_reason}"))
    rows = []
    for party_id in dict.fromkeys([*meeting.invited, *meeting.attendance]):
        rsvp = meeting.rsvps.get(party_id)
        came = meeting.attendance.get(party_id)
        rows.append(
            (
                Cell(party_label(names, party_id)),
                Cell("是" if party_id in meeting.invited else "否（未邀请）"),
                Cell(RSVPS.get(rsvp.value, rsvp.value) if rsvp else "未回复"),
                Cell("到会" if came else ("未到" if came is False else "未登记")),
            )
        )
    blocks.append(Table(("当事人", "受邀", "回复", "实到"), tuple(rows), (40, 20, 20, 20)))
    blocks.append(Paragraph.of(f"会议记录：{meeting.minutes}" if meeting.minutes else "会议记录：无"))
    return blocks


def _meetings(state: CaseState, names: Names) -> Section:
    blocks = [block for meeting in state.meetings.values() for block in _meeting(meeting, names)]
    return Section("meetings", "四、调解会议", tuple(blocks) or (Paragraph.of("无"),))


def _agreement(state: CaseState, names: Names) -> Section:
    agreement = state.agreement
    if agreement is None:
        return Section("agreement", "五、调解协议", (Paragraph.of("未达成调解协议。"),))
    blocks: list[Block] = [
        Paragraph.of(
            f"{agreement.agreement_id}，第{agreement.revision}稿，拟定于 {datetime_cn(agreement.drafted_at)}。"
        ),
        terms_table(agreement, names),
        Table(
            ("当事人", "签名时间"),
            tuple(
                (Cell(party_label(names, party_id)), Cell(datetime_cn(agreement.signatures.get(party_id)) or "未签名"))
                for party_id in agreement.party_ids
            ),
            (60, 40),
        ),
    ]
    if agreement.took_effect_at is not None:
        blocks.append(
            Paragraph.of(
                f"协议生效：{datetime_cn(agreement.took_effect_at)}；"
                f"申请司法确认期限至：{datetime_cn(agreement.confirmation_deadline)}。"
            )
        )
    for posting in agreement.postings:
        until = f"，至 {datetime_cn(posting.until)}" if posting.until else ""
        blocks.append(Paragraph.of(f"公示：{posting.place}，{datetime_cn(posting.posted_at)}起{until}。"))
    confirmation = agreement.judicial_confirmation
    if confirmation is not None:
        reference = f"（案号：{confirmation.reference}）" if confirmation.reference else ""
        blocks.append(
            Paragraph.of(
                f"司法确认：{datetime_cn(confirmation.applied_at)} 向{confirmation.court}共同申请{reference}。"
            )
        )
        if confirmation.outcome is not None:
            remark = f"（{confirmation.remark}）" if confirmation.remark else ""
            outcome = OUTCOMES.get(confirmation.outcome.value, confirmation.outcome.value)
            blocks.append(Paragraph.of(f"法院结果：{outcome}，{datetime_cn(confirmation.decided_at)}{remark}。"))
    return Section("agreement", "五、调解协议", tuple(blocks))


def _outcome(obligation: Obligation) -> str:
    if obligation.fulfilling_event is not None:
        ref = obligation.fulfilling_event
        return f"由 {ref.service} 事件 {ref.event_type}（{ref.event_id}）确认"
    if obligation.waiver_reason is not None:
        return f"免除理由：{obligation.waiver_reason}"
    return obligation.evidence


def _obligations(state: CaseState, names: Names) -> Section:
    rows = []
    for obligation in state.obligations.values():
        due = datetime_cn(obligation.due_at)
        if obligation.due_at != obligation.term.due_at:
            due = f"{due}（原定 {datetime_cn(obligation.term.due_at)}）"
        rows.append(
            (
                Cell(obligation.term_id),
                Cell(party_label(names, obligation.obligor)),
                Cell(obligation.term.what),
                Cell(due),
                Cell(OBLIGATION_STATUSES.get(obligation.status.value, obligation.status.value)),
                Cell(datetime_cn(obligation.settled_at)),
                Cell(_outcome(obligation)),
                Cell(str(obligation.times_marked_overdue)),
            )
        )
    headers = ("条款", "义务人", "内容", "期限", "结果", "完成时间", "证明或理由", "逾期记录")
    return Section("obligations", "六、协议履行情况", (Table(headers, tuple(rows), (9, 15, 20, 14, 9, 12, 15, 6)),))


def _visits(state: CaseState, names: Names) -> Section:
    rows = tuple(
        (
            Cell(datetime_cn(visit.at)),
            Cell(party_label(names, visit.party_id) if visit.party_id else ""),
            Cell(visit.performance),
            Cell(f"{visit.satisfaction}/5" if visit.satisfaction else ""),
        )
        for visit in state.follow_up_visits
    )
    return Section("visits", "七、回访", (Table(("时间", "回访对象", "履行情况", "满意度"), rows, (20, 25, 45, 10)),))


def _end(state: CaseState) -> Section:
    lines = [f"案件状态：{_status(state)}"]
    if state.end_reason is not None:
        lines.append(f"终结理由：{state.end_reason}")
    if state.routes_advised:
        routes = "；".join(ROUTES.get(route.value, route.value) for route in state.routes_advised)
        lines.append(f"已告知当事人其他救济途径：{routes}")
    if state.summary:
        lines.append(f"结案小结：{state.summary}")
    if state.ended_at is not None:
        lines.append(f"终结时间：{datetime_cn(state.ended_at)}")
    return Section("end", "八、结案", tuple(Paragraph.of(line) for line in lines))


def _timeline(stored: Sequence[StoredEvent]) -> Section:
    rows = tuple(
        (
            Cell(str(event.envelope.streamversion)),
            Cell(datetime_cn(occurred_at(event))),
            Cell(event_label(event.type)),
            Cell(event.envelope.actor),
        )
        for event in stored
    )
    return Section("timeline", "九、案件时间线", (Table(("序号", "时间", "事项", "经办"), rows, (8, 24, 30, 38)),))


def record_document(state: CaseState, stored: Sequence[StoredEvent], names: Names) -> Document:
    """The whole case, from its application or referral to its end. ``names`` as for the agreement."""
    return Document(
        title=TITLE,
        reference=state.case_id,
        heading=(
            Paragraph.of(f"编号：{state.case_id}", look=Look.CENTERED),
            Paragraph.of(f"状态：{_status(state)}", look=Look.CENTERED),
        ),
        sections=(
            _origin(state, names),
            _acceptance(state),
            _parties(state, names),
            _meetings(state, names),
            _agreement(state, names),
            _obligations(state, names),
            _visits(state, names),
            _end(state),
            _timeline(stored),
        ),
    )
