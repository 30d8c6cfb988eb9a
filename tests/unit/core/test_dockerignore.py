"""Rules of .dockerignore parsing and matching (the docker CLI's classic builder)."""

from __future__ import annotations

import pytest

from aiodocker._core.dockerignore import IgnoreMatcher, clean_path, parse_dockerignore


@pytest.mark.parametrize(
    ("path", "cleaned"),
    [
        ("", "."),
        (".", "."),
        ("./", "."),
        ("a/", "a"),
        ("./a//b/", "a/b"),
        ("a/./b/../c", "a/c"),
        ("../a", "../a"),
        ("a/../..", ".."),
        ("/../a", "/a"),
        ("//a", "/a"),
        ("/", "/"),
    ],
)
def test_clean_path_behaves_like_go_filepath_clean(path: str, cleaned: str) -> None:
    assert clean_path(path) == cleaned


def test_parse_skips_comments_only_in_column_one_and_blank_lines() -> None:
    text = "# comment\n\n   \n  # not a comment\nfoo\n"
    assert parse_dockerignore(text) == ["# not a comment", "foo"]


def test_parse_trims_whitespace_crlf_and_first_line_bom() -> None:
    assert parse_dockerignore("\ufeff  a  \r\nb\t\r\n") == ["a", "b"]


def test_parse_cleans_patterns_and_drops_leading_slash() -> None:
    text = "/foo\n./bar/\nbaz/../qux\n/\n!/keep//me/\n!  spaced\n"
    assert parse_dockerignore(text) == ["foo", "bar", "qux", "/", "!keep/me", "!spaced"]


def test_parse_keeps_a_bare_exclamation_for_the_matcher_to_reject() -> None:
    assert parse_dockerignore("!\n") == ["!"]
    with pytest.raises(ValueError, match="illegal exclusion pattern"):
        IgnoreMatcher("!\n")


@pytest.mark.parametrize(
    "pattern",
    ["[", "a[", "[]", "[]a]", "[-a]", "[a-]", "a\\", "[a", "[^", "[z-a]"],
)
def test_malformed_glob_is_rejected_naming_the_pattern(pattern: str) -> None:
    with pytest.raises(ValueError, match="pattern"):
        IgnoreMatcher.from_patterns([pattern])


# (dockerignore text, path, excluded)
MATCH_TABLE = [
    # plain names match the path itself and everything below it
    ("foo", "foo", True),
    ("foo", "foo/bar/baz", True),
    ("foo", "a/foo", False),
    ("foo", "foobar", False),
    # leading slash and trailing slash mean the same as the bare name
    ("/foo/", "foo/x", True),
    ("./foo", "foo", True),
    # * and ? stop at /
    ("*.md", "README.md", True),
    ("*.md", "docs/README.md", False),
    ("*/*.md", "docs/README.md", True),
    ("*/temp*", "somedir/temporary.txt", True),
    ("*/temp*", "somedir/temp", True),
    ("*/*/temp*", "somedir/subdir/temporary.txt", True),
    ("temp?", "tempa", True),
    ("temp?", "temp", False),
    ("temp?", "temp/x", False),
    ("a?c", "a/c", False),
    # character classes, negation with ^ (not !), escapes
    ("file[0-9].txt", "file7.txt", True),
    ("file[0-9].txt", "filex.txt", False),
    ("file[^0-9].txt", "filex.txt", True),
    ("file[!0-9].txt", "file!.txt", True),
    ("file[!0-9].txt", "filex.txt", False),
    ("\\*.txt", "*.txt", True),
    ("\\*.txt", "a.txt", False),
    ("a\\[b", "a[b", True),
    # regexp metacharacters are literal
    ("a+b(c).txt", "a+b(c).txt", True),
    ("a+b(c).txt", "aab(c)xtxt", False),
    ("$x{1}|y", "$x{1}|y", True),
    # ** spans any number of directories, including none
    ("**/*.go", "main.go", True),
    ("**/*.go", "pkg/sub/x.go", True),
    ("**/*.go", "pkg/sub/x.gox", False),
    ("a/**/b", "a/b", True),
    ("a/**/b", "a/x/y/b", True),
    ("a/**/b", "a/x/y/bb", False),
    ("a/**", "a/x/y", True),
    ("a/**", "a", False),
    ("**", "anything/at/all", True),
    ("**/node_modules", "node_modules/x", True),
    ("**/node_modules", "a/b/node_modules/x/y", True),
    # a leading ** followed by literal text matches any path ending in it
    ("**.log", "app.log", True),
    ("**.log", "a/b.log", True),
    ("**/foo", "barfoo", False),
    # exceptions: the last matching line wins
    ("*.md\n!README.md", "README.md", False),
    ("*.md\n!README.md", "CHANGES.md", True),
    ("*.md\n!README*.md\nREADME-secret.md", "README-secret.md", True),
    ("*.md\n!README*.md\nREADME-secret.md", "README-public.md", False),
    ("*.md\nREADME-secret.md\n!README*.md", "README-secret.md", False),
    ("*\n!src", "src/main.py", False),
    ("*\n!src", "docs/a", True),
    # an exception re-includes a child of an excluded directory
    ("build\n!build/keep", "build/keep", False),
    ("build\n!build/keep", "build/keep/deep", False),
    ("build\n!build/keep", "build/other", True),
    # ... and a later exclusion of the parent wins again
    ("build\n!build/keep\nbuild", "build/keep", True),
    # comments are not patterns
    ("# foo\nbar", "# foo", False),
    ("# foo\nbar", "bar", True),
    # the context root itself is never excluded
    ("*", ".", False),
    ("**", "./", False),
]


