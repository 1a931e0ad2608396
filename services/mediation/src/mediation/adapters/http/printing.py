"""The printable documents, server-rendered HTML in Chinese with a print stylesheet (A4).

- The agreement (人民调解协议书) with what the People's Mediation Law asks of it (§28–§33): the parties, the main
  facts of the dispute and the issues, each term with who performs it, what, by when and what shows it done, the
  signatures with their dates, when it took effect, its binding force, and the 30 days in which the parties may
  apply together for judicial confirmation.
- The case record (人民调解案件记录): how the case came (application or referral), its acceptance or refusal, the
  parties and when they were told their rights, the mediator, each meeting with invitations, RSVPs, attendance and
  minutes, the agreement, each obligation and its outcome, follow-up visits, the end, and the whole timeline.

Every value is HTML-escaped. A resident's name appears only as the caller passes it (opened for those entitled,
else withheld); this module never sees a sealed value.
"""

import json
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from html import escape
from typing import Final
from zoneinfo import ZoneInfo

from jinlin.store import StoredEvent
from mediation.domain import Agreement, CaseState, Term

SHANGHAI: Final = ZoneInfo("Asia/Shanghai")

KINDS: Final = {
    "resident": "居民",
    "residents_representative": "居民代表",
    "owners_committee": "业主委员会",
    "property_company": "物业服务企业",
    "utility": "公用事业单位",
    "community_committee": "社区居民委员会",
    "street_office": "街道办事处",
    "other": "其他",
}
ORIGINS: Final = {
    "complaint_referral": "投诉转调解（由投诉受理中心移送）",
    "party_application": "当事人申请调解",
    "street_office_referral": "街道办事处移送调解",
    "court_referral": "人民法院委派调解",
}
STATUSES: Final = {
    "opened": "待受理",
    "accepted": "调解中",
    "declined": "不予受理",
    "agreement_in_effect": "协议履行中",
    "closed": "已结案",
    "ended_without_agreement": "调解终结（未达成协议）",
}
ROUTES: Final = {
    "litigation": "向人民法院提起诉讼",
    "arbitration": "申请仲裁",
    "administrative_complaint": "向有关行政主管部门投诉",
    "other": "其他合法途径",
}
RSVPS: Final = {"yes": "确认出席", "no": "不出席", "maybe": "待定"}
MEETING_STATUSES: Final = {"scheduled": "已安排", "held": "已召开", "cancelled": "已取消"}
OBLIGATION_STATUSES: Final = {"open": "待履行", "fulfilled": "已履行", "waived": "经协商免除"}
OUTCOMES: Final = {"confirmed": "裁定确认调解协议有效", "rejected": "裁定驳回申请"}
EVENTS: Final = {
    "CaseOpened": "立案",
    "ComplaintsJoinedCase": "并入投诉",
    "CaseReopened": "重新调解",
    "CaseAccepted": "受理",
    "CaseDeclined": "不予受理",
    "CaseDeadlineExtended": "延长调解期限",
    "MediatorAssigned": "指定调解员",
    "MediatorReassigned": "更换调解员",
    "PartyAdded": "追加当事人",
    "PartyRemoved": "当事人退出",
    "PartyInformedOfRights": "告知权利义务",
    "MeetingScheduled": "安排调解会议",
    "MeetingRescheduled": "会议改期",
    "MeetingCancelled": "会议取消",
    "PartiesInvited": "邀请参会",
    "RsvpRecorded": "参会回复",
    "AttendanceRecorded": "到会登记",
    "MinutesRecorded": "会议记录",
    "AgreementDrafted": "拟定调解协议",
    "AgreementAmended": "修改调解协议",
    "AgreementDiscarded": "作废调解协议",
    "AgreementSigned": "当事人签署",
    "AgreementTookEffect": "协议生效",
    "AgreementPosted": "协议公示",
    "JudicialConfirmationApplied": "申请司法确认",
    "JudicialConfirmationDecided": "司法确认结果",
    "ObligationFulfilled": "义务履行",
    "ObligationMarkedOverdue": "义务逾期",
    "ObligationDueDateExtended": "延长履行期限",
    "ObligationWaived": "义务免除",
    "FollowUpVisitRecorded": "回访",
    "CaseClosed": "结案",
    "CaseEndedWithoutAgreement": "调解终结",
}

