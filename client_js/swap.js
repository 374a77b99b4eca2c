/**
 * In-place refresh of stylesheets and images after their files changed on disk.
 *
 * Nothing is ever blanked while a new version loads: a stylesheet owner
 * (`<link>` or `<style>`) is double-buffered by a clone that stays out of the
 * cascade until it and everything it imports are loaded, and an image is
 * preloaded before any reference to it is rewritten.
 *
 * Refreshed references carry the query parameter `hr=<version>`, which gives
 * every version its own URL, so no cache can hand back the old bytes.
 *
 * When the server sends a small file's new content with the update, nothing
 * needs to be fetched first: a stylesheet's rules are rewritten in place from
 * its text, and an image's references show its bytes at once, then move to
 * the new version's URL once that has loaded.
 *
 *     import { updateStylesheet, updateImage, pageUses } from '/__hotreload/swap.js';
 *     if (pageUses('http://127.0.0.1:8000/css/base.css')) {
 *       await updateStylesheet('http://127.0.0.1:8000/css/base.css', '17');
 *     }
 */

import { importRuleWithUrl, parseSrcset, rewriteCssUrls, rewriteSrcset } from './urltext.js';

const VERSION_PARAM = 'hr';
// A file that takes longer than this to arrive is treated as failed; the old version stays.
const LOAD_TIMEOUT_MS = 15000;
const IMPORT_POLL_MS = 10;
// Pictures bigger than this (in pixels) are decoded before they are swapped in.
const DECODE_AHEAD_PIXELS = 512 * 512;
// Imports have no load event; check between tasks at first (sub-millisecond, so
// a local file applies at once), then back off to IMPORT_POLL_MS.
const IMPORT_FAST_CHECKS = 300;
// Bounds on walks over structures the page controls.
const MAX_IMPORT_DEPTH = 32;
const MAX_ROOTS = 10000;

const SVG_NS = 'http://www.w3.org/2000/svg';
const XLINK_NS = 'http://www.w3.org/1999/xlink';
const ICON_RELS = ['icon', 'apple-touch-icon', 'apple-touch-icon-precomposed', 'mask-icon'];

// Elements this module inserted for a while (buffered clones, preloads); scans skip them.
const transientNodes = new WeakSet();
// The newest version applied per resource key, so that sheets loaded later are brought up to date.
const appliedVersions = new Map();


// ---------------------------------------------------------------------------
// Public interface
// ---------------------------------------------------------------------------

/**
 * Refresh every stylesheet that is, or imports at any depth, the file at `url`.
 *
 * Each affected `<link>` / `<style>` is replaced by a clone that only enters the
 * cascade, at the same position, once the new version has loaded; if it fails
 * to load the old one stays. Unaffected stylesheets are left untouched.
 *
 *     const refreshed = await updateStylesheet('http://127.0.0.1:8000/css/base.css', '17');
 *     if (refreshed === 0) location.reload();
 *
 * Given the file's new `text` (the server sends small sheets along with the
 * update), the sheets loaded from it are rewritten in place from that text
 * instead: no fetch, the same sheet objects, only the rules that changed. Where
 * that cannot be done exactly, the new version is fetched as above.
 *
 * @param {string} url absolute URL of the changed file (query and fragment are ignored)
 * @param {string} version opaque version, written into the `hr` query parameter
 * @param {string|null} [text] the file's new content, when known
 * @returns {Promise<number>} how many stylesheets were refreshed
 */
export function updateStylesheet(url, version, text = null) {
  const key = resourceKey(url, document.baseURI);
  if (key === null) return Promise.resolve(0);
  return enqueue('stylesheet', key, () => refreshStylesheets(key, String(version), text));
}

/**
 * Refresh every reference to the image at `url`: `<img src/srcset>`, `<picture>`
 * sources, `url()`s in any stylesheet rule or inline style, favicons, SVG
 * `<image>` and `<use>`, video posters and image inputs.
 *
 * The new version is preloaded first and all references switch in the same
 * frame; a version that fails to load or decode leaves the old one in place.
 *
 * Given the file's new bytes (the server sends small images along with the
 * update), the references first switch to those bytes, held in memory, so
 * the change shows without waiting for a fetch; then, once the new version's
 * URL has loaded, to that URL, which shows the same picture. A page that
 * used only `<img>`-like references and CSS ends exactly as if it had fetched.
 *
 *     const refreshed = await updateImage('http://127.0.0.1:8000/img/logo.png', '18');
 *
 * @param {string} url absolute URL of the changed file (query and fragment are ignored)
 * @param {string} version opaque version, written into the `hr` query parameter
 * @param {string|null} [data] the file's new content, base64, when known
 * @param {string|null} [type] its content type (`image/png`), with `data`
 * @returns {Promise<number>} how many references (attributes or declarations) were refreshed
 */
