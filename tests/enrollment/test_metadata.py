"""The bounds of device metadata, as pure code."""

from __future__ import annotations

import json

import pytest

from enrollment.metadata import MetadataRefused, check_metadata, stored_metadata


def test_a_hundred_thousand_levels_are_refused_without_recursion() -> None:
    value: object = 1
    for _ in range(100_000):
        value = [value]
    with pytest.raises(MetadataRefused) as refused:
        check_metadata({"x": value})
    assert str(refused.value) == "metadata.x[0][0][0][0]: nested deeper than 5 levels"


def test_five_levels_and_plain_values_pass() -> None:
    value = {"a": {"b": {"c": {"d": [1, 2.5, True, None, "s"]}}}}
    assert check_metadata(value) == value


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("[" * 5000 + "]" * 5000, "stored metadata is nested too deeply to be shown"),
        ("{", "stored metadata is not valid JSON: Expecting property name enclosed in double"),
        ('{"x": [[[[[1]]]]]}', "stored metadata is outside the bounds: metadata.x[0][0][0][0]:"),
    ],
)
def test_stored_metadata_outside_the_bounds_is_shown_as_empty_with_a_reason(
    text: str, why: str
) -> None:
    metadata, error = stored_metadata(text)
    assert metadata == {} and error is not None and error.startswith(why)


def test_stored_metadata_within_the_bounds_is_shown() -> None:
    assert stored_metadata(json.dumps({"rev": 3})) == ({"rev": 3}, None)
