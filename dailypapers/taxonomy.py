"""arXiv's subject taxonomy as data: its groups, archives and categories with their names, as arXiv
publishes them (https://arxiv.org/category_taxonomy; transcribed from arXiv's own definitions,
arxiv-base `arxiv/taxonomy/definitions.py`, June 2026). Test-only archives are left out; archives and
categories arXiv no longer accepts submissions to are kept (`active=False`), since old papers carry
them. Feeds and pages ask it whether a name is real, how it is spelled, and what an archive holds.

An archive (`cs`, `math`, `hep-th`, `cond-mat`) holds categories (`cs.CL`, `math.AG`); some names are
both (`hep-th` is an archive whose only category is itself; `astro-ph` was once a category of its
own). Aliases are one category known by two names (a paper in either appears in both); subsumed
archives are old archives that became a category."""

from __future__ import annotations

from typing import NamedTuple


class Archive(NamedTuple):
    name: str
    group: str
    active: bool = True


class Category(NamedTuple):
    name: str
    archive: str
    active: bool = True


GROUPS: dict[str, str] = {
    "physics": "Physics",
    "math": "Mathematics",
    "q-bio": "Quantitative Biology",
    "cs": "Computer Science",
    "q-fin": "Quantitative Finance",
    "stat": "Statistics",
    "eess": "Electrical Engineering and Systems Science",
    "econ": "Economics",
}

# The archives of each group, by name.
_ARCHIVES_BY_GROUP: dict[str, dict[str, str]] = {
    "physics": {
        "acc-phys": "Accelerator Physics",
        "adap-org": "Adaptation, Noise, and Self-Organizing Systems",
        "ao-sci": "Atmospheric-Oceanic Sciences",
        "astro-ph": "Astrophysics",
        "atom-ph": "Atomic, Molecular and Optical Physics",
        "bayes-an": "Bayesian Analysis",
        "chao-dyn": "Chaotic Dynamics",
        "chem-ph": "Chemical Physics",
        "comp-gas": "Cellular Automata and Lattice Gases",
        "cond-mat": "Condensed Matter",
        "gr-qc": "General Relativity and Quantum Cosmology",
        "hep-ex": "High Energy Physics - Experiment",
        "hep-lat": "High Energy Physics - Lattice",
        "hep-ph": "High Energy Physics - Phenomenology",
        "hep-th": "High Energy Physics - Theory",
        "math-ph": "Mathematical Physics",
        "mtrl-th": "Materials Theory",
        "nlin": "Nonlinear Sciences",
        "nucl-ex": "Nuclear Experiment",
        "nucl-th": "Nuclear Theory",
        "patt-sol": "Pattern Formation and Solitons",
        "physics": "Physics",
        "plasm-ph": "Plasma Physics",
        "quant-ph": "Quantum Physics",
        "solv-int": "Exactly Solvable and Integrable Systems",
        "supr-con": "Superconductivity",
    },
    "math": {
        "alg-geom": "Algebraic Geometry",
        "dg-ga": "Differential Geometry",
        "funct-an": "Functional Analysis",
        "math": "Mathematics",
        "q-alg": "Quantum Algebra and Topology",
    },
    "q-bio": {
        "q-bio": "Quantitative Biology",
    },
    "cs": {
        "cmp-lg": "Computation and Language",
        "cs": "Computer Science",
    },
    "q-fin": {
        "q-fin": "Quantitative Finance",
    },
    "stat": {
        "stat": "Statistics",
    },
    "eess": {
        "eess": "Electrical Engineering and Systems Science",
    },
    "econ": {
        "econ": "Economics",
    },
}

# Archives that no longer accept papers (old papers still carry them).
RETIRED_ARCHIVES = frozenset({
    "acc-phys", "adap-org", "alg-geom", "ao-sci", "atom-ph", "bayes-an", "chao-dyn", "chem-ph",
    "cmp-lg", "comp-gas", "dg-ga", "funct-an", "mtrl-th", "patt-sol", "plasm-ph", "q-alg",
    "solv-int", "supr-con",
})

ARCHIVES: dict[str, Archive] = {
    name: Archive(title, group, name not in RETIRED_ARCHIVES)
    for group, archives in _ARCHIVES_BY_GROUP.items()
    for name, title in archives.items()
}

