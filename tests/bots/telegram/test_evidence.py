"""Evidence: photos and PDFs lose every metadata block and are stored encrypted; other files are refused."""

from __future__ import annotations

import io
from pathlib import Path

from PIL import Image
from sqlmodel import Session, select

from service.evidence.models import Evidence
from service.evidence.service import read_evidence
from service.reports.models import Report

GPS_LAT = (11.0, 33.0, 20.5)


def photo_with_exif() -> bytes:
    image = Image.new("RGB", (64, 48), (180, 40, 40))
    exif = Image.Exif()
    exif[0x010F] = "CanonSpyCam"  # Make
    exif[0x0132] = "2026:11:20 08:15:00"  # DateTime
    exif[0x8825] = {1: "N", 2: GPS_LAT, 3: "E", 4: (104.0, 55.0, 1.0)}  # GPSInfo
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif)
    data = out.getvalue()
    assert b"CanonSpyCam" in data and Image.open(io.BytesIO(data)).getexif().get_ifd(0x8825)
    return data


def photo_update(tg, file_id: str, size: int, caption: str | None = None) -> dict:  # type: ignore[no-untyped-def]
    sizes = [{"file_id": f"{file_id}-small", "file_unique_id": "s", "width": 32, "height": 24, "file_size": 900},
             {"file_id": file_id, "file_unique_id": "b", "width": 64, "height": 48, "file_size": size}]
    content = {"photo": sizes}
    if caption:
        content["caption"] = caption
    return tg.message_update(**content)


def test_photo_is_stored_without_exif_and_encrypted(tg, bot_api, engine, settings) -> None:  # type: ignore[no-untyped-def]
    data = photo_with_exif()
    bot_api.files["photo-1"] = data
    tg.send("The pharmacist sold me the free ARVs, here is the receipt")
    assert tg.post(photo_update(tg, "photo-1", len(data))).status_code == 200
    assert "removed its hidden details" in bot_api.last_sent().params["text"]
    assert [c.params["file_id"] for c in bot_api.of("getFile")] == ["photo-1"], "the largest size is fetched"
    with Session(engine) as s:
        item = s.exec(select(Evidence)).one()
        report = s.exec(select(Report)).one()
        assert item.report_id == report.id and item.mime == "image/jpeg"
        stored = (Path(settings.evidence_dir) / item.stored_name).read_bytes()
        assert b"CanonSpyCam" not in stored and b"\xff\xd8" not in stored[:4], "encrypted on disk"
        clean = read_evidence(item, settings)
    assert item.size == len(clean)
    assert b"CanonSpyCam" not in clean and b"Exif" not in clean and b"2026:11:20" not in clean
    image = Image.open(io.BytesIO(clean))
    assert image.size == (64, 48)
    assert dict(image.getexif()) == {}
    assert "exif" not in image.info and "icc_profile" not in image.info
    # The question still waits for its answer.
    tg.send("3")
    assert "Where did it happen" in bot_api.last_sent().params["text"]


def test_pdf_document_is_rebuilt_without_metadata(tg, bot_api, engine, settings) -> None:  # type: ignore[no-untyped-def]
    pdf = io.BytesIO()
    Image.new("RGB", (100, 60), (250, 250, 250)).save(pdf, "PDF", title="Dara Sok receipt", author="Dara Sok")
    bot_api.files["pdf-1"] = pdf.getvalue()
    tg.send("They charged me for the TB test, the receipt is attached")
    update = tg.message_update(document={"file_id": "pdf-1", "file_unique_id": "p1", "file_name": "dara_sok.pdf",
                                         "mime_type": "application/pdf", "file_size": len(pdf.getvalue())})
    assert tg.post(update).status_code == 200
    with Session(engine) as s:
        item = s.exec(select(Evidence)).one()
    clean = read_evidence(item, settings)
    assert item.mime == "application/pdf" and clean.startswith(b"%PDF")
    assert b"Dara" not in clean and b"dara_sok" not in clean


