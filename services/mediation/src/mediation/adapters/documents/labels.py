"""The words of the printed documents, in Chinese, and the sentences of the law they quote (plain text: a builder
fills each ``{placeholder}``)."""

from datetime import datetime
from typing import Final
from zoneinfo import ZoneInfo

from jinlin.store import StoredEvent

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
    "PartyAccessGranted": "发放当事人查阅凭证",
    "PartyAccessRevoked": "收回当事人查阅凭证",
}

# --- the agreement's binding force (People's Mediation Law §29, §31, §33) ---------------------------------------------

LAW_TAKES_EFFECT: Final = (
    "本协议自各方当事人签名、盖章或者按指印，人民调解员签名并加盖人民调解委员会印章之日起生效"
    "（《中华人民共和国人民调解法》第二十九条）。"
)
TOOK_EFFECT_ON: Final = "本协议于 {date} 经各方当事人签名后生效。"
NOT_IN_EFFECT: Final = "本协议尚未生效。"
LAW_BINDING: Final = "经人民调解委员会调解达成的调解协议，具有法律约束力，当事人应当按照约定履行（第三十一条）。"
LAW_CONFIRMATION: Final = (
    "双方当事人认为有必要的，可以自调解协议生效之日起三十日内{window}共同向人民法院申请司法确认"
    "（第三十三条）。人民法院依法确认调解协议有效，一方当事人拒绝履行或者未全部履行的，对方当事人可以向人民法院"
    "申请强制执行。"
)
WINDOW_UNTIL: Final = "（即 {deadline} 前）"
WINDOW_FROM_EFFECT: Final = "（自协议生效之日起算）"
COPIES: Final = "本协议一式{copies}份，当事人各执一份，人民调解委员会留存一份。"
AGREED_AS_FOLLOWS: Final = "经人民调解委员会主持调解，各方当事人自愿达成如下协议："
UNDATED: Final = "　　年　　月　　日"
"""A date left to write in by hand."""


def date_cn(value: datetime | None) -> str:
    if value is None:
        return ""
    local = value.astimezone(SHANGHAI)
    return f"{local.year}年{local.month}月{local.day}日"


def datetime_cn(value: datetime | None) -> str:
    if value is None:
        return ""
    return f"{date_cn(value)} {value.astimezone(SHANGHAI):%H:%M}"


def event_label(event_type: str) -> str:
    """``jinlin.mediation.CaseOpened.v1`` → 立案 (the name itself when it has no label)."""
    name = event_type.split(".")[2] if event_type.count(".") == 3 else event_type
    return EVENTS.get(name, name)


def occurred_at(event: StoredEvent) -> datetime:
    """When it happened, as the case records it (the envelope's time is when the store recorded it)."""
    return datetime.fromisoformat(event.data.get("occurred_at") or event.envelope.time)
