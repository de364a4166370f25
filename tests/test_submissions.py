"""Submission rules: the one-week window holds for papers whose publication date the store lacks,
through the year and month every arXiv id names."""

from __future__ import annotations

import datetime as dt

import pytest

from support import client_for
from dailypapers.arxiv import could_exist, id_month
from dailypapers.errors import InvalidRecord
from webhelp import log_in, make_user, token_of


def test_an_arxiv_id_names_its_year_and_month():
    assert id_month("2505.17282") == (2025, 5)
    assert id_month("2505.17282v3") == (2025, 5)
    assert id_month("0704.0001") == (2007, 4)  # the first new-style id
    assert id_month("1412.99999") == (2014, 12)
    assert id_month("hep-th/9901001") == (1999, 1)  # old style: archive/YYMMNNN
    assert id_month("math.GT/0309136v2") == (2003, 9)
    assert id_month("arXiv:2410.17243") == (2024, 10)
    for bad in ("2513.00001", "2500.00001", "hep-th/9913001", "nonsense"):
        with pytest.raises(InvalidRecord):
            id_month(bad)


def test_ids_arxiv_cannot_have_issued_yet():
    today = dt.date(2026, 11, 29)
    assert could_exist("2611.00001", today) and could_exist("2612.00001", dt.date(2026, 11, 30))  # a day's grace
    assert not could_exist("2612.00001", today)  # a month to come
    assert could_exist("0704.0001", today) and not could_exist("0703.0001", today)  # new style from April 2007
    assert could_exist("1412.9999", today) and not could_exist("1501.9999", today)  # five digits from 2015
    assert not could_exist("1412.99999", today)
    assert could_exist("hep-th/9108001", today) and not could_exist("hep-th/9107001", today)
    assert could_exist("math/0703001", today) and not could_exist("math/0704001", today)
    assert not could_exist("2513.00001", today) and not could_exist("nonsense", today)


def test_a_paper_without_a_publication_date_is_dated_by_its_id(fresh_site):
    """2503.11677 came from a listing file that gives no publication date: only its id says it is
    from March 2025, far more than a week ago, so only a curator may put it on today's feed."""
    make_user(fresh_site)
    make_user(fresh_site, "curie", is_curator=True)
    with client_for(fresh_site) as c:
        log_in(c)
        r = c.post("/submit", data={"csrftoken": token_of(c), "arxiv_id": "2503.11677"})
        assert r.status_code == 400, r.status_code
        assert "2025-03" in r.text and "only curators" in r.text
    with client_for(fresh_site) as c:
        log_in(c, "curie")
        r = c.post("/submit", data={"csrftoken": token_of(c), "arxiv_id": "2503.11677"})
        assert r.status_code == 303
        today = dt.datetime.now(dt.UTC).date().isoformat()
        assert 'submitted by <a class="person" href="/u/curie">' in c.get(f"/date/{today}").text
