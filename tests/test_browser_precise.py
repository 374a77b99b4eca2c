"""Precise updates in a real browser: an edited page is updated in place, keeping
what the user was doing, and tabs showing other pages are not touched."""

from __future__ import annotations

from pathlib import Path

from conftest import wait_connected, write_atomic, write_in_place

STYLE = "([sel, prop]) => getComputedStyle(document.querySelector(sel))[prop]"


def page(title: str, body: str, head: str = "", html_attributes: str = "") -> str:
    return (
        f'<!doctype html>\n<html lang="en"{html_attributes}>\n<head>\n<meta charset="utf-8">\n'
        f"<title>{title}</title>\n{head}</head>\n<body>\n{body}\n</body>\n</html>\n"
    )


def make_site(root: Path, files: dict[str, str]) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, old
    write_in_place(path, text.replace(old, new, 1))


def mark(tab) -> None:
    """Leave a marker that only survives if the page is not reloaded."""
    tab.evaluate("window.__notReloaded = true")


def still_marked(tab) -> bool:
    return tab.evaluate("window.__notReloaded === true")


def wait_text(tab, selector: str, text: str, timeout: float = 10_000) -> None:
    tab.wait_for_function(
        "([sel, text]) => { const el = document.querySelector(sel); return !!el && el.textContent === text; }",
        arg=[selector, text], timeout=timeout,
    )


def wait_style(tab, selector: str, prop: str, value: str, timeout: float = 10_000) -> None:
    tab.wait_for_function(f"([sel, prop, value]) => ({STYLE})([sel, prop]) === value", arg=[selector, prop, value],
                          timeout=timeout)


def received(tab) -> list[list]:
    """The updates and reloads this tab received since it loaded: [type, paths]."""
    return tab.evaluate(
        "window.__hotreload.received.filter(m => !['hello', 'pong'].includes(m.type)).map(m => [m.type, m.paths])"
    )


def wait_reloaded(tab, timeout: float = 10_000) -> None:
    tab.wait_for_function("() => window.__notReloaded !== true", timeout=timeout)
    wait_connected(tab, timeout)


LONG_BODY = "\n".join(f'<p id="p{n}" style="height: 40px">Paragraph {n}</p>' for n in range(300))


def test_the_scroll_position_is_kept_after_an_edit_far_down_a_long_page(serve, tmp_path: Path, new_page) -> None:
    root = make_site(tmp_path / "site", {"long.html": page("Long", LONG_BODY)})
    server = serve(str(root))
    tab = new_page(server.url + "long.html")
    tab.evaluate("window.scrollTo(0, 9000)")
    tab.wait_for_function("() => window.scrollY === 9000")
    mark(tab)
    edit(root / "long.html", "Paragraph 250<", "Paragraph 250, edited<")
    wait_text(tab, "#p250", "Paragraph 250, edited")
    assert tab.evaluate("window.scrollY") == 9000
    assert still_marked(tab)
    server.wait_for_line(r"page\s+/long.html\s+morph")


def test_what_the_user_and_the_page_scripts_did_survives_an_edit_elsewhere(serve, tmp_path: Path, new_page) -> None:
    form = """
<h1>Sign up</h1>
<form>
  <input id="name" name="name">
  <label><input id="agree" type="checkbox"> I agree</label>
  <details id="more"><summary>More</summary><p>Details</p></details>
</form>
<script>document.body.insertAdjacentHTML("beforeend", '<div id="added-by-script">hi</div>');</script>
"""
    root = make_site(tmp_path / "site", {"form.html": page("Form", form)})
    server = serve(str(root))
    tab = new_page(server.url + "form.html")
    tab.click("#name")
    tab.keyboard.type("Ada Lov")
    tab.check("#agree")
    tab.click("#more summary")
    mark(tab)
    edit(root / "form.html", "<h1>Sign up</h1>", "<h1>Join us</h1>")
    wait_text(tab, "h1", "Join us")
    assert tab.input_value("#name") == "Ada Lov"
    assert tab.is_checked("#agree")
    assert tab.evaluate("document.getElementById('more').open")
    assert tab.evaluate("document.querySelectorAll('#added-by-script').length") == 1
    assert still_marked(tab)


