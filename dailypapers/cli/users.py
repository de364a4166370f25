"""`dailypapers users`: accounts, and the curator and admin roles."""

from __future__ import annotations

import getpass
import sys
from typing import Annotated, Optional

import typer

from ..errors import DailyPapersError
from .common import open_store, out

app = typer.Typer(help="Manage accounts.", no_args_is_help=True)


@app.command("create")
def users_create(
    username: Annotated[str, typer.Argument(help="The account's name.")],
    email: Annotated[Optional[str], typer.Option(help="Email address.")] = None,
    curator: Annotated[bool, typer.Option("--curator", help="May feature papers older than a week.")] = False,
    admin: Annotated[bool, typer.Option("--admin", help="An administrator (also a curator).")] = False,
    password_stdin: Annotated[bool, typer.Option("--password-stdin", help="Read the password from standard input.")] = False,
) -> None:
    """Create an account (curators and admins are made here)."""
    from ..store import users as user_store
    from ..web.auth import validate_signup
    from ..web.security import hash_password

    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = getpass.getpass("Password: ")
        if getpass.getpass("Again: ") != password:
            raise DailyPapersError("the passwords differ")
    problem = validate_signup(username, password, email)
    if problem:
        raise DailyPapersError(problem)
    store = open_store()
    with store.session() as session, session.begin():
        user_store.create(session, username, hash_password(password), email=email, is_curator=curator, is_admin=admin)
    role = "admin" if admin else "curator" if curator else "user"
    out.print(f"created {role} {username}", highlight=False)


@app.command("set-role")
def users_set_role(
    username: Annotated[str, typer.Argument(help="The account's name.")],
    curator: Annotated[Optional[bool], typer.Option("--curator/--no-curator", help="Grant or revoke curator.")] = None,
    admin: Annotated[Optional[bool], typer.Option("--admin/--no-admin", help="Grant or revoke admin.")] = None,
) -> None:
    """Grant or revoke the curator and admin roles."""
    from ..errors import NotFoundError
    from ..store import users as user_store

    store = open_store()
    with store.session() as session, session.begin():
        user = user_store.by_name(session, username)
        if user is None:
            raise NotFoundError(f"no user {username}")
        user_store.set_roles(session, user["id"], is_curator=curator, is_admin=admin)
    out.print(f"updated {username}", highlight=False)


MAX_TASTE_FILE = 64 * 1024 * 1024  # a taste file read by taste-import (the site's form takes DAILYPAPERS_MAX_BODY_KB)


def _member(session, username: str) -> dict:
    from ..errors import NotFoundError
    from ..store import users as user_store

    user = user_store.by_name(session, username)
    if user is None:
        raise NotFoundError(f"no user {username}")
    return user


@app.command("taste-export")
def users_taste_export(
    username: Annotated[str, typer.Argument(help="The account's name.")],
    file: Annotated[Optional[str], typer.Argument(help="Where to write the JSON file (default: standard output).")] = None,
) -> None:
    """Write a member's taste (library, tags, notes, read marks, follows, upvotes, dismissals) as one JSON file."""
    import json

    from ..store import taste as taste_store

    store = open_store()
    with store.session() as session:
        doc = taste_store.export(session, _member(session, username)["id"], username)
    text = json.dumps(doc, ensure_ascii=False, indent=1) + "\n"
    if file in (None, "-"):
        sys.stdout.write(text)
        return
    with open(file, "w", encoding="utf-8") as f:
        f.write(text)
    papers = len({p for c in doc["collections"] for p in c["papers"]})
    out.print(f"wrote {file}: {len(doc['collections'])} collections, {papers} papers, {len(doc['follows'])} follows", highlight=False)


@app.command("taste-import")
def users_taste_import(
    username: Annotated[str, typer.Argument(help="The account's name.")],
    file: Annotated[str, typer.Argument(help="A taste file (from taste-export or /account/taste), or - for standard input.")],
) -> None:
    """Merge a taste file into a member's (idempotent; a bad file changes nothing). Papers this
    site lacks are fetched from arXiv in the background and join their collections."""
    import json

    from ..store import taste as taste_store
    from ..web.personal import check_follow

    try:
        if file == "-":
            text = sys.stdin.read(MAX_TASTE_FILE + 1)
        else:
            with open(file, encoding="utf-8") as f:
                text = f.read(MAX_TASTE_FILE + 1)
    except (OSError, UnicodeDecodeError) as exc:
        raise DailyPapersError(f"cannot read {file}: {exc}") from None
    if len(text) > MAX_TASTE_FILE:
        raise DailyPapersError(f"{file} is larger than {MAX_TASTE_FILE // (1024 * 1024)} MB")
    try:
        doc = json.loads(text)
    except ValueError as exc:
        raise taste_store.BadTaste(f"{file} is not a JSON file: {exc}") from None
    taste = taste_store.parse(doc, check_follow)
    store = open_store()
    with store.session() as session, session.begin():
        merged = taste_store.merge(session, _member(session, username)["id"], taste)
    counts = ", ".join(f"{n} {what}" for what, n in merged.as_dict()["imported"].items())
    out.print(f"imported into {username}: {counts}", highlight=False)
    if merged.queued:
        out.print(f"queued for fetching from arXiv: {len(merged.queued)} ({', '.join(merged.queued[:20])}{', ...' if len(merged.queued) > 20 else ''})", highlight=False)
    if merged.not_placed:
        out.print(f"not placed (not on this site): {len(merged.not_placed)} ({', '.join(merged.not_placed[:20])}{', ...' if len(merged.not_placed) > 20 else ''})", highlight=False)
