"""arXiv's taxonomy as data: consistent, and the lookups the category feeds use."""

from __future__ import annotations

from dailypapers import taxonomy
from dailypapers.arxiv import CATEGORY


def test_the_data_holds_together():
    assert {"cs", "math", "physics", "hep-th", "cond-mat", "astro-ph", "q-bio", "q-fin", "stat", "eess", "econ"} <= set(taxonomy.ARCHIVES)
    assert taxonomy.CATEGORIES["cs.CL"].name == "Computation and Language"
    assert len(taxonomy.CATEGORIES) > 150 and sum(c.active for c in taxonomy.CATEGORIES.values()) > 140
    for name, cat in taxonomy.CATEGORIES.items():
        assert cat.archive in taxonomy.ARCHIVES, name
        assert CATEGORY.match(name), name  # every real category survives ingest's check
    for name, archive in taxonomy.ARCHIVES.items():
        assert archive.group in taxonomy.GROUPS, name
    for alias, target in (*taxonomy.ALIASES.items(), *taxonomy.SUBSUMED.items()):
        assert alias in taxonomy.CATEGORIES and target in taxonomy.CATEGORIES
    names = [*taxonomy.ARCHIVES, *taxonomy.CATEGORIES]
    assert len({n.lower() for n in set(names)}) == len(set(names))  # case-insensitive lookups are unambiguous
    assert not any(n.startswith("test") for n in names)


def test_lookups():
    assert taxonomy.canonical("cs.cl") == taxonomy.canonical("CS.CL") == "cs.CL"
    assert taxonomy.canonical("Hep-Th") == "hep-th" and taxonomy.canonical("physics.DATA-AN") == "physics.data-an"
    assert taxonomy.canonical("cs.XX") is None and taxonomy.canonical("test.soft") is None
    cs = taxonomy.categories_in("cs")
    assert {"cs.CL", "cs.CV", "cs.AI"} <= set(cs) and "math.AG" not in cs
    assert "math-ph" in taxonomy.categories_in("math")  # math.MP is math-ph by another name
    assert taxonomy.categories_in("hep-th") == ("hep-th",)
    assert set(taxonomy.categories_in("astro-ph")) >= {"astro-ph", "astro-ph.CO"}  # the old archive-wide category too
    assert taxonomy.categories_in("cs.CL") == ("cmp-lg", "cs.CL")  # cmp-lg became cs.CL
    assert taxonomy.categories_in("nonsense") == ()
    assert taxonomy.display_name("math") == "Mathematics (math)"
