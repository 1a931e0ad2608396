"""The story, phase by phase, through the services' public HTTP APIs as the center's staff play it.

1. Complaints: a dozen residents complain (walk-in, phone, the 12345 hotline); the desk acknowledges them, links
   them into one case and escalates it to mediation, naming the parties.
2. Mediation: the case opens from the escalation (the mediation service consumes it); it is accepted, a mediator
   assigned, the parties told their rights; a consultation meeting (近邻茶话会) with invitations, RSVPs, attendance
   and minutes; an agreement whose every term names who does it by when; every party signs, it takes effect (and the
   complaints service resolves the complaints by agreement), it is posted.
3. Escrow: accounts for the property fee and for electricity requested and opened at the notary office; households
   registered and paying in; the handover started, the owners' vote, the escrow account, the arrears confirmed and
   allocated; the payment of the arrears requested, co-signed by the finance desk and the notary and executed: the
   escrow service records ``ArrearsPaid`` and the mediation service fulfils the term that names it.
4. Meters installed and supply switched household by household; facilities transferred; the handover completed;
   the other obligations fulfilled or waived; a follow-up visit; the case closed.
5. The residents called back (one only partly fixed: reopened, resolved again, called back fixed); a statement of
   the electricity account for the notary.

Commands for the case carry ``Jinlin-Case-Id`` (the escrow account's lifecycle, the handover's milestones, the
payment of the arrears, the statement), so the case's timeline crosses the three services. The bulk of the
households' business (registrations, payments in, meters, switches) is the accounts' and the handover's own and
carries no case id: the timeline stays readable, the household screens show it.
"""

import time
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from datetime import time as clock_time
from typing import Any, Final
from zoneinfo import ZoneInfo

import httpx

from jinlin.demo import story
from jinlin.demo.client import Answer, DemoClient, DemoError, Endpoints, Stats
from jinlin.demo.staff import SECOND_FINANCE, demo_tokens
from jinlin.demo.story import CASE_ID, COMPOUND_ID

CHINA: Final = ZoneInfo("Asia/Shanghai")
ELECTRICITY_ACCOUNT: Final = f"{COMPOUND_ID}-electricity"
PROPERTY_FEE_ACCOUNT: Final = f"{COMPOUND_ID}-property-fee"
DISBURSEMENT_ID: Final = f"arrears-{COMPOUND_ID}"
ARREARS_CONDITION: Final = "power_company_confirms_arrears"
ARREARS_PAID: Final = "jinlin.escrow.ArrearsPaid.v1"
MEETING_LEAD: Final = timedelta(seconds=4)
"""How long after it is scheduled the tea party begins: time for the invitations and RSVPs, which must come first."""
PARALLEL: Final = 8

__all__ = ["CASE_ID", "COMPOUND_ID", "DemoResult", "play"]


def timeline_url(console: str, case_id: str = CASE_ID) -> str:
    return f"{console}/cases/{case_id}/timeline"


@dataclass(frozen=True)
class DemoResult:
    case_id: str
    timeline_url: str
    complaint_ids: list[str]
    households: int
    stats: Stats
    seconds: float


def _instant(value: str) -> datetime:
    return datetime.fromisoformat(value)


def _china_day(value: str) -> date:
    return _instant(value).astimezone(CHINA).date()


def _at(day: date, hour: int) -> str:
    """An instant of the story: ``day`` at ``hour`` o'clock, China time."""
    return datetime.combine(day, clock_time(hour), CHINA).isoformat()


def _whole_second_after(value: str, lead: timedelta) -> datetime:
    moment = _instant(value) + lead
    return moment.replace(microsecond=0) + timedelta(seconds=1)


