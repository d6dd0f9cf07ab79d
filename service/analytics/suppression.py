"""Small-count suppression for every number that leaves the platform.

A published table is a grid of counts with row totals, column totals and a grand
total. Rules (docs/analytics.md):

* primary: a non-zero count under the threshold (default 10, never below 5) is shown
  as "<10" — cells and totals alike;
* complementary: more counts are hidden (shown as "x") until no hidden count can be
  worked out from the published ones. The check plays the attacker: it knows every
  published number, that a "<10" is 1..9, and that an "x" is 0 or at least the
  threshold (never 1..9, which would have been "<10"); it propagates these bounds along
  every row and column equation until nothing changes, and also rejects a hidden cell
  that the equations alone determine (a bridge in the graph of hidden cells). While
  any hidden count is pinned to one value, one more cell on its row or column is hidden.

Totals are the true totals; hiding them when needed is part of the same search, so a
table whose every count is small ends fully hidden.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

DEFAULT_THRESHOLD = 10
MINIMUM_THRESHOLD = 5
HIDDEN_SMALL = "small"  # shown as "<10"
HIDDEN_COMPLEMENT = "complement"  # shown as "x"
HIDDEN_WITHHELD = "withheld"  # shown as "-": nothing at all is said about it (last resort)


class ThresholdTooLow(ValueError):
    """A suppression threshold under the floor of 5 was asked for."""


def check_threshold(threshold: int) -> int:
    """The threshold if allowed; refuses anything below 5."""
    if int(threshold) < MINIMUM_THRESHOLD:
        raise ThresholdTooLow(f"suppression threshold must be at least {MINIMUM_THRESHOLD}, got {threshold}")
    return int(threshold)


@dataclass
class Published:
    """A suppressed table: labels, the shown strings, and which cells are hidden and why."""

    row_labels: list[str]
    col_labels: list[str]
    threshold: int
    # (R+1) x (C+1): the last row holds column totals, the last column row totals, the corner the grand total.
    values: list[list[int]]
    hidden: dict[tuple[int, int], str] = field(default_factory=dict)

    @property
    def n_rows(self) -> int:
        return len(self.row_labels)

    @property
    def n_cols(self) -> int:
        return len(self.col_labels)

    def shown(self, i: int, j: int) -> str:
        """The text a reader sees at (i, j); i == n_rows is the totals row, j == n_cols the totals column."""
        kind = self.hidden.get((i, j))
        if kind == HIDDEN_SMALL:
            return f"<{self.threshold}"
        if kind == HIDDEN_COMPLEMENT:
            return "x"
        if kind == HIDDEN_WITHHELD:
            return "-"
        return str(self.values[i][j])

    def cell(self, i: int, j: int) -> int | None:
        """The published number at (i, j), or None when hidden."""
        return None if (i, j) in self.hidden else self.values[i][j]

    def grid(self) -> list[list[str]]:
        """Every shown string, totals included."""
        return [[self.shown(i, j) for j in range(self.n_cols + 1)] for i in range(self.n_rows + 1)]

    def rows(self) -> list[dict[str, object]]:
        """Rows as dicts for CSV/XLSX/JSON: label, one entry per column, and the total."""
        out: list[dict[str, object]] = []
        labels = [*self.row_labels, "Total"]
        for i, label in enumerate(labels):
            row: dict[str, object] = {"": label}
            for j, col in enumerate([*self.col_labels, "Total"]):
                row[col] = self.cell(i, j) if (i, j) not in self.hidden else self.shown(i, j)
            out.append(row)
        return out


def _lines(n_rows: int, n_cols: int) -> list[list[tuple[int, int]]]:
    """Every equation of the extended table: the cells of a line sum to its last entry."""
    lines = [[(i, j) for j in range(n_cols + 1)] for i in range(n_rows + 1)]
    lines += [[(i, j) for i in range(n_rows + 1)] for j in range(n_cols + 1)]
    return lines


def suppress(
    table: Sequence[Sequence[int]],
    *,
    row_labels: Sequence[str] | None = None,
    col_labels: Sequence[str] | None = None,
    threshold: int = DEFAULT_THRESHOLD,
    hide: Sequence[tuple[int, int]] = (),
) -> Published:
    """Suppress a table of non-negative counts (rows x columns, without totals). `hide`: cells (totals
    included, as (n_rows, j) / (i, n_cols)) to hide as complements from the start, because another
    figure of the same page hides the same quantity (`publish.suppress_page`)."""
    threshold = check_threshold(threshold)
    n_rows = len(table)
    n_cols = len(table[0]) if n_rows else 0
    if any(len(row) != n_cols for row in table):
        raise ValueError("ragged table")
    if any(int(v) < 0 for row in table for v in row):
        raise ValueError("counts cannot be negative")
    values = [[int(v) for v in row] + [sum(int(v) for v in row)] for row in table]
    col_totals = [sum(values[i][j] for i in range(n_rows)) for j in range(n_cols + 1)]
    values.append(col_totals)
    pub = Published(
        list(row_labels or [str(i) for i in range(n_rows)]),
        list(col_labels or [str(j) for j in range(n_cols)]),
        threshold,
        values,
    )
    for i in range(n_rows + 1):
        for j in range(n_cols + 1):
            if 0 < values[i][j] < threshold:
                pub.hidden[(i, j)] = HIDDEN_SMALL
    for pos in hide:
        pub.hidden.setdefault(pos, HIDDEN_COMPLEMENT)
    lines = _lines(n_rows, n_cols)
    while True:
        pinned = disclosed(pub, lines) or _pinned_among(pub, lines, hide)
        if not pinned:
            return pub
        before = len(pub.hidden)
        _hide_one_more(pub, lines, pinned[0])
        if len(pub.hidden) == before:  # nothing left to try: everything hidden and still too telling
            return _withhold(pub, lines)


def _withhold(pub: Published, lines: list[list[tuple[int, int]]]) -> Published:
    """Last resort for tables of tiny counts: say nothing about the totals, then nothing at all."""
    for i in range(pub.n_rows + 1):
        for j in range(pub.n_cols + 1):
            pub.hidden.setdefault((i, j), HIDDEN_COMPLEMENT)
            if i == pub.n_rows or j == pub.n_cols:
                pub.hidden[(i, j)] = HIDDEN_WITHHELD
    if disclosed(pub, lines):
        for pos in pub.hidden:
            pub.hidden[pos] = HIDDEN_WITHHELD
    return pub


def _hide_one_more(pub: Published, lines: list[list[tuple[int, int]]], target: tuple[int, int]) -> None:
    """Protect `target` by hiding the cheapest rectangle of cells through it (target, two partners on its
    row and column, and the opposite corner), so that no row or column sum isolates it."""
    i, j = target
    rows, cols = range(pub.n_rows + 1), range(pub.n_cols + 1)

    def cost(pos: tuple[int, int]) -> float:
        if pos in pub.hidden:
            return 0.0
        a, b = pos
        margin = a == pub.n_rows or b == pub.n_cols
        return (pub.values[a][b] or 0.5) * (4 if margin else 1)

    options: list[tuple[float, tuple[tuple[int, int], ...]]] = []
    for i2 in rows:
        for j2 in cols:
            if i2 == i or j2 == j:
                continue
            corners = ((i, j2), (i2, j), (i2, j2))
            new = tuple(c for c in corners if c not in pub.hidden)
            if new:
                options.append((sum(cost(c) for c in new), new))
    options.sort()
    for _, new in options[:40]:
        for c in new:
            pub.hidden[c] = HIDDEN_COMPLEMENT
        if target not in _fast_disclosed(pub, lines):
            return
        for c in new:
            del pub.hidden[c]
    if options:  # no single rectangle is enough: take the cheapest and go on from there
        for c in options[0][1]:
            pub.hidden[c] = HIDDEN_COMPLEMENT
        return
    for line in lines:  # a 1x1 table: nothing to pair with, hide its line
        if target in line:
            for pos in line:
                pub.hidden.setdefault(pos, HIDDEN_COMPLEMENT)


def bounds(
    pub: Published, lines: list[list[tuple[int, int]]] | None = None
) -> dict[tuple[int, int], tuple[int, int | None]]:
    """What an attacker can infer about each hidden cell: (low, high), high None when unbounded."""
    lines = lines or _lines(pub.n_rows, pub.n_cols)
    t = pub.threshold
    lo: dict[tuple[int, int], int] = {}
    hi: dict[tuple[int, int], int | None] = {}
    for pos, kind in pub.hidden.items():
        lo[pos], hi[pos] = (1, t - 1) if kind == HIDDEN_SMALL else (0, None)
        if kind == HIDDEN_WITHHELD:
            continue

    def sign(line: list[tuple[int, int]], pos: tuple[int, int]) -> int:
        # Each line: inner entries minus its total entry == 0 (the total is the line's last position).
        return -1 if pos == line[-1] else 1

    changed = True
    rounds = 0
    while changed and rounds < 200:
        changed = False
        rounds += 1
        for line in lines:
            hidden_here = [p for p in line if p in lo]
            if not hidden_here:
                continue
            # sum(sign * x) == 0  =>  known part + hidden part == 0
            known = sum(sign(line, p) * pub.values[p[0]][p[1]] for p in line if p not in lo)
            for p in hidden_here:
                # s_p * x_p = -known - sum(s_q * x_q for other hidden q)
                s_p = sign(line, p)
                low_rest, high_rest = 0, 0  # bounds of sum(s_q * x_q) over the others
                unbounded_low = unbounded_high = False
                for q in hidden_here:
                    if q == p:
                        continue
                    s_q = sign(line, q)
                    if s_q > 0:
                        low_rest += lo[q]
                        hi_q = hi[q]
                        if hi_q is None:
                            unbounded_high = True
                        else:
                            high_rest += hi_q
                    else:
                        high_rest -= lo[q]
                        hi_q = hi[q]
                        if hi_q is None:
                            unbounded_low = True
                        else:
                            low_rest -= hi_q
                # s_p * x_p in [-known - high_rest, -known - low_rest]
                target_low = None if unbounded_high else -known - high_rest
                target_high = None if unbounded_low else -known - low_rest
                if s_p > 0:
                    new_lo, new_hi = target_low, target_high
                else:
                    new_lo = None if target_high is None else -target_high
                    new_hi = None if target_low is None else -target_low
                cur_lo, cur_hi = lo[p], hi[p]
                if new_lo is not None and new_lo > cur_lo:
                    cur_lo = new_lo
                if new_hi is not None and (cur_hi is None or new_hi < cur_hi):
                    cur_hi = new_hi
                if pub.hidden[p] == HIDDEN_COMPLEMENT:
                    # An "x" is never 1..threshold-1.
                    if 0 < cur_lo < t:
                        cur_lo = t
                    if cur_hi is not None and 0 < cur_hi < t:
                        cur_hi = 0
                if (cur_lo, cur_hi) != (lo[p], hi[p]):
                    if cur_hi is not None and cur_hi < cur_lo:  # cannot happen for a true table
                        cur_hi = cur_lo
                    lo[p], hi[p] = cur_lo, cur_hi
                    changed = True
    return {p: (lo[p], hi[p]) for p in lo}


def _bridges(pub: Published) -> set[tuple[int, int]]:
    """Hidden cells fixed by the line equations alone: bridges of the row/column graph of hidden cells."""
    adj: dict[tuple[str, int], list[tuple[tuple[str, int], tuple[int, int]]]] = {}
    for i, j in pub.hidden:
        r, c = ("r", i), ("c", j)
        adj.setdefault(r, []).append((c, (i, j)))
        adj.setdefault(c, []).append((r, (i, j)))
    order: dict[tuple[str, int], int] = {}
    low: dict[tuple[str, int], int] = {}
    found: set[tuple[int, int]] = set()
    counter = 0
    for start in adj:
        if start in order:
            continue
        # Iterative Tarjan bridge search.
        stack: list[
            tuple[tuple[str, int], tuple[int, int] | None, Iterator[tuple[tuple[str, int], tuple[int, int]]]]
        ] = [(start, None, iter(adj[start]))]
        order[start] = low[start] = counter
        counter += 1
        while stack:
            node, via, it = stack[-1]
            advanced = False
            for nxt, edge in it:
                if edge == via:
                    continue
                if nxt in order:
                    low[node] = min(low[node], order[nxt])
                else:
                    order[nxt] = low[nxt] = counter
                    counter += 1
                    stack.append((nxt, edge, iter(adj[nxt])))
                    advanced = True
                    break
            if not advanced:
                stack.pop()
                if stack:
                    parent = stack[-1][0]
                    low[parent] = min(low[parent], low[node])
                    if low[node] > order[parent]:
                        assert via is not None, "only the search's root has no edge, and it has no parent"
                        found.add(via)
    return found


def disclosed(pub: Published, lines: list[list[tuple[int, int]]] | None = None) -> list[tuple[int, int]]:
    """Small hidden counts an attacker could work out exactly.

    A complementary cell that can be worked out is harmless in itself (it is 0 or at least the
    threshold); what it gives away about small cells shows up in their own bounds.
    """
    lines = lines or _lines(pub.n_rows, pub.n_cols)
    out = _fast_disclosed(pub, lines)
    if out:
        return out
    # Interval reasoning is not the whole story (integers, the 1..T-1 gap): search for another table
    # consistent with what is shown for every small cell; no such table found means disclosed.
    for pos, kind in sorted(pub.hidden.items()):
        if kind == HIDDEN_SMALL and not _rectangle_witness(pub, pos) and not _alternative_exists(pub, lines, pos):
            return [pos]
    return []


def _pinned_among(
    pub: Published, lines: list[list[tuple[int, int]]], cells: Sequence[tuple[int, int]]
) -> list[tuple[int, int]]:
    """Of `cells` (hidden because another figure hides the same quantity), the first one this table
    alone gives away: the other figure's hiding would be worth nothing if this one told it."""
    if not cells:
        return []
    bridges = _bridges(pub)
    found = bounds(pub, lines)
    for pos in cells:
        if pub.hidden.get(pos) != HIDDEN_COMPLEMENT:
            continue
        low_, high_ = found.get(pos, (0, None))
        if pos in bridges or (high_ is not None and low_ >= high_) or not _alternative_exists(pub, lines, pos):
            return [pos]
    return []


