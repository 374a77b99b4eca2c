"""Request paths map to files under the served root, and never anywhere else."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hotreload import paths
from hotreload.paths import DEFAULT_DENY, Refused, Resolved, resolve_request_path

SECRET = "top secret, outside the root"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A served root next to a secret folder, with every kind of trap inside."""
    base = tmp_path_factory.mktemp("paths")
    outside = base / "outside"
    (outside / "nested").mkdir(parents=True)
    (outside / "secret.txt").write_text(SECRET)
    (outside / "nested" / "inner.txt").write_text(SECRET)
    (outside / "module.js").write_text("export const x = 1;")
    (outside / "leaked.pem").write_text(SECRET)
    (base / "root-sibling").mkdir()
    (base / "root-sibling" / "x.txt").write_text(SECRET)

    root = base / "root"
    files = {
        "index.html": "<h1>home</h1>",
        "style.css": "body{}",
        "sub/page.html": "<p>sub</p>",
        "sub/deeper/app.js": "export {}",
        "100%.txt": "percent",
        "%2e%2e": "a file literally named %2e%2e",
        "café.html": "unicode",
        "with space.html": "space",
        "semi;colon.txt": "semicolon",
        "a+b.txt": "plus",
        ".env": SECRET,
        ".env.local": SECRET,
        ".git/config": SECRET,
        ".git/HEAD": SECRET,
        ".ssh/id_rsa": SECRET,
        ".npmrc": SECRET,
        "sub/.htpasswd": SECRET,
        "key.pem": SECRET,
        "certs/server.crt": SECRET,
        "certs/server.key": SECRET,
        "id_rsa": SECRET,
        "id_ed25519.pub": SECRET,
        "certs/UPPER.PEM": SECRET,
        "Id_RSA.bak": SECRET,
        "drafts/post.md": "draft",
    }
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")

    links = {
        "link-in.css": "style.css",
        "link-dir-in": "sub",
        "link-out.txt": "../outside/secret.txt",
        "link-abs-out.txt": str(outside / "secret.txt"),
        "link-dir-out": "../outside",
        "link-module.js": "../outside/module.js",
        "link-sibling": "../root-sibling",
        "notes.txt": ".env",
        "config-alias": ".git",
        "sub/up.txt": "../../outside/secret.txt",
        "loop": "loop",
        "dangling.txt": "does-not-exist.txt",
        "innocent-key.txt": "../outside/leaked.pem",
    }
    for name, target in links.items():
        os.symlink(target, root / name)
    os.mkfifo(root / "pipe")
    return root


# (raw request path, expected): a relative path when served, else the status.
SERVED_PATHS = [
    ("/", "."),
    ("/index.html", "index.html"),
    ("/index.html?v=2", "index.html"),
    ("/index.html#top", "index.html"),
    ("/sub/page.html", "sub/page.html"),
    ("/sub/", "sub"),
    ("/sub", "sub"),
    ("/sub//deeper/app.js", "sub/deeper/app.js"),
    ("/100%25.txt", "100%.txt"),
    ("/caf%C3%A9.html", "café.html"),
    ("/café.html", "café.html"),
    ("/with%20space.html", "with space.html"),
    ("/semi;colon.txt", "semi;colon.txt"),
    ("/a+b.txt", "a+b.txt"),
    ("/%252e%252e", "%2e%2e"),
    ("/link-in.css", "style.css"),
    ("/link-dir-in/page.html", "sub/page.html"),
    ("/drafts/post.md", "drafts/post.md"),
]

