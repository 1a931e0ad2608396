"""A hypothesis state machine over one escrow account's ledger.

Every command is tried with ids drawn from small pools (so ids collide, retries happen and money runs short), in
whatever state the account is in. A model written here, not derived from the implementation, keeps each household's
free and reserved money and the bank balance, and says what each command must do: record, record nothing (a retry),
or refuse with exactly which error. Checked after every step:

- money is conserved: every posting balances, all ledger accounts sum to zero, bank = Σ households' money;
- no ledger account is negative at the end of any booking date, so neither the bank nor ``available`` ever is;
- every pending reservation is resolved at most once (executed, voided or expired);
- payments are idempotent under retries (same movement id, or the same bank reference under another id);
- replaying the events, also after a JSON round trip through the registry, gives the same state.
"""

import json
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from hypothesis import event, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from billing_escrow.domain import (
    AccountEvent,
    AccountState,
    AccountTerms,
    BankAccountDetails,
    Condition,
    DisbursementExecuted,
    DisbursementExpired,
    DisbursementRequested,
    DisbursementVoided,
    DomainError,
    FourEyesViolation,
    IdempotencyConflict,
    InsufficientFunds,
    InvalidTransition,
    NotFound,
    Payee,
    PaymentChannel,
    Purpose,
    Signer,
    SignerRole,
    ValidationFailed,
    activate_account,
    apply_account_events,
    balances_as_of,
    business_date,
    execute_disbursement,
    expire_disbursement,
    freeze_account,
    open_account,
    reallocate_funds,
    record_payment,
    registry,
    replay_account,
    request_account,
    request_disbursement,
    reverse_movement,
    sign_disbursement,
    unfreeze_account,
    void_disbursement,
)

T0 = datetime(2025, 3, 3, 1, 0, tzinfo=UTC)
HOUSEHOLDS = ["h1", "h2", "h3"]
MOVEMENT_IDS = [f"m{i}" for i in range(8)]
REFERENCES = [f"R{i}" for i in range(8)]
DISBURSEMENT_IDS = ["d1", "d2", "d3", "m0"]  # m0 collides with a payment's id now and then
CHANNELS = [PaymentChannel.WECHAT_PAY, PaymentChannel.BANK_TRANSFER]
SIGNERS = [
    Signer(role=SignerRole.CENTER_FINANCE, signer_id="fin-a"),
    Signer(role=SignerRole.CENTER_FINANCE, signer_id="fin-b"),
    Signer(role=SignerRole.NOTARY, signer_id="notary-a"),
    Signer(role=SignerRole.NOTARY, signer_id="fin-a"),  # a person in a second role: four eyes says no
    Signer(role=SignerRole.OWNERS_COMMITTEE, signer_id="owner-a"),
]
USUAL_SIGNER = {s.role: s for s in (SIGNERS[0], SIGNERS[2], SIGNERS[4])}
REQUESTERS = ["fin-b", "req-x"]
PAYEE = Payee(payee_id="state-grid", name="供电公司")
CONDITION = Condition(code="power_company_confirms_arrears", text="供电公司确认欠费")
REASON = "冲正"


@dataclass
class Movement:
    """What the model remembers of a desk movement: its content (for retries) and what it did to households."""

    content: tuple[object, ...]
    effects: dict[str, int]  # household → change of its free money
    bank: int  # change of the bank balance


@dataclass
class Reservation:
    content: tuple[object, ...]
    charges: dict[str, int]
    required: set[SignerRole]
    requested_by: str
    expires_at: datetime
    status: str = "pending"
    signatures: dict[SignerRole, str] = field(default_factory=dict)
    executed: tuple[str, date] | None = None


@dataclass
class Model:
    required: set[SignerRole]
    free: dict[str, int] = field(default_factory=lambda: dict.fromkeys(HOUSEHOLDS, 0))
    reserved: dict[str, int] = field(default_factory=lambda: dict.fromkeys(HOUSEHOLDS, 0))
    held: int = 0
    movements: dict[str, Movement] = field(default_factory=dict)
    references: dict[str, str] = field(default_factory=dict)
    reversed: set[str] = field(default_factory=set)
    reservations: dict[str, Reservation] = field(default_factory=dict)
    holds: set[str] = field(default_factory=set)

    def used(self, movement_id: str) -> bool:
        return movement_id in self.movements or movement_id in self.reservations

    def covers(self, effects: dict[str, int]) -> bool:
        return all(self.free[h] + change >= 0 for h, change in effects.items())

    def book(self, effects: dict[str, int], bank: int) -> None:
        for h, change in effects.items():
            self.free[h] += change
        self.held += bank


class LedgerMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.now = T0
        self.events: list[AccountEvent] = []
        self.state: AccountState
        self.model: Model
        self.last_money_command: tuple[Any, dict[str, Any]] | None = None

    @initialize(
        owners_committee=st.booleans(),
        opening_payments=st.lists(st.integers(1, 6000), min_size=len(HOUSEHOLDS), max_size=len(HOUSEHOLDS)),
    )
    def open_the_account(self, owners_committee: bool, opening_payments: list[int]) -> None:
        terms = AccountTerms.standard(owners_committee=owners_committee)
        self.events = request_account(
            account_id="acc", compound_id="jinyuan-huating", purpose=Purpose.ELECTRICITY, terms=terms, at=self.now
        )
        self.state = replay_account(self.events)
        bank = BankAccountDetails(bank_name="建设银行", account_number="3405", account_name="监管账户")
        self.run(
            open_account,
            notary_reference="N1",
            supervising_notary_id="n",
            supervising_notary_name="n",
            bank_account=bank,
        )
        self.run(activate_account)
        self.model = Model(required=set(terms.required_roles))
        for household, amount in zip(HOUSEHOLDS, opening_payments, strict=True):
            self.pay(f"first-{household}", f"FIRST-{household}", household, amount, PaymentChannel.CASH_AT_DESK)

    # --- driving ---------------------------------------------------------------------------------------------------

    @property
    def today(self) -> date:
        return business_date(self.now)

    def run(self, command: Any, **arguments: Any) -> list[AccountEvent]:
        arguments.setdefault("at", self.now)
        new_events = command(self.state, **arguments)
        state = apply_account_events(self.state, new_events)
        assert state is not None
        self.state = state
        self.events.extend(new_events)
        return new_events

    def expect(self, outcome: type[DomainError] | str, command: Any, **arguments: Any) -> list[AccountEvent]:
        """Run the command; ``outcome`` is the error it must raise, ``"recorded"`` or ``"nothing"`` (a retry)."""
        event(f"{command.__name__}: {outcome if isinstance(outcome, str) else outcome.__name__}")
        raised: DomainError | None = None
        try:
            new_events = self.run(command, **arguments)
        except DomainError as error:
            raised = error
        if raised is not None:
            assert type(raised) is outcome, f"{command.__name__} raised {type(raised).__name__}, model says {outcome}"
            return []
        assert outcome == ("recorded" if new_events else "nothing"), f"{command.__name__}: model says {outcome}"
        if new_events:
            self.last_money_command = (command, arguments)
        return new_events

    # --- time and holds --------------------------------------------------------------------------------------------

    @rule(hours=st.one_of(st.integers(0, 6), st.integers(0, 24 * 5)))
    def time_passes(self, hours: int) -> None:
        self.now += timedelta(hours=hours)

    # A hold blocks every payment out; placed as often as the other commands run, it would hide most of them.
    @rule(hold=st.sampled_from(["court", "notary"]), chance=st.integers(0, 5))
    def freeze_or_unfreeze(self, hold: str, chance: int) -> None:
        if chance and hold not in self.model.holds:
            return
        if hold in self.model.holds:
            self.run(unfreeze_account, hold_id=hold)
            self.model.holds.discard(hold)
        elif not any(e for e in self.events if getattr(e, "hold_id", None) == hold):
            self.run(freeze_account, hold_id=hold, reason="暂停支付")
            self.model.holds.add(hold)

    # --- money in and corrections ----------------------------------------------------------------------------------

    @rule(
        movement_id=st.sampled_from(MOVEMENT_IDS),
        reference=st.sampled_from(REFERENCES),
        household=st.sampled_from(HOUSEHOLDS),
        amount=st.integers(1, 5000),
        channel=st.sampled_from(CHANNELS),
    )
    def pay(self, movement_id: str, reference: str, household: str, amount: int, channel: PaymentChannel) -> None:
        m = self.model
        content = ("pay", household, amount, channel, reference, self.today)
        if m.used(movement_id):
            known = m.movements.get(movement_id)
            outcome: Any = "nothing" if known is not None and known.content == content else IdempotencyConflict
        elif reference in m.references:
            outcome = "nothing" if m.movements[m.references[reference]].content == content else IdempotencyConflict
        else:
            outcome = "recorded"
        self.expect(
            outcome,
            record_payment,
            movement_id=movement_id,
            household_id=household,
            amount_fen=amount,
            channel=channel,
            reference=reference,
            booked_on=self.today,
        )
        if outcome == "recorded":
            m.movements[movement_id] = Movement(content, {household: amount}, amount)
            m.references[reference] = movement_id
            m.book({household: amount}, amount)

    @rule(data=st.data())
    def the_bank_reports_a_payment_again(self, data: st.DataObject) -> None:
        """A retry of a recorded payment, under its own movement id or a new one: nothing more is recorded."""
        payments = [(mid, mv) for mid, mv in self.model.movements.items() if mv.content[0] == "pay"]
        if not payments:
            return
        movement_id, movement = data.draw(st.sampled_from(payments))
        _, household, amount, channel, reference, booked_on = movement.content
        retry_id = data.draw(st.sampled_from([movement_id, f"import-{movement_id}"]))
        self.expect(
            "nothing",
            record_payment,
            movement_id=retry_id,
            household_id=household,
            amount_fen=amount,
            channel=channel,
            reference=reference,
            booked_on=booked_on,
        )

    @rule(
        movement_id=st.sampled_from(MOVEMENT_IDS),
        households=st.lists(st.sampled_from(HOUSEHOLDS), min_size=2, max_size=2, unique=True),
        amount=st.integers(1, 4000),
    )
    def reallocate(self, movement_id: str, households: list[str], amount: int) -> None:
        m = self.model
        source, target = households
        content = ("realloc", source, target, amount, self.today)
        effects = {source: -amount, target: amount}
        if m.used(movement_id):
            known = m.movements.get(movement_id)
            outcome: Any = "nothing" if known is not None and known.content == content else IdempotencyConflict
        else:
            outcome = "recorded" if m.covers(effects) else InsufficientFunds
        self.expect(
            outcome,
            reallocate_funds,
            movement_id=movement_id,
            from_household_id=source,
            to_household_id=target,
            amount_fen=amount,
            reason="门牌号填错",
            booked_on=self.today,
        )
        if outcome == "recorded":
            m.movements[movement_id] = Movement(content, effects, 0)
            m.book(effects, 0)

    @rule(movement_id=st.sampled_from(MOVEMENT_IDS), data=st.data())
    def reverse(self, movement_id: str, data: st.DataObject) -> None:
        m = self.model
        reverses = data.draw(st.sampled_from([*sorted(m.movements), "d1", "nothing"]))
        original = m.movements.get(reverses)
        content = ("rev", reverses, self.today)
        outcome: Any
        if original is None:
            outcome = IdempotencyConflict if m.used(movement_id) else NotFound
        elif m.used(movement_id):
            known = m.movements.get(movement_id)
            outcome = "nothing" if known is not None and known.content == content else IdempotencyConflict
        elif reverses in m.reversed:
            outcome = InvalidTransition
        else:
            effects = {h: -change for h, change in original.effects.items()}
            outcome = "recorded" if m.covers(effects) else InsufficientFunds
        self.expect(
            outcome, reverse_movement, movement_id=movement_id, reverses=reverses, reason=REASON, booked_on=self.today
        )
        if outcome == "recorded":
            assert original is not None
            effects = {h: -change for h, change in original.effects.items()}
            m.movements[movement_id] = Movement(content, effects, -original.bank)
            m.reversed.add(reverses)
            m.book(effects, -original.bank)

    # --- payments out ----------------------------------------------------------------------------------------------

    @rule(
        disbursement_id=st.sampled_from(DISBURSEMENT_IDS),
        amount=st.integers(1, 3000),
        requested_by=st.sampled_from(REQUESTERS),
        hours=st.integers(1, 96),
        explicit=st.booleans(),
        data=st.data(),
    )
    def request(
        self, disbursement_id: str, amount: int, requested_by: str, hours: int, explicit: bool, data: st.DataObject
    ) -> None:
        m = self.model
        charges: dict[str, int] | None = None
        if explicit:
            charges = data.draw(st.dictionaries(st.sampled_from(HOUSEHOLDS), st.integers(1, 1500), min_size=1))
            amount = sum(charges.values())
        expires_at = self.now + timedelta(hours=hours)
        content = (amount, requested_by, expires_at, tuple(sorted(charges.items())) if charges else None)
        outcome: Any
        if m.used(disbursement_id):
            known = m.reservations.get(disbursement_id)
            outcome = "nothing" if known is not None and known.content == content else IdempotencyConflict
        elif m.holds:
            outcome = InvalidTransition
        elif amount > sum(m.free.values()) or (
            charges is not None and not m.covers({h: -c for h, c in charges.items()})
        ):
            outcome = InsufficientFunds
        else:
            outcome = "recorded"
        new = self.expect(
            outcome,
            request_disbursement,
            disbursement_id=disbursement_id,
            payee=PAYEE,
            amount_fen=amount,
            condition=CONDITION,
            evidence=["doc-1"],
            expires_at=expires_at,
            requested_by=requested_by,
            charges=charges,
        )
        if outcome == "recorded":
            [event] = new
            assert isinstance(event, DisbursementRequested)
            applied = {c.household_id: c.amount_fen for c in event.charges}
            assert sum(applied.values()) == amount
            assert charges is None or applied == charges
            assert m.covers({h: -c for h, c in applied.items()})
            for h, c in applied.items():
                m.free[h] -= c
                m.reserved[h] += c
            m.reservations[disbursement_id] = Reservation(content, applied, set(m.required), requested_by, expires_at)

    def some_disbursement(self, data: st.DataObject) -> str:
        """Mostly a pending one (so that signatures add up to an execution), sometimes any id of the pool."""
        pending = sorted(d for d, r in self.model.reservations.items() if r.status == "pending")
        return data.draw(
            st.sampled_from(pending) if pending and data.draw(st.booleans()) else st.sampled_from(DISBURSEMENT_IDS)
        )

    @rule(signer=st.sampled_from(SIGNERS), data=st.data())
    def sign(self, signer: Signer, data: st.DataObject) -> None:
        self.sign_as(self.some_disbursement(data), signer)

    @rule(data=st.data())
    def cosign_as_the_terms_require(self, data: st.DataObject) -> None:
        """The next missing role signs, by its usual signer: the path by which money really goes out."""
        r = self.model.reservations.get(disbursement_id := self.some_disbursement(data))
        if r is not None and r.status == "pending" and (missing := sorted(r.required - set(r.signatures))):
            self.sign_as(disbursement_id, USUAL_SIGNER[missing[0]])

    def sign_as(self, disbursement_id: str, signer: Signer) -> None:
        r = self.model.reservations.get(disbursement_id)
        outcome: Any
        if r is None:
            outcome = NotFound
        elif signer.role in r.signatures:
            outcome = "nothing" if r.signatures[signer.role] == signer.signer_id else InvalidTransition
        elif r.status != "pending" or signer.role not in r.required:
            outcome = InvalidTransition
        elif signer.signer_id == r.requested_by or signer.signer_id in r.signatures.values():
            outcome = FourEyesViolation
        elif self.now >= r.expires_at:
            outcome = InvalidTransition
        else:
            outcome = "recorded"
        self.expect(outcome, sign_disbursement, disbursement_id=disbursement_id, signer=signer)
        if outcome == "recorded":
            assert r is not None
            r.signatures[signer.role] = signer.signer_id

    @rule(data=st.data())
    def execute(self, data: st.DataObject) -> None:
        self.execute_one(self.some_disbursement(data))

    @precondition(lambda self: any(r.status == "pending" for r in self.model.reservations.values()))
    @rule(data=st.data())
    def carry_out_a_pending_request(self, data: st.DataObject) -> None:
        """Every missing role signs, then the payment goes out (unless a hold or the expiry stops it)."""
        pending = sorted(d for d, r in self.model.reservations.items() if r.status == "pending")
        if not pending:
            return
        disbursement_id = data.draw(st.sampled_from(pending))
        r = self.model.reservations[disbursement_id]
        for role in sorted(r.required - set(r.signatures)):
            self.sign_as(disbursement_id, USUAL_SIGNER[role])
        # Now and then the execution comes right at the expiry, or just before it: the boundary must hold.
        timing = data.draw(st.sampled_from(["now", "now", "at_expiry", "just_before_expiry"]))
        if timing == "at_expiry":
            self.now = max(self.now, r.expires_at)
        elif timing == "just_before_expiry":
            self.now = max(self.now, r.expires_at - timedelta(seconds=1))
        self.execute_one(disbursement_id)

    def execute_one(self, disbursement_id: str) -> None:
        m = self.model
        r = m.reservations.get(disbursement_id)
        reference = f"OUT-{disbursement_id}"
        outcome: Any
        if r is None:
            outcome = NotFound
        elif r.status == "executed":
            outcome = "nothing" if r.executed == (reference, self.today) else IdempotencyConflict
        elif r.status != "pending" or m.holds or set(r.signatures) != r.required or self.now >= r.expires_at:
            outcome = InvalidTransition
        else:
            outcome = "recorded"
        new = self.expect(
            outcome,
            execute_disbursement,
            disbursement_id=disbursement_id,
            bank_reference=reference,
            booked_on=self.today,
        )
        if outcome == "recorded":
            assert r is not None
            assert isinstance(new[0], DisbursementExecuted)
            r.status, r.executed = "executed", (reference, self.today)
            for h, c in r.charges.items():
                m.reserved[h] -= c
            m.held -= sum(r.charges.values())

    @rule(expire=st.booleans(), data=st.data())
    def void_or_expire(self, expire: bool, data: st.DataObject) -> None:
        disbursement_id = self.some_disbursement(data)
        m = self.model
        r = m.reservations.get(disbursement_id)
        final = "expired" if expire else "voided"
        outcome: Any
        if r is None:
            outcome = NotFound
        elif r.status == final:
            outcome = "nothing"
        elif r.status != "pending" or (expire and self.now < r.expires_at):
            outcome = InvalidTransition
        else:
            outcome = "recorded"
        if expire:
            self.expect(outcome, expire_disbursement, disbursement_id=disbursement_id)
        else:
            self.expect(outcome, void_disbursement, disbursement_id=disbursement_id, reason="撤回")
        if outcome == "recorded":
            assert r is not None
            r.status = final
            for h, c in r.charges.items():
                m.reserved[h] -= c
                m.free[h] += c

    @rule()
    def retry_the_last_money_command(self) -> None:
        if self.last_money_command is not None:
            command, arguments = self.last_money_command
            assert self.run(command, **{**arguments, "at": self.now}) == []

    @rule(bad=st.sampled_from([True, 1.5, 0, -5, "100"]))
    def amounts_that_are_not_fen_are_refused(self, bad: object) -> None:
        before = self.state
        try:
            self.run(
                record_payment,
                movement_id="bad",
                household_id="h1",
                amount_fen=bad,
                channel="alipay",
                reference="BAD",
                booked_on=self.today,
            )
        except ValidationFailed:
            pass
        else:
            raise AssertionError("a non-fen amount was recorded")
        assert self.state is before

    # --- what must always hold -------------------------------------------------------------------------------------

    @invariant()
    def the_books_are_the_models(self) -> None:
        m, b = self.model, self.state.balances
        assert b.held == m.held
        for h in HOUSEHOLDS:
            assert b.household_free(h) == m.free[h]
            assert b.household_reserved(h) == m.reserved[h]
        assert self.state.reserved == sum(m.reserved.values())
        assert self.state.available == self.state.held - self.state.reserved
        assert {d for d, r in m.reservations.items() if r.status == "pending"} == {
            d.disbursement_id for d in self.state.pending_disbursements
        }

    @invariant()
    def money_is_conserved(self) -> None:
        for posting in self.state.postings:
            assert sum(leg.signed for leg in posting.legs) == 0
        assert self.state.balances.total == 0
        assert self.state.held == sum(self.state.balances.household_held(h) for h in self.state.balances.households)

    @invariant()
    def no_account_is_ever_negative_on_any_day(self) -> None:
        assert self.state.available >= 0
        for day in {p.booked_on for p in self.state.postings}:
            balances = balances_as_of(self.state.postings, day)
            assert all(balances.of(account) >= 0 for account in balances.signed), day

    @invariant()
    def every_reservation_is_resolved_at_most_once(self) -> None:
        requested = [e.disbursement_id for e in self.events if isinstance(e, DisbursementRequested)]
        resolved = [
            e.disbursement_id
            for e in self.events
            if isinstance(e, DisbursementExecuted | DisbursementVoided | DisbursementExpired)
        ]
        assert len(requested) == len(set(requested))
        assert len(resolved) == len(set(resolved))
        assert set(resolved) <= set(requested)

    @invariant()
    def replaying_the_events_gives_the_same_state(self) -> None:
        assert replay_account(self.events) == self.state
        decoded = [registry.decode(registry.type_of(e), json.loads(e.model_dump_json())) for e in self.events]
        assert replay_account(decoded) == self.state


LedgerMachine.TestCase.settings = settings(max_examples=250, stateful_step_count=80, deadline=None)
test_ledger_machine = LedgerMachine.TestCase