def _fits(pub: Published, pos: tuple[int, int], value: int) -> bool:
    kind = pub.hidden[pos]
    if kind == HIDDEN_SMALL:
        return 0 < value < pub.threshold
    if kind == HIDDEN_COMPLEMENT:
        return value == 0 or value >= pub.threshold
    return value >= 0


def _rectangle_witness(pub: Published, target: tuple[int, int]) -> bool:
    """Quick proof of safety: shift counts around a rectangle of hidden cells through `target` and get
    another table that shows exactly the same (every line still adds up, every cell still fits its mark)."""
    i, j = target
    last_r, last_c = pub.n_rows, pub.n_cols

    for i2 in range(last_r + 1):
        if i2 == i or (i2, j) not in pub.hidden:
            continue
        for j2 in range(last_c + 1):
            if j2 == j or (i, j2) not in pub.hidden or (i2, j2) not in pub.hidden:
                continue
            # Row equations have the total (last column) at -1, column equations the total (last row) at -1;
            # moving d on (i,j) needs -d*(row sign ratio) on (i,j2), and so on round the rectangle.
            r_ij = -1 if j == last_c else 1
            r_ij2 = -1 if j2 == last_c else 1
            c_ij = -1 if i == last_r else 1
            c_i2j = -1 if i2 == last_r else 1
            for d in (1, -1, 2, -2, 3, -3):
                v_ij2 = -r_ij * d * r_ij2
                v_i2j = -c_ij * d * c_i2j
                r_i2j = -1 if j == last_c else 1
                r_i2j2 = -1 if j2 == last_c else 1
                v_i2j2 = -r_i2j * v_i2j * r_i2j2
                moves = {(i, j): d, (i, j2): v_ij2, (i2, j): v_i2j, (i2, j2): v_i2j2}
                if all(_fits(pub, p, pub.values[p[0]][p[1]] + dv) for p, dv in moves.items()):
                    return True
    return False