def test_the_focus_and_the_caret_are_kept(serve, tmp_path: Path, new_page) -> None:
    body = '<h1>Notes</h1>\n<p id="hint">Write below.</p>\n<textarea id="notes"></textarea>'
    root = make_site(tmp_path / "site", {"notes.html": page("Notes", body)})
    server = serve(str(root))
    tab = new_page(server.url + "notes.html")
    tab.click("#notes")
    tab.keyboard.type("first line, second part")
    tab.evaluate("document.getElementById('notes').setSelectionRange(6, 10)")
    mark(tab)
    # A paragraph inserted before the textarea: its siblings are rearranged around it.
    edit(root / "notes.html", '<p id="hint">Write below.</p>', '<p id="hint">Write below.</p>\n<p id="new">New</p>')
    wait_text(tab, "#new", "New")
    assert tab.evaluate("document.activeElement.id") == "notes"
    assert tab.evaluate("[document.activeElement.selectionStart, document.activeElement.selectionEnd]") == [6, 10]
    assert tab.input_value("#notes") == "first line, second part"
    assert still_marked(tab)


def test_head_changes_are_applied_in_place(serve, tmp_path: Path, new_page) -> None:
    root = make_site(tmp_path / "site", {
        "index.html": page("Before", "<h1>Home</h1>", head='<link rel="stylesheet" href="a.css">\n'),
        "a.css": "h1 { color: rgb(1, 1, 1); }\n",
        "b.css": "h1 { color: rgb(2, 200, 2); }\n",
    })
    server = serve(str(root))
    tab = new_page(server.url)
    mark(tab)
    edit(root / "index.html", '<title>Before</title>\n<link rel="stylesheet" href="a.css">',
         '<title>After</title>\n<link rel="stylesheet" href="b.css">')
    tab.wait_for_function("() => document.title === 'After'")
    wait_style(tab, "h1", "color", "rgb(2, 200, 2)")
    assert still_marked(tab)


def three_pages(root: Path) -> Path:
    shared = '<link rel="stylesheet" href="css/shared.css">\n'
    return make_site(root, {
        "a.html": page("A", "<h1>Page A</h1>", head=shared),
        "b.html": page("B", "<h1>Page B</h1>", head=shared),
        "c.html": page("C", "<h1>Page C</h1>", head='<link rel="stylesheet" href="css/c.css">\n'),
        "css/shared.css": "h1 { color: rgb(10, 10, 10); }\n",
        "css/c.css": "h1 { color: rgb(20, 20, 20); }\n",
    })


def test_three_tabs_on_three_pages_and_one_edit_updates_exactly_one(serve, tmp_path: Path, new_page) -> None:
    root = three_pages(tmp_path / "site")
    server = serve(str(root))
    tabs = {name: new_page(f"{server.url}{name}.html") for name in "abc"}
    for tab in tabs.values():
        mark(tab)
    edit(root / "b.html", "<h1>Page B</h1>", "<h1>Page B, edited</h1>")
    wait_text(tabs["b"], "h1", "Page B, edited")
    # Updates reach a tab in order: once a later edit that every tab uses has
    # arrived, an update for b.html would have arrived before it.
    edit(root / "css" / "shared.css", "rgb(10, 10, 10)", "rgb(11, 11, 11)")
    edit(root / "css" / "c.css", "rgb(20, 20, 20)", "rgb(21, 21, 21)")
    wait_style(tabs["a"], "h1", "color", "rgb(11, 11, 11)")
    wait_style(tabs["c"], "h1", "color", "rgb(21, 21, 21)")
    assert received(tabs["a"]) == [["update", ["/css/shared.css"]]]
    assert received(tabs["c"]) == [["update", ["/css/c.css"]]]
    assert all(still_marked(tab) for tab in tabs.values())
    assert tabs["b"].evaluate("window.__hotreload.applied.map(a => a.how)") == ["morph"]


