"""A dossier's published tables against the exact attacker: linked cases per month x category, per province,
and escalations per body x answer, published together (the first two share the linked cases' total).
No count under the threshold may be pinned down by any combination of them."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings as hsettings, strategies as st

from service.analytics import dossier
from tests.support.attacker import can_pin

T = 5

case = st.tuples(st.integers(0, 2), st.integers(0, 2), st.integers(0, 2))  # month, category, province
cases = st.lists(st.tuples(case, st.sampled_from([1, 1, 2, 3, 6])), min_size=1, max_size=12)
asked = st.lists(st.tuples(st.integers(0, 1), st.integers(0, 3), st.sampled_from([1, 2, 4, 7])), max_size=6)


def _raws(data, answers) -> dict[str, dict]:  # type: ignore[no-untyped-def]
    over = [[0] * 3 for _ in range(3)]
    prov = [[0] for _ in range(3)]
    bodies = [[0] * 4 for _ in range(2)]
    for (m, c, p), n in data:
        over[m][c] += n
        prov[p][0] += n
    for b, o, n in answers:
        bodies[b][o] += n
    return {
        "over_time": {"table": over, "row_labels": ["m0", "m1", "m2"], "col_labels": ["c0", "c1", "c2"]},
        "places": {"table": prov, "row_labels": ["p0", "p1", "p2"], "col_labels": ["cases"]},
        "bodies": {"table": bodies, "row_labels": ["b0", "b1"], "col_labels": list(dossier.OUTCOMES)},
    }


@hsettings(max_examples=30, deadline=None,
           suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.function_scoped_fixture])
@given(data=cases, answers=asked)
def test_no_small_count_of_a_dossier_is_recoverable_from_its_tables_together(data, answers, settings) -> None:  # type: ignore[no-untyped-def]
    settings.suppression_threshold = T
    pubs = dossier.suppressed_tables(_raws(data, answers))
    links = dossier.dossier_links(3, 3, 3)
    for group in links:  # the link is true of the data
        assert len({pubs[key].values[i][j] for key, (i, j) in group}) == 1
    cap = sum(n for _c, n in data) + sum(n for *_x, n in answers) + T
    for key, pub in pubs.items():
        for i in range(pub.n_rows + 1):
            for j in range(pub.n_cols + 1):
                value = pub.values[i][j]
                if 0 < value < T:
                    assert (i, j) in pub.hidden, (key, (i, j))
                    assert not can_pin(pubs, (key, (i, j)), value, cap, threshold=T, links=links), (
                        key, (i, j), value, {k: p.grid() for k, p in pubs.items()})
