"""How a case came to the mediation desk, and where its parties are sent when it ends without agreement."""

from enum import StrEnum


class Origin(StrEnum):
    """People's Mediation Law: a case is applied for by a party or referred to the committee."""

    COMPLAINT_REFERRAL = "complaint_referral"  # escalated by the complaints desk (consumed from its events)
    PARTY_APPLICATION = "party_application"  # a party applied (申请调解)
    STREET_OFFICE_REFERRAL = "street_office_referral"  # 街道办事处 referred it
    COURT_REFERRAL = "court_referral"  # a court referred it before trial (诉前委派调解)


class Route(StrEnum):
    """The routes a mediator advises parties of when mediation cannot settle their dispute (告知其他救济途径)."""

    LITIGATION = "litigation"  # 诉讼
    ARBITRATION = "arbitration"  # 仲裁
    ADMINISTRATIVE_COMPLAINT = "administrative_complaint"  # 向行政主管部门投诉, e.g. the housing bureau
    OTHER = "other"
