"""How a complaint reached the desk."""

from enum import StrEnum
from typing import Annotated, Final

from pydantic import StringConstraints


class Channel(StrEnum):
    WALK_IN = "walk_in"
    PHONE = "phone"
    WEB = "web"
    HOTLINE_12345 = "hotline_12345"  # referred by the city's 12345 hotline, which has its own ticket number
    STAFF_ON_BEHALF = "staff_on_behalf"  # a staff member files for a resident (the actor on the event says who)


# The 12345 platform's ticket number, quoted back to the platform when the complaint is answered.
HOTLINE_REFERENCE_PATTERN: Final = r"^[A-Za-z0-9][A-Za-z0-9\-]{3,39}$"
HotlineReference = Annotated[str, StringConstraints(pattern=HOTLINE_REFERENCE_PATTERN)]


def needs_hotline_reference(channel: Channel) -> bool:
    """Only a 12345 referral has (and must have) the hotline's reference number."""
    return channel is Channel.HOTLINE_12345
