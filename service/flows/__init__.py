"""Sequences that cross domains, each a short function that reads top to bottom, calling several
domains' public functions in order.

This package sits above every domain: domains never import it; the worker's scheduler, the web
wiring and the command line do. See docs/architecture.md, "Where a report goes next".
"""