export function updateImage(url, version, data = null, type = null) {
  const key = resourceKey(url, document.baseURI);
  if (key === null) return Promise.resolve(0);
  const bytes = data === null ? null : { data, type: type ?? '' };
  return enqueue('image', key, () => refreshImages(key, String(version), bytes));
}

/**
 * Whether this document references the file at `url` at all: its own URL,
 * links, scripts, media elements, `srcset`s, SVG references, stylesheets and
 * their imports at any depth, `url()`s in rules and inline styles, and any
 * resource the page has fetched (resource timing entries).
 *
 *     pageUses('http://127.0.0.1:8000/js/app.js');   // true once the page loaded it
 *
 * @param {string} url absolute URL (query and fragment are ignored)
 * @returns {boolean}
 */
export function pageUses(url) {
  const key = resourceKey(url, document.baseURI);
  if (key === null) return false;
  if (resourceKey(document.URL) === key) return true;
  if (fetchedResourceKeys().has(key)) return true;
  const matches = (raw, base) => resourceKey(raw, base) === key;
  for (const root of documentRoots()) {
    for (const reference of elementReferences(root)) {
      if (reference.urls().some((raw) => matches(raw, reference.element.baseURI))) return true;
    }
    for (const { style, base } of inlineStyles(root)) {
      if (declarationsReference(style, base, matches)) return true;
    }
    for (const sheet of rootSheets(root)) {
      if (sheetReferences(sheet, matches, 0)) return true;
    }
  }
  return false;
}


// ---------------------------------------------------------------------------
// Update queue: updates apply one at a time, in the order they arrive
// ---------------------------------------------------------------------------

const SUPERSEDED = Symbol('superseded');
let queueTail = Promise.resolve();
const newestRequests = new Map();

/**
 * Run `work` after every earlier update has finished. A request still waiting
 * when a newer one for the same file arrives is skipped, and resolves with the
 * newer request's result, so quick successive saves end on the newest version.
 */
function enqueue(kind, key, work) {
  const slot = `${kind} ${key}`;
  const request = { result: null };
  newestRequests.set(slot, request);
  const turn = queueTail.then(() => (newestRequests.get(slot) === request ? work() : SUPERSEDED));
  queueTail = turn.catch(() => undefined);
  request.result = turn.then((result) => (result === SUPERSEDED ? newestRequests.get(slot).result : result));
  return request.result;
}


// ---------------------------------------------------------------------------
// Stylesheets
// ---------------------------------------------------------------------------

async function refreshStylesheets(key, version, text) {
  if (text !== null) {
    const rewritten = rewriteSheetsFromText(key, version, text);
    if (rewritten !== null) return rewritten;
  }
  const swap = { changedKey: key, versions: new Map(appliedVersions).set(key, version), imports: new ImportPreloads() };
  const preparations = [];
  for (const root of documentRoots()) {
    for (const owner of root.querySelectorAll('link, style')) {
      if (transientNodes.has(owner)) continue;
      if (owner.localName === 'link') {
        if (!owner.relList.contains('stylesheet')) continue;
        if (linksTo(owner, key)) {
          const newHref = versionedUrl(owner.getAttribute('href'), owner.baseURI, version);
          if (owner.hasAttribute('disabled')) {
            // A disabled link is neither fetched nor shown: pointing it at the new version is enough.
            preparations.push(() => {
              owner.setAttribute('href', newHref);
              return true;
            });
          } else {
            preparations.push(prepareOwnerSwap(owner, newHref, swap));
          }
          continue;
        }
      }
      const sheet = owner.sheet;
      if (sheet && importsResource(sheet, key)) {
        // Start fetching the changed file's new version now, while the clone loads.
        const stale = [];
        collectStaleImports(sheet, swap.versions, stale, 0);
        for (const entry of stale) if (entry.key === key) swap.imports.loads(entry.newUrl);
        preparations.push(prepareOwnerSwap(owner, null, swap));
      }
    }
  }
  const commits = await Promise.all(preparations);
  swap.imports.release();
  // All swaps are committed in one task, so the page shows them in the same frame.
  let refreshed = 0;
  for (const commit of commits) {
    if (commit !== null && commit()) refreshed += 1;
  }
  if (refreshed > 0) appliedVersions.set(key, version);
  return refreshed;
}

/**
 * Apply the new `text` of the file `key` to every sheet loaded from it, linked
 * or imported at any depth, by replacing the rules that changed. Nothing is
 * fetched and no element is replaced, so there is nothing to wait for and
 * nothing to flash; relative `url()`s resolve against the sheet's own URL, as
 * when it loaded. Returns how many sheets were rewritten, or null when this
 * cannot be done exactly (a sheet not loaded, a disabled link, non-ASCII text
 * in a page of another encoding than UTF-8, `@namespace` rules changing): the
 * caller then fetches the new version instead.
 */
