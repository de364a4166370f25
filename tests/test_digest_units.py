"""The pure parts of digests: periods and when they are due, signed links, MIME messages, SMTP URLs."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
from zoneinfo import ZoneInfo

import pytest

from dailypapers.config import Settings
from dailypapers.digest import mime
from dailypapers.digest.links import BadLink, Links
from dailypapers.digest.period import containing, latest_due, parse
from dailypapers.digest.render import Content, Renderer
from dailypapers.digest.transport import SMTPTransport
from dailypapers.errors import ConfigError, DailyPapersError

UTC = ZoneInfo("UTC")


def test_daily_periods_are_weekdays_and_friday_takes_the_weekend():
    friday = containing("daily", dt.date(2026, 11, 27))
    assert (friday.start, friday.end, friday.key) == (dt.date(2026, 11, 27), dt.date(2026, 11, 29), "daily:2026-11-27")
    assert containing("daily", dt.date(2026, 11, 29)) == friday  # Sunday belongs to Friday
    tuesday = containing("daily", dt.date(2026, 11, 24))
    assert tuesday.start == tuesday.end == dt.date(2026, 11, 24)
    assert friday.previous().start == dt.date(2026, 11, 26)
    assert containing("daily", dt.date(2026, 11, 30)).previous() == friday
    assert friday.covered_until == dt.datetime(2026, 11, 30)


def test_what_is_due_when():
    def due(cadence, when, tz="UTC", at="08:00", weekday="monday"):
        return latest_due(cadence, when.replace(tzinfo=ZoneInfo(tz)), ZoneInfo(tz), at, weekday).key

    assert due("daily", dt.datetime(2026, 11, 30, 8, 0)) == "daily:2026-11-27"  # Monday: Friday and the weekend
    assert due("daily", dt.datetime(2026, 11, 30, 7, 59)) == "daily:2026-11-26"  # before the time: still Thursday's
    assert due("daily", dt.datetime(2026, 11, 28, 12, 0)) == "daily:2026-11-26"  # Saturday: nothing new is due
    assert due("daily", dt.datetime(2026, 12, 1, 9, 0)) == "daily:2026-11-30"
    assert due("weekly", dt.datetime(2026, 11, 30, 8, 0)) == "weekly:2026-W48"
    assert due("weekly", dt.datetime(2026, 11, 30, 7, 0)) == "weekly:2026-W47"
    assert due("weekly", dt.datetime(2026, 12, 3, 8, 0), weekday="friday") == "weekly:2026-W47"
    assert due("weekly", dt.datetime(2026, 12, 4, 8, 0), weekday="friday") == "weekly:2026-W48"
    # Local time: 08:00 in Tokyo is 23:00 UTC the day before.
    tokyo = dt.datetime(2026, 11, 29, 23, 0, tzinfo=UTC)
    assert latest_due("daily", tokyo, ZoneInfo("Asia/Tokyo"), "08:00").key == "daily:2026-11-27"
    assert latest_due("daily", tokyo - dt.timedelta(minutes=1), ZoneInfo("Asia/Tokyo"), "08:00").key == "daily:2026-11-26"


def test_periods_from_the_command_line():
    assert parse("weekly", "2026-W48").start == dt.date(2026, 11, 23)
    assert parse("weekly", "2026-11-25").key == "weekly:2026-W48"
    assert parse("daily", "2026-11-28").key == "daily:2026-11-27"
    with pytest.raises(DailyPapersError):
        parse("daily", "yesterday")


def test_links_name_their_subscription_and_purpose():
    links = Links("site secret", "https://example.org/", confirm_hours=1)
    token = links.token("unsubscribe", 42, "sub secret")
    target = links.read("unsubscribe", token)
    assert target.subscription_id == 42 and target.matches("sub secret") and not target.matches("rotated")
    assert links.url("preferences", 42, "s").startswith("https://example.org/preferences/")
    # Alter a character well inside the signature: the last base64 character of a signature also
    # carries padding bits, and changing only those leaves the decoded signature as it was.
    altered = token[:-10] + ("A" if token[-10] != "A" else "B") + token[-9:]
    for purpose, bad in (("preferences", token), ("unsubscribe", altered), ("unsubscribe", token[:-1])):
        with pytest.raises(BadLink):
            links.read(purpose, bad)
    with pytest.raises(BadLink):
        Links("other secret", "https://example.org").read("unsubscribe", token)


def parse_message(data: bytes):
    return email.message_from_bytes(data, policy=email.policy.default)


def body(message, kind: str) -> str:
    """A part's text as sent: lines end with CRLF on the wire."""
    return message.get_body((kind,)).get_content().replace("\r\n", "\n")


def test_mime_messages_parse_and_keep_every_character():
    awkward = "Ünïcödé – “quotes” = signs\n.a line starting with a dot\nFrom here\ntrailing spaces   \n" + "x" * 300 + "\n\ttab"
    headers = [
        ("From", mime.address("Dälly Päpers", "digest@example.org")),
        ("To", "reader@example.org"),
        ("Subject", mime.header_value("Subject", "Trending: Ünïcödé titles and a long subject " * 3)),
        ("List-Unsubscribe", mime.fold_list(["<https://example.org/unsubscribe/one-click/abc>", "<mailto:x@example.org?subject=unsubscribe>"])),
    ]
    data = mime.build(headers, mime.qp(awkward), mime.qp(f"<p>{awkward}</p>"))
    assert b"\r\n" in data and b"\n" not in data.replace(b"\r\n", b"")  # CRLF only
    assert max(len(line) for line in data.split(b"\r\n")) <= 78
    message = parse_message(data)
    assert message.get_content_type() == "multipart/alternative"
    assert message["From"].addresses[0].display_name == "Dälly Päpers"
    assert message["Subject"].startswith("Trending: Ünïcödé titles")
    assert body(message, "plain").rstrip("\n") == awkward
    assert body(message, "html").rstrip("\n") == f"<p>{awkward}</p>"
    assert len(message["List-Unsubscribe"].split(",")) == 2
    with pytest.raises(ValueError):
        mime.header_value("Subject", "injected\r\nBcc: victim@example.org")


def test_encoded_content_is_the_personal_content(tmp_path):
    renderer = Renderer(Settings(data_dir=tmp_path, site_name="Dälly"))
    content = renderer.already_subscribed("daily", "%%dp-preferences%%", "%%dp-unsubscribe%%")
    content = Content(content.subject, content.html.replace("</body>", "<p>%%dp-email%%</p>\n</body>"), content.text + "\n%%dp-email%%\n")
    text_qp, html_qp = content.encoded("a&b@example.org", "https://x/preferences/T", "https://x/unsubscribe/U")
    message = parse_message(mime.build([("To", "a@example.org")], text_qp, html_qp))
    html, text = content.personal("a&b@example.org", "https://x/preferences/T", "https://x/unsubscribe/U")
    assert body(message, "html") == html and "a&amp;b@example.org" in html
    assert body(message, "plain") == text.rstrip("\n") and "https://x/unsubscribe/U" in text  # the last line break belongs to the boundary


def test_smtp_urls():
    t = SMTPTransport("smtps://me%40example.org:p%3Ass@mail.example.org")
    assert (t.tls, t.port, t.user, t.password) == (True, 465, "me@example.org", "p:ss")
    t = SMTPTransport("smtp://mail.example.org:587?starttls=required")
    assert (t.tls, t.port, t.starttls, t.user) == (False, 587, "required", None)
    for bad in ("http://mail.example.org", "smtp://", "smtp://h?starttls=maybe", "smtp://h:99999"):
        with pytest.raises(ConfigError):
            SMTPTransport(bad)
