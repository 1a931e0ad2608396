"""Staff accounts for the embedded development stack: one per role, with tokens written under ``var/``.

Only ``jinlin up`` seeds them, and only when no staff directory is configured; a real deployment configures its
own (``JINLIN_STAFF_TOKENS_FILE``). The tokens are predictable on purpose, so the README's examples work.
"""

import json
from pathlib import Path

DEV_ROLES = ("intake", "handler", "mediator", "finance", "supervisor", "notary", "auditor")


def dev_token(role: str) -> str:
    return f"dev-{role}-token-jinlin"


def write_dev_staff(var_dir: Path) -> Path:
    path = var_dir / "staff-tokens.json"
    if not path.exists():
        entries = [{"token": dev_token(role), "id": f"dev-{role}", "roles": [role]} for role in DEV_ROLES]
        # A second finance officer: a payment out needs a co-signature by someone other than its requester.
        entries.append({"token": dev_token("finance-2"), "id": "dev-finance-2", "roles": ["finance"]})
        path.write_text(json.dumps(entries, indent=2) + "\n")
    return path