class Story:
    def __init__(
        self, client: DemoClient, households: int, say: Callable[[str], None], wait_timeout: float = 60.0
    ) -> None:
        if households < 1:
            raise ValueError("the story needs at least one household")
        self.c = client
        self.count = households
        self.flats = story.households(households)
        self.arrears_fen = story.arrears_fen(households)
        self.say = say
        self.wait_timeout = wait_timeout
        self.complaint_ids: dict[str, str] = {}
        self.party: dict[str, str] = {}
        self.notary_references: dict[str, str] = {}
        self.agreement_id = ""
        self.opened_on: date | None = None

    # --- plumbing ------------------------------------------------------------------------------------------------

    @contextmanager
    def phase(self, name: str, title: str) -> Iterator[None]:
        self.c.stats.current = name
        self.say(f"\n{title}")
        started = time.monotonic()
        try:
            yield
        finally:
            tally = self.c.stats.tally
            tally.seconds += time.monotonic() - started
            replayed = f", {tally.replayed} replayed" if tally.replayed else ""
            skipped = f", {tally.skipped} already done" if tally.skipped else ""
            waited = f", {tally.waited:.1f}s waiting for other services" if tally.waited >= 0.05 else ""
            self.say(f"   … {tally.commands} commands{replayed}{skipped}{waited}, {tally.seconds:.1f}s")

    def complaints_cmd(self, who: str, path: str, body: Any = None, *, step: str) -> Answer:
        return self.c.command("complaints", who, path, body, step=step)

    def mediation_cmd(self, path: str, body: Any = None, *, step: str, who: str = "mediator", **kw: Any) -> Answer:
        return self.c.command("mediation", who, f"/cases/{CASE_ID}{path}", body, step=step, **kw)

    def escrow_cmd(self, who: str, path: str, body: Any = None, *, step: str, for_case: bool = True) -> Answer:
        return self.c.command("billing-escrow", who, path, body, step=step, case_id=CASE_ID if for_case else None)

    def case(self) -> dict[str, Any] | None:
        answer = self.c.get("mediation", "mediator", f"/cases/{CASE_ID}", missing_ok=True)
        return None if answer is None else dict(answer.body)

    def parallel(self, work: Callable[[story.Household], object], flats: list[story.Household]) -> None:
        """Households' business in parallel (several desks and crews at work); an error stops the story."""
        with ThreadPoolExecutor(PARALLEL) as pool:
            for _ in pool.map(work, flats):
                pass

    def preflight(self) -> None:
        """Before anything is recorded: can the story be played to its end, with these households and staff?"""
        handover = self.c.get("billing-escrow", "finance", f"/handovers/{COMPOUND_ID}", missing_ok=True)
        registered = self.c.read("billing-escrow", "finance", "/households", {"compound_id": COMPOUND_ID})
        ours = {flat.household_id for flat in self.flats}
        played = handover.body["households"] if handover is not None else len(registered)
        if played != self.count and (handover is not None or not {h["household_id"] for h in registered} <= ours):
            raise DemoError(
                f"this stack played the story with {played} households, not {self.count}: play it with "
                f"--households {played}, or on a fresh var directory"
            )
        if self.c.knows("billing-escrow", SECOND_FINANCE, "/accounts"):
            return
        path = f"/accounts/{ELECTRICITY_ACCOUNT}/disbursements/{DISBURSEMENT_ID}"
        answer = self.c.get("billing-escrow", "finance", path, missing_ok=True)
        if answer is not None and "center_finance" not in answer.body["missing_roles"]:
            return  # co-signed already: played before
        raise DemoError(
            "the services know no second finance desk member to co-sign the payment of the arrears (the member who "
            "requests a payment out may not co-sign it). `make demo` (`jinlin demo --up`) starts the stack with one "
            "(stop a stack started by `make up` first; the story resumes where it stopped), or name one with "
            "--token finance-2=TOKEN"
        )

    # --- 1. complaints -------------------------------------------------------------------------------------------

    def complaints(self) -> None:
        channels = {"walk_in": 0, "phone": 0, "hotline_12345": 0}
        first_filed_at = ""
        for complaint in story.COMPLAINTS:
            filed = self.complaints_cmd("intake", "/complaints", complaint.body(), step=f"{complaint.key}:file")
            complaint_id = filed["complaint_id"]
            self.complaint_ids[complaint.key] = complaint_id
            first_filed_at = first_filed_at or filed["filed_at"]
            channels[complaint.channel] += 1
            self.complaints_cmd(
                "intake", f"/complaints/{complaint_id}/acknowledge", step=f"{complaint.key}:acknowledge"
            )
        self.say(
            f"   {len(story.COMPLAINTS)} residents' complaints filed and acknowledged (walk-in {channels['walk_in']}, "
            f"phone {channels['phone']}, 12345 hotline {channels['hotline_12345']}), from {first_filed_at[:19]}"
        )
        for complaint in story.COMPLAINTS:
            complaint_id = self.complaint_ids[complaint.key]
            self.complaints_cmd("handler", f"/complaints/{complaint_id}/case", {"case_id": CASE_ID},
                                step=f"{complaint.key}:link")  # fmt: skip
        self.say(f"   linked into one case: {CASE_ID}")
        first = self.complaint_ids[story.COMPLAINTS[0].key]
        body = {"reason": story.ESCALATION_REASON, "parties": list(story.ESCALATION_PARTIES)}
        escalated = self.complaints_cmd("handler", f"/complaints/{first}/escalate", body, step="escalate")
        self.say(
            f"   escalated to mediation: {len(escalated['escalated'])} complaints, parties 业主委员会, 金园物业, "
            f"{len(story.REPRESENTATIVES)} residents' representatives (names sealed), 国网天长市供电公司"
        )

    # --- 2. mediation --------------------------------------------------------------------------------------------

    def mediation(self) -> None:
        wanted = set(self.complaint_ids.values())

        def opened() -> dict[str, Any] | None:
            case = self.case()
            return case if case is not None and wanted <= set(case["complaint_ids"]) else None

        case = self.c.wait_for("the mediation case to open from the escalation", opened, timeout=self.wait_timeout)
        self.say(f"   the mediation service opened case {case['case_id']} from the escalation")
        self.mediation_cmd("/accept", step="accept")
        assigned = {"mediator": story.MEDIATOR, "reason": "电费纠纷，指派熟悉供用电政策的调解员"}
        self.mediation_cmd("/mediator", assigned, step="assign-mediator", who="supervisor")
        added = self.mediation_cmd(
            "/parties", {"kind": "community_committee", "organisation": story.COMMUNITY}, step="party:community"
        )
        self._map_parties(added.body["parties"])
        self.say(f"   accepted; mediator {story.MEDIATOR['name']} assigned; 金园社区居委会 joins as a party")
        informed = added
        for role, party_id in self.party.items():
            informed = self.mediation_cmd(
                f"/parties/{party_id}/rights-informed",
                {"note": "已书面告知调解中的权利义务，并告知可随时终止调解、另行起诉或申请司法确认"},
                step=f"rights:{role}",
            )
        self.say(f"   {len(self.party)} parties told their rights and duties")
        self._meeting(informed.body["updated_at"])
        self._agreement()

    def _map_parties(self, parties: list[dict[str, Any]]) -> None:
        by_name = {party["organisation"]: party["party_id"] for party in parties if party["organisation"]}
        representatives = [p["party_id"] for p in parties if p["kind"] == "residents_representative"]
        self.party = {
            "community": by_name[story.COMMUNITY],
            "owners-committee": by_name[story.OWNERS_COMMITTEE],
            "property-company": by_name[story.PROPERTY_COMPANY],
            **{f"representative-{n}": party_id for n, party_id in enumerate(representatives, 1)},
            "power-company": by_name[story.POWER_COMPANY],
        }

    def _meeting(self, anchor: str) -> None:
        starts_at = _whole_second_after(anchor, MEETING_LEAD)
        body = {
            "place": story.SERVICE_STATION,
            "starts_at": starts_at.isoformat(),
            "ends_at": (starts_at + timedelta(hours=2)).isoformat(),
            "agenda": list(story.MEETING_AGENDA),
        }
        scheduled = self.mediation_cmd("/meetings", body, step="meeting:schedule")
        meeting_id = scheduled.body["meetings"][0]["meeting_id"]
        base = f"/meetings/{meeting_id}"
        self.mediation_cmd(f"{base}/invitations", {"party_ids": list(self.party.values())}, step="meeting:invite")
        late = 0
        for role, party_id in self.party.items():
            rsvp = "maybe" if role == "property-company" else "yes"
            answer = self.mediation_cmd(
                f"{base}/rsvps", {"party_id": party_id, "rsvp": rsvp}, step=f"meeting:rsvp:{role}", refusals=(409,)
            )
            late += answer.status == 409
        self.say(
            f"   近邻茶话会 scheduled at {story.SERVICE_STATION} for {starts_at.astimezone(CHINA):%H:%M:%S}; "
            f"{len(self.party)} parties invited; RSVPs recorded" + (f" ({late} too late)" if late else "")
        )
        wait = (starts_at - datetime.now(starts_at.tzinfo)).total_seconds()
        if wait > 0:
            self.say(f"   waiting {wait:.0f}s for the tea party to begin")
            started = time.monotonic()
            time.sleep(wait + 0.05)
            self.c.note(waited=time.monotonic() - started)
        for role, party_id in self.party.items():
            self._attendance(base, role, party_id)
        minutes = story.MINUTES.format(arrears=story.money_text(self.arrears_fen))
        recorded = self.mediation_cmd(f"{base}/minutes", {"minutes": minutes}, step="meeting:minutes")
        self.minutes_at = recorded.body["updated_at"]
        self.say("   everyone came; the minutes are recorded")

    def _attendance(self, base: str, role: str, party_id: str) -> None:
        deadline = time.monotonic() + 30
        while True:
            answer = self.mediation_cmd(
                f"{base}/attendance", {"party_id": party_id, "attended": True}, step=f"meeting:attendance:{role}",
                refusals=(409,),
            )  # fmt: skip
            if answer.status != 409:
                return
            # The meeting has not started by the service's clock yet: a refused command records nothing, so the
            # same key may be sent again.
            if time.monotonic() > deadline:
                raise DemoError(f"attendance at the meeting refused: {answer.body}")
            time.sleep(0.5)

    def _terms(self, day: date) -> list[dict[str, Any]]:
        arrears = story.money_text(self.arrears_fen)
        return [
            {
                "term_id": "t-escrow-accounts",
                "obligor": self.party["community"],
                "what": f"社区居委会会同{story.CENTER}向{story.NOTARY_OFFICE}申请开立物业费、电费监管资金收款账户；"
                "自账户开立之日起，居民电费交入监管账户，不再交给物业公司",
                "due_at": _at(day + timedelta(days=7), 18),
                "evidence_required": "公证处出具的监管账户开户文书",
            },
            {
                "term_id": "t-records",
                "obligor": self.party["property-company"],
                "what": "金园物业向业主委员会和服务中心移交近三年代收电费台账、缴费凭证和总表抄表记录",
                "due_at": _at(day + timedelta(days=10), 18),
                "evidence_required": "三方签字的资料移交清单",
            },
            {
                "term_id": "t-arrears",
                "obligor": self.party["community"],
                "what": f"由监管账户向{story.POWER_COMPANY}一次性结清小区总表欠费{arrears}"
                "（以供电公司确认的金额为准），经服务中心财务和公证处共同签字后支付",
                "due_at": _at(day + timedelta(days=30), 18),
                "evidence_required": "供电公司出具的欠费结清证明",
                "fulfilled_by": {
                    "service": "escrow",
                    "event_type": ARREARS_PAID,
                    "match": {"compound_id": COMPOUND_ID, "fully_paid": True},
                },
            },
            {
                "term_id": "t-meters",
                "obligor": self.party["power-company"],
                "what": "欠费结清后，供电公司为全部住户安装智能电表，逐户转为一户一表直供电，并接收小区配电设施",
                "due_at": _at(day + timedelta(days=60), 18),
                "evidence_required": "逐户装表接电记录及直供电验收单",
            },
            {
                "term_id": "t-refund",
                "obligor": self.party["property-company"],
                "what": "金园物业退还向居民多收的“线损费”",
                "due_at": _at(day + timedelta(days=30), 18),
                "evidence_required": "退款凭证",
            },
        ]

    def _agreement(self) -> None:
        day = _china_day(self.minutes_at)
        body = {
            "party_ids": list(self.party.values()),
            "facts": story.FACTS.format(households=self.count, arrears=story.money_text(self.arrears_fen)),
            "issues": list(story.ISSUES),
            "terms": self._terms(day),
        }
        drafted = self.mediation_cmd("/agreement", body, step="agreement:draft")
        self.agreement_id = drafted.body["agreement"]["agreement_id"]
        self.say(f"   agreement {self.agreement_id} drafted: 5 terms, each with its party and its date")
        for role, party_id in self.party.items():
            answer = self.c.get("mediation", "mediator", f"/cases/{CASE_ID}")
            assert answer is not None
            agreement = answer.body["agreement"]
            if answer.body["status"] != "accepted" or party_id in (agreement or {}).get("signatures", {}):
                self.c.note(skipped=1)
                continue
            self.mediation_cmd(
                "/agreement/signatures", {"party_id": party_id}, step=f"agreement:sign:{role}", if_match=answer.etag
            )
        self.say(f"   signed by all {len(self.party)} parties: the agreement takes effect")
        wanted = set(self.complaint_ids.values())

        def resolved() -> bool:
            page = self.c.read("complaints", "handler", "/complaints", {"case_id": CASE_ID, "page_size": 200})
            statuses = {item["complaint_id"]: item["status"] for item in page["items"]}
            return wanted <= set(statuses) and not {statuses[c] for c in wanted} & {"escalated"}

        self.c.wait_for("the complaints to be resolved by the agreement", resolved, timeout=self.wait_timeout)
        self.say(f"   the complaints service resolved all {len(wanted)} complaints by agreement")
        until = _at(day + timedelta(days=10), 18)
        self.mediation_cmd("/agreement/postings", {"place": story.POSTING_PLACE, "until": until}, step="agreement:post")
        self.say(f"   posted publicly (公示) at {story.POSTING_PLACE}")

    # --- 3. escrow -----------------------------------------------------------------------------------------------

    def escrow(self) -> None:
        self._accounts()
        self._households()
        self._payments()
        self._handover()
        self._pay_arrears()

    def _accounts(self) -> None:
        accounts = (
            ("property_fee", PROPERTY_FEE_ACCOUNT, "0300", "物业费监管专户"),
            ("electricity", ELECTRICITY_ACCOUNT, "0301", "电费监管专户"),
        )
        requested: dict[str, int] = {}
        for purpose, account_id, _, _ in accounts:
            body = {"account_id": account_id, "compound_id": COMPOUND_ID, "purpose": purpose}
            answer = self.escrow_cmd("finance", "/accounts", body, step=f"account:{purpose}:request")
            requested[purpose] = _instant(answer["requested_at"]).astimezone(CHINA).year
        for purpose, account_id, number, name in accounts:
            year = requested[purpose]
            opening = {
                "notary_reference": f"({year})皖滁天证字第{number}号",
                "supervising_notary_name": story.SUPERVISING_NOTARY,
                "bank_account": {
                    "bank_name": "中国建设银行天长支行",
                    "account_number": f"3405017261080000{number}",
                    "account_name": f"{story.CENTER}（{story.COMPOUND_NAME}{name}）",
                },
            }
            opened = self._open_account(account_id, opening, purpose)
            self.notary_references[purpose] = opened["notary"]["notary_reference"]
            if purpose == "electricity":
                self.opened_on = _china_day(opened["notary"]["opened_at"])
            self.escrow_cmd("finance", f"/accounts/{account_id}/activate", step=f"account:{purpose}:activate")
        self.say(
            f"   accounts for the property fee and electricity opened at {story.NOTARY_OFFICE} "
            f"({', '.join(self.notary_references.values())}) and activated"
        )
        evidence = f"公证处监管账户开户文书：{'；'.join(self.notary_references.values())}"
        self.mediation_cmd(
            "/obligations/t-escrow-accounts/fulfil", {"evidence": evidence}, step="fulfil:escrow-accounts"
        )
        self.say("   mediation: the term 'open escrow accounts' is fulfilled")

    def _open_account(self, account_id: str, opening: dict[str, Any], purpose: str) -> dict[str, Any]:
        """Open at the notary office. The reference names the year: an account already open keeps its own."""
        existing = self.c.read("billing-escrow", "notary", f"/accounts/{account_id}")
        if existing["notary"] is not None:
            self.c.note(skipped=1)
            return dict(existing)
        opened = self.escrow_cmd("notary", f"/accounts/{account_id}/open", opening, step=f"account:{purpose}:open")
        return dict(opened.body)

    def _households(self) -> None:
        known = {
            row["household_id"]
            for row in self.c.read("billing-escrow", "finance", "/households", {"compound_id": COMPOUND_ID})
        }
        missing = [flat for flat in self.flats if flat.household_id not in known]
        self.c.note(skipped=len(self.flats) - len(missing))

        def register(flat: story.Household) -> Answer:
            body = {
                "household_id": flat.household_id,
                "compound_id": COMPOUND_ID,
                "label": flat.label,
                "floor_area_dm2": flat.floor_area_dm2,
            }
            return self.escrow_cmd("finance", "/households", body, step=f"household:{flat.household_id}",
                                   for_case=False)  # fmt: skip

        self.parallel(register, missing)
        area = sum(flat.floor_area_dm2 for flat in self.flats) / 100
        self.say(f"   {self.count} households registered ({area:,.2f} m² in all)")

    def _payments(self) -> None:
        balances = self.c.read("billing-escrow", "finance", f"/accounts/{ELECTRICITY_ACCOUNT}/balances")
        paid = {row["household_id"] for row in balances["households"] if row["paid_in_fen"] > 0}
        payers = [flat for flat in self.flats if flat.pays]
        self.c.note(skipped=sum(flat.household_id in paid for flat in payers))

        def pay(flat: story.Household) -> None:
            body = {
                "movement_id": f"pay-{flat.household_id}",
                "household_id": flat.household_id,
                "amount_fen": flat.payment_fen,
                "channel": flat.channel,
                "reference": flat.reference,
            }
            self.escrow_cmd("finance", f"/accounts/{ELECTRICITY_ACCOUNT}/payments", body,
                            step=f"pay:{flat.household_id}", for_case=False)  # fmt: skip

        # One after the other: they all go to one account, and the escrow service refuses a command on an account
        # whose clock reading is earlier than the account's last event (two at once can do that).
        for flat in payers:
            if flat.household_id not in paid:
                pay(flat)
        total = sum(flat.payment_fen for flat in payers)
        self.say(
            f"   {len(payers)} of {self.count} households paid their electricity prepayment into escrow: "
            f"{story.money_text(total)}"
        )

    def _handover(self) -> None:
        started = self.escrow_cmd("finance", "/handovers", {"compound_id": COMPOUND_ID}, step="handover:start")
        if started["households"] != self.count:  # households registered meanwhile by someone else
            raise DemoError(f"the handover has {started['households']} households, not {self.count}")
        day = _china_day(started["started_at"])
        against, abstained = self.count // 25, self.count // 16
        vote = {
            "held_on": day.isoformat(),
            "eligible": self.count,
            "in_favour": self.count - against - abstained,
            "against": against,
            "abstained": abstained,
            "passed": True,
            "resolution_reference": f"{story.COMPOUND_NAME}业委会决〔{day.year}〕3号",
        }
        self.escrow_cmd("supervisor", f"/handovers/{COMPOUND_ID}/owners-vote", vote, step="handover:vote")
        self.vote_reference = vote["resolution_reference"]
        self.escrow_cmd("finance", f"/handovers/{COMPOUND_ID}/escrow", {"account_id": ELECTRICITY_ACCOUNT},
                        step="handover:escrow")  # fmt: skip
        self.confirmation = f"天供电营〔{day.year}〕欠费确认第0417号"
        arrears = {
            "amount_fen": self.arrears_fen,
            "creditor": story.POWER_COMPANY_PAYEE,
            "master_meter_number": story.MASTER_METER,
            "confirmation_reference": self.confirmation,
            "as_of": day.isoformat(),
        }
        self.escrow_cmd("finance", f"/handovers/{COMPOUND_ID}/arrears", arrears, step="handover:arrears")
        self.escrow_cmd("finance", f"/handovers/{COMPOUND_ID}/allocation", {"rule": "by_floor_area"},
                        step="handover:allocation")  # fmt: skip
        self.say(
            f"   handover started; owners' vote {vote['in_favour']} for, {against} against, {abstained} abstained; "
            f"escrow account on the handover; arrears {story.money_text(self.arrears_fen)} confirmed by "
            f"{story.POWER_COMPANY} and allocated by floor area"
        )

    def _pay_arrears(self) -> None:
        request = {
            "disbursement_id": DISBURSEMENT_ID,
            "payee": story.POWER_COMPANY_PAYEE,
            "amount_fen": self.arrears_fen,
            "condition": {"code": ARREARS_CONDITION, "text": "供电公司确认金园华庭小区总表欠费金额"},
            "evidence": [self.confirmation, self.vote_reference, f"调解协议 {self.agreement_id}"],
        }
        base = f"/accounts/{ELECTRICITY_ACCOUNT}/disbursements"
        self.escrow_cmd("finance", base, request, step="arrears:request")
        self.say(f"   finance requested the payment of {story.money_text(self.arrears_fen)} to {story.POWER_COMPANY}")
        current = self.c.read("billing-escrow", "finance", f"{base}/{DISBURSEMENT_ID}")
        signed = {signature["role"] for signature in current["signatures"]}
        for who, role in ((SECOND_FINANCE, "center_finance"), ("notary", "notary")):
            if role in signed:
                self.c.note(skipped=1)
                continue
            self.escrow_cmd(who, f"{base}/{DISBURSEMENT_ID}/signatures", {"role": role}, step=f"arrears:sign:{role}")
        self.say("   co-signed by the center's finance desk and the notary")
        executed = self.escrow_cmd(
            "finance", f"{base}/{DISBURSEMENT_ID}/execute", {"bank_reference": "CCB-TC-20301-000417"},
            step="arrears:execute",
        )  # fmt: skip
        self.say(
            f"   executed on {executed['disbursement']['executed_on']}: the escrow service records ArrearsPaid "
            f"for {COMPOUND_ID}"
        )

        def fulfilled() -> bool:
            case = self.case()
            obligations = {o["term_id"]: o["status"] for o in (case or {}).get("obligations", [])}
            return obligations.get("t-arrears") == "fulfilled"

        self.c.wait_for("the mediation service to fulfil the arrears term", fulfilled, timeout=self.wait_timeout)
        self.say("   mediation: the term 'arrears paid' is fulfilled by ArrearsPaid")

    # --- 4. the handover and the end of the case -----------------------------------------------------------------

    def handover(self) -> None:
        handover = self.c.read("billing-escrow", "finance", f"/handovers/{COMPOUND_ID}")
        progress = {row["household_id"]: row for row in handover["household_breakdown"]}
        base = f"/handovers/{COMPOUND_ID}"

        def install_and_switch(flat: story.Household) -> None:
            """The power company's crew at one flat: the meter in, then the supply switched over."""
            row = progress.get(flat.household_id, {})
            if row.get("meter_installed_at"):
                self.c.note(skipped=1)
            else:
                self.escrow_cmd("finance", f"{base}/meters",
                                {"household_id": flat.household_id, "meter_number": flat.meter_number},
                                step=f"meter:{flat.household_id}", for_case=False)  # fmt: skip
            if row.get("switched_at"):
                self.c.note(skipped=1)
            else:
                self.escrow_cmd("finance", f"{base}/switches", {"household_id": flat.household_id},
                                step=f"switch:{flat.household_id}", for_case=False)  # fmt: skip

        for flat in self.flats:  # one handover: one after the other (see _payments)
            install_and_switch(flat)
        self.say(f"   {self.count} meters installed and {self.count} households switched to direct supply")
        facilities = {
            "transfer_reference": f"{story.COMPOUND_NAME}配电设施移交书第12号",
            "note": "小区配电房、总表及低压线路移交国网天长市供电公司运维",
        }
        self.escrow_cmd("finance", f"{base}/facilities", facilities, step="handover:facilities")
        completed = self.escrow_cmd("finance", f"{base}/complete", step="handover:complete")
        self.completed_at = completed["updated_at"]
        self.say("   facilities transferred; the handover is complete")
        fulfil = (
            ("t-records", story.RECORDS_EVIDENCE),
            (
                "t-meters",
                f"供电公司逐户装表接电记录（{self.count}户）及直供电验收单，{facilities['transfer_reference']}",
            ),
        )
        for term_id, evidence in fulfil:
            self.mediation_cmd(f"/obligations/{term_id}/fulfil", {"evidence": evidence}, step=f"fulfil:{term_id}")
        self.mediation_cmd("/obligations/t-refund/waive", {"reason": story.REFUND_WAIVER}, step="waive:t-refund")
        self.say("   mediation: the records and meters terms fulfilled with evidence, the refund waived")
        visit = {
            "performance": story.FOLLOW_UP.format(households=self.count),
            "party_id": self.party["representative-1"],
            "satisfaction": 5,
        }
        self.mediation_cmd("/follow-up-visits", visit, step="follow-up")
        self.mediation_cmd("/close", {"summary": story.CLOSING_SUMMARY}, step="close")
        self.say("   follow-up visit recorded; the case is closed")

    # --- 5. call-backs and the statement -------------------------------------------------------------------------

    def call_backs(self) -> None:
        fixed = 0
        for n, complaint in enumerate(story.COMPLAINTS):
            complaint_id = self.complaint_ids[complaint.key]
            path = f"/complaints/{complaint_id}/call-back"
            if complaint.partly_fixed:
                self.complaints_cmd(
                    "intake", path, {"outcome": "partly_fixed", "satisfaction": 3, "remark": story.PARTLY_FIXED_REMARK},
                    step=f"{complaint.key}:call-back",
                )  # fmt: skip
                resolution = {"resolution_note": story.PARTLY_FIXED_RESOLUTION}
                self.complaints_cmd(
                    "handler", f"/complaints/{complaint_id}/resolve", resolution, step=f"{complaint.key}:resolve"
                )
                body = {"outcome": "fixed", "satisfaction": 5, "remark": story.RESOLVED_NOTE_FOR_SECOND_CALL}
                self.complaints_cmd("intake", path, body, step=f"{complaint.key}:call-back-2")
            else:
                remark = story.CALL_BACK_REMARKS[n % len(story.CALL_BACK_REMARKS)]
                body = {"outcome": "fixed", "satisfaction": 5 if n % 3 else 4, "remark": remark}
                self.complaints_cmd("intake", path, body, step=f"{complaint.key}:call-back")
                fixed += 1
        self.say(
            f"   {fixed} residents called back: fixed, closed; 1 partly fixed: reopened, resolved again, "
            "called back fixed, closed"
        )

    def statement(self) -> None:
        assert self.opened_on is not None
        body = {
            "kind": "on_demand",
            "period_start": self.opened_on.isoformat(),
            "period_end": max(self.opened_on, _china_day(self.completed_at)).isoformat(),
        }
        issued = self.escrow_cmd("notary", f"/accounts/{ELECTRICITY_ACCOUNT}/statements", body, step="statement")
        self.statement_id = issued["statement_id"]
        self.say(
            f"   statement {self.statement_id} of the electricity account ({issued['entries']} entries, closing "
            f"balance {story.money_text(issued['closing_balance_fen'])}), signed for the notary: "
            f"/statements/{self.statement_id}.pdf"
        )


