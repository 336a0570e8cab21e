"""Reports of finished runs: a self-contained HTML file (see :mod:`duress.report.html`)."""

from duress.report.html import build_report

__all__ = ["build_report"]
