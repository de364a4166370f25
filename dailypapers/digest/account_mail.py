"""Account emails: the link that attaches an address to a new account, and the notice to an
address's owner that someone tried to sign up with it.

Sign-up never tells the visitor whether an address has an account here (web/accounts.py answers the
same either way, and calls `after_signup` only once the answer is sent); the difference goes by
email to the address itself:
- an address no account has gets a signed link, valid `email_confirm_hours`, that attaches it to
  the new account; until its owner follows it, the account has no address;
- an address that belongs to an account gets a notice naming that account (so its owner can log
  in) and saying that the new account was made without it.
Nothing is attached on the visitor's word, so no one can claim another person's address."""

from __future__ import annotations

import logging
import secrets

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from ..store import users as user_store
from ..store.engine import Store
from .links import BadLink
from .mailer import Mailer, site_secret
from .transport import PermanentFailure, TemporaryFailure, TransportError

log = logging.getLogger(__name__)

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
        try:
            value = self._signer.loads(token, max_age=self.max_age)
        except SignatureExpired:
            raise BadLink("this link has expired; log in and add the address again to get a new one") from None
        except BadSignature:
            raise BadLink("this link is not valid (it may be incomplete: copy the whole link from the email)") from None
        if not (isinstance(value, list) and len(value) == 2 and isinstance(value[0], int) and isinstance(value[1], str)):
            raise BadLink("this link is not valid")
        return value[0], value[1]


def links_for(store: Store) -> AddressLinks:
    settings = store.settings
    return AddressLinks(site_secret(store), settings.base_url, hours=settings.email_confirm_hours)


def after_signup(store: Store, user_id: int, username: str, email: str) -> bool:
    """Send the one email a sign-up with an address causes; True when it went out."""
    with store.session() as session:
        owner = user_store.by_email(session, email)
    mailer = Mailer(store)
    try:
        if owner is None:
            kind = "address"
            content = mailer.renderer.address_confirmation(
                username, links_for(store).url(user_id, email), store.settings.email_confirm_hours
            )
        else:
            kind = "signup-attempt"
            content = mailer.renderer.signup_attempt(owner["username"], username, mailer.renderer.base_url + "/login")
        msg_id = f"<account.{kind}.{user_id}.{secrets.token_hex(6)}@{mailer.domain}>"
        message = mailer.message(content, email, msg_id, parts=content.encoded(email, "", ""), list_headers=[])
        mailer.deliver(email, message, msg_id)
        return True
    except (TemporaryFailure, PermanentFailure, TransportError) as exc:
        log.warning("could not send the %s email for account %s: %s", kind, username, exc)
        return False
    finally:
        mailer.close()
