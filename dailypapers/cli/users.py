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
