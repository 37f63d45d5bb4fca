import pytest
from hypothesis import given
from hypothesis import strategies as st

from enrollment.identifiers import (
    MAX_MAC_RANGE_SIZE,
    InvalidMac,
    InvalidMacRange,
    InvalidSerial,
    MacPoolExhausted,
    MacRange,
    format_mac,
    nth_address,
    parse_mac,
    parse_serial,
)

ALPHABET = "only letters A-Z, digits, '.' and '-' are allowed"
serials = st.from_regex(r"\A[A-Z0-9][A-Z0-9.\-]{2,24}\Z")
macs = st.integers(min_value=0, max_value=(1 << 48) - 1)


@given(serials)
def test_a_canonical_serial_parses_to_itself(serial):
    assert parse_serial(serial) == serial


@given(serials)
def test_serials_are_case_insensitive_and_canonically_upper_case(serial):
    assert parse_serial(f"  {serial.lower()}\n") == serial


@given(st.text(max_size=40))
def test_arbitrary_text_is_a_serial_or_an_invalid_serial(text):
    try:
        serial = parse_serial(text)
    except InvalidSerial:
        return
    assert parse_serial(serial) == serial


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "serial number is empty"),
        ("   ", "serial number is empty"),
        ("AB", "serial number has 2 characters; at least 3 needed"),
        ("A" * 26, "serial number has 26 characters; at most 25 allowed"),
        ("-AB", "serial number must start with a letter or a digit"),
        (".AB", "serial number must start with a letter or a digit"),
        (
            "AB_12",
            f"serial number has '_' at position 3; {ALPHABET}",
        ),
        (
            "AB:12",
            f"serial number has ':' at position 3; {ALPHABET}",
        ),
        (
            "AB 12",
            f"serial number has ' ' at position 3; {ALPHABET}",
        ),
        (
            "ﬁ123",
            f"serial number has 'ﬁ' at position 1; {ALPHABET}",
        ),
        (
            "AB１2",
            f"serial number has '１' at position 3; {ALPHABET}",
        ),
    ],
)
def test_bad_serials_are_refused_with_their_reason(text, reason):
    with pytest.raises(InvalidSerial) as caught:
        parse_serial(text)
    assert caught.value.reason == reason


@pytest.mark.parametrize(
    "text",
    ["02:1a:2B:3c:4D:5e", "02-1A-2B-3C-4D-5E", "021a.2b3c.4d5e", "021A2B3C4D5E", " 021a2b3c4d5e\n"],
)
def test_every_common_mac_notation_parses_to_the_same_address(text):
    assert parse_mac(text) == 0x021A2B3C4D5E


@given(macs)
def test_formatting_then_parsing_a_mac_is_the_identity(value):
    assert parse_mac(format_mac(value)) == value


@given(macs)
def test_every_notation_of_a_mac_round_trips(value):
    raw = f"{value:012x}"
    assert parse_mac(raw) == value
    assert parse_mac("-".join(raw[i : i + 2] for i in range(0, 12, 2))) == value
    assert parse_mac(".".join(raw[i : i + 4] for i in range(0, 12, 4))) == value


@given(st.text(max_size=30))
def test_arbitrary_text_is_a_mac_or_an_invalid_mac(text):
    try:
        value = parse_mac(text)
    except InvalidMac:
        return
    assert 0 <= value < 1 << 48


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "MAC address is empty"),
        ("02:1A:2B:3C:4D:5G", "MAC address has 'G' at position 17; not a hex digit"),
        ("02 1A 2B 3C 4D 5E", "MAC address has ' ' at position 3; not a hex digit"),
        ("0x021A2B3C4D5E", "MAC address has 'x' at position 2; not a hex digit"),
        ("02_1A2B3C4D5E", "MAC address has '_' at position 3; not a hex digit"),
        ("02:1A:2B:3C:4D", "MAC address has 10 hex digits; 12 expected"),
        ("02:1A:2B:3C:4D:5E:6F", "MAC address has 14 hex digits; 12 expected"),
        ("０2:1A:2B:3C:4D:5E", "MAC address has '０' at position 1; not a hex digit"),
        (
            "02:1A-2B:3C:4D:5E",
            "MAC address separators are misplaced; use AA:BB:CC:DD:EE:FF, AA-BB-CC-DD-EE-FF, "
            "AABB.CCDD.EEFF or AABBCCDDEEFF",
        ),
        (
            "021:A2B:3C4:D5E",
            "MAC address separators are misplaced; use AA:BB:CC:DD:EE:FF, AA-BB-CC-DD-EE-FF, "
            "AABB.CCDD.EEFF or AABBCCDDEEFF",
        ),
    ],
)
def test_malformed_macs_are_refused_with_their_reason(text, reason):
    with pytest.raises(InvalidMac) as caught:
        parse_mac(text)
    assert caught.value.reason == reason


