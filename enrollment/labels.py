"""Printable labels: the QR code with the station's identity written under it.

Two labels per station (:class:`~enrollment.qr.LabelKind`): the device label, stuck on the
station, and the packaging label. Under the code each carries, as plain text, the serial
number, the MAC address (device label) and the security code grouped in fours, so that an
owner whose phone cannot scan can still type it.

Formats:

- PNG (:func:`render_png`): one label, black on white, drawn with Pillow;
- SVG (:func:`render_svg`): one label, qrcode's path factory plus ``<text>`` elements, for
  label printers and print shops that prefer vectors;
- PDF (:func:`render_sheet_pdf`): a whole lot on A4 pages, labels laid out in a grid in the
  order given (device and packaging label of a station side by side if given so), to be
  printed at 100% scale and cut. :func:`render_sheet_pages` returns the same pages as images.
"""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass

import qrcode
import qrcode.constants
import qrcode.image.svg
from PIL import Image, ImageDraw, ImageFont

from enrollment.codes import format_code
from enrollment.identifiers import format_mac, parse_serial
from enrollment.qr import LabelKind, encode_payload

__all__ = [
    "A4_MM",
    "Label",
    "render_label_image",
    "render_png",
    "render_sheet_pages",
    "render_sheet_pdf",
    "render_svg",
]

A4_MM = (210.0, 297.0)
_SVG_NS = "http://www.w3.org/2000/svg"
_BORDER = 4  # quiet zone in modules, as ISO/IEC 18004 asks
_SVG_FONT = 2.0  # font size in modules
_SVG_CHAR_WIDTH = 0.6  # monospace advance, in font sizes


@dataclass(frozen=True, slots=True)
class Label:
    """What goes on one label. ``mac`` is printed when given (device labels)."""

    kind: LabelKind
    serial: str
    code: str
    mac: int | None = None

    @property
    def payload(self) -> str:
        """The QR payload (:func:`enrollment.qr.encode_payload`)."""
        return encode_payload(self.kind, self.serial, self.code)

    def text_lines(self) -> list[str]:
        """The readable lines printed under the code."""
        lines = [f"SN {parse_serial(self.serial)}"]
        if self.mac is not None:
            lines.append(f"MAC {format_mac(self.mac)}")
        lines.append(format_code(self.code))
        return lines


def _qr(payload: str, box_size: int, image_factory: type | None = None) -> qrcode.QRCode:
    code = qrcode.QRCode(
        error_correction=qrcode.constants.ERROR_CORRECT_M,
        box_size=box_size,
        border=_BORDER,
        image_factory=image_factory,
    )
    code.add_data(payload)
    code.make(fit=True)
    return code


