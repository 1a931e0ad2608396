"""jinlin's HTTP kit: the service app, problem answers, command running, conditional reads, staff identity."""

from jinlin.web.app import create_service_app
from jinlin.web.commands import (
    IDEMPOTENCY_KEY_HEADER,
    REPLAYED_HEADER,
    CommandHandler,
    CommandResult,
    command_docs,
    run_command,
)
from jinlin.web.conditional import etag_of, versioned_response
from jinlin.web.health import Readiness, ReadinessCheck, store_reachable
from jinlin.web.middleware import REQUEST_ID_HEADER, request_id_of
from jinlin.web.problems import (
    PROBLEM_CONTENT_TYPE,
    Problem,
    ProblemDetails,
    install_problem_handlers,
    problem_responses,
)
from jinlin.web.staff import Role, Staff, StaffDirectory, StaffEntry, current_staff, require_roles

__all__ = [
    "IDEMPOTENCY_KEY_HEADER",
    "PROBLEM_CONTENT_TYPE",
    "REPLAYED_HEADER",
    "REQUEST_ID_HEADER",
    "CommandHandler",
    "CommandResult",
    "Problem",
    "ProblemDetails",
    "Readiness",
    "ReadinessCheck",
    "Role",
    "Staff",
    "StaffDirectory",
    "StaffEntry",
    "command_docs",
    "create_service_app",
    "current_staff",
    "etag_of",
    "install_problem_handlers",
    "problem_responses",
    "request_id_of",
    "require_roles",
    "run_command",
    "store_reachable",
    "versioned_response",
]
