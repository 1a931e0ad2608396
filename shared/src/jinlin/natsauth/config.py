"""The server config include: an ``authorization`` block with one NKey user per principal and its permissions.

Subjects are written as quoted strings: unquoted, ``$JS.API...`` would be read as a config variable.
"""

import json
import os
from collections.abc import Sequence
from pathlib import Path

from jinlin.natsauth.keys import inbox_prefix
from jinlin.natsauth.policy import ALL_INBOXES, Principal

HEADER = """\
# NATS users of jinlin, written by `jinlin nats init-auth`; re-run it instead of editing this file.
# Include it from the server config (`include "auth.conf"`); `nats-server --signal reload` applies a new one.
# A user not listed here cannot connect; a subject not allowed to a user is refused.
"""


def subscribe_subjects(principal: Principal, public_key: str) -> list[str]:
    return [ALL_INBOXES] if principal.reads_any_inbox else [f"{inbox_prefix(public_key)}.>"]


def _subject_list(subjects: Sequence[str], indent: str) -> str:
    if not subjects:
        return "[]"
    inner = "".join(f"{indent}  {json.dumps(subject)}\n" for subject in subjects)
    return f"[\n{inner}{indent}]"


def render_user(principal: Principal, public_key: str) -> str:
    publish = principal.publish_subjects()
    # An empty allow list would mean "no restriction" to the server; deny everything explicitly instead.
    publish_block = (
        f"publish: {{ allow: {_subject_list(publish, '          ')} }}" if publish else 'publish: { deny: [">"] }'
    )
    subscribe = subscribe_subjects(principal, public_key)
    return (
        f"    # {principal.name} ({principal.kind}): {principal.summary}\n"
        "    {\n"
        f"      nkey: {json.dumps(public_key)}\n"
        "      permissions: {\n"
        f"        {publish_block}\n"
        f"        subscribe: {{ allow: {_subject_list(subscribe, '          ')} }}\n"
        "      }\n"
        "    }\n"
    )


def render_auth_config(users: Sequence[tuple[Principal, str]]) -> str:
    """The include for ``(principal, public key)`` pairs."""
    body = "".join(render_user(principal, key) for principal, key in users)
    return f"{HEADER}authorization {{\n  users = [\n{body}  ]\n}}\n"


def include_directive(config_path: Path, auth_config: Path) -> str:
    """The server config line including ``auth_config``: nats-server resolves includes relative to the including
    file's folder, even absolute-looking ones."""
    relative = os.path.relpath(auth_config.resolve(), config_path.resolve().parent)
    return f"include {json.dumps(relative)}\n"