_SUBJECT_CATEGORIES: dict[str, Category] = {
    "astro-ph.CO": Category("Cosmology and Nongalactic Astrophysics", "astro-ph"),
    "astro-ph.EP": Category("Earth and Planetary Astrophysics", "astro-ph"),
    "astro-ph.GA": Category("Astrophysics of Galaxies", "astro-ph"),
    "astro-ph.HE": Category("High Energy Astrophysical Phenomena", "astro-ph"),
    "astro-ph.IM": Category("Instrumentation and Methods for Astrophysics", "astro-ph"),
    "astro-ph.SR": Category("Solar and Stellar Astrophysics", "astro-ph"),
    "cond-mat.dis-nn": Category("Disordered Systems and Neural Networks", "cond-mat"),
    "cond-mat.mes-hall": Category("Mesoscale and Nanoscale Physics", "cond-mat"),
    "cond-mat.mtrl-sci": Category("Materials Science", "cond-mat"),
    "cond-mat.other": Category("Other Condensed Matter", "cond-mat"),
    "cond-mat.quant-gas": Category("Quantum Gases", "cond-mat"),
    "cond-mat.soft": Category("Soft Condensed Matter", "cond-mat"),
    "cond-mat.stat-mech": Category("Statistical Mechanics", "cond-mat"),
    "cond-mat.str-el": Category("Strongly Correlated Electrons", "cond-mat"),
    "cond-mat.supr-con": Category("Superconductivity", "cond-mat"),
    "cs.AI": Category("Artificial Intelligence", "cs"),
    "cs.AR": Category("Hardware Architecture", "cs"),
    "cs.CC": Category("Computational Complexity", "cs"),
    "cs.CE": Category("Computational Engineering, Finance, and Science", "cs"),
    "cs.CG": Category("Computational Geometry", "cs"),
    "cs.CL": Category("Computation and Language", "cs"),
    "cs.CR": Category("Cryptography and Security", "cs"),
    "cs.CV": Category("Computer Vision and Pattern Recognition", "cs"),
    "cs.CY": Category("Computers and Society", "cs"),
    "cs.DB": Category("Databases", "cs"),
    "cs.DC": Category("Distributed, Parallel, and Cluster Computing", "cs"),
    "cs.DL": Category("Digital Libraries", "cs"),
    "cs.DM": Category("Discrete Mathematics", "cs"),
    "cs.DS": Category("Data Structures and Algorithms", "cs"),
    "cs.ET": Category("Emerging Technologies", "cs"),
    "cs.FL": Category("Formal Languages and Automata Theory", "cs"),
    "cs.GL": Category("General Literature", "cs"),
    "cs.GR": Category("Graphics", "cs"),
    "cs.GT": Category("Computer Science and Game Theory", "cs"),
    "cs.HC": Category("Human-Computer Interaction", "cs"),
    "cs.IR": Category("Information Retrieval", "cs"),
    "cs.IT": Category("Information Theory", "cs"),
    "cs.LG": Category("Machine Learning", "cs"),
    "cs.LO": Category("Logic in Computer Science", "cs"),
    "cs.MA": Category("Multiagent Systems", "cs"),
    "cs.MM": Category("Multimedia", "cs"),
    "cs.MS": Category("Mathematical Software", "cs"),
    "cs.NA": Category("Numerical Analysis", "cs"),
    "cs.NE": Category("Neural and Evolutionary Computing", "cs"),
    "cs.NI": Category("Networking and Internet Architecture", "cs"),
    "cs.OH": Category("Other Computer Science", "cs"),
    "cs.OS": Category("Operating Systems", "cs"),
    "cs.PF": Category("Performance", "cs"),
    "cs.PL": Category("Programming Languages", "cs"),
    "cs.RO": Category("Robotics", "cs"),
    "cs.SC": Category("Symbolic Computation", "cs"),
    "cs.SD": Category("Sound", "cs"),
    "cs.SE": Category("Software Engineering", "cs"),
    "cs.SI": Category("Social and Information Networks", "cs"),
    "cs.SY": Category("Systems and Control", "cs"),
    "econ.EM": Category("Econometrics", "econ"),
    "econ.GN": Category("General Economics", "econ"),
    "econ.TH": Category("Theoretical Economics", "econ"),
    "eess.AS": Category("Audio and Speech Processing", "eess"),
    "eess.IV": Category("Image and Video Processing", "eess"),
    "eess.SP": Category("Signal Processing", "eess"),
    "eess.SY": Category("Systems and Control", "eess"),
    "math.AC": Category("Commutative Algebra", "math"),
    "math.AG": Category("Algebraic Geometry", "math"),
    "math.AP": Category("Analysis of PDEs", "math"),
    "math.AT": Category("Algebraic Topology", "math"),
    "math.CA": Category("Classical Analysis and ODEs", "math"),
    "math.CO": Category("Combinatorics", "math"),
    "math.CT": Category("Category Theory", "math"),
    "math.CV": Category("Complex Variables", "math"),
    "math.DG": Category("Differential Geometry", "math"),
    "math.DS": Category("Dynamical Systems", "math"),
    "math.FA": Category("Functional Analysis", "math"),
    "math.GM": Category("General Mathematics", "math"),
    "math.GN": Category("General Topology", "math"),
    "math.GR": Category("Group Theory", "math"),
    "math.GT": Category("Geometric Topology", "math"),
    "math.HO": Category("History and Overview", "math"),
    "math.IT": Category("Information Theory", "math"),
    "math.KT": Category("K-Theory and Homology", "math"),
    "math.LO": Category("Logic", "math"),
    "math.MG": Category("Metric Geometry", "math"),
    "math.MP": Category("Mathematical Physics", "math"),
    "math.NA": Category("Numerical Analysis", "math"),
    "math.NT": Category("Number Theory", "math"),
    "math.OA": Category("Operator Algebras", "math"),
    "math.OC": Category("Optimization and Control", "math"),
    "math.PR": Category("Probability", "math"),
    "math.QA": Category("Quantum Algebra", "math"),
    "math.RA": Category("Rings and Algebras", "math"),
    "math.RT": Category("Representation Theory", "math"),
    "math.SG": Category("Symplectic Geometry", "math"),
    "math.SP": Category("Spectral Theory", "math"),
    "math.ST": Category("Statistics Theory", "math"),
    "nlin.AO": Category("Adaptation and Self-Organizing Systems", "nlin"),
    "nlin.CD": Category("Chaotic Dynamics", "nlin"),
    "nlin.CG": Category("Cellular Automata and Lattice Gases", "nlin"),
    "nlin.PS": Category("Pattern Formation and Solitons", "nlin"),
    "nlin.SI": Category("Exactly Solvable and Integrable Systems", "nlin"),
    "physics.acc-ph": Category("Accelerator Physics", "physics"),
    "physics.ao-ph": Category("Atmospheric and Oceanic Physics", "physics"),
    "physics.app-ph": Category("Applied Physics", "physics"),
    "physics.atm-clus": Category("Atomic and Molecular Clusters", "physics"),
    "physics.atom-ph": Category("Atomic Physics", "physics"),
    "physics.bio-ph": Category("Biological Physics", "physics"),
    "physics.chem-ph": Category("Chemical Physics", "physics"),
    "physics.class-ph": Category("Classical Physics", "physics"),
    "physics.comp-ph": Category("Computational Physics", "physics"),
    "physics.data-an": Category("Data Analysis, Statistics and Probability", "physics"),
    "physics.ed-ph": Category("Physics Education", "physics"),
    "physics.flu-dyn": Category("Fluid Dynamics", "physics"),
    "physics.gen-ph": Category("General Physics", "physics"),
    "physics.geo-ph": Category("Geophysics", "physics"),
    "physics.hist-ph": Category("History and Philosophy of Physics", "physics"),
    "physics.ins-det": Category("Instrumentation and Detectors", "physics"),
    "physics.med-ph": Category("Medical Physics", "physics"),
    "physics.optics": Category("Optics", "physics"),
    "physics.plasm-ph": Category("Plasma Physics", "physics"),
    "physics.pop-ph": Category("Popular Physics", "physics"),
    "physics.soc-ph": Category("Physics and Society", "physics"),
    "physics.space-ph": Category("Space Physics", "physics"),
    "q-bio.BM": Category("Biomolecules", "q-bio"),
    "q-bio.CB": Category("Cell Behavior", "q-bio"),
    "q-bio.GN": Category("Genomics", "q-bio"),
    "q-bio.MN": Category("Molecular Networks", "q-bio"),
    "q-bio.NC": Category("Neurons and Cognition", "q-bio"),
    "q-bio.OT": Category("Other Quantitative Biology", "q-bio"),
    "q-bio.PE": Category("Populations and Evolution", "q-bio"),
    "q-bio.QM": Category("Quantitative Methods", "q-bio"),
    "q-bio.SC": Category("Subcellular Processes", "q-bio"),
    "q-bio.TO": Category("Tissues and Organs", "q-bio"),
    "q-fin.CP": Category("Computational Finance", "q-fin"),
    "q-fin.EC": Category("Economics", "q-fin"),
    "q-fin.GN": Category("General Finance", "q-fin"),
    "q-fin.MF": Category("Mathematical Finance", "q-fin"),
    "q-fin.PM": Category("Portfolio Management", "q-fin"),
    "q-fin.PR": Category("Pricing of Securities", "q-fin"),
    "q-fin.RM": Category("Risk Management", "q-fin"),
    "q-fin.ST": Category("Statistical Finance", "q-fin"),
    "q-fin.TR": Category("Trading and Market Microstructure", "q-fin"),
    "stat.AP": Category("Applications", "stat"),
    "stat.CO": Category("Computation", "stat"),
    "stat.ME": Category("Methodology", "stat"),
    "stat.ML": Category("Machine Learning", "stat"),
    "stat.OT": Category("Other Statistics", "stat"),
    "stat.TH": Category("Statistics Theory", "stat"),
}

