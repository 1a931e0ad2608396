"""The CloudEvents 1.0 envelope every event travels in (structured JSON mode)."""

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

CONTENT_TYPE = "application/cloudevents+json"


class CloudEvent(BaseModel):
    """One stored or published event: the CloudEvents attributes plus jinlin's extensions.

    Extensions: ``caseid`` (cross-service case), ``causationid`` (the command or event that caused it),
    ``actor`` (who), ``streamversion`` (position in its aggregate's stream), ``sequence`` (position in
    the service's log), ``hash`` and ``prevhash`` (the tamper-evident chain of the log).
    """

    # Extension attributes a newer producer adds are kept (and covered by the hash), not refused: a consumer
    # running older code must still accept the event.
    model_config = ConfigDict(frozen=True, extra="allow")

    specversion: Literal["1.0"] = "1.0"
    id: str
    source: str
    type: str
    subject: str
    time: str
    datacontenttype: Literal["application/json"] = "application/json"
    data: dict[str, Any]
    caseid: str
    causationid: str
    actor: str
    streamversion: int = Field(ge=1)
    sequence: int = Field(ge=1)
    hash: str
    prevhash: str

    def to_json_bytes(self) -> bytes:
        return self.model_dump_json().encode()

    @classmethod
    def from_json_bytes(cls, raw: bytes) -> "CloudEvent":
        return cls.model_validate_json(raw)

    def hashed_fields(self) -> dict[str, Any]:
        """Everything the hash covers: the whole envelope except the hash itself."""
        return self.model_dump(exclude={"hash"})