STYLE: Final = """
@page { size: A4; margin: 20mm 18mm 22mm; }
html { color: #000; background: #fff; }
body { font-family: "Noto Serif CJK SC", "Source Han Serif SC", "Songti SC", "SimSun", serif; font-size: 12pt;
       line-height: 1.7; max-width: 174mm; margin: 0 auto; }
h1 { text-align: center; font-size: 20pt; letter-spacing: .25em; margin: 0 0 .2em; }
h2 { font-size: 13pt; margin: 1.2em 0 .4em; border-bottom: 1px solid #000; }
h3 { font-size: 12pt; margin: .8em 0 .3em; }
.number, .status { text-align: center; margin: 0; }
.draft { text-align: center; font-weight: bold; border: 2px solid #000; padding: .3em; }
table { width: 100%; border-collapse: collapse; margin: .3em 0; }
th, td { border: 1px solid #000; padding: 3pt 5pt; vertical-align: top; text-align: left; }
th { background: #f2f2f2; white-space: nowrap; }
.line { display: inline-block; min-width: 45mm; border-bottom: 1px solid #000; }
.law { font-size: 10.5pt; }
.muted { color: #444; }
.seal { margin-top: 2em; text-align: right; }
@media screen { body { padding: 24px; } }
@media print {
  th { background: none; }
  section, tr { break-inside: avoid; }
  thead { display: table-header-group; }
  .screen-only { display: none; }
}
"""


def _e(value: object) -> str:
    return escape("" if value is None else str(value))


def date_cn(value: datetime | None) -> str:
    if value is None:
        return ""
    local = value.astimezone(SHANGHAI)
    return f"{local.year}年{local.month}月{local.day}日"


def datetime_cn(value: datetime | None) -> str:
    if value is None:
        return ""
    return f"{date_cn(value)} {value.astimezone(SHANGHAI):%H:%M}"


def _page(title: str, body: str) -> str:
    return (
        '<!DOCTYPE html>\n<html lang="zh-CN"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{_e(title)}</title><style>{STYLE}</style></head>\n<body>\n{body}\n"
        '<p class="screen-only muted">打印：浏览器“打印”即可（A4）。</p>\n</body></html>\n'
    )


def _table(headers: Sequence[str], rows: Iterable[Sequence[str]], empty: str = "无") -> str:
    """``rows`` hold HTML already escaped."""
    body = "".join("<tr>" + "".join(f"<td>{cell}</td>" for cell in row) + "</tr>" for row in rows)
    if not body:
        body = f'<tr><td colspan="{len(headers)}">{_e(empty)}</td></tr>'
    head = "".join(f"<th>{_e(header)}</th>" for header in headers)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _party(names: Mapping[str, str], party_id: str) -> str:
    return f"{_e(names.get(party_id, party_id))}（{_e(party_id)}）"


def _fulfilled_by(term: Term) -> str:
    wanted = term.fulfilled_by
    if wanted is None:
        return ""
    # Strings as they are, true/false and numbers as JSON writes them (the match is on JSON values).
    shown = {key: value if isinstance(value, str) else json.dumps(value) for key, value in wanted.match.items()}
    match = "，".join(f"{_e(key)} = {_e(value)}" for key, value in shown.items())
    return f'<br><span class="muted">由 {_e(wanted.service)} 服务的事件 {_e(wanted.event_type)} 确认（{match}）</span>'


def _terms_table(agreement: Agreement, names: Mapping[str, str]) -> str:
    rows = [
        (
            _e(term.term_id),
            _party(names, term.obligor),
            _e(term.what),
            datetime_cn(term.due_at),
            _e(term.evidence_required) + _fulfilled_by(term),
        )
        for term in agreement.terms
    ]
    return _table(("条款", "履行义务人", "履行内容与方式", "履行期限", "履行证明"), rows)


