"""The audit report as one self-contained, printable HTML page (no scripts, no links out).

The same markup feeds the PDF (``app.gui.report_pdf`` lays it out with Qt's rich text,
which reads a subset of HTML and CSS): tables, headings, ``pre`` blocks and a few
classes, nothing Qt would not draw.
"""

from __future__ import annotations

from html import escape

from app.audit.report_content import ReportContent

STYLE = """
body { font-family: "DejaVu Sans", Helvetica, Arial, sans-serif; font-size: 10pt;
       color: #1b1b1b; margin: 24px; }
h1 { font-size: 18pt; margin: 0 0 4px 0; }
h2 { font-size: 13pt; margin: 18px 0 6px 0; border-bottom: 1px solid #999; }
p.question { font-size: 12pt; font-style: italic; }
p.answer { font-size: 11pt; font-weight: bold; }
table { border-collapse: collapse; margin: 4px 0; }
th, td { border: 1px solid #b0b0b0; padding: 3px 6px; text-align: left;
         vertical-align: top; }
th { background-color: #ececec; }
td.mono, pre { font-family: "DejaVu Sans Mono", Menlo, Consolas, monospace; font-size: 8.5pt; }
pre { white-space: pre-wrap; margin: 2px 0; }
pre.state { background-color: #f4f7fb; border: 1px solid #c9d6e8; padding: 6px; }
pre.code { background-color: #f7f7f7; border: 1px solid #d0d0d0; padding: 6px; }
span.hash { font-family: "DejaVu Sans Mono", Menlo, Consolas, monospace; font-size: 7.5pt;
            color: #555555; }
p.warn { color: #8a1c12; font-weight: bold; }
p.ok { color: #1d5e20; font-weight: bold; }
@media print { body { margin: 0; } h2 { page-break-after: avoid; }
               tr { page-break-inside: avoid; } }
"""


def _table(headers: list[str], rows: list[list[str]], mono: set[int] | None = None) -> str:
    mono = mono or set()
    head = f"<tr>{''.join(f'<th>{escape(h)}</th>' for h in headers)}</tr>" if headers else ""
    body = "".join(
        "<tr>"
        + "".join(
            f'<td class="mono">{cell}</td>' if i in mono else f"<td>{cell}</td>"
            for i, cell in enumerate(row)
        )
        + "</tr>"
        for row in rows
    )
    return f'<table border="1" cellspacing="0" cellpadding="3" width="100%">{head}{body}</table>'


def _pre(text: str, cls: str = "") -> str:
    attr = f' class="{cls}"' if cls else ""
    return f"<pre{attr}>{escape(text)}</pre>"


def _timeline(content: ReportContent) -> str:
    """Two rows per event: where and what, then its data and hash across the table."""
    e = escape
    head = "".join(f"<th>{h}</th>" for h in ("#", "Partition:offset", "Timestamp", "Type", "Sets"))
    rows = [f"<tr>{head}</tr>"]
    for r in content.timeline:
        sets = e(", ".join(r.sets)) or "&#8212;"
        rows.append(
            f"<tr><td><b>{r.n}</b></td><td>{r.partition}:{r.offset}</td>"
            f"<td>{e(r.timestamp)}</td><td>{e(r.type)}</td><td>{sets}</td></tr>"
        )
        rows.append(
            f'<tr><td></td><td colspan="4">{_pre(r.data)}'
            f'<span class="hash">SHA-256 {e(r.sha256)}</span></td></tr>'
        )
    return f'<table border="1" cellspacing="0" cellpadding="3" width="100%">{"".join(rows)}</table>'


def render_html(content: ReportContent) -> str:
    """The whole report (every value escaped)."""
    e = escape
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{e(content.title)}</title><style>{STYLE}</style></head><body>",
        f"<h1>{e(content.title)}</h1>",
        f'<p class="question">{e(content.question)}</p>',
        _table([], [[f"<b>{e(k)}</b>", e(v)] for k, v in content.facts]),
        "<h2>Answer</h2>",
        f'<p class="answer">{e(content.answer_line)}</p>',
        _pre(content.state_text, "state"),
    ]
    if not content.provable:
        parts.append(
            '<p class="warn">This state is not provably complete: see Completeness below.</p>'
        )
    parts.append("<h2>Which event set each field</h2>")
    parts.append(
        _table(
            ["Field", "Value", "Set by", "At", "Type"],
            [[e(b.path), e(b.value), e(b.event), e(b.timestamp), e(b.type)] for b in content.blame],
            mono={0, 1},
        )
        if content.blame
        else "<p>(no field: the state is empty)</p>"
    )
    parts.append(f"<h2>Timeline: the {len(content.timeline)} events the state depends on</h2>")
    parts.append(_timeline(content))
    parts.append("<h2>Completeness</h2>")
    cls = "ok" if content.provable else "warn"
    parts += [
        f'<p class="{cls}">{e(line)}</p>'
        if line.startswith(("Provably", "Not "))
        else f"<p>{e(line)}</p>"
        for line in content.completeness
    ]
    parts.append(f"<h2>The fold's code: {e(content.fold_title)}</h2>")
    parts.append(_pre(content.fold_code, "code"))
    parts.append("<h2>How to verify</h2>")
    parts.append(
        "<p>From a copy of this folder (the manifest, events.avro and the fold file are "
        "all it needs):</p>"
    )
    parts.append(_pre("\n".join(content.verify_commands), "code"))
    parts.append(
        "<p>Exit 0 and <b>verified</b>: every check passed; exit 1 names the first "
        "thing that does not match; exit 2: the check could not run.</p>"
    )
    parts.append("<h2>What this report proves</h2><ul>")
    parts += [f"<li>{e(line)}</li>" for line in content.proves]
    parts.append("</ul><h2>What it does not prove</h2><ul>")
    parts += [f"<li>{e(line)}</li>" for line in content.does_not_prove]
    parts.append("</ul></body></html>")
    return "\n".join(parts)
