"""What a user sees in a tab, for the build and API tests: reloads, text, the error overlay."""

from __future__ import annotations

from pathlib import Path

from conftest import write_atomic

OVERLAY = "hotreload-error-overlay"
OVERLAY_TEXT = "() => document.querySelector('hotreload-error-overlay')?.shadowRoot.textContent || ''"


def mark(page) -> None:
    """Leave a marker that only survives if the page is not reloaded."""
    page.evaluate("window.__notReloaded = true")


def still_marked(page) -> bool:
    return page.evaluate("window.__notReloaded === true")


def wait_text(page, selector: str, text: str, timeout: float = 15_000) -> None:
    page.wait_for_function(
        "([sel, text]) => document.querySelector(sel) && document.querySelector(sel).textContent === text",
        arg=[selector, text], timeout=timeout,
    )


def wait_reloaded(page, timeout: float = 15_000) -> None:
    page.wait_for_function("() => window.__notReloaded !== true && window.__hotreload?.ready === true", timeout=timeout)


def overlay_text(page) -> str:
    return page.evaluate(f"() => document.querySelector('{OVERLAY}')?.shadowRoot.textContent ?? ''")


def wait_overlay(page, containing: str = "", timeout: float = 15_000) -> str:
    page.wait_for_function(
        f"(text) => {{ const el = document.querySelector('{OVERLAY}'); return el !== null && el.shadowRoot.textContent.includes(text); }}",
        arg=containing, timeout=timeout,
    )
    return overlay_text(page)


def wait_no_overlay(page, timeout: float = 15_000) -> None:
    page.wait_for_function(f"() => document.querySelector('{OVERLAY}') === null", timeout=timeout)


def shows(text: str) -> str:
    """A page condition: the visible text includes ``text`` (false while the page reloads)."""
    return f"() => !!document.body && document.body.innerText.includes({text!r})"


def page_updates(page) -> list[dict]:
    """The updates and reloads a tab was sent (the error overlay's messages aside)."""
    return page.evaluate("window.__hotreload.received.filter((m) => m.type === 'update' || m.type === 'reload')")


def replace_in(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"{old!r} not in {path}"
    write_atomic(path, text.replace(old, new))
