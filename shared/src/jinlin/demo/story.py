"""Who and what the story is about: the compound, the residents' complaints, the parties, the households and the money.

Everything here is fixed (nothing random, no clock), so that a second playing sends the same requests and every
``Idempotency-Key`` replays its first answer. Instants and dates are derived in :mod:`jinlin.demo.script` from
answers the services gave earlier, never from the clock of the second playing.
"""

from dataclasses import dataclass
from typing import Any, Final

COMPOUND_ID: Final = "jinyuan-huating"
COMPOUND_NAME: Final = "金园华庭"
CASE_ID: Final = "case-jinyuan-huating-electricity"

FULL_HOUSEHOLDS: Final = 320
FULL_ARREARS_FEN: Final = 18_643_250
"""¥186,432.50: the master meter's arrears the power company confirms for the whole compound (320 households)."""

PREPAYMENT_FEN_PER_M2: Final = 800
"""A household's payment into escrow: an electricity prepayment of ¥8.00 per m² (rounded up to the yuan)."""

# --- the organisations ---------------------------------------------------------------------------------------------

OWNERS_COMMITTEE: Final = "金园华庭业主委员会"
PROPERTY_COMPANY: Final = "天长市金园物业服务有限公司"
POWER_COMPANY: Final = "国网天长市供电公司"
COMMUNITY: Final = "金园社区居委会"
CENTER: Final = "天长市红色物业综合服务中心"
NOTARY_OFFICE: Final = "安徽省天长市公证处"
SERVICE_STATION: Final = "金园华庭小区党群服务站（7栋东侧一楼）"

REPRESENTATIVES: Final = ("张秀英", "孙德福")
"""Residents' representatives: people, so their names are sealed by the service that first records them."""

POWER_COMPANY_PAYEE: Final[dict[str, Any]] = {
    "payee_id": "state-grid-tianchang",
    "name": POWER_COMPANY,
    "bank_name": "中国工商银行天长支行",
    "account_number": "1313050109024500917",
}
MASTER_METER: Final = "3410810000736421"

MEDIATOR: Final[dict[str, str]] = {"id": "dev-mediator", "name": "陈静"}
SUPERVISING_NOTARY: Final = "孙悦"

# --- the complaints ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Complaint:
    key: str
    """The step's name in the story (part of its idempotency keys)."""
    building: str
    unit: str
    channel: str
    issue: str
    description: str
    reporter: str
    phone: str
    hotline_reference: str | None = None
    households_affected: int | None = None
    partly_fixed: bool = False
    """Called back "partly fixed": reopened, resolved again, and only then called back fixed."""

    def body(self) -> dict[str, Any]:
        answers: dict[str, Any] = {"issue": self.issue}
        if self.households_affected is not None:
            answers["households_affected"] = self.households_affected
        body: dict[str, Any] = {
            "category_code": "electricity",
            "channel": self.channel,
            "compound_id": COMPOUND_ID,
            "building": self.building,
            "unit": self.unit,
            "description": self.description,
            "answers": answers,
            "reporter": {"name": self.reporter, "phone": self.phone},
        }
        if self.hotline_reference is not None:
            body["hotline_reference"] = self.hotline_reference
        return body