def _fast_disclosed(pub: Published, lines: list[list[tuple[int, int]]]) -> list[tuple[int, int]]:
    """Small cells pinned by the equations alone (bridges) or by interval reasoning."""
    out = {p for p in _bridges(pub) if pub.hidden[p] == HIDDEN_SMALL}
    for pos, (low_, high_) in bounds(pub, lines).items():
        if pub.hidden[pos] == HIDDEN_SMALL and high_ is not None and low_ >= high_:
            out.add(pos)
    return sorted(out)


def _alternative_exists(
    pub: Published, lines: list[list[tuple[int, int]]], target: tuple[int, int], budget: int = 400
) -> bool:
    """Is there a table, consistent with everything shown, where `target` has another value?

    Branch and bound with interval propagation; running out of budget counts as "no" (safe side).
    """
    t = pub.threshold
    cap = pub.values[pub.n_rows][pub.n_cols] + t
    eqs: list[tuple[int, list[tuple[int, tuple[int, int]]]]] = []
    for line in lines:
        const, terms = 0, []
        for pos in line:
            s = -1 if pos == line[-1] else 1
            if pos in pub.hidden:
                terms.append((s, pos))
            else:
                const += s * pub.values[pos[0]][pos[1]]
        if terms:
            eqs.append((const, terms))
    gap = {p for p, kind in pub.hidden.items() if kind == HIDDEN_COMPLEMENT}
    nodes = 0

    def fix_gap(p: tuple[int, int], lo: int, hi: int) -> tuple[int, int]:
        if p in gap:
            if 0 < lo < t:
                lo = t
            if 0 < hi < t:
                hi = 0
        return lo, hi

    def propagate(dom: dict[tuple[int, int], tuple[int, int]]) -> bool:
        changed = True
        while changed:
            changed = False
            for const, terms in eqs:
                lo_all = const + sum(s * (dom[q][0] if s > 0 else dom[q][1]) for s, q in terms)
                hi_all = const + sum(s * (dom[q][1] if s > 0 else dom[q][0]) for s, q in terms)
                for s, p in terms:
                    a, b = dom[p]
                    lo_r = lo_all - s * (a if s > 0 else b)
                    hi_r = hi_all - s * (b if s > 0 else a)
                    lo, hi = (-hi_r, -lo_r) if s > 0 else (lo_r, hi_r)
                    new = fix_gap(p, max(a, lo), min(b, hi))
                    if new[0] > new[1]:
                        return False
                    if new != (a, b):
                        dom[p] = new
                        changed = True
                        break  # this line's sums are stale now; the next sweep picks it up again
        return True

    def search(dom: dict[tuple[int, int], tuple[int, int]]) -> bool:
        nonlocal nodes
        nodes += 1
        if nodes > budget or not propagate(dom):
            return False
        open_ = [p for p, (a, b) in dom.items() if a < b]
        if not open_:
            return all(const + sum(s * dom[p][0] for s, p in terms) == 0 for const, terms in eqs)
        p = min(open_, key=lambda q: dom[q][1] - dom[q][0])
        a, b = dom[p]
        if p in gap and a == 0 and b >= t:
            halves = [(0, 0), (t, b)]
        else:
            mid = (a + b) // 2
            halves = [(a, mid), (mid + 1, b)]
        return any(search({**dom, p: half}) for half in halves)

    base = {p: ((1, t - 1) if kind == HIDDEN_SMALL else (0, cap)) for p, kind in pub.hidden.items()}
    value = pub.values[target[0]][target[1]]
    lo, hi = base[target]
    return any(a <= b and search({**base, target: (a, b)}) for a, b in ((lo, value - 1), (value + 1, hi)))


