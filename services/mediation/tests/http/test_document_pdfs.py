"""The agreement and the case record as PDFs: real PDFs in Chinese that say what the HTML says (the law's contents),
residents' names only for those entitled, long text wrapped onto as many pages as it needs."""

import io
import re
from datetime import timedelta

import httpx
from pypdf import PdfReader

from ..conftest import Desk, FakeClock, Service, agreed_with_a_resident, as_role

# What the record of a closed case shows, section by section, down to the timeline.
RECORD_PHRASES = (
    "人民调解案件记录", "编号：case-doc", "状态：已结案", "一、案件来源", "投诉转调解",
    "c-case-doc-1、c-case-doc-2", "受理时间", "调解期限至", "三、当事人及权利义务告知", "已告知",
    "未告知", "李桂兰", "（已脱敏）", "人民调解员：陈静", "四、调解会议", "金园华庭党群服务站",
    "议程：欠费金额核对；改造时间表", "不出席", "到会", "未到",
    "会议记录：三方确认欠费金额为十二万元。", "五、调解协议", "申请司法确认期限至", "公示：小区公告栏",
    "六、协议履行情况", "已履行", "结清证明GD-118", "经协商免除", "免除理由：供电公司已自行完成",
    "七、回访", "已直供电", "4/5", "八、结案", "协议全部履行", "九、案件时间线", "立案",
    "告知权利义务", "当事人签署", "协议生效", "义务免除", "consumer:mediation-escalations",
    "staff:mediator-1",
)  # fmt: skip


def pdf_text(response: httpx.Response) -> str:
    """The text of every page, without whitespace: CJK lines break anywhere, so phrases are compared unbroken."""
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/pdf"
    assert response.content.startswith(b"%PDF-")
    reader = PdfReader(io.BytesIO(response.content))
    return re.sub(r"\s+", "", "".join(page.extract_text() for page in reader.pages))


def html_text(response: httpx.Response) -> str:
    return re.sub(r"\s+", "", re.sub(r"<[^>]+>", "", response.text)).replace("&lt;", "<").replace("&gt;", ">")


def squeezed(phrase: str) -> str:
    return re.sub(r"\s+", "", phrase)


async def signed(desk: Desk, clock: FakeClock) -> None:
    await agreed_with_a_resident(desk, clock)
    for party in ("party-1", "party-2", "party-5"):
        await desk.post("case-doc", "/agreement/signatures", {"party_id": party})


async def test_the_agreement_pdf_says_what_the_law_requires(service: Service, desk: Desk, clock: FakeClock) -> None:
    client, _ = service
    await signed(desk, clock)
    response = await client.get("/cases/case-doc/agreement.pdf", headers=as_role("mediator"))
    text = pdf_text(response)
    assert response.headers["etag"] == desk.etags["case-doc"]
    assert response.headers["content-disposition"] == 'inline; filename="agreement-case-doc.pdf"'
    signed_on = f"{clock.now.year}年{clock.now.month}月{clock.now.day}日"
    due = clock.now + timedelta(days=10)
    deadline = clock.now + timedelta(days=30)
    for phrase in (
        "人民调解协议书",
        "一、当事人基本情况",
        "天长市金园物业服务有限公司",
        "国网天长市供电公司",
        "李桂兰",  # sealed here, opened for the mediator
        "物业服务企业",
        "人民调解员：陈静",
        "二、纠纷主要事实",
        "物业公司拖欠小区总表电费<script>alert(1)</script>。",  # as written, not as markup
        "三、争议事项",
        "1.总表欠费如何结清",
        "2.改造何时完成",
        "四、协议内容",
        "履行义务人",
        "物业公司将代收电费移交监管账户，由监管账户向供电公司结清小区总表欠费",
        "李桂兰（party-5）",  # the obligor of the meters
        f"{due.year}年{due.month}月{due.day}日",
        "供电公司出具的结清证明",
        "改造竣工验收单",
        "jinlin.escrow.ArrearsPaid.v1",
        "五、签名",
        "签名、盖章或者按指印",
        "人民调解委员会（印章）",
        "六、协议效力",
        f"本协议于{signed_on}经各方当事人签名后生效",
        "三十日内",
        f"{deadline.year}年{deadline.month}月{deadline.day}日",
        "共同向人民法院申请司法确认",
        "具有法律约束力",
        "一式4份",
    ):
        assert squeezed(phrase) in text, phrase
    assert text.count(f"已签名{signed_on}") == 3
    assert "草稿" not in text
    reader = PdfReader(io.BytesIO(response.content))
    assert reader.metadata is not None and reader.metadata.title == "人民调解协议书 case-doc"


