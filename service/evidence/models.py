"""Evidence files attached to a report (photos, PDFs), stored encrypted outside the database."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from service.kit.models import created_at_field


class Evidence(SQLModel, table=True):
    """One cleaned, encrypted file. No original file name, no sender, no metadata is kept."""

    __tablename__ = "evidence"
    id: int | None = Field(default=None, primary_key=True)
    report_id: int = Field(foreign_key="report.id", index=True)
    # Random name of the encrypted file in SAMLENG_EVIDENCE_DIR.
    stored_name: str = Field(max_length=64, unique=True)
    mime: str = Field(max_length=40)
    size: int  # bytes of the cleaned file, before encryption
    created_at: datetime = created_at_field()