function rewriteSheetsFromText(key, version, text) {
  // Without a BOM or @charset a sheet is decoded in its page's encoding.
  if (document.characterSet !== 'UTF-8' && !/^[\x00-\x7f]*$/.test(text)) return null;
  const targets = sheetsLoadedFrom(key);
  if (targets === null) return null;
  const versions = new Map(appliedVersions);
  const parsed = new Map();
  const edits = [];
  for (const sheet of targets) {
    if (!parsed.has(sheet.href)) parsed.set(sheet.href, ruleTexts(text, sheet.href, versions));
    const next = parsed.get(sheet.href);
    const edit = next === null ? null : ruleEdit(sheet, next);
    if (edit === null) return null;
    edits.push(edit);
  }
  // Every sheet is rewritten in this one task, so the page shows them in the same frame.
  for (const edit of edits) {
    if (!edit.apply()) return null;
  }
  if (targets.length > 0) appliedVersions.set(key, version);
  return targets.length;
}

/** Whether the `<link>` element `link` points at the file `key`. */
function linksTo(link, key) {
  const href = link.getAttribute('href');
  return href !== null && resourceKey(href, link.baseURI) === key;
}

/** The sheets loaded from the file `key`: linked, or imported at any depth. Null if one is not loaded. */
function sheetsLoadedFrom(key) {
  const found = [];
  for (const root of documentRoots()) {
    for (const owner of root.querySelectorAll('link, style')) {
      if (transientNodes.has(owner)) continue;
      if (owner.localName === 'link' && owner.relList.contains('stylesheet') && linksTo(owner, key)) {
        // No sheet: disabled, or still loading. Either way not one to rewrite.
        if (owner.sheet === null || readRules(owner.sheet) === null) return null;
        found.push(owner.sheet);
        continue;
      }
      if (owner.sheet && !collectImportedSheets(owner.sheet, key, found, 0)) return null;
    }
  }
  return found;
}

/**
 * Add to `found` the loaded sheets that `sheet` imports from the file `key`, at
 * any depth; false if such an import is not loaded (failed, or its supports()
 * condition unmet).
 */
function collectImportedSheets(sheet, key, found, depth) {
  const rules = readRules(sheet);
  if (rules === null || depth > MAX_IMPORT_DEPTH) return true;
  const base = sheetBase(sheet);
  for (const rule of rules) {
    if (!(rule instanceof CSSImportRule)) continue;
    if (resourceKey(rule.href, base) === key) {
      if (!rule.styleSheet || readRules(rule.styleSheet) === null) return false;
      found.push(rule.styleSheet);
    } else if (rule.styleSheet && !collectImportedSheets(rule.styleSheet, key, found, depth + 1)) {
      return false;
    }
  }
  return true;
}

/**
 * The rules of `text` as a sheet at `base` would hold them, serialised, with
 * `url()`s pointing at the newest versions of their files; null if it does not parse.
 */
function ruleTexts(text, base, versions) {
  const fresh = new CSSStyleSheet({ baseURL: base });
  try {
    fresh.replaceSync(text);
  } catch {
    return null;
  }
  const retarget = newestVersions(versions);
  for (const { style, base: blockBase } of blocksInRules(fresh.cssRules, base, 0)) {
    rewriteDeclarations(style, blockBase, retarget);
  }
  return Array.from(fresh.cssRules, (rule) => rule.cssText);
}

/**
 * How to turn the rules of `sheet` into `next`: only the run between the
 * unchanged leading and trailing rules is replaced. Returns `{ apply }`, where
 * `apply()` says whether it worked (on failure the sheet is put back as it
 * was), or null when the change touches `@namespace` rules, which a sheet
 * with other rules cannot gain or lose.
 */
function ruleEdit(sheet, next) {
  const current = Array.from(sheet.cssRules, (rule) => rule.cssText);
  let start = 0;
  while (start < current.length && start < next.length && current[start] === next[start]) start += 1;
  let end = 0;
  while (
    end < current.length - start && end < next.length - start
    && current[current.length - 1 - end] === next[next.length - 1 - end]
  ) end += 1;
  const removed = current.slice(start, current.length - end);
  const added = next.slice(start, next.length - end);
  if ([...removed, ...added].some((rule) => rule.startsWith('@namespace'))) return null;
  const splice = (count, texts) => {
    for (let i = start + count - 1; i >= start; i -= 1) sheet.deleteRule(i);
    texts.forEach((rule, i) => sheet.insertRule(rule, start + i));
  };
  return {
    apply: () => {
      try {
        splice(removed.length, added);
        return true;
      } catch {
        try {
          splice(sheet.cssRules.length - end - start, removed);
        } catch {
          // What is left is replaced by the fetch the caller falls back to.
        }
        return false;
      }
    },
  };
}

/**
 * Load a replacement for a stylesheet owner (`<link>` or `<style>`) next to
 * it, kept out of the cascade by `media="not all"`, and bring its imports up
 * to date. Resolves with a function that swaps it in, or null if it failed.
 */
