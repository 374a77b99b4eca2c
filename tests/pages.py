"""What a user sees in a tab, for the build and API tests: reloads, text, the error overlay."""

from __future__ import annotations

OVERLAY = "hotreload-error-overlay"


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
