"""Tamper evidence: recompute a store's hash chain and compare it with what JetStream holds."""

from jinlin.audit.compare import AuditFinding, AuditReport, compare_store_with_stream
from jinlin.audit.verify import verify_service

__all__ = ["AuditFinding", "AuditReport", "compare_store_with_stream", "verify_service"]