def render_label_image(label: Label, *, box_size: int = 8) -> Image.Image:
    """One label as a greyscale Pillow image, ``box_size`` pixels per QR module.

    Raises:
        InvalidSerial, InvalidCode: the label's serial or code is invalid.
        ValueError: ``box_size`` is below 2.
    """
    if box_size < 2:
        raise ValueError("box_size must be at least 2 pixels")
    qr_image = _qr(label.payload, box_size).make_image().get_image().convert("L")
    font = ImageFont.load_default(size=2 * box_size)
    lines = label.text_lines()
    measure = ImageDraw.Draw(qr_image)
    widths = [measure.textlength(line, font=font) for line in lines]
    line_height = int(2.6 * box_size)
    width = max(qr_image.width, int(max(widths)) + 2 * _BORDER * box_size)
    height = qr_image.height + line_height * len(lines) + _BORDER * box_size
    canvas = Image.new("L", (width, height), 255)
    canvas.paste(qr_image, ((width - qr_image.width) // 2, 0))
    draw = ImageDraw.Draw(canvas)
    top = qr_image.height
    for index, (line, line_width) in enumerate(zip(lines, widths, strict=True)):
        draw.text(((width - line_width) / 2, top + index * line_height), line, fill=0, font=font)
    return canvas


def render_png(label: Label, *, box_size: int = 8) -> bytes:
    """One label as PNG bytes (see :func:`render_label_image`)."""
    buffer = io.BytesIO()
    render_label_image(label, box_size=box_size).save(buffer, format="PNG")
    return buffer.getvalue()


def render_svg(label: Label, *, module_mm: float = 0.5) -> str:
    """One label as an SVG document, ``module_mm`` millimetres per QR module.

    Raises:
        InvalidSerial, InvalidCode: the label's serial or code is invalid.
    """
    qr_svg = _qr(label.payload, 10, qrcode.image.svg.SvgPathImage).make_image()
    source = ET.fromstring(qr_svg.to_string())
    for element in source.iter():  # write plain names under one default xmlns, no prefixes
        element.tag = element.tag.rpartition("}")[2]
    modules = float(source.get("viewBox", "0 0 0 0").split()[2])
    lines = label.text_lines()
    text_width = max(len(line) for line in lines) * _SVG_FONT * _SVG_CHAR_WIDTH + 2 * _BORDER
    width = max(modules, text_width)
    line_height = 1.3 * _SVG_FONT
    height = modules + line_height * len(lines) + _BORDER
    root = ET.Element(
        "svg",
        {
            "xmlns": _SVG_NS,
            "version": "1.1",
            "width": f"{width * module_mm:g}mm",
            "height": f"{height * module_mm:g}mm",
            "viewBox": f"0 0 {width:g} {height:g}",
        },
    )
    ET.SubElement(root, "rect", {"width": "100%", "height": "100%", "fill": "#fff"})
    group = ET.SubElement(root, "g", {"transform": f"translate({(width - modules) / 2:g} 0)"})
    group.extend(list(source))
    for index, line in enumerate(lines):
        text = ET.SubElement(
            root,
            "text",
            {
                "x": f"{width / 2:g}",
                "y": f"{modules + line_height * (index + 0.8):g}",
                "font-family": "monospace",
                "font-size": f"{_SVG_FONT:g}",
                "text-anchor": "middle",
            },
        )
        text.text = line
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode")


def render_sheet_pages(
    labels: Sequence[Label], *, dpi: int = 300, box_size: int = 8
) -> list[Image.Image]:
    """Lay ``labels`` out on A4 pages at ``dpi``; every cell is as large as the largest label.

    Raises:
        ValueError: no labels, or a label does not fit on an A4 page at this ``dpi``.
    """
    if not labels:
        raise ValueError("no labels to print")
    images = [render_label_image(label, box_size=box_size) for label in labels]
    page_width, page_height = (round(mm / 25.4 * dpi) for mm in A4_MM)
    margin = round(10 / 25.4 * dpi)  # 10 mm, inside every printer's printable area
    cell_width = max(image.width for image in images)
    cell_height = max(image.height for image in images)
    columns = (page_width - 2 * margin) // cell_width
    rows = (page_height - 2 * margin) // cell_height
    if columns < 1 or rows < 1:
        raise ValueError(f"a {cell_width}x{cell_height} px label does not fit A4 at {dpi} dpi")
    per_page = columns * rows
    pages: list[Image.Image] = []
    for start in range(0, len(images), per_page):
        page = Image.new("L", (page_width, page_height), 255)
        for offset, image in enumerate(images[start : start + per_page]):
            row, column = divmod(offset, columns)
            x = margin + column * cell_width + (cell_width - image.width) // 2
            y = margin + row * cell_height + (cell_height - image.height) // 2
            page.paste(image, (x, y))
        pages.append(page)
    return pages


def render_sheet_pdf(labels: Sequence[Label], *, dpi: int = 300, box_size: int = 8) -> bytes:
    """A multi-page A4 PDF of ``labels`` (see :func:`render_sheet_pages`)."""
    first, *rest = render_sheet_pages(labels, dpi=dpi, box_size=box_size)
    buffer = io.BytesIO()
    first.save(buffer, format="PDF", save_all=True, append_images=rest, resolution=float(dpi))
    return buffer.getvalue()
