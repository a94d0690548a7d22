"""The Jinja2 environment of the report: templates from this package's templates/ folder,
every value escaped (autoescape on), and the filters the templates use."""

from __future__ import annotations

import html
from functools import cache
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup

from privseg.report import values

TEMPLATES = Path(__file__).resolve().parent / "templates"


def _escape(value: Any) -> Markup:
    """Every {{ value }}: escaped with html.escape (quotes too, so it is safe inside attributes),
    None as nothing; markup the templates or the charts built is kept as it is."""
    if isinstance(value, Markup):
        return value
    return Markup(html.escape("" if value is None else str(value), quote=True))


@cache
def environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=True,
        finalize=_escape,
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=jinja2.StrictUndefined,
    )
    env.filters.update(
        number=values.number,
        fmt_number=values.fmt_number,
        retention_days=values.retention_days,
        as_list=values.as_list,
        dicts=values.dicts,
        as_dict=values.as_dict,
        slug=values.slug,
    )
    return env
