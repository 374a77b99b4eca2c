// Page updates: an edited page is morphed in place, keeping what the user was
// doing on it; when that is not possible the page reloads, and a reload (for
// any reason) comes back at the same scroll position, with its #hash.
//
//     import { rememberPage, morphPage, saveScroll, restoreScroll } from "./page.js";
//     restoreScroll();                 // at start: back where a reload left off
//     rememberPage();                  // at start: the HTML this page was served with
//     const result = await morphPage();  // when the page's file changed
//     if (!result.ok) { saveScroll(); location.reload(); }  // result.reason says why

import { morphDocument, rememberServerHtml } from "./morph.js";

const SCROLL_KEY = "hotreload:scroll";
// A saved position older than this belongs to another visit, not to a reload.
const SCROLL_ENTRY_TTL_MS = 60000;
// How long a restored position follows late layout (images, fonts, scripts
// that add content) before leaving the page to the user.
const SCROLL_FOLLOW_MS = 3000;

// The document as it was loaded: what the snapshot and the new HTML describe.
const loadedUrl = withoutHash(location.href);

let remembered = Promise.resolve();
let turns = Promise.resolve();

function withoutHash(href) {
  const url = new URL(href);
  url.hash = "";
  return url.href;
}

function morphable() {
  return document.contentType === "text/html";
}

/**
 * Remember the HTML the server sent for this page, as the base of the next
 * morph. It is read back from the browser's cache where it can be, so it is
 * exactly what this tab shows even if the file changed since.
 *
 * @returns {Promise<void>} resolves once remembered (or given up)
 */
export function rememberPage() {
  if (!morphable()) return remembered;
  remembered = (async () => {
    try {
      const response = await fetch(loadedUrl, { cache: "force-cache", credentials: "same-origin" });
      if (response.ok) rememberServerHtml(await decoded(response));
    } catch {
      // Then the first morph starts from the live page, which works as well
      // unless scripts added nodes to it.
    }
  })();
  return remembered;
}

/**
 * Fetch this page's new HTML and morph the live page into it. Morphs run one
 * at a time, each with the newest HTML.
 *
 * @returns {Promise<{ok: true, changed: number} | {ok: false, reason: string}>}
 */
export function morphPage() {
  const turn = turns.then(morphNow);
  turns = turn.catch(() => undefined);
  return turn;
}

async function morphNow() {
  if (!morphable()) return { ok: false, reason: `a ${document.contentType} document is not updated in place` };
  if (withoutHash(location.href) !== loadedUrl) {
    return { ok: false, reason: "the page changed its address (history.pushState) since it was loaded" };
  }
  await remembered;
  let response;
  try {
    response = await fetch(loadedUrl, { cache: "no-store", credentials: "same-origin" });
  } catch (error) {
    return { ok: false, reason: `the new page could not be fetched (${error})` };
  }
  if (!response.ok) return { ok: false, reason: `the server answered ${response.status}` };
  const type = response.headers.get("Content-Type") || "";
  if (!type.startsWith("text/html")) return { ok: false, reason: `the page is now ${type || "not HTML"}` };
  const result = morphDocument(await decoded(response));
  return result.ok ? { ok: true, changed: result.changed } : result;
}

// fetch()'s text() always reads UTF-8; the page was read in its own encoding
// (a BOM, a <meta charset>), which the browser reports as characterSet.
async function decoded(response) {
  const bytes = await response.arrayBuffer();
  try {
    return new TextDecoder(document.characterSet).decode(bytes);
  } catch {
    return new TextDecoder().decode(bytes);
  }
}

function readSaved() {
  try {
    const saved = JSON.parse(sessionStorage.getItem(SCROLL_KEY) || "{}");
    return saved && typeof saved === "object" ? saved : {};
  } catch {
    return {};
  }
}

function writeSaved(saved) {
  try {
    sessionStorage.setItem(SCROLL_KEY, JSON.stringify(saved));
  } catch {
    // storage may be unavailable (privacy mode); the browser's own restoration still applies
  }
}

/** Save this tab's scroll position for its URL (#hash included), before a reload. */
export function saveScroll() {
  const saved = readSaved();
  const now = Date.now();
  for (const [url, entry] of Object.entries(saved)) {
    if (!entry || now - entry.at > SCROLL_ENTRY_TTL_MS) delete saved[url];
  }
  saved[location.href] = { x: scrollX, y: scrollY, at: now };
  writeSaved(saved);
}

/**
 * Scroll back to where the last reload of this URL left off. The position is
 * applied as soon as the page is tall enough for it, and kept while layout
 * settles, until the user scrolls.
 */
export function restoreScroll() {
  const saved = readSaved();
  const entry = saved[location.href];
  if (!entry) return;
  delete saved[location.href];
  writeSaved(saved);
  if (Date.now() - entry.at > SCROLL_ENTRY_TTL_MS) return;

  const userInput = ["wheel", "touchstart", "keydown", "mousedown"];
  let following = true;
  const stop = () => {
    following = false;
    observer?.disconnect();
    for (const type of userInput) window.removeEventListener(type, stop, true);
  };
  const apply = () => {
    if (!following) return;
    if (scrollX !== entry.x || scrollY !== entry.y) window.scrollTo(entry.x, entry.y);
  };
  for (const type of userInput) window.addEventListener(type, stop, { capture: true, passive: true });
  const observer = typeof ResizeObserver === "function" ? new ResizeObserver(apply) : null;
  observer?.observe(document.documentElement);
  document.addEventListener("DOMContentLoaded", apply, { once: true });
  window.addEventListener("load", apply, { once: true });
  apply();
  setTimeout(stop, SCROLL_FOLLOW_MS);
}