async function prepareOwnerSwap(owner, newHref, swap) {
  const originalMedia = owner.getAttribute('media');
  const replacement = owner.cloneNode(true);
  if (newHref !== null) replacement.setAttribute('href', newHref);
  replacement.setAttribute('media', 'not all');
  transientNodes.add(replacement);
  const loaded = replacement.localName === 'link' ? loadOutcome(replacement) : Promise.resolve(true);
  owner.after(replacement);

  const deadline = Date.now() + LOAD_TIMEOUT_MS;
  let ready = false;
  try {
    ready = (await loaded) && replacement.sheet !== null
      && (await bringImportsUpToDate(replacement.sheet, swap, deadline));
  } finally {
    // Whatever happened, a replacement that will not be swapped in must not linger.
    if (!ready) replacement.remove();
  }
  if (!ready) return null;
  return () => {
    if (!owner.isConnected) {
      // The page removed the original meanwhile; it is not ours to bring back.
      replacement.remove();
      return false;
    }
    bringUrlsUpToDate(replacement.sheet, swap.versions);
    if (originalMedia === null) replacement.removeAttribute('media');
    else replacement.setAttribute('media', originalMedia);
    const wasDisabled = owner.sheet ? owner.sheet.disabled : false;
    if (replacement.sheet.disabled !== wasDisabled) replacement.sheet.disabled = wasDisabled;
    owner.remove();
    transientNodes.delete(replacement);
    return true;
  };
}

/**
 * Point every `@import` in the (not yet applied) `sheet` tree at the newest
 * version known for its file, then wait until the whole tree has loaded.
 *
 * Rewriting an import makes its parent sheet wait for the new file: harmless
 * here because the sheet is kept out of the cascade until this resolves.
 */
async function bringImportsUpToDate(sheet, swap, deadline) {
  for (let round = 0; round < MAX_IMPORT_DEPTH; round += 1) {
    if (!(await waitForImports(sheet, deadline))) return false;
    const stale = [];
    collectStaleImports(sheet, swap.versions, stale, 0);
    if (stale.length === 0) return true;
    for (const { parent, rule, newUrl, key } of stale) {
      // The changed file's new version must load: if it does not, the old sheet stays.
      if (key === swap.changedKey && !(await swap.imports.loads(newUrl))) return false;
      const index = Array.prototype.indexOf.call(parent.cssRules, rule);
      if (index === -1) continue;
      parent.insertRule(importRuleWithUrl(rule.cssText, newUrl), index);
      parent.deleteRule(index + 1);
    }
  }
  return false;
}

function collectStaleImports(sheet, versions, stale, depth) {
  const rules = readRules(sheet);
  if (rules === null || depth > MAX_IMPORT_DEPTH) return;
  const base = sheetBase(sheet);
  for (const rule of rules) {
    if (!(rule instanceof CSSImportRule)) continue;
    const key = resourceKey(rule.href, base);
    const version = key === null ? undefined : versions.get(key);
    if (version !== undefined && versionOf(rule.href, base) !== version) {
      stale.push({ parent: sheet, rule, key, newUrl: versionedUrl(rule.href, base, version) });
    } else if (rule.styleSheet) {
      collectStaleImports(rule.styleSheet, versions, stale, depth + 1);
    }
  }
}

/** Poll until no import in the tree is still loading; false on timeout. */
async function waitForImports(sheet, deadline) {
  let checks = 0;
  while (hasPendingImports(sheet, [], 0)) {
    if (Date.now() > deadline) return false;
    checks += 1;
    await (checks < IMPORT_FAST_CHECKS ? nextTask() : delay(IMPORT_POLL_MS));
  }
  return true;
}

function hasPendingImports(sheet, ancestorUrls, depth) {
  const rules = readRules(sheet);
  if (rules === null || depth > MAX_IMPORT_DEPTH) return false;
  const base = sheetBase(sheet);
  const lineage = [...ancestorUrls, withoutFragment(base)];
  for (const rule of rules) {
    if (!(rule instanceof CSSImportRule)) continue;
    if (rule.styleSheet) {
      if (hasPendingImports(rule.styleSheet, lineage, depth + 1)) return true;
      continue;
    }
    // Chromium never loads an import that would close a cycle: it is not pending.
    const target = absoluteUrl(rule.href, base);
    if (target !== null && !lineage.includes(withoutFragment(target))) return true;
  }
  return false;
}

/** Whether `sheet` imports the file `key` at any depth (loaded or not). */
function importsResource(sheet, key) {
  const loaded = [];
  return !collectImportedSheets(sheet, key, loaded, 0) || loaded.length > 0;
}

/** Rewrite `url()`s in a freshly loaded sheet tree to the newest versions applied so far. */
function bringUrlsUpToDate(sheet, versions) {
  const retarget = newestVersions(versions);
  for (const { style, base } of declarationBlocks(sheet, 0)) rewriteDeclarations(style, base, retarget);
}

