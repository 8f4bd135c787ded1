from fractions import Fraction

import pytest

from kinema.types import BadInputError, parse_rate


@pytest.mark.parametrize(
    "text, rate",
    [
        ("30", Fraction(30)),
        ("30000/1001", Fraction(30000, 1001)),
        ("29.97", Fraction(30000, 1001)),  # decimal NTSC spellings mean N·1000/1001
        ("23.976", Fraction(24000, 1001)),
        ("59.94", Fraction(60000, 1001)),
        ("119.88", Fraction(120000, 1001)),
        ("29.5", Fraction(59, 2)),  # not an NTSC rate: kept as written
        ("25.0", Fraction(25)),
        (" 12.5 ", Fraction(25, 2)),
    ],
)
def test_rates_parse_exactly(text, rate):
    assert parse_rate(text) == rate


@pytest.mark.parametrize("text", ["abc", "0", "-24", "1/0", ""])
def test_bad_rates_are_refused(text):
    with pytest.raises(BadInputError):
        parse_rate(text)
