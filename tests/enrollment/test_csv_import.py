import codecs
import contextlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from enrollment.csv_import import (
    CsvErrorReason,
    CsvImportError,
    ParsedImport,
    Registration,
    RowError,
    RowErrorCode,
    RowResult,
    RowStatus,
    parse_factory_csv,
)

E = RowErrorCode
HEADER = "serial,family,lot\n"


def _refused(data, **kwargs):
    with pytest.raises(CsvImportError) as caught:
        parse_factory_csv(data, **kwargs)
    return caught.value.reason, caught.value.detail


def _only_error(text):
    (row,) = parse_factory_csv(text.encode()).rows
    assert row.status is RowStatus.ERROR
    return row.error


def test_a_clean_file_gives_one_registration_per_row():
    parsed = parse_factory_csv(b"serial,family,lot\ncl-0001,ac22,L42\nCL-0002,ac22,L42\n")
    assert parsed == ParsedImport(
        (
            RowResult(2, Registration("CL-0001", "ac22", "L42", {})),
            RowResult(3, Registration("CL-0002", "ac22", "L42", {})),
        )
    )
    assert [r.serial for r in parsed.registrations] == ["CL-0001", "CL-0002"]
    assert parsed.errors == []


def test_a_utf8_byte_order_mark_is_accepted():
    parsed = parse_factory_csv(codecs.BOM_UTF8 + b"Serial , FAMILY,lot\r\nCL-0001,ac22,L42\r\n")
    assert parsed.registrations == [Registration("CL-0001", "ac22", "L42", {})]


def test_header_names_are_case_and_space_insensitive_and_order_free():
    parsed = parse_factory_csv(b" LOT ,Serial,family\nL1,CL-0001,ac22\n")
    assert parsed.registrations == [Registration("CL-0001", "ac22", "L1", {})]


def test_latin1_bytes_are_refused_naming_the_offset():
    data = "serial,family,lot\nCL-0001,Wallbox Größe,L1\n".encode("latin-1")
    assert _refused(data) == (CsvErrorReason.ENCODING, "not UTF-8: byte 0xF6 at offset 36")


def test_the_offset_of_a_bad_byte_counts_the_byte_order_mark():
    data = codecs.BOM_UTF8 + b"serial,family,lot\nCL-0001,\xe9,L1\n"
    assert _refused(data) == (CsvErrorReason.ENCODING, "not UTF-8: byte 0xE9 at offset 29")


def test_utf16_files_are_refused_with_advice():
    data = "serial,family,lot\n".encode("utf-16")
    assert _refused(data) == (CsvErrorReason.ENCODING, "file is UTF-16; save it as UTF-8")


@pytest.mark.parametrize("data", [b"", b"   \n\r\n", codecs.BOM_UTF8, codecs.BOM_UTF8 + b"\n"])
def test_an_empty_file_is_refused(data):
    assert _refused(data) == (CsvErrorReason.EMPTY, "file is empty")


def test_a_file_of_blank_records_has_no_header():
    assert _refused(b",,\n,,\n") == (CsvErrorReason.EMPTY, "file has no header row")


def test_a_header_without_rows_gives_no_rows():
    assert parse_factory_csv(HEADER.encode()).rows == ()


def test_missing_columns_are_named():
    assert _refused(b"serial,model\nCL-0001,x\n") == (
        CsvErrorReason.MISSING_COLUMNS,
        "missing columns: family, lot",
    )


@pytest.mark.parametrize(("separator", "name"), [(";", ";"), ("\t", "tab")])
def test_a_file_with_another_separator_is_explained(separator, name):
    data = separator.join(["serial", "family", "lot"]).encode() + b"\nCL-0001;a;b\n"
    assert _refused(data) == (
        CsvErrorReason.MISSING_COLUMNS,
        f"missing columns: serial, family, lot (the file looks {name}-separated; use commas)",
    )