def play(
    endpoints: Endpoints,
    tokens: Mapping[str, str] | None = None,
    *,
    households: int = story.FULL_HOUSEHOLDS,
    say: Callable[[str], None] = lambda line: None,
    wait_timeout: float = 60.0,
    retry_for: float = 30.0,
    transport: httpx.BaseTransport | None = None,
) -> DemoResult:
    """Play the whole story against running services; returns the case id and its timeline's URL.

    ``tokens``: who plays which part (a role, or ``finance-2``) → their staff token; by default the development
    staff of ``jinlin demo --up`` (:func:`jinlin.demo.staff.demo_tokens`). ``transport``: httpx's, for tests.
    """
    started = time.monotonic()
    client = DemoClient(
        endpoints, tokens or demo_tokens(), key_prefix=f"demo:{CASE_ID}", retry_for=retry_for, transport=transport
    )
    with client:
        missing = [service for service in ("complaints", "mediation", "billing-escrow") if not client.ready(service)]
        if missing:
            raise DemoError(
                f"not ready: {', '.join(f'{s} ({endpoints.of(s)})' for s in missing)}; start the stack: "
                "`make demo` (`jinlin demo --up`) starts it and plays the story"
            )
        demo = Story(client, households, say, wait_timeout)
        demo.preflight()
        with demo.phase("complaints", "① Complaints (投诉): 金园华庭's residents complain of the unpaid electricity"):
            demo.complaints()
        with demo.phase("mediation", "② Mediation (调解): a consultation meeting and an agreement"):
            demo.mediation()
        with demo.phase("escrow", "③ Escrow (资金监管): accounts at the notary, payments in, the arrears paid"):
            demo.escrow()
        with demo.phase("handover", "④ Handover (一户一表直供电): meters, switches, the case closed"):
            demo.handover()
        with demo.phase("call-backs", "⑤ Call-backs (回访) and the notary's statement"):
            demo.call_backs()
            demo.statement()
        return DemoResult(
            case_id=CASE_ID,
            timeline_url=timeline_url(endpoints.console),
            complaint_ids=list(demo.complaint_ids.values()),
            households=households,
            stats=client.stats,
            seconds=time.monotonic() - started,
        )