/** A retarget function: a URL whose file has a newer version in `versions` gets that version. */
function newestVersions(versions) {
  return (raw, base) => {
    const key = resourceKey(raw, base);
    const version = key === null ? undefined : versions.get(key);
    if (version === undefined || versionOf(raw, base) === version) return null;
    return versionedUrl(raw, base, version);
  };
}

/** Checks, once per URL, that a new version of an imported file loads, using a stylesheet that never applies. */
class ImportPreloads {
  constructor() {
    this.outcomes = new Map();
    this.links = [];
  }

  loads(url) {
    if (!this.outcomes.has(url)) {
      const link = document.createElement('link');
      link.rel = 'stylesheet';
      link.media = 'not all';
      link.href = url;
      transientNodes.add(link);
      this.links.push(link);
      const outcome = loadOutcome(link);
      (document.head ?? document.documentElement).append(link);
      this.outcomes.set(url, outcome);
    }
    return this.outcomes.get(url);
  }

  release() {
    for (const link of this.links) link.remove();
  }
}


// ---------------------------------------------------------------------------
// Images
// ---------------------------------------------------------------------------

async function refreshImages(key, version, bytes) {
  const retarget = (raw, base) => (resourceKey(raw, base) === key ? versionedUrl(raw, base, version) : null);
  if (bytes !== null) {
    const standIns = new StandIns(bytes);
    const shown = await switchReferences(standIns.showing(retarget), { allOrNothing: true });
    if (shown !== null) {
      if (shown > 0) appliedVersions.set(key, version);
      // The page shows the new picture; now give its references the new version's real URL.
      await switchReferences(standIns.replaced());
      return shown;
    }
  }
  const refreshed = await switchReferences(retarget);
  if (refreshed > 0) appliedVersions.set(key, version);
  return refreshed;
}

/**
 * Preload every URL `retarget` gives image references, then switch the ones
 * that loaded, all in one task, hence in one frame. Returns how many switched.
 * With `allOrNothing`, switches nothing and returns null unless every
 * reference is a plain image (not an SVG `<use>`) and every one loaded.
 */
async function switchReferences(retarget, { allOrNothing = false } = {}) {
  const planned = imageEdits(retarget);
  if (allOrNothing && planned.some((edit) => edit.kind !== 'image')) return null;
  const preloads = new ImagePreloads();
  try {
    await Promise.all(planned.map((edit) => preloads.loads(edit)));
    // The page may have changed meanwhile: look again, and switch what loaded.
    const edits = imageEdits(retarget);
    const ready = edits.filter((edit) => preloads.loaded(edit));
    if (allOrNothing && ready.length !== edits.length) return null;
    for (const edit of ready) edit.apply();
    return ready.length;
  } finally {
    preloads.release();
  }
}

/**
 * `data:` URLs that show an image's new bytes until its new URL has loaded.
 * A `data:` URL is decoded in the page itself, with no request. There is one
 * per final URL (told apart by a parameter of its media type, and keeping the
 * final URL's fragment), so that each can be turned back into the URL it
 * stands for.
 */
class StandIns {
  constructor({ data, type }) {
    this.data = data;
    this.type = type || 'application/octet-stream';
    this.byFinalUrl = new Map();
  }

  /** A retarget function that gives each URL `retarget` would give, a stand-in for it. */
  showing(retarget) {
    return (raw, base) => {
      const finalUrl = retarget(raw, base);
      if (finalUrl === null) return null;
      if (!this.byFinalUrl.has(finalUrl)) {
        const tell = this.byFinalUrl.size === 0 ? '' : `;hotreload=${this.byFinalUrl.size}`;
        this.byFinalUrl.set(finalUrl, `data:${this.type}${tell};base64,${this.data}${new URL(finalUrl).hash}`);
      }
      return this.byFinalUrl.get(finalUrl);
    };
  }

  /** A retarget function that turns each stand-in back into the URL it stands for. */
  replaced() {
    const finalUrls = new Map(Array.from(this.byFinalUrl, ([finalUrl, standIn]) => [standIn, finalUrl]));
    return (raw) => finalUrls.get(raw) ?? null;
  }
}

/**
 * Every image reference `retarget` wants to change, as
 * `{ newUrls, kind, crossOrigin, apply }`; `kind` says how to preload it.
 */
