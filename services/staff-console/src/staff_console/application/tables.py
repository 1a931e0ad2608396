"""The console's own tables, in its own database. Nothing here is another service's store.

``console_events`` keeps every envelope exactly as received (its hash can be recomputed from it), with the columns
the feed and the timeline filter on. The other tables are views folded from those events by type; they can be
rebuilt by replaying ``console_events``.
"""

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

console_metadata = MetaData()

events_log = Table(
    "console_events",
    console_metadata,
    # Local arrival order: the live hub broadcasts rows by it, after they committed.
    Column("received", Integer, primary_key=True, autoincrement=True),
    Column("service", String(40), nullable=False, index=True),
    Column("stream", String(40), nullable=False),
    Column("sequence", BigInteger, nullable=False),
    Column("id", String(64), nullable=False, unique=True),
    Column("type", String(200), nullable=False, index=True),
    Column("subject", String(200), nullable=False, index=True),
    Column("time", String(40), nullable=False, index=True),
    Column("caseid", String(200), nullable=False, index=True),
    Column("causationid", String(200), nullable=False, index=True),
    Column("actor", String(200), nullable=False),
    Column("compound", String(100), index=True),
    Column("envelope", Text, nullable=False),
    Column("hash", String(64), nullable=False),
    Column("prevhash", String(64), nullable=False),
    Column("received_at", String(40), nullable=False),
    UniqueConstraint("service", "sequence", name="uq_console_events_position"),
)

subject_compounds = Table(
    "console_subject_compounds",
    console_metadata,
    Column("service", String(40), primary_key=True),
    Column("subject", String(200), primary_key=True),
    Column("compound", String(100), nullable=False),
)

event_households = Table(
    "console_event_households",
    console_metadata,
    Column("household_id", String(100), primary_key=True),
    Column("event_id", String(64), primary_key=True),
)

complaints = Table(
    "console_complaints",
    console_metadata,
    Column("complaint_id", String(100), primary_key=True),
    Column("case_id", String(100), nullable=False, index=True),
    Column("status", String(40), nullable=False, index=True),
    Column("category_code", String(100), nullable=False, index=True),
    Column("compound_id", String(100), nullable=False, index=True),
    Column("building", String(50)),
    Column("unit", String(50)),
    Column("channel", String(40), nullable=False),
    Column("priority", String(20), nullable=False),
    Column("description", Text, nullable=False),
    Column("assignee_kind", String(40)),
    Column("assignee_id", String(100), index=True),
    Column("assignee_name", String(200)),
    Column("due_at", String(40), nullable=False, index=True),
    Column("paused_at", String(40)),
    Column("overdue_marked", Boolean, nullable=False),
    Column("filed_at", String(40), nullable=False, index=True),
    Column("resolved_at", String(40)),
    Column("closed_at", String(40)),
    Column("last_outcome", String(40)),
    Column("satisfaction", Integer),
    Column("version", Integer, nullable=False),
    Column("updated_at", String(40), nullable=False),
)

mediation_cases = Table(
    "console_mediation_cases",
    console_metadata,
    Column("case_id", String(100), primary_key=True),
    Column("status", String(40), nullable=False, index=True),
    Column("compound_id", String(100)),
    Column("category_code", String(100)),
    Column("reason", Text, nullable=False),
    Column("mediator", String(100)),
    Column("due_at", String(40)),
    Column("complaint_count", Integer, nullable=False),
    Column("meeting_count", Integer, nullable=False),
    Column("agreement", String(20), nullable=False),
    Column("terms_total", Integer, nullable=False),
    Column("terms_done", Integer, nullable=False),
    Column("opened_at", String(40), nullable=False),
    Column("version", Integer, nullable=False),
    Column("updated_at", String(40), nullable=False),
)