def agreement_html(state: CaseState, agreement: Agreement, names: Mapping[str, str]) -> str:
    """人民调解协议书. ``names``: party id → what to print (organisation, opened name or withheld)."""
    in_effect = agreement.took_effect_at is not None
    parts = [
        "<header><h1>人民调解协议书</h1>",
        f'<p class="number">编号：{_e(state.case_id)} · {_e(agreement.agreement_id)} · 第{agreement.revision}稿</p>',
    ]
    if not in_effect:
        waiting = "、".join(_party(names, party_id) for party_id in agreement.unsigned_party_ids)
        parts.append(f'<p class="draft">草稿，尚未生效（待签名：{waiting}）</p>')
    parts.append("</header>")
    party_rows = []
    for party_id in agreement.party_ids:
        record = state.party(party_id)
        kind = KINDS.get(record.party.kind.value, record.party.kind.value) if record else ""
        party_rows.append((_e(party_id), _e(kind), _e(names.get(party_id, party_id))))
    parts.append('<section class="parties"><h2>一、当事人基本情况</h2>')
    parts.append(_table(("当事人", "类别", "名称或姓名"), party_rows))
    if state.mediator is not None:
        parts.append(f"<p>人民调解员：{_e(state.mediator.name)}</p>")
    parts.append("</section>")
    parts.append(f'<section class="facts"><h2>二、纠纷主要事实</h2><p>{_e(agreement.facts)}</p></section>')
    issues = "".join(f"<li>{_e(issue)}</li>" for issue in agreement.issues)
    parts.append(f'<section class="issues"><h2>三、争议事项</h2><ol>{issues}</ol></section>')
    parts.append('<section class="terms"><h2>四、协议内容（谁履行、如何履行、何时履行）</h2>')
    parts.append("<p>经人民调解委员会主持调解，各方当事人自愿达成如下协议：</p>")
    parts.append(_terms_table(agreement, names))
    parts.append("</section>")
    signature_rows = []
    for party_id in agreement.party_ids:
        signed_at = agreement.signatures.get(party_id)
        signature_rows.append(
            (
                _party(names, party_id),
                "已签名" if signed_at else '<span class="line"></span>',
                date_cn(signed_at) if signed_at else "　　年　　月　　日",
            )
        )
    parts.append('<section class="signatures"><h2>五、签名</h2>')
    parts.append(_table(("当事人", "签名、盖章或者按指印", "日期"), signature_rows))
    mediator = _e(state.mediator.name) if state.mediator else ""
    parts.append(f'<p>人民调解员（签名）：{mediator} <span class="line"></span></p>')
    parts.append('<p class="seal">人民调解委员会（印章）<br>　　年　　月　　日</p></section>')
    copies = len(agreement.party_ids) + 1
    effect = (
        f"<p>本协议于 <strong>{date_cn(agreement.took_effect_at)}</strong> 经各方当事人签名后生效。</p>"
        if in_effect
        else "<p>本协议尚未生效。</p>"
    )
    deadline = agreement.confirmation_deadline
    window = f"（即 <strong>{datetime_cn(deadline)}</strong> 前）" if deadline is not None else "（自协议生效之日起算）"
    parts.append(
        '<section class="effect law"><h2>六、协议效力</h2>'
        "<p>本协议自各方当事人签名、盖章或者按指印，人民调解员签名并加盖人民调解委员会印章之日起生效"
        "（《中华人民共和国人民调解法》第二十九条）。</p>"
        f"{effect}"
        "<p>经人民调解委员会调解达成的调解协议，具有法律约束力，当事人应当按照约定履行（第三十一条）。</p>"
        f"<p>双方当事人认为有必要的，可以自调解协议生效之日起三十日内{window}共同向人民法院申请司法确认"
        "（第三十三条）。人民法院依法确认调解协议有效，一方当事人拒绝履行或者未全部履行的，对方当事人可以向人民法院"
        "申请强制执行。</p>"
        f"<p>本协议一式{copies}份，当事人各执一份，人民调解委员会留存一份。</p></section>"
    )
    return _page(f"人民调解协议书 {state.case_id}", "\n".join(parts))


# --- the case record -----------------------------------------------------------------------------------------------


def _origin_section(state: CaseState, names: Mapping[str, str]) -> str:
    rows = [("来源", _e(ORIGINS.get(state.origin.value, state.origin.value))), ("事由", _e(state.reason))]
    if state.complaint_ids:
        rows.append(("投诉编号", _e("、".join(state.complaint_ids))))
    if state.applicant_party_id:
        rows.append(("申请人", _party(names, state.applicant_party_id)))
    if state.referred_by:
        reference = f"（文号：{_e(state.referral_reference)}）" if state.referral_reference else ""
        rows.append(("移送单位", _e(state.referred_by) + reference))
    if state.compound_id:
        rows.append(("小区", _e(state.compound_id)))
    rows.append(("立案时间", datetime_cn(state.opened_at)))
    body = "".join(f"<tr><th>{_e(label)}</th><td>{value}</td></tr>" for label, value in rows)
    return f'<section class="origin"><h2>一、案件来源（申请或移送）</h2><table>{body}</table></section>'


