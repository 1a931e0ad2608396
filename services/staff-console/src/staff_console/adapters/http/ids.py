"""Identifiers in paths: what the services use (lower-case tokens, dots and colons at most)."""

from typing import Annotated

from fastapi import Path

ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,199}$"
Id = Annotated[str, Path(pattern=ID_PATTERN, max_length=200)]
