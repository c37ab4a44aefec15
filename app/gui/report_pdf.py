"""The audit report as a PDF, with Qt's own PDF writer (no extra dependency).

``write_pdf(content, path)`` lays out the same HTML as ``report.html`` with
``QTextDocument`` and prints it through ``QPdfWriter`` on A4 pages, numbered.  It runs
without a display: the CLI loads this module lazily and, when no Qt application exists
yet, starts one on the offscreen platform.
"""

from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QMarginsF, QRectF, QSizeF, Qt
from PySide6.QtGui import (
    QFont,
    QPageLayout,
    QPageSize,
    QPainter,
    QPdfWriter,
    QTextDocument,
)
from PySide6.QtWidgets import QApplication

from app.audit.report_content import ReportContent
from app.audit.report_html import render_html

RESOLUTION = 300  # dots per inch of the PDF's coordinate system
_app: QApplication | None = None


def _ensure_app() -> None:
    global _app
    if QCoreApplication.instance() is None:
        # A command-line run: text layout needs an application object, not a screen.  A
        # QApplication (not a QGuiApplication), so that widgets can still be made later
        # in the same process.
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
        _app = QApplication([])


def write_pdf(content: ReportContent, path: Path) -> None:
    """Write ``content`` to ``path`` as a paged, printable PDF."""
    _ensure_app()
    writer = QPdfWriter(str(path))
    writer.setResolution(RESOLUTION)
    writer.setTitle(content.title)
    writer.setCreator("event-explorer")
    writer.setPageLayout(
        QPageLayout(
            QPageSize(QPageSize.PageSizeId.A4),
            QPageLayout.Orientation.Portrait,
            QMarginsF(15, 15, 15, 18),
            QPageLayout.Unit.Millimeter,
        )
    )
    doc = QTextDocument()
    doc.setDocumentMargin(0)
    doc.setHtml(render_html(content))
    painter = QPainter(writer)
    try:
        _paint_pages(doc, writer, painter, content.title)
    finally:
        painter.end()


def _paint_pages(doc: QTextDocument, writer: QPdfWriter, painter: QPainter, title: str) -> None:
    page = writer.pageLayout().paintRectPixels(RESOLUTION)
    # Lay the text out at 96 dpi (the size its points were designed for), then scale.
    scale = RESOLUTION / 96.0
    width, height = page.width() / scale, page.height() / scale
    footer = 24.0
    body = height - footer
    doc.setPageSize(QSizeF(width, body))
    pages = doc.pageCount()
    for number in range(pages):
        if number:
            writer.newPage()
        painter.save()
        painter.scale(scale, scale)
        painter.translate(0, -number * body)
        doc.drawContents(painter, QRectF(0, number * body, width, body))
        painter.restore()
        # The footer in device pixels, so its font is sized for the page as printed.
        font = QFont("DejaVu Sans")
        font.setPointSizeF(8)
        painter.setFont(font)
        painter.drawText(
            QRectF(0, (body + 6) * scale, page.width(), (footer - 6) * scale),
            int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter),
            f"{title}  ·  page {number + 1} of {pages}",
        )
