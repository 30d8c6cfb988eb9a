"""The README is a short front door, and the guides it sends readers to stay true.

The README keeps one command for the main job and one for all tests (on a fresh
Debian machine), and the migrating guide's count of differences from 0.27 matches
its table, so the prose cannot drift from the list again.
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_readme_is_at_most_200_lines() -> None:
    lines = (ROOT / "README.md").read_text(encoding="utf-8").splitlines()
    assert len(lines) <= 200, f"README.md has {len(lines)} lines; move detail to docs/guides/"


def test_readme_gives_the_main_job_and_the_test_command() -> None:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```sh\n(.*?)```", text, flags=re.S)
    commands = [line.strip() for block in blocks for line in block.splitlines() if line.strip()]
    assert "bash scripts/main.sh" in commands
    assert "bash scripts/test.sh" in commands
    assert (ROOT / "scripts" / "main.sh").is_file() and (ROOT / "scripts" / "test.sh").is_file()


def test_readme_links_point_at_existing_files() -> None:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    targets = re.findall(r"\]\(((?:docs|tests|scripts)/[^)#]+)(?:#[^)]*)?\)", text)
    assert targets, "the README links into the docs"
    missing = [t for t in targets if not (ROOT / t).exists()]
    assert not missing, missing


def test_migrating_guide_counts_the_differences_in_its_table() -> None:
    text = (ROOT / "docs" / "guides" / "migrating.md").read_text(encoding="utf-8")
    section = text.split("### Differences, on purpose", 1)[1].split("\n### ", 1)[0]
    claimed = re.search(r"(\d+) behaviours differ from 0\.27", section)
    assert claimed, "the guide says how many behaviours differ"
    rows = [line for line in section.splitlines() if line.startswith("|")]
    assert rows[0].startswith("| 0.27 |") and set(rows[1]) <= set("|- ")
    assert int(claimed.group(1)) == len(rows) - 2
