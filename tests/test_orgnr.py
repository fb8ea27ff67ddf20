"""Norwegian organisation numbers: normalisation and the MOD11 check digit."""

from __future__ import annotations

import pytest

from portal.services import orgnr
from portal.services.errors import ValidationFailed

REAL = [
    "974760673",  # Brønnøysundregistrene
    "923609016",  # Equinor ASA
    "974767880",  # NTNU
    "983971636",  # Statens vegvesen
    "971526920",  # Statistisk sentralbyrå
]


@pytest.mark.parametrize("number", REAL)
def test_real_numbers_are_valid(number):
    assert orgnr.is_valid(number)
    assert orgnr.validate(number) == number


@pytest.mark.parametrize("raw", [
    "974 760 673", "NO 974 760 673 MVA", "no974760673mva", "974.760.673", "974-760-673",
    " 974760673 ", "NO974760673", "974760673MVA", "974\u00a0760\u00a0673",
])
def test_decorations_are_stripped(raw):
    assert orgnr.normalise(raw) == "974760673"
    assert orgnr.validate(raw) == "974760673"


@pytest.mark.parametrize("number", ["974760674", "923609010", "974767881", "974760670"])
def test_wrong_check_digit_is_refused(number):
    assert not orgnr.is_valid(number)
    with pytest.raises(ValidationFailed) as exc:
        orgnr.validate(number)
    assert exc.value.field == "org_number"
    assert "check digit" in exc.value.message


@pytest.mark.parametrize("raw", ["", None, "   ", "12345678", "1234567890", "97476067A",
                                 "abcdefghi", "٩٧٤٧٦٠٦٧٣"])
def test_wrong_shape_is_refused(raw):
    assert not orgnr.is_valid(raw)
    with pytest.raises(ValidationFailed):
        orgnr.validate(raw)


def test_check_digit_rules():
    # Remainder 0 gives 11, written as 0.
    assert orgnr.check_digit("00000000") == 0
    # 3*1 = 3 → 11 - 3 = 8; 3*2 = 6 → 11 - 6 = 5.
    assert orgnr.check_digit("10000000") == 8
    assert orgnr.check_digit("20000000") == 5
    with pytest.raises(ValueError):
        orgnr.check_digit("1234")


def test_remainder_one_has_no_valid_number():
    # Eight digits whose weighted sum leaves remainder 1 would need check digit 10.
    first = next(f"{n:08d}" for n in range(10_000_000, 10_100_000)
                 if sum(int(d) * w for d, w in zip(f"{n:08d}", orgnr.WEIGHTS, strict=True))
                 % 11 == 1)
    assert orgnr.check_digit(first) is None
    assert not any(orgnr.is_valid(first + str(d)) for d in range(10))


def test_format_for_display():
    assert orgnr.format_number("974760673") == "974 760 673"
    assert orgnr.format_number(None) == ""
