"""Account emails: the link that attaches an address to a new account, and the notice to an
address's owner that someone tried to sign up with it.

Sign-up never tells the visitor whether an address has an account here (web/accounts.py answers the
same either way, and records the email with the account, in the outbox, before answering; it is
sent after the answer, see outbox.py); the difference goes by email to the address itself:
- an address no account has gets a signed link, valid `email_confirm_hours`, that attaches it to
  the new account; until its owner follows it, the account has no address;
- an address that belongs to an account gets a notice naming that account (so its owner can log
  in) and saying that the new account was made without it.
Nothing is attached on the visitor's word, so no one can claim another person's address."""

from __future__ import annotations

from itsdangerous import URLSafeTimedSerializer
from sqlalchemy.orm import Session

from ..store import outbox as outbox_store
from ..store import users as user_store
from ..store.engine import Store
from ..store.outbox import Mail
from .links import read_pair
from .mailer import Mailer, site_secret

PATH = "/account/email/"


class AddressLinks:
    """Signed, expiring tokens naming (account, address)."""

    def __init__(self, site_secret_: str, base_url: str, *, hours: int = 48):
        self.base_url = base_url.rstrip("/")
        self.max_age = hours * 3600
        self._signer = URLSafeTimedSerializer(site_secret_, salt="dailypapers-account-email")

    def token(self, user_id: int, email: str) -> str:
        return self._signer.dumps([user_id, email])

    def url(self, user_id: int, email: str) -> str:
        return self.base_url + PATH + self.token(user_id, email)

    def read(self, token: str) -> tuple[int, str]:
        """(account id, address); raises BadLink when the token is forged, altered or expired."""
        return read_pair(self._signer, token, self.max_age, "this link has expired; log in and add the address again to get a new one")


def links_for(store: Store) -> AddressLinks:
    settings = store.settings
    return AddressLinks(site_secret(store), settings.base_url, hours=settings.email_confirm_hours)


def queue_after_signup(session: Session, user_id: int, email: str) -> int:
    """Record, in the sign-up's transaction, the one email a sign-up with an address causes: the
    link to attach it, or, when an account has it, the notice to its owner. Its outbox id."""
    kind = "address" if user_store.by_email(session, email) is None else "signup-attempt"
    return outbox_store.add(session, kind, email, user_id=user_id)


def message(store: Store, session: Session, mailer: Mailer, mail: Mail, msg_id: str) -> bytes | str:
    """The account email `mail` names, as things stand now; a str, saying why, when it is no longer wanted."""
    account = user_store.by_id(session, mail.user_id) if mail.user_id is not None else None
    if account is None:
        return "not sent: the new account no longer exists"
    if mail.kind == "address":
        url = links_for(store).url(account["id"], mail.recipient)
        content = mailer.renderer.address_confirmation(account["username"], url, store.settings.email_confirm_hours)
    else:
        owner = user_store.by_email(session, mail.recipient)
        if owner is None:
            return "not sent: no account has this address any more"
        content = mailer.renderer.signup_attempt(owner["username"], account["username"], mailer.renderer.base_url + "/login")
    return mailer.message(content, mail.recipient, msg_id, parts=content.encoded(mail.recipient, "", ""), list_headers=[])
