"""Notes on a complaint: internal working notes, or notes the resident sees (Open311 ``status_notes``)."""

from enum import StrEnum


class NoteVisibility(StrEnum):
    INTERNAL = "internal"
    RESIDENT = "resident"
