"""What a user sees in a real browser tab while editing the example site."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

from pages import mark, still_marked
from conftest import wait_connected, write_atomic, write_in_place


def png(rgb: tuple[int, int, int], size: int = 96) -> bytes:
    raw = b"".join(b"\x00" + bytes(rgb) * size for _ in range(size))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")


def count_loads(page) -> list[str]:
    loads: list[str] = []
    page.on("load", lambda: loads.append(page.url))
    return loads


def assert_no_reload_pending(page, site: Path) -> None:
    """Updates arrive in order: if a later stylesheet edit is applied hot in this
    same page, no reload was still on its way."""
    mark(page)
    css = site / "css" / "site.css"
    write_in_place(css, css.read_text() + "\nhtml { outline-color: rgb(1, 99, 1); }\n")
    wait_style(page, "html", "outlineColor", "rgb(1, 99, 1)")
    assert still_marked(page)


STYLE_OF = "(sel, prop) => getComputedStyle(document.querySelector(sel))[prop]"


def wait_style(page, selector: str, prop: str, value: str, timeout: float = 5000) -> None:
    page.wait_for_function(
        "([sel, prop, value]) => getComputedStyle(document.querySelector(sel))[prop] === value",
        arg=[selector, prop, value], timeout=timeout,
    )


def test_stylesheet_edit_is_swapped_without_a_reload(serve, site: Path, new_page) -> None:
    server = serve(str(site))
    page = new_page(server.url)
    mark(page)
    css = site / "css" / "site.css"
    write_in_place(css, css.read_text().replace("margin-top: 1.5rem;", "margin-top: 1.5rem; color: rgb(200, 10, 20);"))
    wait_style(page, ".cards", "color", "rgb(200, 10, 20)")
    assert still_marked(page)
    assert page.locator("link[rel=stylesheet]").count() == 1
    server.wait_for_line(r"css\s+/css/site.css\s+hot")


def test_a_sheet_reached_through_import_is_refreshed(serve, site: Path, new_page) -> None:
    server = serve(str(site))
    page = new_page(server.url)
    mark(page)
    theme = site / "css" / "theme.css"
    write_atomic(theme, theme.read_text().replace("#f6f7fb", "rgb(1, 2, 3)"))
    wait_style(page, "body", "backgroundColor", "rgb(1, 2, 3)")
    assert still_marked(page)


def sheet_fetches(page, name: str) -> list[str]:
    return page.evaluate(
        "(name) => performance.getEntriesByType('resource').map((e) => e.name).filter((n) => n.includes(name))", name
    )


def test_a_small_sheet_arrives_with_its_update_and_its_new_references_are_followed(
    serve, site: Path, new_page
) -> None:
    # theme.css (imported by site.css) is small and plain: its text comes with
    # the update, so the tab rewrites the sheet without fetching it.
    server = serve(str(site))
    page = new_page(server.url)
    mark(page)
    theme = site / "css" / "theme.css"
    fetched = len(sheet_fetches(page, "theme.css"))
    (site / "img" / "dot.png").write_bytes(png((0, 0, 255), size=8))
    write_in_place(theme, theme.read_text().replace("#f6f7fb", "rgb(4, 5, 6)")
                   + "\nh1 { background-image: url(../img/dot.png); }\n")
    wait_style(page, "body", "backgroundColor", "rgb(4, 5, 6)")
    assert len(sheet_fetches(page, "theme.css")) == fetched
    # The image the new rule brought in is known to be this page's: editing it updates the tab.
    page.wait_for_function("() => getComputedStyle(document.querySelector('h1')).backgroundImage.includes('dot.png')")
    write_atomic(site / "img" / "dot.png", png((0, 255, 0), size=8))
    page.wait_for_function(
        "() => getComputedStyle(document.querySelector('h1')).backgroundImage.includes('dot.png?hr=')", timeout=5000
    )
    server.wait_for_line(r"image\s+/img/dot.png\s+hot")
    assert still_marked(page)


def test_image_edit_changes_the_pixels_in_place(serve, site: Path, new_page) -> None:
    server = serve(str(site))
    page = new_page(server.url)
    page.wait_for_function("() => document.getElementById('logo').complete")
    mark(page)
    # The 1x candidate of the srcset is the png; make it red.
    write_atomic(site / "img" / "logo.png", png((255, 0, 0)))
    page.wait_for_function(
        """() => {
            const img = document.getElementById('logo');
            if (!img.complete || !img.naturalWidth) return false;
            const c = document.createElement('canvas'); c.width = c.height = 4;
            const ctx = c.getContext('2d'); ctx.drawImage(img, 0, 0, 4, 4);
            const [r, g, b] = ctx.getImageData(1, 1, 1, 1).data;
            return r > 240 && g < 20 && b < 20;
        }""",
        timeout=5000,
    )
    assert still_marked(page)


def test_css_background_image_is_refreshed(serve, site: Path, new_page) -> None:
    server = serve(str(site))
    page = new_page(server.url)
    mark(page)
    pattern = site / "img" / "pattern.svg"
    write_atomic(pattern, pattern.read_text().replace('r="2"', 'r="3"'))
    page.wait_for_function(
        "() => getComputedStyle(document.querySelector('.hero')).backgroundImage.includes('hr=')", timeout=5000
    )
    assert still_marked(page)


def test_with_reload_html_an_html_edit_reloads_only_that_page_and_keeps_the_scroll(
    serve, site: Path, new_page
) -> None:
    about = site / "about.html"
    about.write_text(about.read_text().replace("</main>", "<div style='height:4000px'></div><p id=end>end</p></main>"))
    server = serve(str(site), "--reload-html")
    page = new_page(server.url + "about.html")
    other = new_page(server.url)
    mark(other)
    page.evaluate("window.scrollTo(0, 1500)")
    page.wait_for_function("() => window.scrollY === 1500")
    loads = count_loads(page)
    write_in_place(about, about.read_text().replace("<h1>About</h1>", "<h1>About us</h1>"))
    page.wait_for_function("() => document.querySelector('h1') && document.querySelector('h1').textContent === 'About us'")
    wait_connected(page)
    page.wait_for_function("() => window.scrollY === 1500", timeout=5000)
    assert len(loads) == 1
    assert still_marked(other)
    server.wait_for_line(r"page\s+/about.html\s+reload")


def test_a_burst_of_300_files_updates_the_page_once(serve, site: Path, new_page) -> None:
    server = serve(str(site))
    page = new_page(server.url)
    loads = count_loads(page)
    gen = site / "generated"
    gen.mkdir()
    for i in range(300):
        (gen / f"page{i}.html").write_text(f"<p>{i}</p>")
    index = site / "index.html"
    write_in_place(index, index.read_text().replace("Hello from hotreload", "Hello again"))
    page.wait_for_function("() => document.querySelector('h1') && document.querySelector('h1').textContent === 'Hello again'")
    wait_connected(page)
    assert_no_reload_pending(page, site)
    assert loads == []
    assert page.evaluate("window.__hotreload.applied.map(a => a.how)") == ["morph"]


def test_fetch_of_html_is_not_injected(serve, site: Path, new_page) -> None:
    server = serve(str(site))
    page = new_page(server.url)
    text = page.evaluate("() => fetch('/about.html').then(r => r.text())")
    assert text == (site / "about.html").read_text()


def test_a_404_page_turns_into_the_page_once_it_exists(serve, site: Path, new_page) -> None:
    server = serve(str(site))
    page = new_page(server.url + "later.html")
    assert "404" in page.title()
    write_atomic(site / "later.html", "<!doctype html><title>Later</title><h1>Here now</h1>")
    page.wait_for_function("() => document.title === 'Later'")


def test_a_classic_script_edit_reloads_the_pages_that_load_it(serve, site: Path, new_page) -> None:
    server = serve(str(site))
    page = new_page(server.url)
    about = new_page(server.url + "about.html")
    mark(page)
    mark(about)
    script = site / "js" / "classic.js"
    write_in_place(script, 'document.getElementById("classic").textContent = "classic script: edited";\n')
    page.wait_for_function("() => document.getElementById('classic').textContent === 'classic script: edited'")
    assert not still_marked(page)
    wait_connected(about)
    assert still_marked(about)


def test_a_restarted_server_brings_open_tabs_back(serve, site: Path, new_page) -> None:
    first = serve(str(site))
    port = first.url.rsplit(":", 1)[1].strip("/")
    page = new_page(first.url)
    mark(page)
    first.stop()
    second = serve(str(site), "--port", port, "--strict-port")
    page.wait_for_function("() => window.__notReloaded !== true && window.__hotreload && window.__hotreload.ready")
    theme = site / "css" / "theme.css"
    write_atomic(theme, theme.read_text().replace("#f6f7fb", "rgb(9, 8, 7)"))
    wait_style(page, "body", "backgroundColor", "rgb(9, 8, 7)")
    assert second.proc.poll() is None
    # The first server said why it closed the socket.
    assert any("server shutting down" in line for line in page.console_lines)
