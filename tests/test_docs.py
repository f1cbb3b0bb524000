"""The documentation's relative links resolve: every ``[text](target)`` in README.md, docs/*.md
and bench/*.md that is not a URL points to a file of the repository, and its ``#anchor``, if any,
to a heading of that file (GitHub's slugs)."""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCUMENTS = sorted(
    [ROOT / "README.md", *(ROOT / "docs").glob("*.md"), *(ROOT / "bench").glob("*.md")]
)
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
FENCE = re.compile(r"^```.*?^```", re.S | re.M)
HEADING = re.compile(r"^#{1,6} +(.+?) *#*$", re.M)


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lowercase, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading).lower()
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def anchors(path: Path) -> set[str]:
    return {slug(h) for h in HEADING.findall(FENCE.sub("", path.read_text()))}


def links(path: Path) -> list[str]:
    """The relative links of a Markdown file, outside fenced code blocks."""
    return [
        target
        for target in LINK.findall(FENCE.sub("", path.read_text()))
        if not re.match(r"[a-z][a-z0-9+.-]*:", target)
    ]


def test_the_documents_are_found():
    names = {path.relative_to(ROOT).as_posix() for path in DOCUMENTS}
    assert {"README.md", "docs/configuration.md", "bench/RESULTS.md"} <= names


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_every_relative_link_resolves(document):
    broken = []
    for target in links(document):
        file_part, _, anchor = target.partition("#")
        linked = (document.parent / file_part).resolve() if file_part else document
        if not linked.exists() or not linked.is_relative_to(ROOT):
            broken.append(f"{target}: no file {linked}")
        elif anchor and linked.suffix == ".md" and anchor not in anchors(linked):
            broken.append(f"{target}: no heading #{anchor} in {linked.relative_to(ROOT)}")
    assert not broken, f"{document.relative_to(ROOT)}: " + "; ".join(broken)


def test_a_broken_link_or_anchor_is_caught(tmp_path):
    """The check itself: a missing file and a missing heading are both reported."""
    page = tmp_path / "page.md"
    page.write_text("# Title\n\n## Sign-in throttling\n\n```\n[not](a-link.md)\n```\n")
    assert links(page) == []
    assert anchors(page) == {"title", "sign-in-throttling"}
    assert slug("The rule (one engine decides every pull)") == (
        "the-rule-one-engine-decides-every-pull"
    )
    assert slug("The portal's API, `/api/v1/`") == "the-portals-api-apiv1"