function imageEdits(retarget) {
  const edits = [];
  for (const root of documentRoots()) {
    for (const reference of elementReferences(root)) {
      if (!reference.image) continue;
      const base = reference.element.baseURI;
      const newUrls = [];
      const retargetAndNote = (raw) => {
        const newUrl = retarget(raw, base);
        if (newUrl !== null) newUrls.push(newUrl);
        return newUrl;
      };
      const newValue = reference.srcset
        ? rewriteSrcset(reference.read(), retargetAndNote)
        : retargetAndNote(reference.read());
      if (newValue === null) continue;
      edits.push({
        newUrls,
        kind: reference.element.localName === 'use' ? 'svg-document' : 'image',
        crossOrigin: reference.element.getAttribute('crossorigin'),
        apply: () => reference.write(newValue),
      });
    }
    const blocks = [...inlineStyles(root)];
    for (const sheet of rootSheets(root)) blocks.push(...declarationBlocks(sheet, 0));
    for (const { style, base } of blocks) {
      for (const edit of declarationEdits(style, base, retarget)) {
        edits.push({ newUrls: edit.newUrls, kind: 'image', crossOrigin: null, apply: edit.apply });
      }
    }
  }
  return edits;
}

/** Loads each new image URL once, the way the reference will fetch it. */
class ImagePreloads {
  constructor() {
    this.pending = new Map();
    this.succeeded = new Set();
    this.holders = [];
  }

  loads(edit) {
    return Promise.all(edit.newUrls.map((url) => this.load(url, edit.kind, edit.crossOrigin)));
  }

  /** Whether every URL of `edit` was preloaded (a reference that appeared meanwhile was not). */
  loaded(edit) {
    return edit.newUrls.every((url) => this.succeeded.has(ImagePreloads.cacheKey(url, edit.kind, edit.crossOrigin)));
  }

  load(url, kind, crossOrigin) {
    const cacheKey = ImagePreloads.cacheKey(url, kind, crossOrigin);
    if (!this.pending.has(cacheKey)) {
      const outcome = kind === 'svg-document' ? this.loadSvgDocument(url) : this.loadImage(url, crossOrigin);
      this.pending.set(cacheKey, outcome.then((ok) => ok && this.succeeded.add(cacheKey)));
    }
    return this.pending.get(cacheKey);
  }

  static cacheKey(url, kind, crossOrigin) {
    return `${kind} ${crossOrigin} ${url}`;
  }

  async loadImage(url, crossOrigin) {
    const image = new Image();
    // A detached image is fetched at low priority, which the browser may hold back for a while.
    image.fetchPriority = 'high';
    if (crossOrigin !== null) image.crossOrigin = crossOrigin;
    this.holders.push(image);
    const loaded = loadOutcome(image);
    image.src = url;
    // A data: URL (or a picture in the memory cache) is taken in the microtask
    // that setting src queued, well before the load event's task.
    await null;
    const ready = image.complete && image.naturalWidth > 0;
    if (!ready && !(await loaded)) return false;
    // Decoding a big picture up front lets the swap paint it in the very next
    // frame; a small one decodes in well under a frame when it is painted.
    if (image.naturalWidth * image.naturalHeight > DECODE_AHEAD_PIXELS) await image.decode().catch(() => undefined);
    return true;
  }

  async loadSvgDocument(url) {
    // An external `<use>` fetches an SVG document, a different cache entry from an image,
    // so the preload is a hidden `<use>` of its own.
    const svg = document.createElementNS(SVG_NS, 'svg');
    svg.setAttribute('width', '0');
    svg.setAttribute('height', '0');
    svg.setAttribute('aria-hidden', 'true');
    svg.style.cssText = 'position:absolute;width:0;height:0;overflow:hidden;pointer-events:none';
    const use = document.createElementNS(SVG_NS, 'use');
    use.setAttribute('href', url);
    svg.append(use);
    transientNodes.add(svg);
    transientNodes.add(use);
    this.holders.push(svg);
    const loaded = loadOutcome(use);
    (document.body ?? document.documentElement).append(svg);
    return loaded;
  }

  release() {
    for (const holder of this.holders) holder.remove();
    this.holders = [];
  }
}


// ---------------------------------------------------------------------------
// References held by elements
// ---------------------------------------------------------------------------

/**
 * Attributes that make an element fetch a resource. `image` marks the ones
 * `updateImage` refreshes; `srcset` marks candidate lists.
 */
const REFERENCE_ATTRIBUTES = [
  { selector: 'img[src]', name: 'src', image: true },
  { selector: 'img[srcset]', name: 'srcset', image: true, srcset: true },
  { selector: 'picture > source[srcset]', name: 'srcset', image: true, srcset: true },
  { selector: 'input[src]', name: 'src', image: true, accepts: (el) => el.type === 'image' },
  { selector: 'video[poster]', name: 'poster', image: true },
  { selector: 'link[href]', name: 'href', image: true, accepts: isIconLink },
  { selector: 'image, use, feImage', name: 'href', image: true },
  { selector: 'image, use, feImage', name: 'href', namespace: XLINK_NS, image: true },
  { selector: 'link[href]', name: 'href', accepts: (el) => !isIconLink(el) },
  { selector: 'link[imagesrcset]', name: 'imagesrcset', srcset: true },
  { selector: 'script[src], iframe[src], embed[src], audio[src], video[src], track[src]', name: 'src' },
  { selector: 'source[src]', name: 'src' },
  { selector: 'source[srcset]:not(picture > source)', name: 'srcset', srcset: true },
  { selector: 'input[src]', name: 'src', accepts: (el) => el.type !== 'image' },
  { selector: 'object[data]', name: 'data' },
];

