"""The dashboard: figures and charts drawn as inline SVG by ``domain.charts``.

Complaints by category and by month, and the overdue count, come from the console's own queue; the real
resolution rate comes from the complaints service's ``/statistics`` (it is computed from call-backs there);
escrow balances over time come from the money movements' ledger legs.
"""

from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from staff_console.adapters.http.context import ConsoleContext, console_of
from staff_console.adapters.http.rendering import money, parse_instant, render
from staff_console.adapters.http.security import SignedIn, Viewer
from staff_console.application import queries
from staff_console.domain import charts
from staff_console.domain.access import Screen
from staff_console.domain.words import label, translate

router = APIRouter(include_in_schema=False)


async def load_categories(context: ConsoleContext) -> None:
    """Category names from the complaints catalogue (public), once; the built-in names until it answers."""
    if context.category_names:
        return
    outcome = await context.services.get("categories", token=None)
    if outcome.ok and isinstance(outcome.body, list):
        for category in outcome.body:
            if isinstance(category, dict) and "code" in category:
                names = (str(category.get("name_zh") or category["code"]), str(category.get("name_en") or ""))
                context.category_names[str(category["code"])] = names


async def _statistics(context: ConsoleContext, viewer: Viewer) -> dict[str, Any] | None:
    token = viewer.account.service_token
    if token is None:
        return None
    outcome = await context.services.get("statistics", token=token)
    if not outcome.ok or not isinstance(outcome.body, dict):
        return None
    total = outcome.body.get("total")
    return total if isinstance(total, dict) else None


@router.get("/dashboard")
async def dashboard(request: Request, viewer: SignedIn) -> Response:
    context = console_of(request)
    language = viewer.language

    def t(key: str) -> str:
        return translate(language, key)

    now = datetime.now(UTC).isoformat(timespec="microseconds")
    figures: dict[str, Any] = {}
    drawn: dict[str, str] = {}
    async with context.reader() as conn:
        received = await queries.counts_by_service(conn)
        if viewer.sees(Screen.COMPLAINTS):
            await load_categories(context)
            figures = await queries.complaint_figures(conn, now)
        cases = await queries.mediation_board(conn) if viewer.sees(Screen.MEDIATION) else []
        accounts = await queries.escrow_accounts_list(conn) if viewer.sees(Screen.ESCROW) else []
        history = await queries.balance_history(conn) if accounts else {}
        pending = (
            await queries.account_disbursements(conn, status="requested") if viewer.sees(Screen.SIGNATURES) else []
        )
    if figures:

        def category_name(code: str) -> str:
            names = context.category_names.get(code)
            return (names[1] or code if language == "en" else names[0]) if names else label(language, "category", code)

        drawn["by_category"] = charts.bar_chart(
            [(category_name(code), count) for code, count in figures["by_category"]], title=t("dashboard.by_category")
        )
        months = figures["by_month"]
        drawn["by_month"] = charts.column_chart(
            [month for month, _ in months],
            [
                (t("dashboard.received"), charts.PALETTE[0], [values[0] for _, values in months]),
                (t("dashboard.overdue"), charts.PALETTE[3], [values[1] for _, values in months]),
            ],
            title=t("dashboard.by_month"),
        )
    statistics = await _statistics(context, viewer) if figures else None
    if viewer.sees(Screen.COMPLAINTS):
        rate = statistics.get("real_resolution_rate") if statistics else None
        drawn["real_rate"] = charts.ratio_ring(
            rate, title=t("dashboard.real_rate"), caption=t("dashboard.ring"), colour=charts.PALETTE[2]
        )
    if accounts:
        names = {row["account_id"]: _account_name(row, language) for row in accounts}
        series = [
            (names.get(account_id, account_id), [(_instant(time), fen / 100) for time, fen in points])
            for account_id, points in history.items()
        ]
        drawn["escrow"] = charts.line_chart(
            series, title=t("dashboard.escrow"), value_format=lambda yuan: f"¥{yuan:,.0f}"
        )
    to_sign = [row for row in pending if queries.awaiting(row, viewer.signer_roles, viewer.account.staff_id)]
    return render(
        request,
        viewer,
        "dashboard.html",
        figures=figures,
        statistics=statistics,
        charts=drawn,
        cases_live=[case for case in cases if case["status"] in ("opened", "accepted", "agreement_in_effect")],
        accounts=accounts,
        escrow_total=money(sum(row["balance_fen"] for row in accounts)) if accounts else None,
        to_sign=to_sign,
        received=received,
    )


def _account_name(row: dict[str, Any], language: str) -> str:
    purpose = label(language, "purpose", row["purpose"]) if row["purpose"] else ""
    return f"{row['compound_id'] or row['account_id']} {purpose}".strip()


def _instant(value: str) -> datetime:
    return parse_instant(value) or datetime.now(UTC)
