"""Legal coding: a coding schema as data, batches assigned to coders, the keyboard-driven
coding panel, QC by a second coder, and exports (CSV, JSON, Concordance DAT, Opticon OPT,
privilege log, and production volumes: web.coding.production). ``web.coding.pages.install`` adds it to the web app."""

__all__ = ["install"]


def install(app, home, schema_path=None):  # noqa: ANN001 - thin re-export, keeps FastAPI out of imports
    from web.coding.pages import install as _install

    _install(app, home, schema_path)