def _acceptance_section(state: CaseState) -> str:
    lines = []
    if state.accepted_at is not None:
        lines.append(f"<p>受理时间：{datetime_cn(state.accepted_at)}；调解期限至：{datetime_cn(state.due_at)}</p>")
    if state.decline_reason is not None:
        lines.append(f"<p>不予受理。理由：{_e(state.decline_reason)}</p>")
    if not lines:
        lines.append("<p>尚未受理。</p>")
    if state.rounds > 1:
        lines.append(f"<p>本案经再次移送，共 {state.rounds} 轮调解。</p>")
    return f'<section class="acceptance"><h2>二、受理</h2>{"".join(lines)}</section>'


def _parties_section(state: CaseState, names: Mapping[str, str]) -> str:
    rows = [
        (
            _e(party_id),
            _e(KINDS.get(record.party.kind.value, record.party.kind.value)),
            _e(names.get(party_id, party_id)),
            datetime_cn(record.joined_at),
            f"已告知（{datetime_cn(record.rights_informed_at)}）" if record.rights_informed_at else "未告知",
        )
        for party_id, record in state.parties.items()
    ]
    mediator = f"<p>人民调解员：{_e(state.mediator.name)}</p>" if state.mediator else "<p>尚未指定人民调解员。</p>"
    return (
        '<section class="parties"><h2>三、当事人及权利义务告知</h2>'
        + _table(("当事人", "类别", "名称或姓名", "加入时间", "告知权利义务"), rows)
        + mediator
        + "</section>"
    )


def _meetings_section(state: CaseState, names: Mapping[str, str]) -> str:
    if not state.meetings:
        return '<section class="meetings"><h2>四、调解会议</h2><p>无</p></section>'
    parts = ['<section class="meetings"><h2>四、调解会议</h2>']
    for meeting in state.meetings.values():
        status = MEETING_STATUSES.get(meeting.status.value, meeting.status.value)
        parts.append(
            f"<h3>{_e(meeting.meeting_id)}：{datetime_cn(meeting.starts_at)}，{_e(meeting.place)}（{status}）</h3>"
        )
        agenda = "；".join(_e(item) for item in meeting.agenda)
        parts.append(f"<p>议程：{agenda}</p>")
        if meeting.times_rescheduled:
            parts.append(f"<p>改期 {meeting.times_rescheduled} 次。</p>")
        if meeting.cancellation_reason:
            parts.append(f"<p>取消原因：{_e(meeting.cancellation_reason)}</p>")
        people = list(dict.fromkeys([*meeting.invited, *meeting.attendance]))
        rows = []
        for party_id in people:
            rsvp = meeting.rsvps.get(party_id)
            came = meeting.attendance.get(party_id)
            rows.append(
                (
                    _party(names, party_id),
                    "是" if party_id in meeting.invited else "否（未邀请）",
                    _e(RSVPS.get(rsvp.value, rsvp.value)) if rsvp else "未回复",
                    "到会" if came else ("未到" if came is False else "未登记"),
                )
            )
        parts.append(_table(("当事人", "受邀", "回复", "实到"), rows))
        minutes = f"<p>会议记录：{_e(meeting.minutes)}</p>" if meeting.minutes else "<p>会议记录：无</p>"
        parts.append(minutes)
    parts.append("</section>")
    return "".join(parts)


def _agreement_section(state: CaseState, names: Mapping[str, str]) -> str:
    agreement = state.agreement
    if agreement is None:
        return '<section class="agreement"><h2>五、调解协议</h2><p>未达成调解协议。</p></section>'
    parts = [
        '<section class="agreement"><h2>五、调解协议</h2>',
        f"<p>{_e(agreement.agreement_id)}，第{agreement.revision}稿，拟定于 {datetime_cn(agreement.drafted_at)}。</p>",
        _terms_table(agreement, names),
    ]
    signatures = [
        (_party(names, party_id), datetime_cn(agreement.signatures.get(party_id)) or "未签名")
        for party_id in agreement.party_ids
    ]
    parts.append(_table(("当事人", "签名时间"), signatures))
    if agreement.took_effect_at is not None:
        parts.append(
            f"<p>协议生效：{datetime_cn(agreement.took_effect_at)}；"
            f"申请司法确认期限至：{datetime_cn(agreement.confirmation_deadline)}。</p>"
        )
    for posting in agreement.postings:
        until = f"，至 {datetime_cn(posting.until)}" if posting.until else ""
        parts.append(f"<p>公示：{_e(posting.place)}，{datetime_cn(posting.posted_at)}起{until}。</p>")
    confirmation = agreement.judicial_confirmation
    if confirmation is not None:
        reference = f"（案号：{_e(confirmation.reference)}）" if confirmation.reference else ""
        parts.append(
            f"<p>司法确认：{datetime_cn(confirmation.applied_at)} 向{_e(confirmation.court)}共同申请{reference}。</p>"
        )
        if confirmation.outcome is not None:
            remark = f"（{_e(confirmation.remark)}）" if confirmation.remark else ""
            outcome = OUTCOMES.get(confirmation.outcome.value, confirmation.outcome.value)
            parts.append(f"<p>法院结果：{_e(outcome)}，{datetime_cn(confirmation.decided_at)}{remark}。</p>")
    parts.append("</section>")
    return "".join(parts)