HOSTILE_PATHS = [
    # Climbing out with dot segments, however they are spelled.
    ("/../outside/secret.txt", 400),
    ("/sub/../../outside/secret.txt", 400),
    ("/..", 400),
    ("/.", 400),
    ("/sub/./page.html", 400),
    ("/%2e%2e/outside/secret.txt", 400),
    ("/%2E%2E/outside/secret.txt", 400),
    ("/.%2e/outside/secret.txt", 400),
    ("/%2e./outside/secret.txt", 400),
    ("/%2e", 400),
    ("/sub/%2e%2e/%2e%2e/outside/secret.txt", 400),
    # Double encoding is decoded once only: a literal "%2e%2e" that is not there.
    ("/%252e%252e/outside/secret.txt", 404),
    ("/%25252e%25252e/outside/secret.txt", 404),
    ("/%252e%252e%252foutside%252fsecret.txt", 404),
    # Encoded separators and backslashes.
    ("/..%2foutside%2fsecret.txt", 400),
    ("/..%2Foutside/secret.txt", 400),
    ("/sub%2f..%2f..%2foutside/secret.txt", 400),
    ("/..%5coutside%5csecret.txt", 400),
    ("/..%5Coutside/secret.txt", 400),
    ("/..\\outside\\secret.txt", 400),
    ("/sub\\page.html", 400),
    ("/%5c%5cserver%5cshare", 400),
    # NUL bytes and other control characters.
    ("/index.html%00.css", 400),
    ("/key.pem%00.html", 400),
    ("/%00", 400),
    ("/index.html\x00", 400),
    ("/index.html%0a", 400),
    ("/index.html%0d%0aSet-Cookie:x", 400),
    ("/index%7f.html", 400),
    # Overlong and invalid UTF-8 (decoders that accept them see "." or "/").
    ("/%c0%ae%c0%ae/outside/secret.txt", 400),
    ("/%c0%af", 400),
    ("/%e0%80%ae%e0%80%ae/outside", 400),
    ("/%c1%9c", 400),
    ("/%ff", 400),
    ("/%80", 400),
    ("/%ed%a0%80", 400),
    ("/\udcff", 400),
    # Malformed percent-encoding.
    ("/%", 400),
    ("/%2", 400),
    ("/%zz", 400),
    ("/%%32%65", 400),
    ("/%u002e%u002e/outside", 400),
    # Query, fragment and path-parameter tricks.
    ("/key.pem?.css", 404),
    ("/key.pem#.css", 404),
    ("/.env?x=/index.html", 404),
    ("/..;/outside/secret.txt", 404),
    ("/.;/index.html", 404),
    ("/key.pem;.css", 404),
    ("/index.html;/../../outside/secret.txt", 400),
    ("/%3f/../outside", 400),
    ("/%23/../outside", 400),
    # Trailing dots and spaces, drive letters, NTFS streams.
    ("/key.pem.", 400),
    ("/key.pem%2e", 400),
    ("/key.pem%20", 400),
    ("/key.pem%20.", 400),
    ("/sub./page.html", 400),
    ("/index.html::$DATA", 400),
    ("/index.html%3a%3a$DATA", 400),
    ("/C:/Windows/win.ini", 400),
    ("/c%3a%5cwindows%5cwin.ini", 400),
    ("/C:", 400),
    # Not an absolute path, or one a browser reads as another host.
    ("", 400),
    ("*", 400),
    ("index.html", 400),
    ("../outside/secret.txt", 400),
    ("C:\\Windows\\win.ini", 400),
    ("\\\\server\\share", 400),
    ("http://evil.example/index.html", 400),
    ("//evil.example/index.html", 400),
    ("//etc/passwd", 400),
    ("?/index.html", 400),
    # Absolute file-system paths stay inside the root.
    ("/etc/passwd", 404),
    ("/proc/self/environ", 404),
    ("/%2fetc/passwd", 400),
    # Denied names: 404 whether they exist or not.
    ("/.env", 404),
    ("/.env.local", 404),
    ("/.env.production", 404),
    ("/.git/config", 404),
    ("/.git/HEAD", 404),
    ("/.git/", 404),
    ("/.git", 404),
    ("/.GIT/config", 404),
    ("/%2egit/config", 404),
    ("/%2Eenv", 404),
    ("/.ssh/id_rsa", 404),
    ("/.npmrc", 404),
    ("/.hg/hgrc", 404),
    ("/.svn/entries", 404),
    ("/sub/.htpasswd", 404),
    ("/key.pem", 404),
    ("/KEY.PEM", 404),
    ("/key%2epem", 404),
    ("/certs/server.crt", 404),
    ("/certs/server.key", 404),
    ("/id_rsa", 404),
    ("/id_ed25519.pub", 404),
    ("/certs/UPPER.PEM", 404),
    ("/Id_RSA.bak", 404),
    ("/nothing/here.pem", 404),
    # Symlinks leaving the root, directly or through an ancestor folder.
    ("/link-out.txt", 404),
    ("/link-abs-out.txt", 404),
    ("/link-dir-out/secret.txt", 404),
    ("/link-dir-out/nested/inner.txt", 404),
    ("/link-dir-out/", 404),
    ("/link-module.js", 404),
    ("/link-sibling/x.txt", 404),
    ("/sub/up.txt", 404),
    # Symlinks inside the root that lead to a denied name.
    ("/notes.txt", 404),
    ("/config-alias/config", 404),
    # Things that are not servable files.
    ("/loop", 404),
    ("/dangling.txt", 404),
    ("/pipe", 404),
    ("/index.html/", 404),
    ("/index.html/x", 404),
    ("/missing.html", 404),
    # Absurd lengths.
    ("/" + "a" * 256, 400),
    ("/" + "a/" * 5000, 400),
]


def _inside(path: Path, root: Path) -> bool:
    real_root = root.resolve()
    real = path.resolve()
    return real == real_root or real.is_relative_to(real_root)


@pytest.mark.parametrize(("raw_path", "relative"), SERVED_PATHS)
def test_ordinary_paths_resolve_to_their_file(site: Path, raw_path: str, relative: str) -> None:
    result = resolve_request_path(site, raw_path)
    expected = (site / relative).resolve()
    assert result == Resolved(expected, is_dir=expected.is_dir())


@pytest.mark.parametrize(("raw_path", "status"), HOSTILE_PATHS)
def test_hostile_paths_are_refused_with_their_status(site: Path, raw_path: str, status: int) -> None:
    result = resolve_request_path(site, raw_path)
    assert isinstance(result, Refused), f"{raw_path!r} served {result}"
    assert result.status == status, result.reason
    assert result.reason


