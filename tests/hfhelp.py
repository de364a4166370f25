"""Hugging Face daily_papers items in the format its API answers today, made from the recorded 2024
items (../shared/data/fixtures/hf-api): the recorded answer predates the fields HF added since
(submittedOnDailyAt/By, mediaUrls inside the paper, ai_summary, ai_keywords, githubRepo, githubStars,
projectPage, organization). The added values follow the shapes of HF's current answers."""

from __future__ import annotations

import copy
import json
from pathlib import Path

from support import DATA

FIXTURE = DATA / "fixtures" / "hf-api" / "daily_papers_2024-10-25_first3items.json"


def recorded_items() -> list[dict]:
    return json.loads(FIXTURE.read_text())


def current_format(item: dict, **paper_fields) -> dict:
    """The item as HF's API shapes it today: the 2024 fields, plus those HF added, placed where it
    puts them (the organization at both levels; mediaUrls in the paper and at the top)."""
    item = copy.deepcopy(item)
    paper = item["paper"]
    by = dict(item["submittedBy"])
    paper["submittedOnDailyAt"] = item["publishedAt"]
    paper["submittedOnDailyBy"] = {
        "_id": "6483af58571c2dcfa98cae82", "avatarUrl": by["avatarUrl"], "isPro": False,
        "fullname": by["fullname"], "user": by["name"], "type": "user",
    }
    paper.update(paper_fields)
    if "mediaUrls" in paper:
        item["mediaUrls"] = paper["mediaUrls"]
    if "organization" in paper:
        item["organization"] = paper["organization"]
    item["isAuthorParticipating"] = True
    return item


# 2410.16251 ("Can Knowledge Editing Really Correct Hallucinations?") with the fields HF adds now.
KNOWLEDGE_EDITING = dict(
    mediaUrls=["https://cdn-uploads.huggingface.co/production/uploads/6483af58571c2dcfa98cae82/halluedit.png"],
    projectPage="https://llm-editing.github.io",
    githubRepo="https://github.com/llm-editing/HalluEditBench",
    githubStars=52,
    ai_summary="HalluEditBench benchmarks knowledge editing methods on real-world hallucinations of LLMs.",
    ai_keywords=["knowledge editing", "hallucinations", "HalluEditBench", "large language models"],
    organization={
        "_id": "64e7a4ad6d4bd2a9ad2ba4c8", "name": "llm-editing", "fullname": "LLM Editing",
        "avatar": "/avatars/3e1d8a9c0f5b6e2d4a7c9b1e0f2d3c4a.svg",
    },
)


def write_current_format(folder: Path) -> Path:
    """A daily_papers file with 2410.16251 in today's format (a later import of the same day)."""
    item = current_format(recorded_items()[1], **KNOWLEDGE_EDITING)
    path = folder / "daily_papers_current_format.json"
    path.write_text(json.dumps([item]))
    return path