COMPLAINTS: Final = (
    Complaint(
        "c01", "3栋", "2单元", "walk_in", "arrears",
        "物业公司每月向我们收电费，却没有交给供电公司。供电公司在单元门口贴了欠费停电通知，说整个小区总表欠费十八万多元。"
        "我们每个月都按时交了电费，凭什么要停我们的电？",
        "张秀英", "13905501234", households_affected=320,
    ),
    Complaint(
        "c02", "7栋", "1单元", "phone", "direct_supply",
        "听说一户一表直供电改造因为小区欠费办不了，供电公司不给装表立户。物业一直说在协调，已经拖了半年，没有任何进展。",
        "李建国", "13855023456",
    ),
    Complaint(
        "c03", "1栋", "1单元", "hotline_12345", "arrears",
        "12345热线转办：居民反映金园华庭小区物业拖欠电费，供电公司多次催缴，小区随时可能被停电。家中有老人使用制氧机，"
        "非常担心，请尽快协调处理。",
        "刘桂芳", "18955067890", hotline_reference="TC12345-0312-0087", households_affected=320,
    ),
    Complaint(
        "c04", "5栋", "2单元", "phone", "power_cut",
        "上周四晚上突然停电两个多小时，物业说是供电公司因为欠费限电。冰箱里的东西都坏了，孩子第二天还要考试。",
        "王桂兰", "13665509876",
    ),
    Complaint(
        "c05", "2栋", "1单元", "walk_in", "billing",
        "物业按每度电加收三毛钱“线损费”，电费单上没有明细，收了钱又不交给供电公司。要求公开这几年的电费收支账目。",
        "陈志强", "15955012345",
    ),
    Complaint(
        "c06", "9栋", "2单元", "hotline_12345", "arrears",
        "12345热线转办：居民反映小区电梯、路灯等公共用电同样欠费，晚上9栋到10栋之间的路灯不亮，老人出行存在安全隐患。",
        "马俊", "13705504321", hotline_reference="TC12345-0315-0142",
    ),
    Complaint(
        "c07", "6栋", "1单元", "phone", "arrears",
        "我家在一楼开小超市，用电也挂在物业总表下面。物业说不交齐欠费就拉闸，冰柜里的货怎么办？物业能这样断电吗？",
        "赵丽", "13955078901",
    ),
    Complaint(
        "c08", "8栋", "2单元", "walk_in", "direct_supply",
        "我是8栋的老住户，物业换了三任经理，电费账一直说不清。希望社区和服务中心出面，让供电公司直接给每户装表，"
        "以后电费直接交给供电公司。",
        "孙德福", "13505506789",
    ),
    Complaint(
        "c09", "10栋", "1单元", "hotline_12345", "power_cut",
        "12345热线转办：居民反映物业公司声称将对未缴物业费的住户停电，10栋居民情绪激动，请相关部门尽快介入。",
        "黄伟", "18655023478", hotline_reference="TC12345-0318-0203",
    ),
    Complaint(
        "c10", "4栋", "1单元", "walk_in", "billing",
        "物业收电费不开发票，只给一张收据，问他们要缴费明细也不给。我们想知道自己交的钱到底去了哪里。",
        "杨秀梅", "15255034567",
    ),
    Complaint(
        "c11", "3栋", "1单元", "phone", "billing",
        "电费是预交给物业的，我家去年预交了一千元，现在物业说账上没钱，供电公司又不认。我预交的电费怎么办？",
        "周敏", "13805509812", partly_fixed=True,
    ),
    Complaint(
        "c12", "7栋", "2单元", "walk_in", "direct_supply",
        "业主委员会已经开会决定要做一户一表改造，但供电公司说必须先结清总表欠费才能给每户立户，希望中心协调物业和供电公司。",
        "吴海涛", "13955061230",
    ),
)  # fmt: skip

ESCALATION_REASON: Final = (
    "金园华庭12件投诉同属一事：金园物业代收电费后拖欠小区总表电费，导致一户一表直供电改造无法启动，涉及业主委员会、"
    "物业公司、居民和供电公司多方，需召开近邻茶话会协商解决。"
)
ESCALATION_PARTIES: Final[tuple[dict[str, Any], ...]] = (
    {"role": "owners_committee", "organisation": OWNERS_COMMITTEE},
    {"role": "property_company", "organisation": PROPERTY_COMPANY},
    *({"role": "residents_representative", "person_name": name} for name in REPRESENTATIVES),
    {"role": "utility", "organisation": POWER_COMPANY},
)

CALL_BACK_REMARKS: Final = (
    "新电表已装好，电费直接交供电公司，很满意",
    "停电通知撤了，改造也完成了",
    "路灯和电梯都正常了，谢谢服务中心",
    "现在用手机就能交电费，方便多了",
)
PARTLY_FIXED_REMARK: Final = "新电表装好了，但去年预交给物业的一千元电费还没说清楚怎么处理"
PARTLY_FIXED_RESOLUTION: Final = (
    "经核对物业移交的代收电费台账，该户预交的1000元已计入其在监管账户的分户账，抵扣应分摊的总表欠费后，"
    "余款已由监管账户退还至该户银行卡，并向居民当面说明。"
)
RESOLVED_NOTE_FOR_SECOND_CALL: Final = "居民确认预交款已退还，问题解决"

# --- the mediation -------------------------------------------------------------------------------------------------

