"""docs/cli.md, the command line reference, generated from every command's `--help`:
`python -m dailypapers.cli.docs > docs/cli.md` (or `make docs`); a test keeps it current.

The text is the same on every machine: 80 columns whatever the terminal, plain text (the app's help
is not rendered by Rich), the program named `dailypapers` however it was started."""

from __future__ import annotations

import sys

import typer

WIDTH = 80


def _sections(command, ctx):
    """(command path, help text) for a command and, depth first in --help's order, all under it."""
    yield ctx.command_path, command.get_help(ctx)
    if hasattr(command, "list_commands"):  # a group
        for name in command.list_commands(ctx):
            sub = command.get_command(ctx, name)
            yield from _sections(sub, sub.context_class(sub, info_name=name, parent=ctx))


def cli_markdown() -> str:
    """The command line reference page."""
    from .commands import app

    root = typer.main.get_command(app)
    ctx = root.context_class(root, info_name="dailypapers", terminal_width=WIDTH, max_content_width=WIDTH)
    lines = [
        "# Command line",
        "",
        "Generated from `--help` by `python -m dailypapers.cli.docs`; do not edit by hand.",
        "Every command below also takes the global option `--config FILE` before its name",
        "(`dailypapers --config site.toml serve`); settings are described in [settings.md](settings.md).",
    ]
    for path, text in _sections(root, ctx):
        lines += ["", f"## {path}", "", "```text", text.rstrip(), "```"]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.stdout.write(cli_markdown())