escrow_accounts = Table(
    "console_escrow_accounts",
    console_metadata,
    Column("account_id", String(100), primary_key=True),
    Column("compound_id", String(100), index=True),
    Column("purpose", String(40)),
    Column("status", String(20), nullable=False),
    Column("holds", Integer, nullable=False),
    Column("notary_name", String(100)),
    Column("notary_reference", String(100)),
    Column("bank_name", String(200)),
    Column("bank_account", String(100)),
    Column("balance_fen", BigInteger, nullable=False),
    Column("reserved_fen", BigInteger, nullable=False),
    Column("paid_in_fen", BigInteger, nullable=False),
    Column("paid_out_fen", BigInteger, nullable=False),
    Column("version", Integer, nullable=False),
    Column("updated_at", String(40), nullable=False),
)

ledger_balances = Table(
    "console_ledger_balances",
    console_metadata,
    Column("account_id", String(100), primary_key=True),
    Column("ledger_account", String(200), primary_key=True),
    Column("signed_fen", BigInteger, nullable=False),  # debits minus credits, as the legs add up
)

balance_points = Table(
    "console_balance_points",
    console_metadata,
    Column("point", Integer, primary_key=True, autoincrement=True),
    Column("account_id", String(100), nullable=False, index=True),
    Column("time", String(40), nullable=False),
    Column("balance_fen", BigInteger, nullable=False),
)

disbursements = Table(
    "console_disbursements",
    console_metadata,
    Column("account_id", String(100), primary_key=True),
    Column("disbursement_id", String(100), primary_key=True),
    Column("status", String(20), nullable=False, index=True),
    Column("amount_fen", BigInteger, nullable=False),
    Column("payee_name", String(200), nullable=False),
    Column("condition_code", String(100)),
    Column("condition_text", Text),
    Column("evidence", Text, nullable=False),
    Column("required_roles", Text, nullable=False),
    Column("signatures", Text, nullable=False),
    Column("requested_by", String(100)),
    Column("requested_at", String(40), nullable=False),
    Column("expires_at", String(40)),
    Column("account_version", Integer, nullable=False),
    Column("updated_at", String(40), nullable=False),
)

households = Table(
    "console_households",
    console_metadata,
    Column("household_id", String(100), primary_key=True),
    Column("compound_id", String(100), index=True),
    Column("label", String(200)),
    Column("floor_area_dm2", Integer),
    Column("billed_fen", BigInteger, nullable=False),
    Column("share_fen", BigInteger),
    Column("meter_number", String(100)),
    Column("meter_installed_at", String(40)),
    Column("switched_at", String(40)),
)

bills = Table(
    "console_bills",
    console_metadata,
    Column("bill_id", String(100), primary_key=True),
    Column("household_id", String(100), nullable=False, index=True),
    Column("purpose", String(40)),
    Column("period", String(20)),
    Column("amount_fen", BigInteger, nullable=False),
    Column("due_on", String(20)),
    Column("cancelled", Boolean, nullable=False),
)

handovers = Table(
    "console_handovers",
    console_metadata,
    Column("compound_id", String(100), primary_key=True),
    Column("status", String(20), nullable=False),
    Column("households_total", Integer, nullable=False),
    Column("vote_passed", Boolean),
    Column("escrow_account_id", String(100)),
    Column("arrears_fen", BigInteger),
    Column("creditor", String(200)),
    Column("allocated", Boolean, nullable=False),
    Column("paid_fen", BigInteger, nullable=False),
    Column("fully_paid", Boolean, nullable=False),
    Column("facilities_transferred", Boolean, nullable=False),
    Column("started_at", String(40), nullable=False),
    Column("completed_at", String(40)),
    Column("updated_at", String(40), nullable=False),
)

handover_households = Table(
    "console_handover_households",
    console_metadata,
    Column("compound_id", String(100), primary_key=True),
    Column("household_id", String(100), primary_key=True),
)

Index("ix_console_events_service_time", events_log.c.service, events_log.c.time)

sessions = Table(
    "console_sessions",
    console_metadata,
    # The SHA-256 of the session id: the cookie's secret is not in the database.
    Column("digest", String(64), primary_key=True),
    Column("username", String(100), nullable=False),
    Column("csrf", String(64), nullable=False),
    Column("created_at", String(40), nullable=False),
    Column("expires_at", String(40), nullable=False, index=True),
)