def test_a_denied_name_answers_the_same_whether_or_not_it_exists(site: Path) -> None:
    assert (site / ".env").exists() and not (site / ".env.production").exists()
    assert resolve_request_path(site, "/.env") == resolve_request_path(site, "/.env.production")


def test_the_default_deny_list_covers_dotfiles_and_keys() -> None:
    assert ".*" in DEFAULT_DENY
    for pattern in ("*.pem", "*.key", "*.crt", "id_rsa*", "id_ed25519*"):
        assert pattern in DEFAULT_DENY


def test_a_custom_deny_list_replaces_the_default(site: Path) -> None:
    drafts_hidden = resolve_request_path(site, "/drafts/post.md", deny=(*DEFAULT_DENY, "drafts/*"))
    assert drafts_hidden == Refused(404, "denied by pattern 'drafts/*'")
    by_name = resolve_request_path(site, "/sub/page.html", deny=("PAGE.*",))
    assert isinstance(by_name, Refused) and by_name.status == 404
    pem_allowed = resolve_request_path(site, "/key.pem", deny=(".*",))
    assert pem_allowed == Resolved((site / "key.pem").resolve(), is_dir=False)


def test_symlinks_leaving_the_root_are_served_only_when_asked(site: Path) -> None:
    outside = (site.parent / "outside").resolve()
    assert resolve_request_path(site, "/link-module.js", follow_symlinks=True) == Resolved(
        outside / "module.js", is_dir=False
    )
    assert resolve_request_path(site, "/link-dir-out/nested/inner.txt", follow_symlinks=True) == Resolved(
        outside / "nested" / "inner.txt", is_dir=False
    )


def test_following_symlinks_still_refuses_denied_targets_and_dot_segments(site: Path) -> None:
    for raw_path, status in [("/innocent-key.txt", 404), ("/notes.txt", 404), ("/../outside/secret.txt", 400)]:
        result = resolve_request_path(site, raw_path, follow_symlinks=True)
        assert isinstance(result, Refused) and result.status == status


def test_a_root_reached_through_a_symlink_serves_normally(site: Path, tmp_path: Path) -> None:
    alias = tmp_path / "alias"
    os.symlink(site, alias)
    assert resolve_request_path(alias, "/sub/page.html") == Resolved((site / "sub/page.html").resolve(), False)
    assert resolve_request_path(alias, "/link-out.txt") == Refused(404, "symlink leads outside the root")


def test_a_missing_or_file_root_serves_nothing(site: Path) -> None:
    assert resolve_request_path(site / "no-such-dir", "/") == Refused(404, "not found")
    assert resolve_request_path(site / "index.html", "/") == Refused(404, "root is not a directory")


def test_windows_device_names_are_refused_on_windows(site: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(paths, "_IS_WINDOWS", True)
    for raw_path in ("/con", "/NUL.txt", "/sub/aux.html", "/com1", "/lpt9.js", "/conin$"):
        assert resolve_request_path(site, raw_path) == Refused(400, "reserved device name"), raw_path
    assert isinstance(resolve_request_path(site, "/console.html"), Refused)  # missing, not reserved
    assert resolve_request_path(site, "/console.html").status == 404


# Pieces that hostile paths are made of, so that random paths hit the traps often.
_PIECES = st.sampled_from(
    [
        "/", "//", "\\", ".", "..", "%2e", "%2E", "%2f", "%5c", "%00", "%25", "%c0%ae", "%c0", "%ff",
        "%", "?", "#", ";", ":", " ", "%20", "~", "sub", "deeper", "page.html", "index.html", ".env",
        ".git", "config", "key.pem", "id_rsa", "link-out.txt", "link-dir-out", "link-dir-in", "secret.txt",
        "outside", "notes.txt", "config-alias", "loop", "pipe", "link-sibling", "x.txt", "café",
    ]
)  # fmt: skip


def _assert_safe(root: Path, raw_path: str) -> None:
    result = resolve_request_path(root, raw_path)
    if isinstance(result, Refused):
        assert result.status in (400, 404)
        return
    assert _inside(result.path, root), f"{raw_path!r} escaped to {result.path}"
    relative = result.path.resolve().relative_to(root.resolve())
    assert paths._matching_deny_pattern(relative.parts, DEFAULT_DENY) is None, raw_path
    if not result.is_dir:
        assert result.path.read_text(encoding="utf-8") != SECRET, raw_path


@settings(max_examples=400, deadline=None)
@given(raw_path=st.text(max_size=60))
def test_any_string_is_refused_or_stays_inside_the_root(site: Path, raw_path: str) -> None:
    _assert_safe(site, raw_path)
    _assert_safe(site, "/" + raw_path)


@settings(max_examples=600, deadline=None)
@given(pieces=st.lists(_PIECES, max_size=12))
def test_any_assembly_of_traps_is_refused_or_stays_inside_the_root(site: Path, pieces: list[str]) -> None:
    _assert_safe(site, "/" + "".join(pieces))
