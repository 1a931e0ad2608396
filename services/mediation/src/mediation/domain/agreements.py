"""The mediation agreement (调解协议书) as it stands: its text, its signatures, its public posting, the court.

The law: an agreement names the parties, the facts, the issues and each term (who, what, by when); it takes effect
when every party named in it has signed. So the signatures belong to one text: the domain refuses to amend a text
that anyone has signed (the mediator discards it and drafts a new one, with a new id, which everybody signs again)
rather than silently voiding signatures or letting a signature stand under words its signer never saw.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from mediation.domain.deadlines import confirmation_deadline
from mediation.domain.terms import Term


class JudicialOutcome(StrEnum):
    """The court's answer to an application for judicial confirmation (司法确认)."""

    CONFIRMED = "confirmed"  # the agreement can be enforced by the court
    REJECTED = "rejected"  # 驳回申请: the parties may change it, make a new one, or sue; its obligations stand


@dataclass(frozen=True)
class Posting:
    """The agreement posted publicly (公示), e.g. on the compound's notice board."""

    place: str
    posted_at: datetime
    until: datetime | None


@dataclass(frozen=True)
class JudicialConfirmation:
    court: str
    applied_at: datetime
    party_ids: tuple[str, ...]
    reference: str | None = None
    outcome: JudicialOutcome | None = None
    decided_at: datetime | None = None
    remark: str = ""


@dataclass(frozen=True)
class Agreement:
    agreement_id: str
    revision: int  # 1 when drafted, +1 per amendment
    party_ids: tuple[str, ...]
    facts: str
    issues: tuple[str, ...]
    terms: tuple[Term, ...]
    drafted_at: datetime
    signatures: Mapping[str, datetime] = field(default_factory=dict)  # party id -> when they signed
    took_effect_at: datetime | None = None
    postings: tuple[Posting, ...] = ()
    judicial_confirmation: JudicialConfirmation | None = None

    @property
    def unsigned_party_ids(self) -> tuple[str, ...]:
        return tuple(party_id for party_id in self.party_ids if party_id not in self.signatures)

    @property
    def in_effect(self) -> bool:
        return self.took_effect_at is not None

    @property
    def confirmation_deadline(self) -> datetime | None:
        """The last instant the parties may apply for judicial confirmation; ``None`` before it took effect."""
        return confirmation_deadline(self.took_effect_at) if self.took_effect_at is not None else None

    def term(self, term_id: str) -> Term | None:
        return next((term for term in self.terms if term.term_id == term_id), None)
