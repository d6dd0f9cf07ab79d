"""Evidence cleaning: every metadata block goes, the picture stays; anything else is refused."""

from __future__ import annotations

import io

import pytest
from PIL import Image, PngImagePlugin

from service.evidence.service import EvidenceRefused, clean

LIMIT = 5_000_000


def test_png_text_chunks_and_icc_profile_are_dropped() -> None:
    info = PngImagePlugin.PngInfo()
    info.add_text("Author", "Dara Sok")
    info.add_itxt("XML:com.adobe.xmp", "<x:xmpmeta>GPS 11.5 104.9</x:xmpmeta>")
    out = io.BytesIO()
    Image.new("RGBA", (20, 10), (1, 2, 3, 128)).save(out, "PNG", pnginfo=info, icc_profile=b"\x00" * 200)
    data, mime = clean(out.getvalue(), max_bytes=LIMIT)
    assert mime == "image/png"
    assert b"Dara" not in data and b"xmpmeta" not in data and b"iCCP" not in data
    image = Image.open(io.BytesIO(data))
    assert image.size == (20, 10) and image.mode == "RGBA" and image.getpixel((0, 0)) == (1, 2, 3, 128)


def test_webp_exif_is_dropped_and_palette_png_is_kept_visible() -> None:
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"
    out = io.BytesIO()
    Image.new("RGB", (16, 16), (9, 9, 9)).save(out, "WEBP", exif=exif)
    data, mime = clean(out.getvalue(), max_bytes=LIMIT)
    assert mime == "image/webp" and b"PhoneMaker" not in data
    palette = io.BytesIO()
    Image.new("P", (8, 8), 3).save(palette, "PNG")
    data, mime = clean(palette.getvalue(), max_bytes=LIMIT)
    assert mime == "image/png" and Image.open(io.BytesIO(data)).size == (8, 8)


def test_orientation_is_applied_before_exif_is_removed() -> None:
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° to display
    out = io.BytesIO()
    Image.new("RGB", (40, 20)).save(out, "JPEG", exif=exif)
    data, _ = clean(out.getvalue(), max_bytes=LIMIT)
    assert Image.open(io.BytesIO(data)).size == (20, 40)


@pytest.mark.parametrize("data, reason", [
    (b"GIF89a" + b"\x00" * 40, "type"),
    (b"\x00\x01not anything", "type"),
    (b"%PDF-1.7\n garbage", "unreadable"),
    (b"x" * (LIMIT + 1), "too_large"),
])
def test_refusals(data: bytes, reason: str) -> None:
    with pytest.raises(EvidenceRefused) as refused:
        clean(data, max_bytes=LIMIT)
    assert refused.value.reason == reason


def test_a_gif_is_refused_even_if_real() -> None:
    out = io.BytesIO()
    Image.new("P", (4, 4)).save(out, "GIF")
    with pytest.raises(EvidenceRefused):
        clean(out.getvalue(), max_bytes=LIMIT)