def test_refused_file_types_and_sizes_get_a_clear_message(tg, bot_api, engine, settings) -> None:  # type: ignore[no-untyped-def]
    tg.send("Report with attachments that cannot be accepted")
    bot_api.files["zip-1"] = b"PK\x03\x04 not really a zip"
    tg.post(tg.message_update(document={"file_id": "zip-1", "file_unique_id": "z", "file_name": "a.zip",
                                        "mime_type": "application/zip", "file_size": 20}))
    assert "only accept photos" in bot_api.last_sent().params["text"]
    assert bot_api.of("getFile") == [], "a refused type is never downloaded"
    # Declared as an image, but it is not one: refused after the check of its content.
    bot_api.files["fake-jpg"] = b"<html>not an image</html>"
    tg.post(tg.message_update(document={"file_id": "fake-jpg", "file_unique_id": "f", "file_name": "x.jpg",
                                        "mime_type": "image/jpeg", "file_size": 25}))
    assert "only accept photos" in bot_api.last_sent().params["text"]
    tg.post(photo_update(tg, "big-photo", settings.evidence_max_bytes + 1))
    assert "too large" in bot_api.last_sent().params["text"]
    with Session(engine) as s:
        assert s.exec(select(Evidence)).all() == []
    evidence_dir = Path(settings.evidence_dir)
    assert not evidence_dir.exists() or list(evidence_dir.iterdir()) == []


def test_photo_without_any_report_asks_for_words_first(tg, bot_api, engine) -> None:  # type: ignore[no-untyped-def]
    bot_api.files["photo-2"] = photo_with_exif()
    tg.post(photo_update(tg, "photo-2", 800))
    assert "first write what happened" in bot_api.last_sent().params["text"]
    with Session(engine) as s:
        assert s.exec(select(Report)).all() == [] and s.exec(select(Evidence)).all() == []
    # With a caption, the caption is the story and the photo goes with it.
    tg.post(photo_update(tg, "photo-2", 800, caption="The guard took my methadone card"))
    with Session(engine) as s:
        report = s.exec(select(Report)).one()
        assert s.exec(select(Evidence)).one().report_id == report.id
        assert "methadone" in report.narrative_masked
    assert "What is it about" in bot_api.last_sent().params["text"]


def test_withdrawal_erases_evidence(tg, bot_api, engine, settings) -> None:  # type: ignore[no-untyped-def]
    bot_api.files["photo-3"] = photo_with_exif()
    tg.send("Police took my needles outside the NGO")
    tg.post(photo_update(tg, "photo-3", 800))
    tg.send("4"); tg.send("0"); tg.send("NO")  # noqa: E702
    code = [t for t in bot_api.sent_texts() if "receipt code" in t][-1].split("receipt code is ")[1][:9]
    tg.send(f"/delete {code}")
    assert "withdrawn" in bot_api.last_sent().params["text"]
    with Session(engine) as s:
        assert s.exec(select(Evidence)).all() == []
    assert list(Path(settings.evidence_dir).iterdir()) == []


def test_photo_whose_caption_is_a_keyword_stores_nothing_and_answers_it(tg, bot_api, engine) -> None:  # type: ignore[no-untyped-def]
    """A caption the dialogue reads as a keyword (HELP) makes no report: the photo has nothing to go with,
    so it is not kept, and the keyword's answer (which says to write what happened) is given."""
    bot_api.files["photo-3"] = photo_with_exif()
    assert tg.post(photo_update(tg, "photo-3", 800, caption="HELP")).status_code == 200
    with Session(engine) as s:
        assert s.exec(select(Report)).all() == [] and s.exec(select(Evidence)).all() == []
    assert [t.startswith("Samleng: report problems") for t in bot_api.sent_texts()] == [True]
    assert bot_api.of("getFile") == [], "nothing is fetched for a photo that is not kept"


def test_photo_whose_caption_is_stop_gets_no_answer(tg, bot_api, engine) -> None:  # type: ignore[no-untyped-def]
    bot_api.files["photo-4"] = photo_with_exif()
    assert tg.post(photo_update(tg, "photo-4", 800, caption="STOP")).status_code == 200
    with Session(engine) as s:
        assert s.exec(select(Evidence)).all() == []
    sent = bot_api.sent_texts()
    assert len(sent) == 1 and sent[0].startswith("You will get no more messages"), "the opt-out's answer alone"