# Archives that were categories of their own before arXiv split them into subject categories.
FORMER_CATEGORIES = ("astro-ph", "cond-mat", "q-bio")

# Every category: an archive without subject categories is a category of its own (`hep-th`), as
# were the archives that have them now (no longer accepting papers); then the subject categories.
CATEGORIES: dict[str, Category] = {
    **{
        name: Category(archive.name, name, archive.active and name not in FORMER_CATEGORIES)
        for name, archive in ARCHIVES.items()
        if name in FORMER_CATEGORIES or not any(cat.startswith(name + ".") for cat in _SUBJECT_CATEGORIES)
    },
    **_SUBJECT_CATEGORIES,
}

ALIASES: dict[str, str] = {
    "math.MP": "math-ph",
    "stat.TH": "math.ST",
    "math.IT": "cs.IT",
    "q-fin.EC": "econ.GN",
    "cs.SY": "eess.SY",
    "cs.NA": "math.NA",
}
SUBSUMED: dict[str, str] = {
    "cmp-lg": "cs.CL",
    "adap-org": "nlin.AO",
    "comp-gas": "nlin.CG",
    "chao-dyn": "nlin.CD",
    "solv-int": "nlin.SI",
    "patt-sol": "nlin.PS",
    "alg-geom": "math.AG",
    "dg-ga": "math.DG",
    "funct-an": "math.FA",
    "q-alg": "math.QA",
    "mtrl-th": "cond-mat.mtrl-sci",
    "supr-con": "cond-mat.supr-con",
    "acc-phys": "physics.acc-ph",
    "ao-sci": "physics.ao-ph",
    "atom-ph": "physics.atom-ph",
    "bayes-an": "physics.data-an",
    "chem-ph": "physics.chem-ph",
    "plasm-ph": "physics.plasm-ph",
}

