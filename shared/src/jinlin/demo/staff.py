"""The demo's staff: ``jinlin up``'s development accounts (one per role) and a second finance desk member.

A payment out of escrow is co-signed for the center's finance desk by someone other than the finance member who
requested it (four eyes), and ``jinlin up`` seeds one member per role; so ``jinlin demo --up`` starts the stack
with this directory, and the tests do too.
"""

import json
from pathlib import Path
from typing import Final

from jinlin.cli.dev_staff import DEV_ROLES, dev_token

SECOND_FINANCE: Final = "finance-2"
SECOND_FINANCE_ID: Final = "dev-finance-2"
SECOND_FINANCE_TOKEN: Final = dev_token(SECOND_FINANCE)  # dev-finance-2-token-jinlin, predictable as the others
STAFF_FILE: Final = "demo-staff-tokens.json"
"""Under the var directory."""


def demo_tokens() -> dict[str, str]:
    """Who plays which part: each role's development token, and the second finance desk member's."""
    return {role: dev_token(role) for role in DEV_ROLES} | {SECOND_FINANCE: SECOND_FINANCE_TOKEN}


def demo_staff() -> list[dict[str, object]]:
    entries: list[dict[str, object]] = [
        {"token": dev_token(role), "id": f"dev-{role}", "roles": [role]} for role in DEV_ROLES
    ]
    entries.append({"token": SECOND_FINANCE_TOKEN, "id": SECOND_FINANCE_ID, "roles": ["finance"]})
    return entries


def write_demo_staff(var_dir: Path) -> Path:
    """The staff tokens file (``JINLIN_STAFF_TOKENS_FILE``) for a stack the demo plays on."""
    var_dir.mkdir(parents=True, exist_ok=True)
    path = var_dir / STAFF_FILE
    path.write_text(json.dumps(demo_staff(), indent=2) + "\n")
    return path