@pytest.mark.parametrize(("text", "path", "excluded"), MATCH_TABLE)
def test_matcher_table(text: str, path: str, excluded: bool) -> None:
    assert IgnoreMatcher(text).matches(path) is excluded


def test_matches_accepts_unclean_relative_paths() -> None:
    matcher = IgnoreMatcher("foo/bar")
    assert matcher.matches("./foo/bar/")
    assert matcher.matches("foo//bar/baz")


def test_empty_matcher_excludes_nothing_and_is_falsy() -> None:
    matcher = IgnoreMatcher("# only a comment\n")
    assert not matcher
    assert not matcher.matches("anything")


def test_walk_enters_excluded_directory_only_for_literal_exception_prefix() -> None:
    matcher = IgnoreMatcher("build\n!build/keep\nvendor\n!**/LICENSE")
    assert matcher.may_reinclude_below("build")
    assert not matcher.may_reinclude_below("vendor")
    assert not matcher.may_reinclude_below("buil")
    assert not IgnoreMatcher("build").may_reinclude_below("build")


def test_exception_prefix_matches_whole_directory_names_only() -> None:
    matcher = IgnoreMatcher("*\n!abc/file")
    assert matcher.may_reinclude_below("abc")
    assert not matcher.may_reinclude_below("ab")


def test_match_in_walk_agrees_with_matches_for_ordinary_patterns() -> None:
    matcher = IgnoreMatcher("build\n!build/keep\n*.tmp\n**/cache\n!**/cache/keep.txt")
    paths = [
        "build",
        "build/keep",
        "build/keep/x.tmp",
        "build/other",
        "src",
        "src/a.tmp",
        "src/cache",
        "src/cache/keep.txt",
        "src/cache/x",
    ]
    states: dict[str, tuple[bool, ...]] = {}
    for path in paths:
        parent = path.rpartition("/")[0]
        excluded, states[path] = matcher.match_in_walk(path, states.get(parent))
        assert excluded is matcher.matches(path), path


def test_match_in_walk_uses_parent_results_like_the_cli() -> None:
    # A pattern skipped while matching the parent is checked against the child
    # alone, so "a" (third line) does not exclude "a/b" in a walk.
    matcher = IgnoreMatcher("a\n!a/b\na")
    excluded_a, state_a = matcher.match_in_walk("a", None)
    assert excluded_a
    excluded_ab, _ = matcher.match_in_walk("a/b", state_a)
    assert not excluded_ab
    assert matcher.matches("a/b")  # the stateless check sees the parent match


def test_extended_appends_patterns() -> None:
    matcher = IgnoreMatcher("*").extended("!Dockerfile")
    assert not matcher.matches("Dockerfile")
    assert matcher.matches("other")
    assert matcher.has_exceptions
    assert [str(p) for p in matcher.patterns] == ["*", "!Dockerfile"]
