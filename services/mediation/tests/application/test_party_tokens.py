"""A party's token: recognisable, naming its case, random, and reduced to a digest that opens nothing."""

import hashlib

import pytest

from mediation.application import party_tokens


def test_a_token_names_its_case_and_is_recognisable() -> None:
    token = party_tokens.new_token("c-20261129-1203fd4e")
    assert token.startswith("jlp_c-20261129-1203fd4e.")
    assert party_tokens.looks_like_party_token(token)
    assert party_tokens.case_id_of(token) == "c-20261129-1203fd4e"
    assert party_tokens.digest(token) == hashlib.sha256(token.encode()).hexdigest()


def test_every_token_is_new() -> None:
    tokens = {party_tokens.new_token("case-1") for _ in range(1000)}
    assert len(tokens) == 1000
    assert len({party_tokens.digest(token) for token in tokens}) == 1000


@pytest.mark.parametrize(
    "token",
    [
        "dev-mediator-token-jinlin",  # a staff token
        "jlp_",
        "jlp_case-1",
        "jlp_case-1.",
        "jlp_.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        "jlp_CASE-1.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",  # not a case id
        "jlp_case-1.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",  # a character short
        "jlp_case-1.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",  # padded
        "jlp_case-1.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA+",  # base64, not base64url
        "jlp_case-1.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA.AAAA",
    ],
)
def test_anything_else_names_no_case(token: str) -> None:
    assert party_tokens.case_id_of(token) is None
