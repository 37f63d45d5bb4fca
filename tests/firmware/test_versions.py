"""Semantic ordering of firmware version strings."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from firmware.versions import is_newer, is_parseable, same_version, version_key

# SemVer 2.0 section 11's own example, in ascending order
SEMVER_CHAIN = [
    "1.0.0-alpha",
    "1.0.0-alpha.1",
    "1.0.0-alpha.beta",
    "1.0.0-beta",
    "1.0.0-beta.2",
    "1.0.0-beta.11",
    "1.0.0-rc.1",
    "1.0.0",
    "2.0.0",
    "2.1.0",
    "2.1.1",
]


def test_the_semver_precedence_example_sorts_in_its_order() -> None:
    shuffled = [SEMVER_CHAIN[i] for i in (5, 0, 10, 3, 7, 1, 9, 2, 8, 4, 6)]
    assert sorted(shuffled, key=version_key) == SEMVER_CHAIN
    for lower, higher in zip(SEMVER_CHAIN, SEMVER_CHAIN[1:], strict=False):
        assert is_newer(higher, lower) and not is_newer(lower, higher)


def test_numeric_fields_compare_as_numbers_not_text() -> None:
    assert is_newer("1.10.0", "1.9.0") and is_newer("R4.10.2", "R4.9.9")


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("v1.2", "1.2.0"),
        ("1.2.3+build5", "1.2.3"),
        ("1.2.3-rc.1+build5", "1.2.3-rc.1"),
        ("R4.10.2", "4.10.2"),
        ("fw-2.0", "2.0.0"),
        ("1.2.3.0", "1.2.3"),
    ],
)
def test_vendor_spellings_read_as_the_same_version(a: str, b: str) -> None:
    assert same_version(a, b) and version_key(a) == version_key(b)
    assert not is_newer(a, b) and not is_newer(b, a)


def test_a_fourth_field_counts() -> None:
    assert is_newer("1.2.3.4", "1.2.3") and is_newer("1.2.4", "1.2.3.9")


def test_a_pre_release_glued_to_the_core_sorts_below_the_release() -> None:
    assert is_newer("1.2.3", "1.2.3rc1") and is_newer("1.2.3rc2", "1.2.3rc1")


@pytest.mark.parametrize("text", ["", "garbage", "1..2", "1.2.3-", "1.2.3+", "1.2-rc..1", "١.٢.٣"])
def test_unparseable_strings_sort_below_every_parseable_one(text: str) -> None:
    assert not is_parseable(text)
    assert is_newer("0.0.0-a", text) and not is_newer(text, "0.0.0-a")


def test_unparseable_strings_order_among_themselves_by_their_text() -> None:
    assert sorted(["zeta", "alpha", "1.0", "mid"], key=version_key) == [
        "alpha",
        "mid",
        "zeta",
        "1.0",
    ]


versions = st.builds(
    lambda core, pre, build: (
        ".".join(map(str, core)) + (f"-{pre}" if pre else "") + (f"+{build}" if build else "")
    ),
    st.lists(st.integers(0, 30), min_size=1, max_size=4),
    st.one_of(
        st.none(), st.from_regex(r"[0-9A-Za-z]{1,4}(\.[0-9A-Za-z]{1,4}){0,2}", fullmatch=True)
    ),
    st.one_of(st.none(), st.from_regex(r"[0-9A-Za-z]{1,5}", fullmatch=True)),
)
anything = st.one_of(versions, st.text(max_size=12))


@given(anything, anything)
def test_is_newer_is_asymmetric_and_agrees_with_the_key(a: str, b: str) -> None:
    assert not (is_newer(a, b) and is_newer(b, a))
    assert is_newer(a, b) == (version_key(a) > version_key(b))


@given(anything, anything, anything)
def test_the_order_is_transitive_so_every_sort_agrees(a: str, b: str, c: str) -> None:
    if not is_newer(a, b) and not is_newer(b, c):
        assert not is_newer(a, c)
    assert version_key(a) == version_key(a.strip()) or not is_parseable(a)


@given(versions)
def test_build_metadata_never_changes_precedence(version: str) -> None:
    assert same_version(version, version.split("+")[0])


def test_long_and_hostile_strings_are_read_without_filling_the_cache() -> None:
    long_version = "1." + ".".join(["2"] * 5000) + "-" + "a" * 10_000
    assert is_parseable(long_version) and is_newer(long_version, "1.2.2")
    assert not is_parseable("1" * 10_000 + "..")
    assert not is_parseable("v" * 100_000)
    assert version_key("1.2.3") == version_key("1.2.3")  # cached path agrees with itself
