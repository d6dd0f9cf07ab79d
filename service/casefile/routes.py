"""GET /cases/{id}/casefile.pdf: the printable case file (signed in; the case's organisation or a platform admin)."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import Response

from service.analytics.pages import MISSING_CHROMIUM, PdfUnavailable
from service.auth.deps import SessionDep, WebUser
from service.casefile.service import LANGUAGES, casefile_pdf
from service.kit.errors import DomainError, NotFound

router = APIRouter(include_in_schema=False)


@router.get("/cases/{case_id:int}/casefile.pdf")
def casefile(case_id: int, request: Request, session: SessionDep, user: WebUser) -> Response:
    if user is None:
        raise HTTPException(401, "sign in first")
    language = request.query_params.get("lang", "en")
    if language not in LANGUAGES:
        raise HTTPException(422, "lang must be km or en")
    try:
        pdf = casefile_pdf(session, user=user, report_id=case_id, language=language)
    except NotFound:
        session.rollback()
        raise HTTPException(404, "no such case") from None
    except PdfUnavailable as exc:
        session.rollback()
        detail = MISSING_CHROMIUM if str(exc).startswith(MISSING_CHROMIUM) else "the PDF could not be printed now"
        raise HTTPException(503, detail) from None
    except DomainError as exc:
        session.rollback()
        raise HTTPException(400, str(exc)) from None
    session.commit()
    return Response(
        pdf,
        media_type="application/pdf",
        headers={
            "Content-Disposition": f'attachment; filename="samleng-case-{case_id}-{language}.pdf"',
            "Cache-Control": "no-store",
        },
    )
