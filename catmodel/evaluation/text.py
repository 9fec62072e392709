"""How the reports print numbers (evaluate_model, compare_models, model_report): shares in per
cent, rows in aligned columns."""
from __future__ import annotations


def percent_text(share: float | None) -> str:
    """A share as reports print it: "87.5%", or "n/a" where it is undefined."""
    return "n/a" if share is None else f"{share:.1%}"


def columns(rows, *, left: int = 1, indent: str = "  ", rule: bool = False) -> list[str]:
    """Rows as aligned text: the first ``left`` columns left-aligned (names), the rest right-
    aligned (numbers); ``rule``: a line of dashes under the first row (a header)."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = [indent + "  ".join(cell.ljust(width) if i < left else cell.rjust(width)
                                for i, (cell, width) in enumerate(zip(row, widths, strict=True))
                                ).rstrip() for row in rows]
    if rule:
        lines.insert(1, indent + "  ".join("-" * width for width in widths))
    return lines