def test_a_shared_stylesheet_updates_only_the_tabs_that_use_it(serve, tmp_path: Path, new_page) -> None:
    root = three_pages(tmp_path / "site")
    server = serve(str(root))
    tabs = {name: new_page(f"{server.url}{name}.html") for name in "abc"}
    for tab in tabs.values():
        mark(tab)
    edit(root / "css" / "shared.css", "rgb(10, 10, 10)", "rgb(12, 120, 12)")
    wait_style(tabs["a"], "h1", "color", "rgb(12, 120, 12)")
    wait_style(tabs["b"], "h1", "color", "rgb(12, 120, 12)")
    edit(root / "css" / "c.css", "rgb(20, 20, 20)", "rgb(22, 22, 22)")
    wait_style(tabs["c"], "h1", "color", "rgb(22, 22, 22)")
    assert received(tabs["c"]) == [["update", ["/css/c.css"]]]
    assert received(tabs["a"]) == received(tabs["b"]) == [["update", ["/css/shared.css"]]]
    assert all(still_marked(tab) for tab in tabs.values())
    server.wait_for_line(r"css\s+/css/shared.css\s+hot.*2 pages use it")


def test_a_file_no_page_uses_updates_nobody_and_the_terminal_says_so(serve, tmp_path: Path, new_page) -> None:
    root = three_pages(tmp_path / "site")
    make_site(root, {"notes.md": "# notes\n", "css/unused.css": "p {}\n"})
    server = serve(str(root))
    tab = new_page(server.url + "a.html")
    mark(tab)
    write_in_place(root / "notes.md", "# notes, edited\n")
    server.wait_for_line(r"asset\s+/notes.md\s+ignored.*no page uses it")
    write_in_place(root / "css" / "unused.css", "p { color: red }\n")
    server.wait_for_line(r"css\s+/css/unused.css\s+ignored")
    edit(root / "css" / "shared.css", "rgb(10, 10, 10)", "rgb(13, 13, 13)")
    wait_style(tab, "h1", "color", "rgb(13, 13, 13)")
    assert received(tab) == [["update", ["/css/shared.css"]]]
    assert still_marked(tab)


def test_a_file_the_graph_cannot_place_reloads_every_tab_and_says_why(serve, tmp_path: Path, new_page) -> None:
    loader = (
        "<h1>Feed</h1>\n<script>fetch('/data/feed.bin', {referrerPolicy: 'no-referrer'})"
        ".then(r => r.text()).then(t => { window.feed = t; });</script>"
    )
    root = make_site(tmp_path / "site", {
        "feed.html": page("Feed", loader), "other.html": page("Other", "<h1>Other</h1>"), "data/feed.bin": "one",
    })
    server = serve(str(root))
    feed = new_page(server.url + "feed.html")
    feed.wait_for_function("() => window.feed === 'one'")
    other = new_page(server.url + "other.html")
    mark(feed)
    mark(other)
    write_atomic(root / "data" / "feed.bin", "two")
    feed.wait_for_function("() => window.feed === 'two'")
    wait_reloaded(other)
    assert any("reloading: feed.bin changed and no page is known to use it" in line for line in other.console_lines)
    server.wait_for_line(r"asset\s+/data/feed.bin\s+reload.*every tab: no page is known to use it")


def test_a_script_change_falls_back_to_a_reload_with_the_reason(serve, tmp_path: Path, new_page) -> None:
    body = '<h1 id="title">Counter</h1>\n<script>window.step = 1;</script>'
    root = make_site(tmp_path / "site", {"counter.html": page("Counter", body)})
    server = serve(str(root))
    tab = new_page(server.url + "counter.html")
    mark(tab)
    edit(root / "counter.html", "window.step = 1;", "window.step = 2;")
    tab.wait_for_function("() => window.step === 2")
    assert not still_marked(tab)
    reloads = [line for line in tab.console_lines if "reloading:" in line]
    assert reloads and "not updated in place: script changed" in reloads[0], tab.console_lines
    server.wait_for_line(r"\[/counter.html\] reloading instead of updating in place: script changed")


