"""The agreement (人民调解协议书) as the People's Mediation Law asks of it (§28–§33): the parties, the main facts of
the dispute and the issues, each term with who performs it, what, by when and what shows it done, the signatures
with their dates, the mediator and the committee's seal, when it took effect, its binding force, and the 30 days in
which the parties may apply together for judicial confirmation. A draft not in effect says so under its title.
"""

import json
from collections.abc import Mapping

from mediation.adapters.documents.labels import (
    AGREED_AS_FOLLOWS,
    COPIES,
    KINDS,
    LAW_BINDING,
    LAW_CONFIRMATION,
    LAW_TAKES_EFFECT,
    NOT_IN_EFFECT,
    TOOK_EFFECT_ON,
    UNDATED,
    WINDOW_FROM_EFFECT,
    WINDOW_UNTIL,
    date_cn,
    datetime_cn,
)
from mediation.adapters.documents.model import (
    Blank,
    Cell,
    Document,
    Look,
    NumberedList,
    Paragraph,
    Section,
    Strong,
    Table,
)
from mediation.domain import Agreement, CaseState, Term

TITLE = "人民调解协议书"


def party_label(names: Mapping[str, str], party_id: str) -> str:
    """ "李桂兰（party-5）": what the document calls a party, with the id the case gave it."""
    return f"{names.get(party_id, party_id)}（{party_id}）"


def fulfilled_by_note(term: Term) -> str:
    wanted = term.fulfilled_by
    if wanted is None:
        return ""
    # Strings as they are, true/false and numbers as JSON writes them (the match is on JSON values).
    shown = {key: value if isinstance(value, str) else json.dumps(value) for key, value in wanted.match.items()}
    match = "，".join(f"{key} = {value}" for key, value in shown.items())
    return f"由 {wanted.service} 服务的事件 {wanted.event_type} 确认（{match}）"


def terms_table(agreement: Agreement, names: Mapping[str, str]) -> Table:
    rows = tuple(
        (
            Cell(term.term_id),
            Cell(party_label(names, term.obligor)),
            Cell(term.what),
            Cell(datetime_cn(term.due_at)),
            Cell(term.evidence_required, note=fulfilled_by_note(term)),
        )
        for term in agreement.terms
    )
    return Table(("条款", "履行义务人", "履行内容与方式", "履行期限", "履行证明"), rows, (10, 22, 34, 16, 24))


def _parties(state: CaseState, agreement: Agreement, names: Mapping[str, str]) -> Section:
    rows = []
    for party_id in agreement.party_ids:
        record = state.party(party_id)
        kind = KINDS.get(record.party.kind.value, record.party.kind.value) if record else ""
        rows.append((Cell(party_id), Cell(kind), Cell(names.get(party_id, party_id))))
    blocks: list[Table | Paragraph] = [Table(("当事人", "类别", "名称或姓名"), tuple(rows), (18, 24, 58))]
    if state.mediator is not None:
        blocks.append(Paragraph.of(f"人民调解员：{state.mediator.name}"))
    return Section("parties", "一、当事人基本情况", tuple(blocks))


def _signatures(state: CaseState, agreement: Agreement, names: Mapping[str, str]) -> Section:
    rows = []
    for party_id in agreement.party_ids:
        signed_at = agreement.signatures.get(party_id)
        signature = Cell("已签名") if signed_at else Cell("", blank=True)
        rows.append((Cell(party_label(names, party_id)), signature, Cell(date_cn(signed_at) if signed_at else UNDATED)))
    mediator = state.mediator.name if state.mediator else ""
    return Section(
        "signatures",
        "五、签名",
        (
            Table(("当事人", "签名、盖章或者按指印", "日期"), tuple(rows), (40, 35, 25)),
            Paragraph.of(f"人民调解员（签名）：{mediator} ", Blank()),
            Paragraph.of(f"人民调解委员会（印章）\n{UNDATED}", look=Look.SEAL),
        ),
    )


def _effect(agreement: Agreement) -> Section:
    took_effect = (
        Paragraph.of(*_around(TOOK_EFFECT_ON, "{date}", Strong(date_cn(agreement.took_effect_at))))
        if agreement.took_effect_at is not None
        else Paragraph.of(NOT_IN_EFFECT)
    )
    deadline = agreement.confirmation_deadline
    window: tuple[str | Strong, ...] = (
        _around(WINDOW_UNTIL, "{deadline}", Strong(datetime_cn(deadline)))
        if deadline is not None
        else (WINDOW_FROM_EFFECT,)
    )
    before, _, after = LAW_CONFIRMATION.partition("{window}")
    return Section(
        "effect",
        "六、协议效力",
        (
            Paragraph.of(LAW_TAKES_EFFECT),
            took_effect,
            Paragraph.of(LAW_BINDING),
            Paragraph.of(before, *window, after),
            Paragraph.of(COPIES.format(copies=len(agreement.party_ids) + 1)),
        ),
        law=True,
    )


def _around(sentence: str, placeholder: str, emphasised: Strong) -> tuple[str | Strong, ...]:
    before, _, after = sentence.partition(placeholder)
    return (before, emphasised, after)


def agreement_document(state: CaseState, agreement: Agreement, names: Mapping[str, str]) -> Document:
    """``names``: party id → what to print (the organisation, the opened name, or withheld)."""
    heading = [
        Paragraph.of(f"编号：{state.case_id}（{agreement.agreement_id}，第{agreement.revision}稿）", look=Look.CENTERED)
    ]
    if agreement.took_effect_at is None:
        waiting = "、".join(party_label(names, party_id) for party_id in agreement.unsigned_party_ids)
        heading.append(Paragraph.of(f"草稿，尚未生效（待签名：{waiting}）", look=Look.NOTICE))
    return Document(
        title=TITLE,
        reference=state.case_id,
        heading=tuple(heading),
        sections=(
            _parties(state, agreement, names),
            Section("facts", "二、纠纷主要事实", (Paragraph.of(agreement.facts),)),
            Section("issues", "三、争议事项", (NumberedList(agreement.issues),)),
            Section(
                "terms",
                "四、协议内容（谁履行、如何履行、何时履行）",
                (Paragraph.of(AGREED_AS_FOLLOWS), terms_table(agreement, names)),
            ),
            _signatures(state, agreement, names),
            _effect(agreement),
        ),
    )
