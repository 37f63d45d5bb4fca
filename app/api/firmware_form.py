"""Reading a firmware upload's multipart/form-data body as it streams (RFC 7578).

The file part goes straight into a ``StagedImage`` (hashed and size-checked chunk by chunk);
the other parts are short text fields, each at most ``MAX_FIELD_BYTES``. The whole body may be
at most the image limit plus ``FORM_OVERHEAD``; both limits are checked while the bytes arrive,
never after. A body that ends before the closing boundary is truncated and refused.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.requests import ClientDisconnect, Request

from firmware.errors import ImageTooLarge, MalformedUpload
from firmware.staging import StagedImage

MAX_FIELD_BYTES = 64 * 1024
MAX_FIELDS = 32
FORM_OVERHEAD = 1024 * 1024
FILE_FIELD = "file"


@dataclass
class UploadForm:
    fields: dict[str, str] = field(default_factory=dict)
    filename: str | None = None


@dataclass
class _State:
    part: _Part | None = None
    header: bytes = b""
    value: bytes = b""
    ended: bool = False


@dataclass
class _Part:
    headers: dict[str, str] = field(default_factory=dict)
    name: str = ""
    is_file: bool = False
    data: bytearray = field(default_factory=bytearray)


async def read_upload_form(request: Request, staged: StagedImage) -> UploadForm:
    """Stream the body into ``staged`` and return the text fields.

    Raises:
        MalformedUpload: not multipart, a malformed or truncated body, a field too long or
            repeated, no file part. ImageTooLarge: more bytes than the limits allow.
    """
    content_type, options = parse_options_header(request.headers.get("content-type"))
    boundary = options.get(b"boundary")
    if content_type != b"multipart/form-data" or not boundary:
        raise MalformedUpload("send the image as multipart/form-data with a boundary")
    body_limit = staged.max_bytes + FORM_OVERHEAD
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > body_limit:
        raise ImageTooLarge(staged.max_bytes)

    form = UploadForm()
    state = _State()

    def part() -> _Part:
        assert state.part is not None
        return state.part

    def on_part_begin() -> None:
        if len(form.fields) >= MAX_FIELDS:
            raise MalformedUpload(f"a firmware upload has at most {MAX_FIELDS} fields")
        state.part = _Part()

    def on_header_field(data: bytes, start: int, end: int) -> None:
        state.header += data[start:end]

    def on_header_value(data: bytes, start: int, end: int) -> None:
        state.value += data[start:end]

    def on_header_end() -> None:
        part().headers[state.header.decode("latin-1").lower()] = state.value.decode("latin-1")
        state.header = state.value = b""

    def on_headers_finished() -> None:
        current = part()
        _, params = parse_options_header(current.headers.get("content-disposition"))
        current.name = params.get(b"name", b"").decode("utf-8", "replace")
        filename = params.get(b"filename")
        if not current.name:
            raise MalformedUpload("every form part needs a name")
        if current.name == FILE_FIELD:
            if form.filename is not None:
                raise MalformedUpload("send exactly one file")
            current.is_file = True
            form.filename = (filename or b"firmware.bin").decode("utf-8", "replace")
            form.filename = form.filename.replace("\\", "/").rsplit("/", 1)[-1]
        elif current.name in form.fields:
            raise MalformedUpload(f"the field {current.name[:40]!r} is given twice")

    def on_part_data(data: bytes, start: int, end: int) -> None:
        current = part()
        if current.is_file:
            staged.write(data[start:end])
            return
        current.data += data[start:end]
        if len(current.data) > MAX_FIELD_BYTES:
            raise MalformedUpload(
                f"the field {current.name[:40]!r} is longer than {MAX_FIELD_BYTES} bytes"
            )

    def on_part_end() -> None:
        current = part()
        if not current.is_file:
            try:
                form.fields[current.name] = current.data.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise MalformedUpload(f"the field {current.name[:40]!r} is not UTF-8") from exc

    def on_end() -> None:
        state.ended = True

    parser = MultipartParser(
        boundary,
        {
            "on_part_begin": on_part_begin,
            "on_header_field": on_header_field,
            "on_header_value": on_header_value,
            "on_header_end": on_header_end,
            "on_headers_finished": on_headers_finished,
            "on_part_data": on_part_data,
            "on_part_end": on_part_end,
            "on_end": on_end,
        },
    )
    received = 0
    try:
        async for chunk in request.stream():
            received += len(chunk)
            if received > body_limit:
                raise ImageTooLarge(staged.max_bytes)
            parser.write(chunk)
        parser.finalize()
    except MultipartParseError as exc:
        raise MalformedUpload(f"the multipart body is malformed: {exc}") from exc
    except ClientDisconnect as exc:
        raise MalformedUpload("the upload was cut off before its end") from exc
    if not state.ended:
        raise MalformedUpload("the upload is truncated: the closing boundary never came")
    if form.filename is None:
        raise MalformedUpload(f"the image goes in a form part named {FILE_FIELD!r}")
    staged.finish()
    return form