def test_a_page_can_opt_out_of_being_updated_in_place(serve, tmp_path: Path, new_page) -> None:
    root = make_site(tmp_path / "site", {
        "canvas.html": page("Canvas", "<h1>Drawing</h1>", html_attributes=' data-hotreload="reload"'),
    })
    server = serve(str(root))
    tab = new_page(server.url + "canvas.html")
    mark(tab)
    edit(root / "canvas.html", "<h1>Drawing</h1>", "<h1>Painting</h1>")
    wait_text(tab, "h1", "Painting")
    assert not still_marked(tab)
    assert any("opts out" in line for line in tab.console_lines if "reloading:" in line)


def test_with_reload_html_an_edited_page_reloads(serve, tmp_path: Path, new_page) -> None:
    root = make_site(tmp_path / "site", {"a.html": page("A", "<h1>A</h1>"), "b.html": page("B", "<h1>B</h1>")})
    server = serve(str(root), "--reload-html")
    tab = new_page(server.url + "a.html")
    other = new_page(server.url + "b.html")
    mark(tab)
    mark(other)
    edit(root / "a.html", "<h1>A</h1>", "<h1>A, edited</h1>")
    wait_text(tab, "h1", "A, edited")
    assert not still_marked(tab)
    assert any("reloading: a.html changed" in line for line in tab.console_lines)
    server.wait_for_line(r"page\s+/a.html\s+reload")
    wait_connected(other)
    assert still_marked(other)


def scrolled_to(tab, y: int) -> None:
    tab.evaluate(f"window.scrollTo(0, {y})")
    tab.wait_for_function(f"() => window.scrollY === {y}")


def test_a_full_reload_keeps_the_scroll_position_and_the_hash(serve, tmp_path: Path, new_page) -> None:
    body = LONG_BODY + '\n<script src="app.js"></script>'
    root = make_site(tmp_path / "site", {"long.html": page("Long", body), "app.js": "window.version = 1;\n"})
    server = serve(str(root))
    tab = new_page(server.url + "long.html#p100")
    scrolled_to(tab, 6543)
    mark(tab)
    write_in_place(root / "app.js", "window.version = 2;\n")
    tab.wait_for_function("() => window.version === 2")
    wait_reloaded(tab)
    tab.wait_for_function("() => window.scrollY === 6543", timeout=10_000)
    assert tab.evaluate("location.hash") == "#p100"


def test_after_a_server_restart_the_reload_keeps_the_scroll_position_and_the_hash(
    serve, tmp_path: Path, new_page
) -> None:
    root = make_site(tmp_path / "site", {"long.html": page("Long", LONG_BODY)})
    first = serve(str(root))
    port = first.url.rsplit(":", 1)[1].strip("/")
    tab = new_page(first.url + "long.html#p50")
    scrolled_to(tab, 4321)
    mark(tab)
    first.stop()
    serve(str(root), "--port", port, "--strict-port")
    wait_reloaded(tab, timeout=20_000)
    tab.wait_for_function("() => window.scrollY === 4321", timeout=10_000)
    assert tab.evaluate("location.hash") == "#p50"


def test_a_page_in_its_own_encoding_is_updated_with_the_right_characters(serve, tmp_path: Path, new_page) -> None:
    root = tmp_path / "site"
    root.mkdir()
    latin = page("Menu", "<h1>Café</h1>\n<p>Prix: 3 €</p>", head='<meta charset="windows-1252">\n')
    (root / "menu.html").write_bytes(latin.replace('<meta charset="utf-8">\n', "").encode("cp1252"))
    server = serve(str(root))
    tab = new_page(server.url + "menu.html")
    mark(tab)
    write_in_place(root / "menu.html", (root / "menu.html").read_bytes().replace("Café".encode("cp1252"),
                                                                               "Crème brûlée".encode("cp1252")))
    wait_text(tab, "h1", "Crème brûlée")
    assert tab.text_content("p") == "Prix: 3 €"
    assert still_marked(tab)