_SPELLING = {name.lower(): name for name in (*ARCHIVES, *CATEGORIES)}
_PARTNERS: dict[str, set[str]] = {}
for _a, _b in (*ALIASES.items(), *SUBSUMED.items()):
    _PARTNERS.setdefault(_a, set()).add(_b)
    _PARTNERS.setdefault(_b, set()).add(_a)


def canonical(name: str) -> str | None:
    """The archive or category `name` names, spelled as arXiv spells it (`cs.cl` is `cs.CL`), or
    None when arXiv has no such archive or category."""
    return _SPELLING.get(name.strip().lower())


def is_archive(name: str) -> bool:
    return name in ARCHIVES


def display_name(name: str) -> str:
    """`Computation and Language (cs.CL)`; the name itself when unknown."""
    entry = CATEGORIES.get(name) or ARCHIVES.get(name)
    return f"{entry.name} ({name})" if entry else name


def categories_in(name: str) -> tuple[str, ...]:
    """The category names a paper may carry to belong to `name` (a canonical archive or category):
    an archive's every category, a category itself, each with its alias and its subsumed archive."""
    if name in ARCHIVES:
        members = {cat for cat, c in CATEGORIES.items() if c.archive == name}
    elif name in CATEGORIES:
        members = {name}
    else:
        return ()
    for cat in list(members):
        members |= _PARTNERS.get(cat, set())
    return tuple(sorted(members))