function isIconLink(link) {
  return ICON_RELS.some((rel) => link.relList.contains(rel));
}

/** Every (element, attribute) pair in `root` that references a resource. */
function* elementReferences(root) {
  for (const spec of REFERENCE_ATTRIBUTES) {
    for (const element of root.querySelectorAll(spec.selector)) {
      if (transientNodes.has(element)) continue;
      if (spec.accepts && !spec.accepts(element)) continue;
      const namespace = spec.namespace ?? null;
      if (!element.hasAttributeNS(namespace, spec.name)) continue;
      const read = () => element.getAttributeNS(namespace, spec.name);
      yield {
        element,
        image: Boolean(spec.image),
        srcset: Boolean(spec.srcset),
        read,
        urls: () => (spec.srcset ? parseSrcset(read()).map((c) => c.url) : [read()]),
        write: (value) => {
          if (namespace === null) element.setAttribute(spec.name, value);
          else element.setAttributeNS(namespace, `xlink:${spec.name}`, value);
        },
      };
    }
  }
}

function* inlineStyles(root) {
  for (const element of root.querySelectorAll('[style]')) {
    if (element.style instanceof CSSStyleDeclaration) yield { style: element.style, base: element.baseURI };
  }
}


// ---------------------------------------------------------------------------
// References held by stylesheets
// ---------------------------------------------------------------------------

/** Open shadow roots too, since their styles and images are just as visible. */
function* documentRoots() {
  const pending = [document];
  for (let visited = 0; pending.length > 0 && visited < MAX_ROOTS; visited += 1) {
    const root = pending.pop();
    yield root;
    for (const element of root.querySelectorAll('*')) {
      if (element.shadowRoot) pending.push(element.shadowRoot);
    }
  }
}

function* rootSheets(root) {
  for (const sheet of root.styleSheets) {
    if (!transientNodes.has(sheet.ownerNode)) yield sheet;
  }
  yield* root.adoptedStyleSheets ?? [];
}

/** Every declaration block in a sheet, its imports, and nested rules, with the base for its URLs. */
function* declarationBlocks(sheet, depth) {
  const rules = readRules(sheet);
  if (rules === null || depth > MAX_IMPORT_DEPTH) return;
  yield* blocksInRules(rules, sheetBase(sheet), depth);
}

function* blocksInRules(rules, base, depth) {
  for (const rule of rules) {
    if (rule instanceof CSSImportRule) {
      if (rule.styleSheet) yield* declarationBlocks(rule.styleSheet, depth + 1);
      continue;
    }
    if (rule.style instanceof CSSStyleDeclaration) yield { style: rule.style, base };
    // Grouping rules (@media, @supports, @layer, @container...), nesting and keyframes.
    if (rule.cssRules) yield* blocksInRules(rule.cssRules, base, depth);
  }
}

function sheetReferences(sheet, matches, depth) {
  if (depth > MAX_IMPORT_DEPTH) return false;
  if (sheet.href && matches(sheet.href, document.baseURI)) return true;
  const rules = readRules(sheet);
  if (rules === null) return false;
  const base = sheetBase(sheet);
  for (const rule of rules) {
    if (rule instanceof CSSImportRule) {
      if (matches(rule.href, base)) return true;
      if (rule.styleSheet && sheetReferences(rule.styleSheet, matches, depth + 1)) return true;
    }
  }
  for (const { style, base: blockBase } of blocksInRules(rules, base, depth)) {
    if (declarationsReference(style, blockBase, matches)) return true;
  }
  return false;
}

function declarationsReference(style, base, matches) {
  let found = false;
  for (let i = 0; i < style.length && !found; i += 1) {
    const value = style.getPropertyValue(style.item(i));
    if (!value.includes('(')) continue;
    rewriteCssUrls(value, (raw) => {
      if (!found && isResourceUrl(raw) && matches(raw, base)) found = true;
      return null;
    });
  }
  return found;
}

/**
 * Edits for every property of `style` whose value has a URL `retarget` changes.
 * Values are read as CSSOM serialises them, one property at a time.
 */
// Shorthands that may carry url()s. When a shorthand's value contains var(),
// Chromium keeps it as written and leaves its longhands empty, so the url() is
// only reachable through the shorthand itself.
const URL_SHORTHANDS = ['background', 'border-image', 'list-style', 'mask', '-webkit-mask', 'mask-border'];

function declarationNames(style) {
  const names = [];
  for (let i = 0; i < style.length; i += 1) names.push(style.item(i));
  for (const shorthand of URL_SHORTHANDS) {
    if (style.getPropertyValue(shorthand).includes('var(')) names.push(shorthand);
  }
  return names;
}

