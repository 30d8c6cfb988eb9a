"""The documentation site builds in strict mode and its pages load in a real browser.

The site (mkdocs-material + mkdocstrings, ``mkdocs.yml``) is built once into a
temporary folder; headless Chromium (Debian's ``chromium`` package) then loads the
front page and one API page from ``file://`` and dumps the DOM after the page's
scripts ran. ``scripts/test.sh`` installs both (the ``docs`` extra and the apt
package).
"""

from __future__ import annotations

import html
import inspect
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from aiodocker.docker import Docker
from aiodocker.hooks import RequestResult

REPO_ROOT = Path(__file__).resolve().parents[2]
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--enable-logging=stderr",
    "--v=0",
)


def build(site: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site)],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
        env={"NO_MKDOCS_2_WARNING": "1", "PATH": "/usr/bin:/bin"},
    )


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = tmp_path_factory.mktemp("site")
    built = build(target)
    assert built.returncode == 0, f"mkdocs build --strict failed:\n{built.stdout}{built.stderr}"
    return target


def chromium() -> str:
    path = shutil.which("chromium")
    if path is None:
        pytest.fail("chromium is not installed (apt-get install chromium; scripts/test.sh does)")
    return path


def load(page: Path, profile: Path) -> tuple[str, str]:
    """Return (DOM after load, browser log) of ``page`` opened in headless Chromium."""
    profile.mkdir()
    done = subprocess.run(
        [chromium(), *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "--dump-dom", page.as_uri()],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout, done.stderr


def assert_loaded(dom: str, log: str) -> None:
    html_tag = re.search(r"<html[^>]*>", dom)
    assert html_tag is not None, dom[:500]
    # the theme's script replaces "no-js" by "js": the bundle was found and ran
    assert re.search(r'class="[^"]*\bjs\b', html_tag.group(0)), html_tag.group(0)
    assert "no-js" not in html_tag.group(0)
    assert "Uncaught" not in log, [line for line in log.splitlines() if "Uncaught" in line]


def test_the_front_page_loads_with_its_scripts(site: Path, tmp_path: Path) -> None:
    dom, log = load(site / "index.html", tmp_path / "profile")
    assert_loaded(dom, log)
    assert re.search(r"<h1[^>]*>aiodocker", dom)
    assert 'href="guides/connecting.html"' in dom
    assert 'href="reference/docker.html"' in dom


def test_an_api_page_shows_the_docstrings_of_docker(site: Path, tmp_path: Path) -> None:
    dom, log = load(site / "reference" / "docker.html", tmp_path / "profile")
    assert_loaded(dom, log)
    assert 'id="aiodocker.docker.Docker"' in dom
    assert 'id="aiodocker.docker.Docker.close"' in dom
    text = " ".join(html.unescape(re.sub(r"<[^>]+>", "", dom)).split())
    for documented in (Docker, Docker.close, Docker.version):
        summary = (inspect.getdoc(documented) or "").splitlines()[0]
        assert summary.replace("``", "") in text, summary


def test_a_record_is_documented_with_its_fields_as_the_constructor(site: Path) -> None:
    # Record makes __init__ at run time; scripts/griffe_records.py shows griffe the signature
    page = (site / "reference" / "observability.html").read_text(encoding="utf-8")
    text = " ".join(html.unescape(re.sub(r"<[^>]+>", "", page)).split())
    fields = [
        f"{name}: {annotation}" + (f" = {RequestResult._defaults[name]!r}" if name in RequestResult._defaults else "")
        for name, annotation in RequestResult.__annotations__.items()
    ]
    assert f"RequestResult( {', '.join(fields)}, )" in text


def test_a_broken_link_fails_the_strict_build(tmp_path: Path) -> None:
    project = tmp_path / "project"
    shutil.copytree(REPO_ROOT / "docs", project / "docs")
    shutil.copy(REPO_ROOT / "mkdocs.yml", project / "mkdocs.yml")
    (project / "scripts").mkdir()  # the griffe extension mkdocs.yml names
    shutil.copy(REPO_ROOT / "scripts" / "griffe_records.py", project / "scripts")
    (project / "docs" / "index.md").write_text("# x\n\n[gone](no-such-page.md)\n", encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path / "out")],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
        env={"NO_MKDOCS_2_WARNING": "1", "PATH": "/usr/bin:/bin", "PYTHONPATH": str(REPO_ROOT)},
    )
    assert done.returncode != 0
    assert "no-such-page.md" in done.stderr
