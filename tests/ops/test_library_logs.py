"""Libraries that can see content (image metadata, uploads, HTTP bodies) stay at WARNING whatever
the app's own level: at DEBUG, Pillow would otherwise log EXIF tags (a camera owner's phone number)
before the evidence service strips them."""

from __future__ import annotations

import io
import logging

from PIL import Image

from service.ops.logs import configure_logging

OWNER = "Owner +85512345678"


def _jpeg_with_exif() -> bytes:
    image = Image.new("RGB", (16, 16), (10, 200, 30))
    exif = Image.Exif()
    exif[0x013B] = OWNER  # Artist
    exif[0x010F] = "CameraMaker"
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif.tobytes())
    return out.getvalue()


def test_exif_is_not_logged_at_debug(caplog) -> None:  # type: ignore[no-untyped-def]
    configure_logging("DEBUG")
    caplog.set_level(logging.DEBUG)
    image = Image.open(io.BytesIO(_jpeg_with_exif()))
    image.getexif().get_ifd(0x8769)
    dict(image.getexif())
    image.load()
    assert "85512345678" not in caplog.text
    for name in ("PIL", "multipart", "python_multipart", "urllib3", "asyncio"):
        assert logging.getLogger(name).getEffectiveLevel() >= logging.WARNING, name
