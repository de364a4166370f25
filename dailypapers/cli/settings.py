"""`dailypapers settings`: every setting with its value, or the reference page docs/settings.md."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from ..config import Settings, env_name, settings_markdown
from .common import out, settings


def show_settings(
    markdown: Annotated[bool, typer.Option("--markdown", help="Print the settings reference page.")] = False,
) -> None:
    """Show every setting with its current value (or the reference page with --markdown)."""
    if markdown:
        sys.stdout.write(settings_markdown())
        return
    current = settings()
    for name in Settings.model_fields:
        value = getattr(current, name)
        if isinstance(value, list):
            value = ",".join(value)
        shown = "***" if any(s in name for s in ("secret", "password", "smtp_url", "token")) and value else value
        out.print(f"{env_name(name)}={shown}", highlight=False, markup=False)