def test_repeated_columns_are_refused():
    assert _refused(b"serial,family,lot,Lot,note,NOTE\n") == (
        CsvErrorReason.DUPLICATE_COLUMNS,
        "repeated columns: lot, note",
    )


def test_a_file_over_the_byte_limit_is_refused_before_parsing():
    data = (HEADER + "CL-0001,ac22,L1\n" * 100).encode()
    assert _refused(data, max_bytes=100) == (
        CsvErrorReason.TOO_LARGE,
        f"file has {len(data)} bytes; at most 100 allowed",
    )


def test_a_huge_input_is_refused_at_the_default_limit():
    data = HEADER.encode() + b"CL-0001,ac22,L1\n" * (11 * 1024 * 1024 // 16)
    reason, _ = _refused(data)
    assert reason is CsvErrorReason.TOO_LARGE


def test_a_file_over_the_row_limit_is_refused():
    data = (HEADER + "".join(f"CL-{n:04d},ac22,L1\n" for n in range(4))).encode()
    assert len(parse_factory_csv(data, max_rows=4).rows) == 4
    assert _refused(data, max_rows=3) == (
        CsvErrorReason.TOO_MANY_ROWS,
        "more than 3 rows; split the file",
    )


def test_broken_quoting_is_refused_with_its_line():
    data = b'serial,family,lot\nCL-0001,ac22,L1\n"CL-0002"x,ac22,L1\n'
    assert _refused(data) == (CsvErrorReason.MALFORMED, "line 3: ',' expected after '\"'")


def test_an_unterminated_quote_is_refused():
    reason, detail = _refused(b'serial,family,lot\n"CL-0001,ac22,L1\n')
    assert (reason, detail.endswith("unexpected end of data")) == (CsvErrorReason.MALFORMED, True)


def test_bad_rows_never_block_good_rows():
    data = (
        b"serial,family,lot,metadata\n"
        b"CL-0001,ac22,L1,\n"
        b"bad serial!,ac22,L1,\n"
        b"CL-0003,,L1,\n"
        b'CL-0004,ac22,L1,"[1, 2]"\n'
        b"CL-0005,ac22,L1,\n"
    )
    parsed = parse_factory_csv(data)
    assert [(row.line, row.status) for row in parsed.rows] == [
        (2, RowStatus.OK),
        (3, RowStatus.ERROR),
        (4, RowStatus.ERROR),
        (5, RowStatus.ERROR),
        (6, RowStatus.OK),
    ]
    assert [row.error for row in parsed.errors] == [
        RowError(
            E.BAD_SERIAL,
            "serial number has ' ' at position 4; "
            "only letters A-Z, digits, '.' and '-' are allowed",
        ),
        RowError(E.MISSING_FIELD, "family is empty"),
        RowError(E.MALFORMED_METADATA, "metadata must be a JSON object"),
    ]


@pytest.mark.parametrize(
    ("row", "error"),
    [
        (",ac22,L1", RowError(E.MISSING_FIELD, "serial is empty")),
        ("CL-0001,ac22", RowError(E.MISSING_FIELD, "lot is empty")),
        (
            "CL-0001,ac22,L1,extra",
            RowError(E.TOO_MANY_FIELDS, "4 fields; the header has 3 columns"),
        ),
        ("AB,ac22,L1", RowError(E.BAD_SERIAL, "serial number has 2 characters; at least 3 needed")),
        (
            "CL-0001," + "f" * 65 + ",L1",
            RowError(E.BAD_FIELD, "family has 65 characters; at most 64 allowed"),
        ),
        ("CL-0001,ac\x0122,L1", RowError(E.BAD_FIELD, "family contains control characters")),
    ],
)
def test_row_errors_name_what_is_wrong(row, error):
    assert _only_error(HEADER + row + "\n") == error


def test_trailing_empty_fields_are_tolerated():
    parsed = parse_factory_csv(b"serial,family,lot,\nCL-0001,ac22,L1,,\n")
    assert parsed.registrations == [Registration("CL-0001", "ac22", "L1", {})]


def test_a_value_in_an_unnamed_column_is_a_row_error():
    assert _only_error("serial,family,lot,\nCL-0001,ac22,L1,x\n") == RowError(
        E.BAD_FIELD, "value in unnamed column 4"
    )


def test_metadata_comes_from_the_json_column_and_from_extra_columns():
    data = (
        b"serial,family,lot,metadata,Colour,board\n"
        b'CL-0001,ac22,L1,"{""rev"": 3, ""tested"": true}",red,\n'
    )
    (registration,) = parse_factory_csv(data).registrations
    assert registration.metadata == {"rev": 3, "tested": True, "colour": "red"}


@pytest.mark.parametrize(
    ("metadata", "message"),
    [
        ('"{""rev"": 3"', "metadata is not valid JSON: Expecting ',' delimiter"),
        ("NaN", "metadata is not valid JSON: NaN is not valid JSON"),
        ('"{""x"": Infinity}"', "metadata is not valid JSON: Infinity is not valid JSON"),
        ('"' + "[" * 100_000 + '"', "metadata is not valid JSON: nested too deeply"),
        ("42", "metadata must be a JSON object"),
    ],
)
def test_malformed_metadata_is_a_row_error(metadata, message):
    error = _only_error(f"serial,family,lot,metadata\nCL-0001,ac22,L1,{metadata}\n")
    assert error == RowError(E.MALFORMED_METADATA, message)


def test_a_metadata_key_given_twice_is_a_row_error():
    data = 'serial,family,lot,metadata,rev\nCL-0001,ac22,L1,"{""rev"": 3}",4\n'
    assert _only_error(data) == RowError(
        E.METADATA_CONFLICT, "metadata key 'rev' is given both as a column and in the JSON"
    )


def test_an_identical_duplicate_row_is_marked_and_registered_once():
    parsed = parse_factory_csv(
        (HEADER + "CL-0001,ac22,L1\nCL-0002,ac22,L1\ncl-0001,ac22,L1\n").encode()
    )
    assert [(row.status, row.duplicate_of) for row in parsed.rows] == [
        (RowStatus.OK, None),
        (RowStatus.OK, None),
        (RowStatus.DUPLICATE, 2),
    ]
    assert [r.serial for r in parsed.registrations] == ["CL-0001", "CL-0002"]


def test_a_duplicate_serial_with_different_data_fails_every_row_of_it():
    parsed = parse_factory_csv(
        (HEADER + "CL-0001,ac22,L1\nCL-0002,ac22,L1\nCL-0001,ac11,L1\n").encode()
    )
    message = "serial CL-0001 is on lines 2, 4 with different data"
    assert [(row.line, row.status) for row in parsed.rows] == [
        (2, RowStatus.ERROR),
        (3, RowStatus.OK),
        (4, RowStatus.ERROR),
    ]
    assert {row.error for row in parsed.errors} == {RowError(E.DUPLICATE_SERIAL, message)}


def test_line_numbers_count_blank_lines_and_multi_line_fields():
    data = b'serial,family,lot,note\n\nCL-0001,ac22,L1,"two\nlines"\n,,,\nAB,ac22,L1,\n'
    parsed = parse_factory_csv(data)
    assert [(row.line, row.status) for row in parsed.rows] == [
        (3, RowStatus.OK),
        (6, RowStatus.ERROR),
    ]
    assert parsed.rows[0].registration.metadata == {"note": "two\nlines"}


@given(st.binary(max_size=300))
def test_arbitrary_bytes_parse_or_raise_csv_import_error(data):
    try:
        parsed = parse_factory_csv(data)
    except CsvImportError as error:
        assert error.reason in set(CsvErrorReason)
        return
    for row in parsed.rows:
        assert (row.registration is None) == (row.error is not None)


@given(st.text(max_size=300))
def test_arbitrary_text_after_a_valid_header_never_crashes(text):
    with contextlib.suppress(CsvImportError):
        parse_factory_csv((HEADER + text).encode("utf-8", "surrogatepass"))