def suppress_series(
    counts: Sequence[int], *, labels: Sequence[str] | None = None, threshold: int = DEFAULT_THRESHOLD
) -> Published:
    """A single column of counts (with its total), suppressed."""
    return suppress([[int(c)] for c in counts], row_labels=labels, col_labels=["count"], threshold=threshold)


# -- a whole page ------------------------------------------------------------------------------------

PageCell = tuple[str, tuple[int, int]]  # (table key, (row, column)); totals at index n_rows / n_cols


class PageCheck:
    """The exact attacker over a whole page, run by the page's suppression itself.

    It knows what `disclosed` knows about each table (every shown number, "<T" = 1..T-1, "x" = 0 or at
    least T, "-" = any count, rows and columns adding up) and, across tables, that linked cells are one
    number. A hidden small count is *pinned* when every set of integer counts consistent with all of
    that gives it the same value. The check is an integer program per question (scipy's HiGHS):
    is there a solution where the cell is below its true value, or above it? Every solution found is
    kept, and a cell that already differs from its true value in one of them needs no question.
    A question the solver cannot settle within its node limit (deterministic) or its time limit (a
    backstop) counts as pinned: the safe side.
    """

    def __init__(
        self,
        pubs: dict[str, Published],
        links: Sequence[Sequence[PageCell]],
        threshold: int,
        *,
        node_limit: int = 20000,
        time_limit: float = 60.0,
    ) -> None:
        # deferred: numpy (~0.35 s) only where vectors are computed; the web process triages rarely
        import numpy as np

        self.np = np
        self.pubs, self.t = pubs, threshold
        self.node_limit, self.time_limit = node_limit, time_limit
        self.var: dict[PageCell, int] = {}
        kinds: list[str] = []
        for key, pub in pubs.items():
            for pos in sorted(pub.hidden):
                self.var[(key, pos)] = len(kinds)
                kinds.append(pub.hidden[pos])
        self.kinds = kinds
        n = len(kinds)
        self.complements = [v for v, kind in enumerate(kinds) if kind == HIDDEN_COMPLEMENT]
        self.size = n + len(self.complements)  # one 0/1 switch per complement: 0, or at least T
        self.cap = (
            max(
                (
                    pub.values[pub.n_rows][pub.n_cols]
                    for pub in pubs.values()
                    if len(pub.values) > pub.n_rows and len(pub.values[pub.n_rows]) > pub.n_cols
                ),
                default=0,
            )
            + threshold
        )
        rows: list[tuple[dict[int, int], int]] = []  # sum(coef * var) == rhs
        for key, pub in pubs.items():
            for line in _lines(pub.n_rows, pub.n_cols):
                coefs: dict[int, int] = {}
                rhs = 0
                for pos in line:
                    s = -1 if pos == line[-1] else 1
                    if pos in pub.hidden:
                        v = self.var[(key, pos)]
                        coefs[v] = coefs.get(v, 0) + s
                    else:
                        rhs -= s * pub.values[pos[0]][pos[1]]
                if coefs:
                    rows.append((coefs, rhs))
        for group in links:
            first, *others = group
            for other in others:
                coefs, rhs = {}, 0
                for s, (key, pos) in ((1, first), (-1, other)):
                    if pos in pubs[key].hidden:
                        v = self.var[(key, pos)]
                        coefs[v] = coefs.get(v, 0) + s
                    else:
                        rhs -= s * pubs[key].values[pos[0]][pos[1]]
                if coefs:
                    rows.append((coefs, rhs))
        eq = np.zeros((len(rows), self.size))
        for r, (coefs, _rhs) in enumerate(rows):
            for v, c in coefs.items():
                eq[r, v] = c
        self.eq, self.eq_rhs = eq, np.array([rhs for _c, rhs in rows], dtype=float)
        # x <= cap * b and x >= T * b for each complement x with switch b.
        gap = np.zeros((2 * len(self.complements), self.size))
        for k, v in enumerate(self.complements):
            gap[2 * k, v], gap[2 * k, n + k] = 1, -self.cap
            gap[2 * k + 1, v], gap[2 * k + 1, n + k] = 1, -threshold
        self.gap = gap
        self.lo = np.array([1 if kind == HIDDEN_SMALL else 0 for kind in kinds] + [0] * len(self.complements), float)
        self.hi = np.array(
            [threshold - 1 if kind == HIDDEN_SMALL else self.cap for kind in kinds] + [1] * len(self.complements), float
        )
        self.truth = [pubs[key].values[pos[0]][pos[1]] for (key, pos) in self.var]
        self.solutions: list[list[int]] = []
        self.solves = 0

    def _solve(self, v: int, lo: int, hi: int) -> bool | None:
        """Is there a solution with variable v in [lo, hi]? None when the solver gave up."""
        # deferred: scipy.optimize (~1.6 s) only for the whole-page suppression check
        from scipy.optimize import Bounds, LinearConstraint, milp

        np = self.np
        low, high = self.lo.copy(), self.hi.copy()
        low[v], high[v] = max(low[v], lo), min(high[v], hi)
        if low[v] > high[v]:
            return False
        constraints = []
        if len(self.eq):
            constraints.append(LinearConstraint(self.eq, self.eq_rhs, self.eq_rhs))
        if len(self.gap):
            constraints.append(LinearConstraint(self.gap, self._gap_low(), self._gap_high()))
        self.solves += 1
        res = milp(
            np.zeros(self.size),
            integrality=np.ones(self.size),
            bounds=Bounds(low, high),
            constraints=constraints,
            options={"node_limit": self.node_limit, "time_limit": self.time_limit, "presolve": True},
        )
        if res.status == 0 and res.x is not None:
            self.solutions.append([int(round(x)) for x in res.x[: len(self.kinds)]])
            return True
        if res.status == 2:  # infeasible
            return False
        return None

    def _gap_low(self):
        # Row 2k: x - cap*b <= 0 (no lower limit); row 2k+1: x - T*b >= 0.
        np = self.np
        out = np.full(len(self.gap), -np.inf)
        out[1::2] = 0.0
        return out

    def _gap_high(self):
        np = self.np
        out = np.full(len(self.gap), np.inf)
        out[0::2] = 0.0
        return out

    def pinned(self) -> list[PageCell]:
        """The hidden small counts of the page whose value the attacker can work out, in page order."""
        out: list[PageCell] = []
        for cell, v in self.var.items():
            if self.kinds[v] != HIDDEN_SMALL:
                continue
            value = self.truth[v]
            if any(sol[v] != value for sol in self.solutions):
                continue
            below = self._solve(v, 1, value - 1) if value > 1 else False
            if below:
                continue
            above = self._solve(v, value + 1, self.t - 1) if below is False and value < self.t - 1 else False
            if not above:
                out.append(cell)
        return out


def page_disclosed(pubs: dict[str, Published], links: Sequence[Sequence[PageCell]], threshold: int) -> list[PageCell]:
    """Small hidden counts of a page that all its figures together give away (`PageCheck`)."""
    if not any(pub.hidden for pub in pubs.values()):
        return []  # nothing hidden, nothing to give away (and an empty table has no totals to read)
    return PageCheck(pubs, links, threshold).pinned()
