"""The HTML writer: one self-contained document (no external resources) with the figures
embedded as base64 PNG images and the tables.
"""

from __future__ import annotations

import base64
import html
import io
from collections.abc import Sequence
from typing import TYPE_CHECKING

from rehabbot.assessment.report.tables import Table

if TYPE_CHECKING:
    from matplotlib.figure import Figure


_CSS = """body{font-family:sans-serif;margin:2em;color:#222}table{border-collapse:collapse;
margin:0.5em 0 1.5em}th,td{border:1px solid #bbb;padding:2px 8px;text-align:right}
th:first-child,td:first-child{text-align:left}img{max-width:100%}"""


def _html_table(table: Table, row_class: str = "") -> str:
    title, headers, rows = table
    e = html.escape
    cls = f' class="{row_class}"' if row_class else ""
    head = "".join(f"<th>{e(h)}</th>" for h in headers)
    body = "".join(f"<tr{cls}>" + "".join(f"<td>{e(c)}</td>" for c in row) + "</tr>\n"
                   for row in rows)
    if not rows:
        body = f'<tr><td colspan="{len(headers)}">none</td></tr>\n'
    return f"<h2>{e(title)}</h2>\n<table><tr>{head}</tr>\n{body}</table>\n"


def html_document(title: str, header: Sequence[tuple[str, str]], plots_title: str,
                   figures: Sequence[tuple[str, Figure]], tables: Sequence[Table],
                   row_classes: dict[str, str]) -> str:
    """One HTML document: header, plots embedded as base64 PNG images, then the tables."""
    e = html.escape
    parts = [f"<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">"
             f"<title>{e(title)}</title><style>{_CSS}</style></head><body>\n"
             f"<h1>{e(title)}</h1>\n<table>"]
    parts += [f"<tr><th>{e(k)}</th><td>{e(v)}</td></tr>" for k, v in header]
    parts.append(f"</table>\n<h2>{e(plots_title)}</h2>\n")
    for caption, fig in figures:
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", dpi=100)
        encoded = base64.b64encode(buffer.getvalue()).decode("ascii")
        parts.append(f'<figure><img alt="{e(caption)}" src="data:image/png;base64,{encoded}">'
                     f"<figcaption>{e(caption)}</figcaption></figure>\n")
    for table in tables:
        parts.append(_html_table(table, row_classes.get(table[0], "")))
    parts.append("</body></html>\n")
    return "".join(parts)
