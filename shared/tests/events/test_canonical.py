"""The fast canonical JSON writes exactly the bytes of the RFC 8785 reference, for every value."""

import rfc8785
from hypothesis import given, settings
from hypothesis import strategies as st

from jinlin.events.canonical import canonical_json

_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**53) + 1, max_value=2**53 - 1)
    | st.text()
    | st.floats(allow_nan=False, allow_infinity=False)
)
_keys = st.text(max_size=8) | st.sampled_from(["a", "B", "é", "\U0001f600", "\ue000", "_", "10", "1"])
_values = st.recursive(_scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_keys, inner, max_size=4))


@settings(max_examples=1500, deadline=None)
@given(_values)
def test_the_same_bytes_as_the_reference(value: object) -> None:
    try:
        expected = rfc8785.dumps(value)
    except rfc8785.CanonicalizationError:
        return  # the reference refuses it (a lone surrogate): so must we, see below
    assert canonical_json(value) == expected


def test_control_characters_and_escapes_match_the_reference() -> None:
    value = {"text": "".join(chr(c) for c in range(0x00, 0x80)) + "\u2028\u2029楼道\U0001f600", "k\u007f": "x"}
    assert canonical_json(value) == rfc8785.dumps(value)


def test_what_the_reference_refuses_is_refused() -> None:
    for refused in ({"a": "\ud800"}, {"a": 2**60}):
        try:
            rfc8785.dumps(refused)
        except rfc8785.CanonicalizationError:
            pass
        else:
            raise AssertionError(f"the reference accepted {refused!r}")
        try:
            canonical_json(refused)
        except rfc8785.CanonicalizationError:
            continue
        raise AssertionError(f"{refused!r} was canonicalised though the reference refuses it")