MEETING_AGENDA: Final = (
    "核实金园物业代收电费及拖欠小区总表电费的情况",
    "商定由监管账户结清总表欠费的办法和时间",
    "一户一表直供电改造的分工、时间表和费用",
)
MINUTES: Final = (
    "近邻茶话会在金园华庭小区党群服务站召开，社区居委会、业主委员会、金园物业、居民代表和国网天长市供电公司参加，"
    "人民调解员陈静主持。\n"
    "一、供电公司通报：小区总表截至确认日累计欠费{arrears}，须结清后方可逐户立户、装表直供。\n"
    "二、金园物业承认代收电费未足额上缴，同意移交代收电费台账和缴费凭证，配合审计。\n"
    "三、业主委员会通报业主大会表决结果，同意实施一户一表改造，电费改交公证处监管的收款账户。\n"
    "四、各方同意：由服务中心会同社区向公证处申请开立监管账户；居民电费交入监管账户；"
    "欠费经供电公司确认后按建筑面积分摊，由监管账户一次性结清；供电公司结清后逐户装表直供。\n"
    "五、各方同意将上述内容形成调解协议，由调解员起草，各方签字后生效并在小区公示。"
)
FACTS: Final = (
    "金园华庭小区共{households}户，由国网天长市供电公司通过一块总表供电，电费由天长市金园物业服务有限公司向居民代收后"
    "向供电公司缴纳。金园物业未足额缴纳，截至供电公司确认日，小区总表欠费{arrears}。供电公司以结清欠费为条件办理"
    "一户一表直供电改造。居民就此提出投诉12件，服务中心将其并案并提交调解。"
)
ISSUES: Final = (
    "总表欠费由谁、以什么资金、何时结清",
    "金园物业代收电费的账目如何移交和核对",
    "一户一表直供电改造何时实施、由谁负责",
)
POSTING_PLACE: Final = "金园华庭小区各单元公告栏及党群服务站公示栏"
FOLLOW_UP: Final = (
    "回访居民代表：总表欠费已由监管账户结清，供电公司已为全部{households}户安装智能电表并转为直供电，"
    "金园物业已移交代收电费台账，多收的线损费经各方同意不再退还、改为抵扣。协议已履行完毕，居民满意。"
)
CLOSING_SUMMARY: Final = "协议各项义务均已履行或经各方同意免除，金园华庭一户一表直供电改造完成，结案。"
RECORDS_EVIDENCE: Final = (
    "《金园物业代收电费资料移交清单》，业主委员会、服务中心和金园物业三方签字，共移交台账12册、缴费凭证3箱"
)
REFUND_WAIVER: Final = (
    "业主委员会和居民代表同意：多收的线损费不再退还，由金园物业移交的公共收益抵扣，经业主大会表决通过"
)


def money_text(fen: int) -> str:
    """¥186,432.50 as the agreement writes it: 人民币186,432.50元."""
    return f"人民币{fen // 100:,}.{fen % 100:02d}元"


# --- the households ------------------------------------------------------------------------------------------------

_AREAS_DM2: Final = (8937, 9612, 10560, 11883, 12640, 13875, 7845, 10218)
_CHANNELS: Final = ("bank_transfer", "wechat_pay", "alipay", "bank_transfer", "unionpay_pos", "cash_at_desk")


@dataclass(frozen=True)
class Household:
    index: int
    household_id: str
    label: str
    floor_area_dm2: int

    @property
    def pays(self) -> bool:
        """Most households pay into escrow; one in sixteen has not yet."""
        return self.index % 16 != 7

    @property
    def payment_fen(self) -> int:
        yuan = -(-self.floor_area_dm2 * PREPAYMENT_FEN_PER_M2 // 10_000)  # rounded up to the yuan
        return yuan * 100

    @property
    def channel(self) -> str:
        return _CHANNELS[self.index % len(_CHANNELS)]

    @property
    def reference(self) -> str:
        """The bank's or payment provider's reference: one payment, one reference."""
        n = self.index + 1
        return {
            "bank_transfer": f"CCB34050172{n:08d}",
            "wechat_pay": f"4200001{n:021d}",
            "alipay": f"2088{n:024d}",
            "unionpay_pos": f"POS-TC0301-{n:06d}",
            "cash_at_desk": f"DEP-JYHT-{n:05d}",
        }[self.channel]

    @property
    def meter_number(self) -> str:
        return f"34108102{self.index + 1:06d}"


def households(count: int) -> list[Household]:
    """``count`` flats: 32 to a building (栋), two units (单元) of eight floors with two flats each."""
    flats = []
    for index in range(count):
        building, unit = index // 32 + 1, (index // 16) % 2 + 1
        floor, flat = (index // 2) % 8 + 1, index % 2 + 1
        area = _AREAS_DM2[(building * 3 + unit * 5 + floor * 7 + flat) % len(_AREAS_DM2)]
        flats.append(
            Household(
                index=index,
                household_id=f"jyht-{building:02d}-{unit}-{floor}0{flat}",
                label=f"{building}栋{unit}单元{floor}0{flat}",
                floor_area_dm2=area,
            )
        )
    return flats


def arrears_fen(count: int) -> int:
    """The arrears for ``count`` households: the full story's ¥186,432.50 for 320, in proportion for fewer (tests)."""
    if count == FULL_HOUSEHOLDS:
        return FULL_ARREARS_FEN
    return max(1, FULL_ARREARS_FEN * count // FULL_HOUSEHOLDS)
