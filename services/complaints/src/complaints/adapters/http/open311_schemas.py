"""The shapes of the Open311 GeoReport v2 façade, exactly as the spec names them (JSON flavour)."""

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, RootModel

Open311Datatype = Literal["string", "number", "datetime", "text", "singlevaluelist", "multivaluelist"]


class GeoReportModel(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Open311Service(GeoReportModel):
    """One service (a category of complaint) of ``services.json``."""

    service_code: str
    service_name: str
    description: str
    metadata: bool = Field(description="True when the service definition lists attributes to fill in.")
    type: Literal["realtime", "batch", "blackbox"]
    keywords: str = Field(description="Comma-separated.")
    group: str


class Open311AttributeValue(GeoReportModel):
    key: str
    name: str


class Open311Attribute(GeoReportModel):
    variable: bool
    code: str
    datatype: Open311Datatype
    required: bool
    datatype_description: str | None
    order: int = Field(ge=1)
    description: str
    values: list[Open311AttributeValue]


class Open311ServiceDefinition(GeoReportModel):
    service_code: str
    attributes: list[Open311Attribute]


class Open311Request(GeoReportModel):
    """One service request (a complaint) as the public sees it: never the reporter, never the unit."""

    service_request_id: str
    status: Literal["open", "closed"]
    status_notes: str | None
    service_name: str | None
    service_code: str
    description: str | None
    agency_responsible: str | None
    service_notice: str | None
    requested_datetime: str
    updated_datetime: str
    expected_datetime: str | None
    address: str | None
    address_id: str | None
    zipcode: str | None
    lat: float | None
    long: float | None
    media_url: str | None


class Open311Created(GeoReportModel):
    service_request_id: str
    service_notice: str | None
    account_id: None = None


class Open311Receipt(RootModel[list[Open311Created]]):
    """The answer to a POST: a list holding the one request created."""


class Open311Error(GeoReportModel):
    """GeoReport's error shape; an error answer is a list of these."""

    code: int
    description: str
