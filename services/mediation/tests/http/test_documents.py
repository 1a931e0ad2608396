"""The printable documents: the agreement (人民调解协议书) and the case record carry what the law and the desk need,
in Chinese, escaped, printable; residents' names only for those entitled and only when sealed here."""

import re
from datetime import timedelta

from ..conftest import Desk, FakeClock, Service, agreed_with_a_resident, as_role


def text_of(html: str) -> str:
    """The visible text, tags dropped and whitespace collapsed, to look for phrases."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


async def test_the_agreement_has_what_the_law_requires(service: Service, desk: Desk, clock: FakeClock) -> None:
    client, _ = service
    await agreed_with_a_resident(desk, clock)
    draft = await client.get("/cases/case-doc/agreement.html", headers=as_role("mediator"))
    assert draft.status_code == 200 and draft.headers["content-type"].startswith("text/html")
    assert "草稿，尚未生效" in draft.text and "本协议尚未生效" in draft.text

    for party in ("party-1", "party-2", "party-5"):
        await desk.post("case-doc", "/agreement/signatures", {"party_id": party})
    signed_on = f"{clock.now.year}年{clock.now.month}月{clock.now.day}日"
    deadline = clock.now + timedelta(days=30)
    response = await client.get("/cases/case-doc/agreement.html", headers=as_role("mediator"))
    html, text = response.text, text_of(response.text)
    assert response.headers["etag"] == desk.etags["case-doc"]
    assert "<title>人民调解协议书 case-doc</title>" in html and "人民调解协议书" in text
    assert "@media print" in html and "@page" in html and '<html lang="zh-CN">' in html
    assert "草稿" not in text
    # The parties, with their kinds; the resident's name opened for the mediator (sealed by this service).
    for phrase in (
        "当事人基本情况",
        "天长市金园物业服务有限公司",
        "国网天长市供电公司",
        "李桂兰",
        "物业服务企业",
        "居民",
    ):
        assert phrase in text, phrase
    assert "人民调解员：陈静" in text
    # The facts (escaped), the issues, each term: obligor, what, by when, evidence, and the event that fulfils it.
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "<script>" not in html
    for phrase in ("纠纷主要事实", "争议事项", "总表欠费如何结清", "改造何时完成", "协议内容", "履行义务人",
                   "物业公司将代收电费移交监管账户", "供电公司出具的结清证明", "改造竣工验收单",
                   "jinlin.escrow.ArrearsPaid.v1", "compound_id = jinyuan-huating", "fully_paid = true"):  # fmt: skip
        assert phrase in text, phrase
    due = clock.now + timedelta(days=10)
    assert f"{due.year}年{due.month}月{due.day}日" in text
    assert "李桂兰（party-5）" in text  # the obligor of the meters
    # Signatures with their dates, the effect, the 30-day window for judicial confirmation with its last day.
    assert text.count(f"已签名 {signed_on}") == 3
    assert f"本协议于 {signed_on} 经各方当事人签名后生效" in text
    assert "三十日内" in text and "共同向人民法院申请司法确认" in text
    assert f"{deadline.year}年{deadline.month}月{deadline.day}日" in text
    assert "具有法律约束力" in text and "一式4份" in text

    # An auditor gets the same document without the resident's name.
    audited = text_of((await client.get("/cases/case-doc/agreement.html", headers=as_role("auditor"))).text)
    assert "李桂兰" not in audited and "（已脱敏）（party-5）" in audited
    missing = await client.get("/cases/case-none/agreement.html", headers=as_role("mediator"))
    assert missing.status_code == 404 and missing.headers["content-type"] == "application/problem+json"
    await desk.refer("case-no-agreement")
    none_yet = await client.get("/cases/case-no-agreement/agreement.html", headers=as_role("mediator"))
    assert none_yet.status_code == 404 and none_yet.json()["type"].endswith("/no-agreement")


async def test_the_case_record_tells_the_whole_case(service: Service, desk: Desk, clock: FakeClock) -> None:
    client, _ = service
    await agreed_with_a_resident(desk, clock)
    for party in ("party-1", "party-2", "party-5"):
        await desk.post("case-doc", "/agreement/signatures", {"party_id": party})
    await desk.post("case-doc", "/agreement/postings", {"place": "小区公告栏"})
    await desk.post("case-doc", "/obligations/t-arrears/fulfil", {"evidence": "结清证明 GD-118"})
    await desk.post("case-doc", "/obligations/t-meters/waive", {"reason": "供电公司已自行完成"})
    await desk.post(
        "case-doc", "/follow-up-visits", {"performance": "已直供电", "party_id": "party-5", "satisfaction": 4}
    )
    await desk.post("case-doc", "/close", {"summary": "协议全部履行"})

    response = await client.get("/cases/case-doc/record.html", headers=as_role("supervisor"))
    assert response.status_code == 200
    text = text_of(response.text)
    expected = [
        "人民调解案件记录", "案件来源", "投诉转调解", "c-case-doc-1、c-case-doc-2", "受理时间", "调解期限至",
        "当事人及权利义务告知", "已告知", "未告知", "李桂兰", "（已脱敏）", "人民调解员：陈静",
        "调解会议", "金园华庭党群服务站", "欠费金额核对", "不出席", "到会", "未到", "三方确认欠费金额为十二万元",
        "调解协议", "协议生效", "申请司法确认期限至", "公示：小区公告栏",
        "协议履行情况", "已履行", "结清证明 GD-118", "经协商免除", "免除理由：供电公司已自行完成",
        "回访", "已直供电", "4/5", "结案", "已结案", "协议全部履行", "案件时间线", "立案", "受理", "告知权利义务",
        "当事人签署", "协议生效", "义务履行", "义务免除", "consumer:mediation-escalations", "staff:mediator-1",
    ]  # fmt: skip
    for phrase in expected:
        assert phrase in text, phrase
    # The timeline lists every event of the case, in order.
    detail = (await client.get("/cases/case-doc", headers=as_role("auditor"))).json()
    assert response.text.count("<tr><td>") >= len(detail["history"])
    audited = text_of((await client.get("/cases/case-doc/record.html", headers=as_role("auditor"))).text)
    assert "李桂兰" not in audited
