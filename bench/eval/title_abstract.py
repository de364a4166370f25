"""The title-to-abstract task over the whole arxiv-daily corpus, written in the BEIR layout so that
`dailypapers eval` scores it like any other benchmark.

    python bench/eval/title_abstract.py [OUT_DIR]     (default bench/.cache/arxiv-title-abstract)

Documents are the 74,728 abstracts (without their titles); each paper's title is one query whose
only relevant document is its own abstract. Line wraps are folded to spaces.
"""

from __future__ import annotations

import gzip
import json
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from common import CORPUS, ROOT, need  # noqa: E402

SPACE = re.compile(r"\s+")


def build(out: Path) -> Path:
    """Write corpus.jsonl.gz, queries.jsonl and qrels/test.tsv under `out` (once; reused after)."""
    if (out / "qrels" / "test.tsv").is_file():
        return out
    (out / "qrels").mkdir(parents=True, exist_ok=True)
    with gzip.open(need(CORPUS), "rt") as src, gzip.open(out / "corpus.jsonl.gz", "wt") as corpus, open(
        out / "queries.jsonl", "w"
    ) as queries, open(out / "qrels" / "tmp.tsv", "w") as qrels:
        qrels.write("query-id\tcorpus-id\tscore\n")
        for line in src:
            paper = json.loads(line)
            pid = paper["id"]
            corpus.write(json.dumps({"_id": pid, "title": "", "text": SPACE.sub(" ", paper["abstract"]).strip()}) + "\n")
            queries.write(json.dumps({"_id": pid, "text": SPACE.sub(" ", paper["title"]).strip()}) + "\n")
            qrels.write(f"{pid}\t{pid}\t1\n")
    (out / "qrels" / "tmp.tsv").replace(out / "qrels" / "test.tsv")
    return out


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "bench" / ".cache" / "arxiv-title-abstract"
    print(build(target))
