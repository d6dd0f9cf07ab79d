"""Evidence: accept only images and PDF under a size limit, strip every metadata block, store encrypted.

Images are decoded with Pillow, turned upright (EXIF orientation), and rebuilt from
their pixels alone, so nothing of the original file survives: no EXIF (GPS, camera,
timestamps), XMP, IPTC, ICC profile, comments or thumbnails. PDFs are rendered page
by page (pypdfium2) and rebuilt by Pillow as an image-only PDF: metadata, scripts,
attachments, hidden text and the images' own EXIF are all gone.
"""

from __future__ import annotations

import io
import logging
import secrets
from datetime import datetime
from pathlib import Path
from typing import NamedTuple

from PIL import Image, ImageOps, UnidentifiedImageError
from sqlalchemy import bindparam
from sqlmodel import Session, col, delete, select

from service.config import Settings, get_settings
from service.evidence.models import Evidence
from service.kit.crypto import seal_bytes, unseal_bytes
from service.kit.errors import DomainError
from service.kit.fastsql import FastQuery, session_connection
from service.kit.files import write_durably

log = logging.getLogger(__name__)

IMAGE_FORMATS = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}
PDF_MIME = "application/pdf"
ACCEPTED_MIME = frozenset({*IMAGE_FORMATS.values(), PDF_MIME})
MAX_PIXELS = 40_000_000
MAX_PDF_PAGES = 20
_PDF_SCALE = 1.5  # 108 dpi: readable receipts, small files


class EvidenceRefused(DomainError):
    """The file cannot be accepted; `reason` is one of: too_large, type, unreadable."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def clean(data: bytes, *, max_bytes: int) -> tuple[bytes, str]:
    """Check and re-encode a file; returns (clean bytes, mime). Raises EvidenceRefused."""
    if len(data) > max_bytes:
        raise EvidenceRefused("too_large")
    if data.startswith(b"%PDF-"):
        return _clean_pdf(data), PDF_MIME
    try:
        with Image.open(io.BytesIO(data)) as img:
            fmt = img.format or ""
            if fmt not in IMAGE_FORMATS:
                raise EvidenceRefused("type")
            if img.width * img.height > MAX_PIXELS:
                raise EvidenceRefused("too_large")
            img.load()
            upright = ImageOps.exif_transpose(img) or img
            return _encode(_pixels_only(upright), fmt), IMAGE_FORMATS[fmt]
    except EvidenceRefused:
        raise
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError, SyntaxError):
        raise EvidenceRefused("type") from None


def _pixels_only(img: Image.Image) -> Image.Image:
    """A new image holding only the pixels: no info dict, no palette tricks, no profile."""
    if img.mode not in ("RGB", "RGBA", "L", "LA"):
        img = img.convert("RGBA" if "transparency" in img.info or img.mode in ("PA", "P") else "RGB")
    return Image.frombytes(img.mode, img.size, img.tobytes())


def _encode(img: Image.Image, fmt: str) -> bytes:
    out = io.BytesIO()
    if fmt == "JPEG":
        if img.mode not in ("RGB", "L"):
            img = img.convert("RGB")
        img.save(out, "JPEG", quality=88, optimize=True)
    elif fmt == "PNG":
        img.save(out, "PNG", optimize=True)
    else:
        img.save(out, "WEBP", quality=88)
    return out.getvalue()


def _clean_pdf(data: bytes) -> bytes:
    # deferred: pypdfium2 loads the PDFium library, needed only for a PDF upload
    import pypdfium2 as pdfium

    try:
        pdf = pdfium.PdfDocument(data)
    except Exception:  # damaged, encrypted, not a PDF after all
        raise EvidenceRefused("unreadable") from None
    try:
        if len(pdf) == 0:
            raise EvidenceRefused("unreadable")
        if len(pdf) > MAX_PDF_PAGES:
            raise EvidenceRefused("too_large")
        pages = []
        for index in range(len(pdf)):
            page = pdf[index]
            try:
                rendered = page.render(scale=_PDF_SCALE).to_pil().convert("RGB")
            finally:
                page.close()
            pages.append(Image.frombytes("RGB", rendered.size, rendered.tobytes()))
    finally:
        pdf.close()
    out = io.BytesIO()
    pages[0].save(
        out,
        "PDF",
        save_all=True,
        append_images=pages[1:],
        resolution=72 * _PDF_SCALE,
        title="",
        author="",
        subject="",
        keywords="",
        creator="",
        producer="",
    )
    return out.getvalue()


def store_evidence(session: Session, *, report_id: int, data: bytes, settings: Settings | None = None) -> Evidence:
    """Clean a file and keep it encrypted in the evidence folder, linked to a report."""
    settings = settings or get_settings()
    cleaned, mime = clean(data, max_bytes=settings.evidence_max_bytes)
    name = secrets.token_hex(16) + ".bin"
    write_durably(Path(settings.evidence_dir), name, seal_bytes(cleaned))
    evidence = Evidence(report_id=report_id, stored_name=name, mime=mime, size=len(cleaned))
    session.add(evidence)
    session.flush()
    log.info("evidence #%s stored for report #%s (%s, %d bytes)", evidence.id, report_id, mime, len(cleaned))
    return evidence


def read_evidence(evidence: Evidence, settings: Settings | None = None) -> bytes:
    """The cleaned file's bytes (decrypted)."""
    settings = settings or get_settings()
    return unseal_bytes((Path(settings.evidence_dir) / evidence.stored_name).read_bytes())


class EvidenceItem(NamedTuple):
    """What a list of a case's evidence shows of an item (never its stored name)."""

    id: int
    mime: str
    size: int
    created_at: datetime


# The case page lists them on every view: compiled once.
_ITEMS = FastQuery(
    select(Evidence.id, Evidence.mime, Evidence.size, Evidence.created_at)
    .where(Evidence.report_id == bindparam("report_id"))
    .order_by(col(Evidence.id)),
    EvidenceItem,
)


def evidence_items(session: Session, report_id: int) -> list[EvidenceItem]:
    """The case's evidence, oldest first, as lists show it."""
    return _ITEMS.all(session_connection(session), {"report_id": report_id})


def evidence_for_report(session: Session, report_id: int) -> list[Evidence]:
    return list(session.exec(select(Evidence).where(Evidence.report_id == report_id).order_by(col(Evidence.id))).all())


def erase_for_report(session: Session, report_id: int, settings: Settings | None = None) -> int:
    """Delete a report's evidence files and rows (withdrawal). Returns how many."""
    settings = settings or get_settings()
    items = evidence_for_report(session, report_id)
    for item in items:
        (Path(settings.evidence_dir) / item.stored_name).unlink(missing_ok=True)
    session.exec(delete(Evidence).where(col(Evidence.report_id) == report_id))
    return len(items)
