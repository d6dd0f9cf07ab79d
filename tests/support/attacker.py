"""The exact attacker of the suppression tests: can a hidden count be worked out from what is shown?

It knows every shown number, that "<T" means 1..T-1, that "x" (a complement) means 0 or at least T,
that a withheld cell is any count, that each table's rows and columns add up to their totals, and
that linked cells (the same figure on several tables of one page) are equal. Branch and bound:
interval propagation on the equations at every node, splitting one hidden cell's range per branch,
until every cell is fixed or the branch is impossible.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from service.analytics.suppression import HIDDEN_COMPLEMENT, HIDDEN_SMALL, Published, _lines

Cell = tuple[str, tuple[int, int]]  # (table key, (row, column))


def can_pin(pubs: Mapping[str, Published], target: Cell, value: int, cap: int, *, threshold: int,
            links: Iterable[Sequence[Cell]] = ()) -> bool:
    """True when everything published forces `target` to be `value` (no cell may exceed `cap`)."""
    t = threshold
    eqs: list[tuple[int, list[tuple[int, Cell]]]] = []  # constant + sum(sign * var) == 0
    hidden: dict[Cell, str] = {}
    for key, pub in pubs.items():
        for pos, kind in pub.hidden.items():
            hidden[(key, pos)] = kind
        for line in _lines(pub.n_rows, pub.n_cols):
            const, terms = 0, []
            for pos in line:
                s = -1 if pos == line[-1] else 1
                if pos in pub.hidden:
                    terms.append((s, (key, pos)))
                else:
                    const += s * pub.values[pos[0]][pos[1]]
            eqs.append((const, terms))
    for group in links:
        first = group[0]
        for other in group[1:]:
            const, terms = 0, []
            for s, (key, pos) in ((1, first), (-1, other)):
                if pos in pubs[key].hidden:
                    terms.append((s, (key, pos)))
                else:
                    const += s * pubs[key].values[pos[0]][pos[1]]
            eqs.append((const, terms))
    complement = {v for v, kind in hidden.items() if kind == HIDDEN_COMPLEMENT}

    def fix_gap(v: Cell, lo: int, hi: int) -> tuple[int, int]:
        if v in complement:  # 0 or at least T
            if 0 < lo < t:
                lo = t
            if 0 < hi < t:
                hi = 0
        return lo, hi

    def propagate(dom: dict[Cell, tuple[int, int]]) -> bool:
        changed = True
        while changed:
            changed = False
            for const, terms in eqs:
                if not terms:
                    if const != 0:
                        return False
                    continue
                for s, p in terms:
                    lo_r = hi_r = const
                    for s2, q in terms:
                        if q == p:
                            continue
                        a, b = dom[q]
                        lo_r += s2 * a if s2 > 0 else s2 * b
                        hi_r += s2 * b if s2 > 0 else s2 * a
                    lo, hi = (-hi_r, -lo_r) if s > 0 else (lo_r, hi_r)  # s * x == -rest
                    new = fix_gap(p, max(dom[p][0], lo), min(dom[p][1], hi))
                    if new[0] > new[1]:
                        return False
                    if new != dom[p]:
                        dom[p] = new
                        changed = True
        return True

    def search(dom: dict[Cell, tuple[int, int]]) -> bool:
        if not propagate(dom):
            return False
        open_ = [p for p, (a, b) in dom.items() if a < b]
        if not open_:
            return all(const + sum(s * dom[p][0] for s, p in terms) == 0 for const, terms in eqs)
        p = min(open_, key=lambda q: dom[q][1] - dom[q][0])
        a, b = dom[p]
        if p in complement and a == 0 and b >= t:
            halves = [(0, 0), (t, b)]
        else:
            mid = (a + b) // 2
            halves = [(a, mid), (mid + 1, b)]
        return any(search({**dom, p: half}) for half in halves)

    base = {v: ((1, t - 1) if kind == HIDDEN_SMALL else (0, cap)) for v, kind in hidden.items()}
    lo, hi = base[target]
    tries = [(lo, value - 1), (value + 1, hi)]
    return not any(a <= b and search({**base, target: fix_gap(target, a, b)}) for a, b in tries)