@pytest.mark.parametrize("value", [-1, 1 << 48])
def test_formatting_refuses_values_outside_48_bits(value):
    with pytest.raises(InvalidMac, match=f"^{value} is not a 48-bit MAC address$"):
        format_mac(value)


def test_format_mac_writes_upper_case_colon_form():
    assert format_mac(0x02_00_00_00_0A_FF) == "02:00:00:00:0A:FF"


def test_a_mac_range_parses_from_first_dash_last():
    mac_range = MacRange.parse("02:00:00:00:00:00-02:00:00:00:ff:ff")
    assert mac_range == MacRange(0x020000000000, 0x02000000FFFF)
    assert mac_range.size == 65536
    assert str(mac_range) == "02:00:00:00:00:00-02:00:00:00:FF:FF"


def test_a_mac_range_written_with_dashed_addresses_still_parses():
    assert MacRange.parse("02-00-00-00-00-01 - 02-00-00-00-00-09".replace(" ", "")) == MacRange(
        0x020000000001, 0x020000000009
    )


@pytest.mark.parametrize(
    "text", ["", "02:00:00:00:00:00", "02:00:00:00:00:00-", "x-y", "02:00:00:00:00:00" * 40]
)
def test_a_mac_range_text_without_two_addresses_is_refused(text):
    with pytest.raises(InvalidMacRange) as caught:
        MacRange.parse(text)
    assert caught.value.reason == "expected FIRST-LAST, e.g. 02:00:00:00:00:00-02:00:00:00:FF:FF"


@pytest.mark.parametrize(
    ("first", "last", "reason"),
    [
        (
            0x020000000010,
            0x02000000000F,
            "range starts at 02:00:00:00:00:10, after its end 02:00:00:00:00:0F",
        ),
        (0, 5, "range includes the all-zero MAC address"),
        (
            0x01_00_00_00_00_00,
            0x01_00_00_00_00_FF,
            "01:00:00:00:00:00 is a multicast (group) address",
        ),
        (0x02_FF_FF_FF_FF_FF, 0x04_00_00_00_00_00, "range spans more than one first octet"),
        (
            0x02_00_00_00_00_00,
            0x02_00_00_FF_FF_FF + 1,
            f"range holds {MAX_MAC_RANGE_SIZE + 1} addresses; at most {MAX_MAC_RANGE_SIZE} allowed",
        ),
        (-1, 5, "-1 is not a 48-bit MAC address"),
        (2, 1 << 48, f"{1 << 48} is not a 48-bit MAC address"),
    ],
)
def test_invalid_mac_ranges_are_refused_with_their_reason(first, last, reason):
    with pytest.raises(InvalidMacRange) as caught:
        MacRange(first, last)
    assert caught.value.reason == reason


def test_a_range_of_exactly_one_ma_l_block_is_accepted():
    assert MacRange(0x02_00_00_00_00_00, 0x02_00_00_FF_FF_FF).size == MAX_MAC_RANGE_SIZE


def test_nth_address_counts_from_the_first_address():
    mac_range = MacRange.parse("02:00:00:00:00:10-02:00:00:00:00:12")
    assert [format_mac(nth_address(mac_range, i)) for i in range(3)] == [
        "02:00:00:00:00:10",
        "02:00:00:00:00:11",
        "02:00:00:00:00:12",
    ]
    assert 0x020000000011 in mac_range
    assert 0x020000000013 not in mac_range
    assert "02:00:00:00:00:11" not in mac_range


def test_nth_address_past_the_end_reports_an_exhausted_pool():
    mac_range = MacRange(0x020000000010, 0x020000000012)
    with pytest.raises(MacPoolExhausted) as caught:
        nth_address(mac_range, 3)
    assert (caught.value.size, caught.value.index) == (3, 3)
    assert str(caught.value) == "MAC range holds 3 addresses; index 3 is past its end"


def test_nth_address_refuses_a_negative_index():
    with pytest.raises(ValueError, match="^index must not be negative, got -1$"):
        nth_address(MacRange(0x020000000010, 0x020000000012), -1)


@given(st.integers(min_value=0, max_value=(1 << 16) - 1))
def test_every_index_of_a_range_gives_an_address_inside_it(index):
    mac_range = MacRange.parse("02:00:00:00:00:00-02:00:00:00:ff:ff")
    address = nth_address(mac_range, index)
    assert address in mac_range
    assert not address & (1 << 40)
