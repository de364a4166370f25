"""Email digests: trending papers and topic alerts in subscribers' inboxes.

    period.py      which days a digest covers and when it is due (pure)
    links.py       signed links: confirm, preferences, unsubscribe (no login, no cookies)
    compose.py     what each subscriber gets for a period (trending, topic alerts, similar papers)
    render.py      Jinja2 email templates, CSS inlined; rendered once per distinct content
    mime.py        multipart/alternative messages as bytes
    transport.py   SMTP (DAILYPAPERS_SMTP_URL) or the .eml outbox
    mailer.py      a site's transport, retry policy, From address and Message-IDs
    send.py        sending each (subscription, period) digest exactly once (read its docstring)
    confirm.py     the double opt-in confirmation and the manage-link email

Run it: `dailypapers digest send --cadence daily|weekly [--period DAY|WEEK] [--dry-run] [--to EMAIL]`;
`dailypapers up` runs the digest-daily, digest-weekly and digest-retry jobs on schedule.
"""
