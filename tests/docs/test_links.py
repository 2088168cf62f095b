"""Every relative link of the README, the changelog and docs/*.md leads to a file of this repository, and to a
heading that exists when it names one (GitHub's anchors)."""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCUMENTS = [ROOT / "README.md", ROOT / "CHANGELOG.md", *sorted((ROOT / "docs").glob("*.md"))]
FENCE = re.compile(r"^```.*?^```", re.DOTALL | re.MULTILINE)
LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)\)|<img [^>]*src=\"([^\"]+)\"")


def prose(document: Path) -> str:
    """The text outside code blocks (a `# comment` in a shell block is no heading)."""
    return FENCE.sub("", document.read_text())


def anchors(document: Path) -> set[str]:
    """GitHub's ids for the headings: lower case, punctuation dropped, spaces as hyphens, repeats numbered."""
    seen: dict[str, int] = {}
    ids = set()
    for heading in re.findall(r"^#+ (.+)$", prose(document), re.MULTILINE):
        slug = re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")
        count = seen.get(slug, 0)
        seen[slug] = count + 1
        ids.add(slug if count == 0 else f"{slug}-{count}")
    return ids


def links(document: Path) -> list[str]:
    return [first or second for first, second in LINK.findall(prose(document))]


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda path: str(path.relative_to(ROOT)))
def test_every_relative_link_leads_to_a_file_and_heading_that_exist(document: Path) -> None:
    relative = [target for target in links(document) if "://" not in target and not target.startswith("mailto:")]
    for target in relative:
        path_part, _, anchor = target.partition("#")
        assert not path_part.startswith("/"), f"{target}: a link from the repository's root breaks off GitHub"
        path = (document.parent / path_part).resolve() if path_part else document
        assert path.is_relative_to(ROOT), f"{document.name} links to {target}, outside the repository"
        assert path.exists(), f"{document.name} links to {target}, which does not exist"
        if anchor:
            assert path.suffix == ".md", f"{document.name} links to an anchor in {target}, which has no headings"
            assert anchor in anchors(path), f"{document.name} links to {target}: {path.name} has no such heading"


def test_the_readme_cites_only_files_of_the_repository() -> None:
    cited = links(ROOT / "README.md")
    assert cited and all("://" not in target for target in cited), cited


def test_the_anchors_follow_githubs_rule() -> None:
    assert {"what-scriptsrun-starts", "validity-check-in-and-expiry"} <= anchors(ROOT / "docs" / "tour.md")
