"""Personal data that can be erased from immutable history: a key per person, destroyed on request."""

from jinlin.privacy.vault import SEALED_PREFIX, PersonalDataVault
from jinlin.store.schema import person_keys

__all__ = ["SEALED_PREFIX", "PersonalDataVault", "person_keys"]
