import io
import re
import xml.etree.ElementTree as ET

import pytest
import zxingcpp
from PIL import Image, ImageDraw

from enrollment.errors import InvalidSerial
from enrollment.labels import (
    Label,
    render_label_image,
    render_png,
    render_sheet_pages,
    render_sheet_pdf,
    render_svg,
)
from enrollment.qr import LabelKind, QrPayload, decode_payload

SVG = "{http://www.w3.org/2000/svg}"
CODE = "7KQ2M9XA0B1CDEFGHJKMNPQRSTVW"
DEVICE = Label(LabelKind.DEVICE, "cl-2024.000123", CODE, mac=0x021A2B3C4D5E)
PACKAGING = Label(LabelKind.PACKAGING, "CL-2024.000123", "ZZZZ" + CODE[4:])


def _decoded(image):
    return sorted(result.text for result in zxingcpp.read_barcodes(image))


def test_the_device_label_png_scans_back_to_its_payload():
    image = Image.open(io.BytesIO(render_png(DEVICE)))
    assert image.format == "PNG"
    (text,) = _decoded(image)
    assert decode_payload(text, expected=LabelKind.DEVICE) == QrPayload(
        LabelKind.DEVICE, "CL-2024.000123", CODE
    )


def test_the_packaging_label_png_scans_back_to_its_payload():
    (text,) = _decoded(Image.open(io.BytesIO(render_png(PACKAGING, box_size=4))))
    assert text == PACKAGING.payload


def test_the_label_prints_serial_mac_and_grouped_code_as_text():
    assert DEVICE.text_lines() == [
        "SN CL-2024.000123",
        "MAC 02:1A:2B:3C:4D:5E",
        "7KQ2-M9XA-0B1C-DEFG-HJKM-NPQR-STVW",
    ]
    assert PACKAGING.text_lines() == ["SN CL-2024.000123", "ZZZZ-M9XA-0B1C-DEFG-HJKM-NPQR-STVW"]


def test_the_text_area_under_the_code_is_actually_inked():
    image = render_label_image(DEVICE)
    qr_only = render_label_image(Label(LabelKind.DEVICE, "CL-2024.000123", CODE))
    text_band = image.crop((0, image.height - 3 * 8 * 3, image.width, image.height))
    assert text_band.getextrema()[0] == 0  # some black pixels: the text
    assert image.height > qr_only.height  # one more line for the MAC


def test_a_label_with_an_invalid_serial_is_not_rendered():
    with pytest.raises(InvalidSerial):
        render_png(Label(LabelKind.DEVICE, "A:B", CODE))


def test_a_box_size_below_two_pixels_is_refused():
    with pytest.raises(ValueError, match="^box_size must be at least 2 pixels$"):
        render_png(DEVICE, box_size=1)


def _rasterize_svg_path(root):
    """Draw qrcode's path (``M x,y H x V y H x z`` squares) to an image, 10 px per module."""
    view_box = [float(v) for v in root.get("viewBox").split()]
    group = root.find(f"{SVG}g")
    dx = float(re.fullmatch(r"translate\((\S+) 0\)", group.get("transform")).group(1))
    image = Image.new("L", (int(view_box[2] * 10) + 1, int(view_box[3] * 10) + 1), 255)
    draw = ImageDraw.Draw(image)
    path = group.find(f"{SVG}path").get("d")
    for x0, y0, x1, y1 in re.findall(r"M([\d.]+),([\d.]+)H([\d.]+)V([\d.]+)H[\d.]+z", path):
        box = [(float(x0) + dx) * 10, float(y0) * 10, (float(x1) + dx) * 10 - 1, float(y1) * 10 - 1]
        draw.rectangle(box, fill=0)
    return image


def test_the_svg_label_is_well_formed_and_carries_the_text():
    svg = render_svg(DEVICE)
    root = ET.fromstring(svg)
    assert root.tag == f"{SVG}svg"
    assert root.get("width").endswith("mm")
    texts = [element.text for element in root.iter(f"{SVG}text")]
    assert texts == DEVICE.text_lines()
    assert "svg:" not in svg


def test_the_svg_code_scans_back_to_the_payload():
    image = _rasterize_svg_path(ET.fromstring(render_svg(DEVICE)))
    assert _decoded(image) == [DEVICE.payload]


def test_a_sheet_holds_every_label_of_a_lot_across_pages():
    labels = []
    for number in range(30):
        serial = f"CL-2024.{number:06d}"
        labels.append(Label(LabelKind.DEVICE, serial, CODE, mac=0x021A2B3C0000 + number))
        labels.append(Label(LabelKind.PACKAGING, serial, "ZZZZ" + CODE[4:]))
    pages = render_sheet_pages(labels, dpi=300)
    assert len(pages) == 2
    assert {page.size for page in pages} == {(2480, 3508)}
    scanned = sorted(text for page in pages for text in _decoded(page))
    assert scanned == sorted(label.payload for label in labels)


def test_the_sheet_pdf_has_one_a4_page_per_sheet_page():
    labels = [DEVICE] * 45
    pdf = render_sheet_pdf(labels, dpi=300)
    assert pdf.startswith(b"%PDF-")
    assert len(re.findall(rb"/Type /Page\b(?!s)", pdf)) == len(render_sheet_pages(labels))
    # 2480x3508 px at 300 dpi is 595x842 pt: A4.
    assert re.search(rb"/MediaBox \[\s*0 0 595\.\d+ 841\.\d+\s*\]", pdf)


def test_an_empty_lot_has_no_sheet():
    with pytest.raises(ValueError, match="^no labels to print$"):
        render_sheet_pdf([])


def test_a_label_too_large_for_the_page_is_refused():
    with pytest.raises(ValueError, match=r"^a \d+x\d+ px label does not fit A4 at 20 dpi$"):
        render_sheet_pages([DEVICE], dpi=20)
