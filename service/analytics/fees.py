"""Informal fees as figures: how many reports named an amount, their total and median, per place and
quarter, one table per currency (amounts in different currencies are never added together).

Suppression (docs/analytics.md, "Fees"): the counts of reports form a table (places x quarters) that
goes through `suppression.suppress` like every other published table (small counts "<10", and
complementary suppression over its row and column totals). A total or a median is shown only in a
cell whose count is published: none comes from fewer reports than the threshold, and none is
published for the row or column totals, so no hidden cell's money can be worked out by subtraction.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from statistics import median

from sqlalchemy import and_, select
from sqlmodel import Session, col

from service.analytics import localday, queries as q
from service.analytics.suppression import Published, suppress
from service.reports import fees
from service.reports.models import Report


@dataclass
class FeeTable:
    """One currency: the suppressed counts, and the money of the cells whose count is published."""

    currency: str
    counts: Published
    total_cents: dict[tuple[int, int], int] = field(default_factory=dict)
    median_cents: dict[tuple[int, int], int] = field(default_factory=dict)

    def rows(self, language: str = "en") -> list[dict[str, object]]:
        """Per place and quarter with reports: the shown count, and the total and median with their
        currency in the reader's language ("105,000 riel", "5.00 US dollars"), or "–"."""
        out: list[dict[str, object]] = []
        for i, place in enumerate(self.counts.row_labels):
            for j, quarter in enumerate(self.counts.col_labels):
                if self.counts.values[i][j] == 0:
                    continue
                shown = (i, j) in self.total_cents
                out.append(
                    {
                        "place": place,
                        "quarter": quarter,
                        "reports": self.counts.shown(i, j),
                        "total": fees.money(self.total_cents[(i, j)], self.currency, language) if shown else "–",
                        "median": fees.money(self.median_cents[(i, j)], self.currency, language) if shown else "–",
                        "total_cents": self.total_cents.get((i, j)),
                        "median_cents": self.median_cents.get((i, j)),
                    }
                )
        return out

    def export_rows(self, language: str = "en") -> list[list[object]]:
        """The table as a spreadsheet holds it (a header, then a line per place and quarter). The money
        columns name their currency (`total_KHR`, `median_KHR`): a sheet's column never mixes two."""
        head: list[object] = [
            "place",
            "quarter",
            "currency",
            "reports",
            f"total_{self.currency}",
            f"median_{self.currency}",
        ]
        return [
            head,
            *[
                [
                    r["place"],
                    r["quarter"],
                    self.currency,
                    r["reports"],
                    fees.export_amount(_cents(r["total_cents"]), self.currency),
                    fees.export_amount(_cents(r["median_cents"]), self.currency),
                ]
                for r in self.rows(language)
            ],
        ]


def _cents(value: object) -> int | None:
    return value if isinstance(value, int) else None


def raw_amounts(session: Session, filters: q.Filters) -> dict[str, dict[tuple[int, str], list[int]]]:
    """currency -> (place id, quarter 'YYYY-Qn') -> the amounts (cents) of the reports in the window."""
    quarter = localday.period(session, "quarter")
    conds = [
        *q._where(session, filters),
        col(Report.fee_cents).is_not(None),
        col(Report.fee_currency).is_not(None),
        col(Report.place_id).is_not(None),
    ]
    rows = session.execute(
        select(col(Report.fee_currency), col(Report.place_id), quarter, col(Report.fee_cents)).where(and_(*conds))
    ).all()
    found: dict[str, dict[tuple[int, str], list[int]]] = defaultdict(lambda: defaultdict(list))
    for currency, place_id, period, cents in rows:
        found[str(currency)][(int(place_id), str(period))].append(int(cents))
    return found


def fee_tables(session: Session, *, filters: q.Filters, threshold: int, language: str = "en") -> list[FeeTable]:
    """One suppressed table per currency, in the order of `fees.FEE_CURRENCIES`."""
    tree = q.place_tree(session)
    order = {c: i for i, c in enumerate(fees.FEE_CURRENCIES)}
    tables = []
    for currency, cells in sorted(raw_amounts(session, filters).items(), key=lambda kv: order.get(kv[0], 99)):
        names = {p: _name(tree, p, language) for p, _ in cells}
        # Two places of one name stay apart: the place's id breaks the tie in the label's order.
        rows = sorted(names, key=lambda p: (names[p], p))
        tables.append(
            build_table(
                currency,
                {(rows.index(p), period): amounts for (p, period), amounts in cells.items()},
                [names[p] for p in rows],
                threshold,
            )
        )
    return tables


def build_table(
    currency: str, cells: dict[tuple[int, str], list[int]], row_labels: list[str], threshold: int
) -> FeeTable:
    """The counts of `cells` ((row, quarter) -> amounts in cents) suppressed as a table, and the total
    and median of each cell whose count is published (so from `threshold` reports at least)."""
    quarters = sorted({period for _, period in cells})
    grid = [[len(cells.get((i, period), [])) for period in quarters] for i in range(len(row_labels))]
    pub = suppress(grid, row_labels=row_labels, col_labels=quarters, threshold=threshold)
    table = FeeTable(currency, pub)
    for (i, period), amounts in cells.items():
        j = quarters.index(period)
        if amounts and pub.cell(i, j) is not None and len(amounts) >= threshold:
            table.total_cents[(i, j)] = sum(amounts)
            table.median_cents[(i, j)] = int(round(median(amounts)))
    return table


def _name(tree: q.PlaceTree, place_id: int, language: str) -> str:
    node = tree.by_id.get(place_id)
    if node is None:
        return str(place_id)
    return (node.name_km if language == "km" and node.name_km else node.name_en) or node.code