async def test_the_pdf_and_the_page_say_the_same(service: Service, desk: Desk, clock: FakeClock) -> None:
    client, _ = service
    await agreed_with_a_resident(desk, clock)  # a draft: the notice, the blank signatures
    for document in ("agreement", "record"):
        page = await client.get(f"/cases/case-doc/{document}.html", headers=as_role("supervisor"))
        pdf = pdf_text(await client.get(f"/cases/case-doc/{document}.pdf", headers=as_role("supervisor")))
        # Every section of the page is in the PDF, in the same order; so is every cell of every table.
        titles = [squeezed(title) for title in re.findall(r"<h2>([^<]+)</h2>", page.text)]
        assert len(titles) >= 6
        assert all(title in pdf for title in titles)
        assert [pdf.index(title) for title in titles] == sorted(pdf.index(title) for title in titles)
        cells = [squeezed(cell) for cell in re.findall(r"<td>([^<]+)</td>", page.text)]
        without_lines = pdf.replace("＿", "")  # a date to write in: blanks on the page, lines on paper
        assert cells and [cell for cell in cells if cell not in without_lines] == []
        for phrase in ("草稿，尚未生效", "本协议尚未生效", "李桂兰", "欠费金额核对", "三方确认欠费金额为十二万元"):
            assert (phrase in html_text(page)) == (phrase in pdf), (document, phrase)


async def test_residents_names_are_printed_for_mediators_only(service: Service, desk: Desk, clock: FakeClock) -> None:
    client, _ = service
    await signed(desk, clock)
    for document in ("agreement", "record"):
        audited = pdf_text(await client.get(f"/cases/case-doc/{document}.pdf", headers=as_role("auditor")))
        assert "李桂兰" not in audited and "（已脱敏）" in audited
    assert (await client.get("/cases/case-doc/agreement.pdf", headers=as_role("intake"))).status_code == 403


async def test_the_record_pdf_tells_the_whole_case(service: Service, desk: Desk, clock: FakeClock) -> None:
    client, _ = service
    await signed(desk, clock)
    await desk.post("case-doc", "/agreement/postings", {"place": "小区公告栏"})
    await desk.post("case-doc", "/obligations/t-arrears/fulfil", {"evidence": "结清证明 GD-118"})
    await desk.post("case-doc", "/obligations/t-meters/waive", {"reason": "供电公司已自行完成"})
    await desk.post(
        "case-doc", "/follow-up-visits", {"performance": "已直供电", "party_id": "party-5", "satisfaction": 4}
    )
    await desk.post("case-doc", "/close", {"summary": "协议全部履行"})
    response = await client.get("/cases/case-doc/record.pdf", headers=as_role("mediator"))
    text = pdf_text(response)
    assert response.headers["etag"] == desk.etags["case-doc"]
    for phrase in RECORD_PHRASES:
        assert squeezed(phrase) in text, phrase
    # The timeline has every event of the case.
    detail = (await client.get("/cases/case-doc", headers=as_role("auditor"))).json()
    assert text.count("staff:") + text.count("consumer:") >= len(detail["history"])


async def test_long_text_wraps_onto_more_pages_and_odd_characters_do_no_harm(
    service: Service, desk: Desk, clock: FakeClock
) -> None:
    client, _ = service
    await desk.accepted("case-long")
    what = "逐户核对电表读数，" * 444  # nearly 4000 characters in one narrow cell, taller than a page
    terms = [term | {"what": what} if term["term_id"] == "t-meters" else term for term in desk.terms()]
    await desk.post(
        "case-long",
        "/agreement",
        {
            "party_ids": ["party-1", "party-2"],
            "facts": '业主群里的留言 😀 𠀀 ＆ <b>粗体</b> & "引号"\n第二段。' + "小区总表欠费。" * 2000,
            "issues": ["欠费"],
            "terms": terms,
        },
    )
    response = await client.get("/cases/case-long/agreement.pdf", headers=as_role("mediator"))
    text = pdf_text(response)
    assert len(PdfReader(io.BytesIO(response.content)).pages) >= 4
    # The whole term, nothing lost across the pages (whose repeated headers interrupt its phrases).
    assert text.count("逐") == 444
    assert '<b>粗体</b>&"引号"' in text and "第二段。" in text
    assert "六、协议效力" in text  # and the document goes on to its end
    # The same case at the same version prints the same bytes.
    again = await client.get("/cases/case-long/agreement.pdf", headers=as_role("mediator"))
    assert again.content == response.content


async def test_a_case_without_an_agreement_has_no_agreement_pdf(service: Service, desk: Desk) -> None:
    client, _ = service
    await desk.refer("case-none-yet")
    answer = await client.get("/cases/case-none-yet/agreement.pdf", headers=as_role("mediator"))
    assert answer.status_code == 404 and answer.json()["type"].endswith("/no-agreement")
    assert answer.headers["content-type"] == "application/problem+json"
    missing = await client.get("/cases/case-nowhere/record.pdf", headers=as_role("mediator"))
    assert missing.status_code == 404 and missing.headers["content-type"] == "application/problem+json"
    record = await client.get("/cases/case-none-yet/record.pdf", headers=as_role("auditor"))
    assert "未达成调解协议" in pdf_text(record)
