"""`CaseInScope`: the case named in the path, loaded for the signed-in API caller.

A route that takes `report: CaseInScope` gets the case only when the caller may see it; a case that
does not exist and another organisation's case are the same 404 `{"detail": "no such case"}`
(`queue.get_case` raises NotFound, answered by the app's one domain-error mapping,
service/kit/problems.py). The case id is the path's `case_id`, a positive 32-bit integer.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path

from service.auth.deps import ApiUser, SessionDep
from service.queue import service as queue
from service.reports.models import Report

CaseId = Annotated[int, Path(ge=1, le=2**31 - 1)]


def case_in_scope(case_id: CaseId, session: SessionDep, user: ApiUser) -> Report:
    return queue.get_case(session, user=user, report_id=case_id)


CaseInScope = Annotated[Report, Depends(case_in_scope)]