def _obligations_section(state: CaseState, names: Mapping[str, str]) -> str:
    rows = []
    for obligation in state.obligations.values():
        if obligation.fulfilling_event is not None:
            ref = obligation.fulfilling_event
            outcome = f"由 {_e(ref.service)} 事件 {_e(ref.event_type)}（{_e(ref.event_id)}）确认"
        elif obligation.waiver_reason is not None:
            outcome = f"免除理由：{_e(obligation.waiver_reason)}"
        else:
            outcome = _e(obligation.evidence)
        due = datetime_cn(obligation.due_at)
        if obligation.due_at != obligation.term.due_at:
            due = f"{due}（原定 {datetime_cn(obligation.term.due_at)}）"
        rows.append(
            (
                _e(obligation.term_id),
                _party(names, obligation.obligor),
                _e(obligation.term.what),
                due,
                _e(OBLIGATION_STATUSES.get(obligation.status.value, obligation.status.value)),
                datetime_cn(obligation.settled_at),
                outcome,
                str(obligation.times_marked_overdue),
            )
        )
    table = _table(("条款", "义务人", "内容", "期限", "结果", "完成时间", "证明或理由", "逾期记录"), rows)
    visits = [
        (
            datetime_cn(visit.at),
            _party(names, visit.party_id) if visit.party_id else "",
            _e(visit.performance),
            f"{visit.satisfaction}/5" if visit.satisfaction else "",
        )
        for visit in state.follow_up_visits
    ]
    return (
        '<section class="obligations"><h2>六、协议履行情况</h2>'
        + table
        + '</section><section class="visits"><h2>七、回访</h2>'
        + _table(("时间", "回访对象", "履行情况", "满意度"), visits)
        + "</section>"
    )


def _end_section(state: CaseState) -> str:
    status = STATUSES.get(state.status.value, state.status.value)
    lines = [f"<p>案件状态：{_e(status)}</p>"]
    if state.end_reason is not None:
        lines.append(f"<p>终结理由：{_e(state.end_reason)}</p>")
    if state.routes_advised:
        routes = "；".join(_e(ROUTES.get(route.value, route.value)) for route in state.routes_advised)
        lines.append(f"<p>已告知当事人其他救济途径：{routes}</p>")
    if state.summary:
        lines.append(f"<p>结案小结：{_e(state.summary)}</p>")
    if state.ended_at is not None:
        lines.append(f"<p>终结时间：{datetime_cn(state.ended_at)}</p>")
    return f'<section class="end"><h2>八、结案</h2>{"".join(lines)}</section>'


def _timeline_section(stored: Sequence[StoredEvent]) -> str:
    rows = []
    for event in stored:
        name = event.type.split(".")[2] if event.type.count(".") == 3 else event.type
        # When it happened, as the case records it (the envelope's time is when the store recorded it).
        occurred = event.data.get("occurred_at") or event.envelope.time
        rows.append(
            (
                str(event.envelope.streamversion),
                datetime_cn(datetime.fromisoformat(occurred)),
                _e(EVENTS.get(name, name)),
                _e(event.envelope.actor),
            )
        )
    table = _table(("序号", "时间", "事项", "经办"), rows)
    return f'<section class="timeline"><h2>九、案件时间线</h2>{table}</section>'


def record_html(state: CaseState, stored: Sequence[StoredEvent], names: Mapping[str, str]) -> str:
    """人民调解案件记录: the case from its application or referral to its end, with the full timeline."""
    status = STATUSES.get(state.status.value, state.status.value)
    header = (
        "<header><h1>人民调解案件记录</h1>"
        f'<p class="number">编号：{_e(state.case_id)}</p><p class="status">状态：{_e(status)}</p></header>'
    )
    sections = [
        header,
        _origin_section(state, names),
        _acceptance_section(state),
        _parties_section(state, names),
        _meetings_section(state, names),
        _agreement_section(state, names),
        _obligations_section(state, names),
        _end_section(state),
        _timeline_section(stored),
    ]
    return _page(f"人民调解案件记录 {state.case_id}", "\n".join(sections))