function declarationEdits(style, base, retarget) {
  const edits = [];
  for (const name of declarationNames(style)) {
    const value = style.getPropertyValue(name);
    if (!value.includes('(')) continue;
    const newUrls = [];
    const newValue = rewriteCssUrls(value, (raw) => {
      const newUrl = isResourceUrl(raw) ? retarget(raw, base) : null;
      if (newUrl !== null) newUrls.push(newUrl);
      return newUrl;
    });
    if (newValue === null) continue;
    const priority = style.getPropertyPriority(name);
    edits.push({ newUrls, apply: () => style.setProperty(name, newValue, priority) });
  }
  return edits;
}

function rewriteDeclarations(style, base, retarget) {
  const edits = declarationEdits(style, base, retarget);
  for (const edit of edits) edit.apply();
  return edits.length;
}

function readRules(sheet) {
  try {
    return sheet.cssRules;
  } catch {
    return null; // a cross-origin sheet: its rules are not readable, nor ours to change
  }
}

function sheetBase(sheet) {
  return sheet.href ?? sheet.ownerNode?.baseURI ?? document.baseURI;
}


// ---------------------------------------------------------------------------
// URLs
// ---------------------------------------------------------------------------

/**
 * What identifies a file: scheme, host and path, with query and fragment
 * dropped. Path segments are re-encoded one way, since `(`, `'` and the like
 * may arrive percent-encoded or not.
 */
function resourceKey(url, base) {
  const parsed = parseUrl(url, base);
  if (parsed === null || !['http:', 'https:', 'file:'].includes(parsed.protocol)) return null;
  const path = parsed.pathname.split('/').map(canonicalSegment).join('/');
  return `${parsed.protocol}//${parsed.host}${path}`;
}

function canonicalSegment(segment) {
  try {
    return encodeURIComponent(decodeURIComponent(segment));
  } catch {
    return segment; // a stray "%" that is not an escape
  }
}

/**
 * `url` made absolute, with `hr=<version>` replacing any earlier `hr`; other
 * parameters keep their exact spelling and the fragment is kept.
 */
function versionedUrl(url, base, version) {
  const parsed = new URL(url, base);
  const kept = parsed.search.slice(1).split('&').filter((pair) => pair !== '' && parameterName(pair) !== VERSION_PARAM);
  kept.push(`${VERSION_PARAM}=${encodeURIComponent(version)}`);
  parsed.search = kept.join('&');
  return parsed.href;
}

function versionOf(url, base) {
  return parseUrl(url, base)?.searchParams.get(VERSION_PARAM) ?? null;
}

function parameterName(pair) {
  const raw = pair.split('=', 1)[0].replaceAll('+', ' ');
  try {
    return decodeURIComponent(raw);
  } catch {
    return raw;
  }
}

function parseUrl(url, base) {
  try {
    return new URL(url, base);
  } catch {
    return null;
  }
}

function absoluteUrl(url, base) {
  return parseUrl(url, base)?.href ?? null;
}

function withoutFragment(url) {
  const hash = url.indexOf('#');
  return hash === -1 ? url : url.slice(0, hash);
}

/** `url("")` and `url(#id)` point into the current document, never at a file. */
function isResourceUrl(raw) {
  return raw !== '' && !raw.startsWith('#');
}

function fetchedResourceKeys() {
  const keys = new Set(observedResourceKeys);
  for (const entry of performance.getEntriesByType('resource')) {
    const key = resourceKey(entry.name);
    if (key !== null) keys.add(key);
  }
  return keys;
}

// The resource timing buffer holds only the first entries of a page; an observer sees them all.
const observedResourceKeys = new Set();
try {
  new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      const key = resourceKey(entry.name);
      if (key !== null) observedResourceKeys.add(key);
    }
  }).observe({ type: 'resource', buffered: true });
} catch {
  // Without resource timing, pageUses still sees every reference in the DOM and CSSOM.
}


// ---------------------------------------------------------------------------
// Small helpers
// ---------------------------------------------------------------------------

/** Resolves true on `load`, false on `error` or after LOAD_TIMEOUT_MS. Attach before the load starts. */
function loadOutcome(target) {
  let timer;
  const settled = new Promise((resolve) => {
    target.addEventListener('load', () => resolve(true), { once: true });
    target.addEventListener('error', () => resolve(false), { once: true });
    timer = setTimeout(() => resolve(false), LOAD_TIMEOUT_MS);
  });
  return settled.finally(() => clearTimeout(timer));
}

/** Yields to the event loop for one task (no 4 ms timer clamping). */
function nextTask() {
  return new Promise((resolve) => {
    const channel = new MessageChannel();
    channel.port1.onmessage = () => {
      channel.port1.close();
      resolve();
    };
    channel.port2.postMessage(null);
  });
}

function delay(milliseconds) {
  return new Promise((resolve) => setTimeout(resolve, milliseconds));
}
