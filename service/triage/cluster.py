"""Clusters: near-duplicate reports grouped, so that a pattern (a stock-out reported by
many at one facility) shows as one possible systemic problem."""

from __future__ import annotations

from datetime import timedelta

from rapidfuzz import fuzz
from sqlmodel import Session, col, select

from service.config import get_settings
from service.kit.clock import now
from service.reports.models import Report, ReportCluster
from service.reports.service import add_event
from service.triage.text import normalise

SUBCATEGORY_BONUS = 0.15  # the same sub-category (e.g. service_quality/stockout) counts as similar text
_CANDIDATES = 200
_EXCLUDED = ("withdrawn", "rejected", "duplicate")


def _grams(text: str) -> set[str]:
    flat = text.replace(" ", "")
    return {flat[i : i + 3] for i in range(max(1, len(flat) - 2))}


def similarity(a: str, b: str) -> float:
    """0..1: the better of word-set overlap and character-trigram overlap (for Khmer)."""
    na, nb = normalise(a), normalise(b)
    if not na or not nb:
        return 0.0
    words = fuzz.token_set_ratio(na, nb) / 100.0
    ga, gb = _grams(na), _grams(nb)
    grams = len(ga & gb) / len(ga | gb) if ga and gb else 0.0
    return max(words, grams)


def assign_cluster(
    session: Session,
    report: Report,
    *,
    window_days: int | None = None,
    threshold: float | None = None,
    systemic_size: int | None = None,
) -> ReportCluster | None:
    """Put the report in the cluster of its most similar recent neighbour (same place and
    category), or start one with that neighbour; flag the cluster systemic at the threshold.

    Without a place or a category there is nothing to group on: call again once they are known.
    """
    if report.cluster_id is not None or report.place_id is None or report.category is None:
        return session.get(ReportCluster, report.cluster_id) if report.cluster_id else None
    if window_days is None or threshold is None or systemic_size is None:
        settings = get_settings()
        window_days = window_days or settings.triage_cluster_window_days
        threshold = threshold or settings.triage_cluster_similarity
        systemic_size = systemic_size or settings.triage_cluster_systemic_size
    at, window = report.created_at or now(), timedelta(days=window_days)
    candidates = session.exec(
        select(Report)
        .where(
            Report.place_id == report.place_id,
            Report.category == report.category,
            Report.id != report.id,
            Report.created_at >= at - window,
            Report.created_at <= at + window,
            col(Report.status).not_in(_EXCLUDED),
        )
        .order_by(col(Report.created_at).desc())
        .limit(_CANDIDATES)
    ).all()
    best, best_score = None, 0.0
    for other in candidates:
        score = similarity(report.narrative_masked, other.narrative_masked)
        if report.subcategory and report.subcategory == other.subcategory:
            score += SUBCATEGORY_BONUS
        if score > best_score:
            best, best_score = other, score
    if best is None or best_score < threshold:
        return None
    stamp = now()
    if best.cluster_id is not None:
        cluster = session.get(ReportCluster, best.cluster_id)
        assert cluster is not None
        cluster.size += 1
        cluster.updated_at = stamp
    else:
        cluster = ReportCluster(
            category=report.category,
            place_id=report.place_id,
            size=2,
            label=(report.subcategory or report.category)[:200],
            created_at=stamp,
            updated_at=stamp,
        )
        session.add(cluster)
        session.flush()
        best.cluster_id = cluster.id
        session.add(best)
        add_event(session, best, "clustered", actor="triage", detail={"cluster_id": cluster.id})
    report.cluster_id = cluster.id
    session.add(report)
    add_event(
        session,
        report,
        "clustered",
        actor="triage",
        detail={"cluster_id": cluster.id, "similarity": round(min(best_score, 1.0), 3)},
    )
    if not cluster.systemic and cluster.size >= systemic_size:
        cluster.systemic = True
        add_event(
            session, report, "cluster_systemic", actor="triage", detail={"cluster_id": cluster.id, "size": cluster.size}
        )
    session.add(cluster)
    session.flush()
    return cluster
