/**
 * DOM morphing: bring a live page up to date with a new version of its HTML
 * without reloading it, so that what the user was doing survives the edit.
 *
 *     import { morphDocument, rememberServerHtml } from "/__hotreload/morph.js";
 *     rememberServerHtml(await (await fetch(location.href)).text());  // once, at load
 *     // ... later, when the page's file changed:
 *     const result = morphDocument(await (await fetch(location.href)).text());
 *     if (!result.ok) location.reload();  // result.reason says why
 *
 * How it works. The module keeps a parsed copy of the HTML the server sent
 * last (the "snapshot") and knows, node by node, which live node each
 * snapshot node is. `rememberServerHtml` pairs them once, at load, working
 * out what the page's scripts added, changed, moved or removed by then; from
 * there on `morphDocument` keeps both up to date itself (calling
 * `rememberServerHtml` again is harmless but not needed). A morph compares
 * the snapshot with the new HTML and replays only that difference on the
 * live page. So:
 *
 * - nodes that page scripts added are unknown to both versions and are left
 *   where they are; server nodes that scripts removed stay removed, and
 *   those they moved are updated where they are;
 * - an attribute or text the server did not change is not touched, even if a
 *   script or the user changed it (classes are merged token by token);
 * - typed values, `checked` boxes and open `<details>` survive unless the
 *   server changed that very attribute (`value`, `checked`, `selected`,
 *   `open`, or a `<textarea>`'s text), in which case the server wins;
 * - nodes are updated in place and moved rather than re-created, so focus,
 *   caret, scroll position and playing media are kept; the child holding
 *   the focus is never the one moved;
 * - a `<link rel="stylesheet">` whose `href` changed is replaced by a new
 *   link, and the old one (or a removed `<style>`) goes only once the new
 *   sheet has loaded, so the page is never shown unstyled. The result's
 *   `settled` promise resolves then.
 *
 * Children are matched by `id` first, then by kind and position, looking a
 * few siblings ahead so that one inserted or deleted paragraph does not shift
 * every following sibling. Matching stays among siblings: an element that
 * the server moved to another parent is re-created there.
 *
 * The morph refuses (and changes nothing) when it cannot be faithful:
 *
 * - a `<script>` was added or removed, or its `src`, `type` or inline text
 *   changed (scripts cannot be re-run in place); the dev server's own client
 *   tag, `script[src^="/__hotreload/"]`, is ignored on both sides;
 * - an element holding a `<script>` would have to be re-created;
 * - the doctype change switches between standards and quirks mode;
 * - the page opts out with `<html data-hotreload="reload">`: every change to
 *   it reloads the page;
 * - an element marked `data-hotreload="reload"` (say a `<canvas>` an app
 *   draws into) changed or was removed: the page reloads rather than leaving
 *   that element half-updated.
 *
 * Without a remembered server HTML, the first morph takes the live DOM as
 * the previous version; nodes added by scripts are then treated as if the
 * server had sent them (and removed when the new HTML lacks them), and a
 * script-inserted `<script>` makes the morph refuse.
 */

const CLIENT_SCRIPT_SELECTOR = 'script[src^="/__hotreload/"]';
const OPT_OUT_ATTRIBUTE = "data-hotreload";
const OPT_OUT_VALUE = "reload";
const OPT_OUT_SELECTOR = `[${OPT_OUT_ATTRIBUTE}="${OPT_OUT_VALUE}"]`;
// A template's content is not among its children, so DOM equality cannot
// see it change; the snapshot mirrors it into this attribute to make it seen.
const TEMPLATE_CONTENT_ATTRIBUTE = "data-hotreload-template";
// Elements whose children differ between a parsed snapshot and the live page
// (template content; noscript is parsed as text where scripting is on):
// these are compared and replaced as a whole.
const OPAQUE_ELEMENTS = new Set(["template", "noscript"]);
// How many siblings to look past when matching, both ways. Bounded so that a
// page whose every node changed still morphs in linear time.
const LOOKAHEAD = 48;
// A new stylesheet that neither loads nor fails in this time stops holding
// back the removal of the one it replaces.
const STYLESHEET_WAIT_MS = 5000;

const ELEMENT_NODE = 1;

/**
 * @typedef {{html: string, snapshot: Document, liveOf: WeakMap<Node, Node>}} ServerState
 *   The last server HTML, as text and parsed, and for each node of the
 *   parsed copy the live node it corresponds to.
 * @typedef {{ok: true, changed: number, settled: Promise<void>}} MorphApplied
 *   `changed` counts the live DOM changes made; `settled` resolves once
 *   replaced stylesheets are removed (after their successors loaded).
 * @typedef {{ok: false, reason: string}} MorphRefused
 */

/** @type {WeakMap<Document, ServerState>} */
const serverStates = new WeakMap();

/** Thrown while planning when the page must be reloaded instead. */
class MorphRefusal extends Error {}

/**
 * Remember the HTML the server sent for this page, as the base of the next
 * morph. Call it once when the page has loaded, with the page's HTML fetched
 * again from the server; `morphDocument` keeps it current afterwards.
 *
 *     rememberServerHtml(await (await fetch(location.href)).text());
 *
 * @param {string} html the page's full HTML, as the server sends it
 * @param {{document?: Document}} [options] the live document (default: this page's)
 * @returns {void}
 */
export function rememberServerHtml(html, { document: doc = globalThis.document } = {}) {
  const snapshot = parseServerHtml(html);
  const liveOf = new WeakMap();
  alignTrees(snapshot.documentElement, doc.documentElement, liveOf);
  serverStates.set(doc, { html, snapshot, liveOf });
}

/**
 * Morph the live document into `newHtml`, keeping the user's state, or
 * refuse without changing anything.
 *
 *     const result = morphDocument("<!doctype html><title>New</title><p>Hi");
 *     // {ok: true, changed: 2, settled: Promise} or {ok: false, reason: "..."}
 *
 * @param {string} newHtml the new version of the page's full HTML
 * @param {{document?: Document}} [options] the live document (default: this page's)
 * @returns {MorphApplied | MorphRefused}
 */
export function morphDocument(newHtml, { document: doc = globalThis.document } = {}) {
  if (typeof newHtml !== "string") {
    return { ok: false, reason: "the new page is not HTML text" };
  }
  if (!serverStates.has(doc)) {
    rememberServerHtml(doc.documentElement.outerHTML, { document: doc });
  }
  const state = /** @type {ServerState} */ (serverStates.get(doc));
  if (newHtml === state.html) return { ok: true, changed: 0, settled: Promise.resolve() };
  const next = parseServerHtml(newHtml);
  const previousRoot = state.snapshot.documentElement;
  const nextRoot = next.documentElement;

  /** @type {ElementPlan} */
  let plan;
  try {
    refuseOptedOutPage(doc, next);
    if (next.compatMode !== state.snapshot.compatMode) {
      throw new MorphRefusal("the doctype changed the rendering mode (standards or quirks)");
    }
    refuseScriptChanges(state.snapshot, next);
    plan = planElement(previousRoot, nextRoot);
  } catch (error) {
    if (error instanceof MorphRefusal) return { ok: false, reason: error.message };
    throw error;
  }
  state.html = newHtml;

  const focus = captureFocus(doc);
  const morph = new LiveMorph(doc, state);
  const liveRoot = state.liveOf.get(previousRoot) ?? doc.documentElement;
  try {
    morph.applyElement(plan, /** @type {Element} */ (liveRoot));
  } catch (error) {
    // The page is part-way between versions: only a reload is sure to fix it.
    serverStates.delete(doc);
    return { ok: false, reason: `morphing failed part-way (${error})` };
  }
  restoreFocus(doc, focus);
  return { ok: true, changed: morph.changed, settled: morph.finish() };
}

// ---------------------------------------------------------------------------
// Parsing and refusals

/**
 * @param {string} html
 * @returns {Document}
 */
function parseServerHtml(html) {
  const parsed = new DOMParser().parseFromString(html, "text/html");
  // The whitespace around the tag stays as two text nodes, just as the
  // live page has them on either side of its tag.
  for (const clientTag of parsed.querySelectorAll(CLIENT_SCRIPT_SELECTOR)) clientTag.remove();
  for (const template of parsed.querySelectorAll("template")) {
    template.setAttribute(TEMPLATE_CONTENT_ATTRIBUTE, template.innerHTML);
  }
  return parsed;
}

/**
 * @param {Document} doc
 * @param {Document} next
 */
function refuseOptedOutPage(doc, next) {
  for (const root of [next.documentElement, doc.documentElement]) {
    if (root.getAttribute(OPT_OUT_ATTRIBUTE) === OPT_OUT_VALUE) {
      throw new MorphRefusal(
        `the page opts out of morphing (<html ${OPT_OUT_ATTRIBUTE}="${OPT_OUT_VALUE}">)`,
      );
    }
  }
}

/**
 * @typedef {{key: string, label: string}} ScriptIdentity
 *   `key` is equal for scripts that would run the same code; `label` names
 *   the script in a refusal.
 * @param {Element} script
 * @returns {ScriptIdentity}
 */
function identifyScript(script) {
  const place = script.closest("head") ? "head" : "body";
  const src = script.getAttribute("src");
  const type = script.getAttribute("type");
  const text = script.textContent ?? "";
  const typeText = type === null ? "" : ` type="${type}"`;
  const label =
    src !== null
      ? `<script${typeText} src="${src}">`
      : `inline <script${typeText}> in <${place}> ("${excerpt(text)}")`;
  return { key: JSON.stringify([place, src, type, text]), label };
}

/**
 * @param {Document} parsed
 * @returns {ScriptIdentity[]}
 */
function scriptIdentities(parsed) {
  const identities = [];
  for (const script of parsed.querySelectorAll("script")) {
    // Never run where scripting is on, so not a script of the page.
    if (!script.closest("noscript")) identities.push(identifyScript(script));
  }
  return identities;
}

/**
 * @param {Document} previous
 * @param {Document} next
 */
function refuseScriptChanges(previous, next) {
  const before = scriptIdentities(previous);
  const after = scriptIdentities(next);
  let index = 0;
  while (index < before.length && index < after.length && before[index].key === after[index].key) {
    index += 1;
  }
  if (index === before.length && index === after.length) return;
  const old = before[index];
  const fresh = after[index];
  if (old === undefined || (fresh !== undefined && old.key === after[index + 1]?.key)) {
    throw new MorphRefusal(`script added: ${fresh.label}`);
  }
  if (fresh === undefined || before[index + 1]?.key === fresh.key) {
    throw new MorphRefusal(`script removed: ${old.label}`);
  }
  throw new MorphRefusal(`script changed: ${old.label} became ${fresh.label}`);
}

/**
 * @param {string} text
 * @returns {string}
 */
function excerpt(text) {
  const flat = text.trim().replace(/\s+/g, " ");
  return flat.length > 40 ? `${flat.slice(0, 39)}…` : flat;
}

/**
 * @param {Element} element
 * @returns {string}
 */
function describeElement(element) {
  const id = element.getAttribute("id");
  const className = element.getAttribute("class");
  if (id) return `<${element.localName} id="${id}">`;
  if (className) return `<${element.localName} class="${className}">`;
  return `<${element.localName}>`;
}

/**
 * @param {Node} node
 * @returns {boolean}
 */
function isOptedOut(node) {
  return node.nodeType === ELEMENT_NODE && /** @type {Element} */ (node).getAttribute(OPT_OUT_ATTRIBUTE) === OPT_OUT_VALUE;
}

/**
 * A script inside a subtree that is removed or created would be re-run or
 * dropped, which in-place morphing cannot do faithfully.
 *
 * @param {Node} node
 * @param {string} what "added" or "removed"
 */
function refuseRebuiltSubtree(node, what) {
  if (node.nodeType !== ELEMENT_NODE) return;
  const element = /** @type {Element} */ (node);
  const script = element.localName === "script" ? element : element.querySelector("script");
  if (script !== null && !script.closest("noscript")) {
    throw new MorphRefusal(`script would be re-created: ${identifyScript(script).label} is in an element ${what} by the edit`);
  }
  if (what === "removed") {
    const optedOut = isOptedOut(element) ? element : element.querySelector(OPT_OUT_SELECTOR);
    if (optedOut !== null) {
      throw new MorphRefusal(`${describeElement(optedOut)} opts out of morphing (${OPT_OUT_ATTRIBUTE}="${OPT_OUT_VALUE}") and was removed`);
    }
  }
}

// ---------------------------------------------------------------------------
// Planning: what changed between two parsed versions (no live DOM touched)

/**
 * @typedef {{old: Node | null, next: Node, plan: ElementPlan | null}} ChildPlan
 *   One child of the new version: its counterpart in the old version (null
 *   when new) and, for elements that differ, how they differ.
 * @typedef {{
 *   old: Element, next: Element, children: ChildPlan[], removed: Node[],
 *   oldBefore: Node | null, oldAfter: Node | null,
 *   restructured: boolean, replaceContent: boolean,
 * }} ElementPlan
 *   How to turn `old` into `next`. Identical leading and trailing children
 *   are left out: `children` covers the stretch of old children between
 *   `oldBefore` and `oldAfter` (null: the start or the end). `restructured`
 *   is false when that stretch keeps its order with none added or removed.
 */

/**
 * @param {Element} old
 * @param {Element} next
 * @returns {ElementPlan}
 */
function planElement(old, next) {
  if (isOptedOut(old) || isOptedOut(next)) {
    throw new MorphRefusal(`${describeElement(next)} opts out of morphing (${OPT_OUT_ATTRIBUTE}="${OPT_OUT_VALUE}") and changed`);
  }
  /** @type {ElementPlan} */
  const plan = {
    old, next, children: [], removed: [], oldBefore: null, oldAfter: null, restructured: false, replaceContent: false,
  };
  if (OPAQUE_ELEMENTS.has(next.localName)) {
    plan.replaceContent = old.innerHTML !== next.innerHTML;
    return plan;
  }

  // Most edits touch a few children: skip the identical ones at both ends
  // before matching what is left.
  let oldFirst = old.firstChild;
  let newFirst = next.firstChild;
  while (oldFirst !== null && newFirst !== null && oldFirst.isEqualNode(newFirst)) {
    oldFirst = oldFirst.nextSibling;
    newFirst = newFirst.nextSibling;
  }
  const oldHeadEnd = oldFirst === null ? old.lastChild : oldFirst.previousSibling;
  const newHeadEnd = newFirst === null ? next.lastChild : newFirst.previousSibling;
  let oldLast = old.lastChild;
  let newLast = next.lastChild;
  while (
    oldLast !== null && newLast !== null && oldLast !== oldHeadEnd && newLast !== newHeadEnd &&
    oldLast.isEqualNode(newLast)
  ) {
    oldLast = oldLast.previousSibling;
    newLast = newLast.previousSibling;
  }
  plan.oldBefore = oldHeadEnd;
  plan.oldAfter = oldLast === null ? old.firstChild : oldLast.nextSibling;
  const oldKids = siblingsBetween(oldFirst, plan.oldAfter);
  const newKids = siblingsBetween(newFirst, newLast === null ? next.firstChild : newLast.nextSibling);

  // The head scan stopped at the first pair because it differs.
  const { match, same } = matchChildren(oldKids, newKids, oldFirst !== null && newFirst !== null);
  const taken = new Uint8Array(oldKids.length);
  let lastOldIndex = -1;
  for (let j = 0; j < newKids.length; j += 1) {
    const fresh = newKids[j];
    const i = match[j];
    if (i < 0) {
      refuseRebuiltSubtree(fresh, "added");
      plan.children.push({ old: null, next: fresh, plan: null });
      plan.restructured = true;
      continue;
    }
    taken[i] = 1;
    if (i < lastOldIndex) plan.restructured = true;
    lastOldIndex = i;
    const counterpart = oldKids[i];
    const childPlan =
      counterpart.nodeType === ELEMENT_NODE && !same[j]
        ? planElement(/** @type {Element} */ (counterpart), /** @type {Element} */ (fresh))
        : null;
    plan.children.push({ old: counterpart, next: fresh, plan: childPlan });
  }
  for (let i = 0; i < oldKids.length; i += 1) {
    if (taken[i]) continue;
    refuseRebuiltSubtree(oldKids[i], "removed");
    plan.removed.push(oldKids[i]);
    plan.restructured = true;
  }
  return plan;
}

/**
 * @param {Node | null} first
 * @param {Node | null} stop the sibling after the last one wanted (null: to the end)
 * @returns {Node[]}
 */
function siblingsBetween(first, stop) {
  const nodes = [];
  for (let node = first; node !== null && node !== stop; node = node.nextSibling) nodes.push(node);
  return nodes;
}

/**
 * @param {Node} node
 * @returns {string | null}
 */
function idOf(node) {
  return node.nodeType === ELEMENT_NODE ? /** @type {Element} */ (node).getAttribute("id") || null : null;
}

/**
 * Whether `old` may be updated in place into `next` (rather than replaced).
 *
 * @param {Node} old
 * @param {Node} next
 * @returns {boolean}
 */
function isSameKind(old, next) {
  if (old.nodeType !== next.nodeType) return false;
  if (old.nodeType !== ELEMENT_NODE) return true;
  const a = /** @type {Element} */ (old);
  const b = /** @type {Element} */ (next);
  if (a.localName !== b.localName || a.namespaceURI !== b.namespaceURI) return false;
  // A stylesheet is swapped (new one in, then old one out) rather than
  // re-pointed, which would leave the page unstyled while it loads.
  if (isStylesheetLink(a) || isStylesheetLink(b)) {
    return a.getAttribute("href") === b.getAttribute("href") && a.getAttribute("rel") === b.getAttribute("rel");
  }
  if (a.localName === "script") return a.isEqualNode(b);
  return true;
}

/**
 * Pair the new children with old ones: by id, then by kind and position.
 * `match[j]` is the old index for new child j (-1: new node); `same[j]` is 1
 * when the pair is already identical.
 *
 * @param {Node[]} oldKids
 * @param {Node[]} newKids
 * @param {boolean} firstPairDiffers known already, so not compared again
 * @returns {{match: Int32Array, same: Uint8Array}}
 */
function matchChildren(oldKids, newKids, firstPairDiffers) {
  const oldCount = oldKids.length;
  const newCount = newKids.length;
  const match = new Int32Array(newCount).fill(-1);
  const same = new Uint8Array(newCount);
  const taken = new Uint8Array(oldCount);

  /** @type {Map<string, number>} */
  const oldIndexById = new Map();
  for (let i = 0; i < oldCount; i += 1) {
    const id = idOf(oldKids[i]);
    if (id !== null && !oldIndexById.has(id)) oldIndexById.set(id, i);
  }
  if (oldIndexById.size > 0) {
    for (let j = 0; j < newCount; j += 1) {
      const id = idOf(newKids[j]);
      const i = id === null ? undefined : oldIndexById.get(id);
      if (i === undefined || !isSameKind(oldKids[i], newKids[j])) continue;
      oldIndexById.delete(/** @type {string} */ (id));
      match[j] = i;
      taken[i] = 1;
      same[j] = oldKids[i].isEqualNode(newKids[j]) ? 1 : 0;
    }
  }

  /**
   * @param {Node} old
   * @param {number} j
   */
  const equalsUpcomingNew = (old, j) => {
    const end = Math.min(newCount, j + 1 + LOOKAHEAD);
    for (let k = j + 1; k < end; k += 1) {
      if (match[k] < 0 && newKids[k].isEqualNode(old)) return true;
    }
    return false;
  };
  /**
   * @param {Node} fresh
   * @param {number} from
   */
  const findEqualOld = (fresh, from) => {
    let looked = 0;
    for (let i = from; i < oldCount && looked < LOOKAHEAD; i += 1) {
      if (taken[i]) continue;
      looked += 1;
      if (oldKids[i].isEqualNode(fresh)) return i;
    }
    return -1;
  };

  let cursor = 0;
  for (let j = 0; j < newCount; j += 1) {
    if (match[j] >= 0) continue;
    while (cursor < oldCount && taken[cursor]) cursor += 1;
    if (cursor >= oldCount) break;
    const fresh = newKids[j];
    const old = oldKids[cursor];
    let chosen = -1;
    let identical = false;
    const knownToDiffer = firstPairDiffers && j === 0 && cursor === 0;
    if (!knownToDiffer && old.isEqualNode(fresh)) {
      chosen = cursor;
      identical = true;
    } else if (equalsUpcomingNew(old, j)) {
      // The old node reappears a little later: this one was inserted.
      continue;
    } else {
      const equalLater = findEqualOld(fresh, cursor + 1);
      if (equalLater >= 0) {
        // Old nodes up to the identical one were deleted.
        chosen = equalLater;
        identical = true;
      } else if (isSameKind(old, fresh) && (idOf(old) === null || idOf(fresh) === null)) {
        // Same kind at the same place: an edit. Two different ids are two
        // different things (a keyed item replaced), so those are not paired.
        chosen = cursor;
      }
    }
    if (chosen < 0) continue;
    match[j] = chosen;
    taken[chosen] = 1;
    same[j] = identical ? 1 : 0;
    cursor = chosen + 1;
  }
  return { match, same };
}

// ---------------------------------------------------------------------------
// Pairing the snapshot with the live page

/**
 * Record which live node each snapshot node is, for two trees of the same
 * shape (a copy and its original).
 *
 * @param {Node} old
 * @param {Node} live
 * @param {WeakMap<Node, Node>} liveOf
 */
function mapSameShape(old, live, liveOf) {
  liveOf.set(old, live);
  if (old.nodeType === ELEMENT_NODE && OPAQUE_ELEMENTS.has(/** @type {Element} */ (old).localName)) return;
  let oldChild = old.firstChild;
  let liveChild = live.firstChild;
  while (oldChild !== null && liveChild !== null) {
    mapSameShape(oldChild, liveChild, liveOf);
    oldChild = oldChild.nextSibling;
    liveChild = liveChild.nextSibling;
  }
}

/**
 * Pair a freshly parsed snapshot with the live page, which may carry the
 * client tag, nodes that scripts added, moved or removed, and attributes or
 * text they changed.
 *
 * @param {Node} old
 * @param {Node} live
 * @param {WeakMap<Node, Node>} liveOf
 */
function alignTrees(old, live, liveOf) {
  if (old.isEqualNode(live)) {
    mapSameShape(old, live, liveOf);
    return;
  }
  liveOf.set(old, live);
  if (old.nodeType !== ELEMENT_NODE || OPAQUE_ELEMENTS.has(/** @type {Element} */ (old).localName)) return;
  const oldKids = Array.from(old.childNodes);
  const liveKids = Array.from(live.childNodes);
  const counterparts = alignChildren(oldKids, liveKids);
  for (let i = 0; i < oldKids.length; i += 1) {
    const counterpart = counterparts[i] >= 0 ? liveKids[counterparts[i]] : movedElsewhere(oldKids[i], live.ownerDocument);
    if (counterpart !== null) alignTrees(oldKids[i], counterpart, liveOf);
  }
}

/**
 * The live element a script moved out of its server parent, found by id.
 *
 * @param {Node} old
 * @param {Document | null} doc the live document
 * @returns {Node | null}
 */
function movedElsewhere(old, doc) {
  const id = idOf(old);
  const moved = id === null || doc === null ? null : doc.getElementById(id);
  return moved !== null && isLiveCounterpart(old, moved) ? moved : null;
}

// Larger stretches are paired greedily: exact pairing costs their product.
const MAX_ALIGNMENT_CELLS = 1_000_000;

/**
 * Pair snapshot children with live children (`result[i]` is the live index
 * of old child i, or -1). Finds the fewest script edits that explain the
 * live children: an added node, a removed node or a changed node costs one,
 * an untouched node nothing. So a script's look-alike inserted before a
 * server node, or one of two identical siblings changed, are told apart.
 *
 * @param {Node[]} oldKids
 * @param {Node[]} liveKids
 * @returns {Int32Array}
 */
function alignChildren(oldKids, liveKids) {
  const result = new Int32Array(oldKids.length).fill(-1);
  let head = 0;
  while (head < oldKids.length && head < liveKids.length && oldKids[head].isEqualNode(liveKids[head])) {
    result[head] = head;
    head += 1;
  }
  let oldEnd = oldKids.length;
  let liveEnd = liveKids.length;
  while (oldEnd > head && liveEnd > head && oldKids[oldEnd - 1].isEqualNode(liveKids[liveEnd - 1])) {
    oldEnd -= 1;
    liveEnd -= 1;
    result[oldEnd] = liveEnd;
  }
  const rows = oldEnd - head;
  const columns = liveEnd - head;
  if (rows === 0 || columns === 0) return result;
  if ((rows + 1) * (columns + 1) > MAX_ALIGNMENT_CELLS) {
    alignGreedily(oldKids, liveKids, head, oldEnd, liveEnd, result);
    return result;
  }

  // Compare serialisations and kinds once, not nodes in every cell.
  const text = (/** @type {Node} */ node) => (node.nodeType === ELEMENT_NODE ? /** @type {Element} */ (node).outerHTML : node.nodeValue ?? "");
  const kind = (/** @type {Node} */ node) => `${node.nodeType} ${node.nodeName} ${idOf(node) ?? ""}`;
  const oldText = oldKids.slice(head, oldEnd).map(text);
  const liveText = liveKids.slice(head, liveEnd).map(text);
  const oldKind = oldKids.slice(head, oldEnd).map(kind);
  const liveKind = liveKids.slice(head, liveEnd).map(kind);

  const width = columns + 1;
  const cost = new Uint32Array((rows + 1) * width);
  for (let j = 0; j <= columns; j += 1) cost[j] = j;
  for (let i = 1; i <= rows; i += 1) {
    cost[i * width] = i;
    for (let j = 1; j <= columns; j += 1) {
      let best = Math.min(cost[(i - 1) * width + j], cost[i * width + j - 1]) + 1;
      if (oldKind[i - 1] === liveKind[j - 1]) {
        const paired = cost[(i - 1) * width + j - 1] + (oldText[i - 1] === liveText[j - 1] ? 0 : 1);
        if (paired < best) best = paired;
      }
      cost[i * width + j] = best;
    }
  }
  for (let i = rows, j = columns; i > 0 && j > 0; ) {
    const here = cost[i * width + j];
    if (oldKind[i - 1] === liveKind[j - 1] &&
        here === cost[(i - 1) * width + j - 1] + (oldText[i - 1] === liveText[j - 1] ? 0 : 1)) {
      result[head + i - 1] = head + j - 1;
      i -= 1;
      j -= 1;
    } else if (here === cost[(i - 1) * width + j] + 1) {
      i -= 1;
    } else {
      j -= 1;
    }
  }
  return result;
}

/**
 * Pair in order, each old child with the next live child of its kind.
 *
 * @param {Node[]} oldKids
 * @param {Node[]} liveKids
 * @param {number} from first index (in both) to pair
 * @param {number} oldEnd
 * @param {number} liveEnd
 * @param {Int32Array} result
 */
function alignGreedily(oldKids, liveKids, from, oldEnd, liveEnd, result) {
  let cursor = from;
  for (let i = from; i < oldEnd; i += 1) {
    for (let k = cursor; k < Math.min(liveEnd, cursor + LOOKAHEAD); k += 1) {
      if (isLiveCounterpart(oldKids[i], liveKids[k])) {
        result[i] = k;
        cursor = k + 1;
        break;
      }
    }
  }
}

/**
 * @param {Node} old
 * @param {Node} live
 * @returns {boolean}
 */
function isLiveCounterpart(old, live) {
  if (old.nodeType !== live.nodeType) return false;
  if (old.nodeType !== ELEMENT_NODE) return true;
  const a = /** @type {Element} */ (old);
  const b = /** @type {Element} */ (live);
  return a.localName === b.localName && a.namespaceURI === b.namespaceURI && a.getAttribute("id") === b.getAttribute("id");
}

// ---------------------------------------------------------------------------
// Applying a plan to the live page (and to the snapshot, which stays equal to
// the server's latest HTML)

/**
 * @param {Node} node
 * @returns {boolean}
 */
function isStylesheetLink(node) {
  return (
    node.nodeType === ELEMENT_NODE &&
    /** @type {Element} */ (node).localName === "link" &&
    (/** @type {Element} */ (node).getAttribute("rel") ?? "").toLowerCase().split(/\s+/).includes("stylesheet")
  );
}

/**
 * @param {Node} node
 * @returns {boolean}
 */
function isStyleSource(node) {
  return isStylesheetLink(node) || (node.nodeType === ELEMENT_NODE && /** @type {Element} */ (node).localName === "style");
}

/**
 * Move a node within its parent keeping its state where the browser can
 * (`moveBefore` keeps focus, media playback and iframes), else insert it.
 *
 * @param {Node} parent
 * @param {Node} node
 * @param {Node | null} reference
 */
function placeBefore(parent, node, reference) {
  const moveBefore = /** @type {any} */ (parent).moveBefore;
  if (typeof moveBefore === "function" && node.parentNode === parent) {
    try {
      moveBefore.call(parent, node, reference);
      return;
    } catch {
      // Not movable atomically here (e.g. a disconnected parent): insert.
    }
  }
  parent.insertBefore(node, reference);
}

/**
 * Indices (into `positions`) of a longest strictly increasing subsequence,
 * ignoring negative entries: the children that can stay where they are.
 *
 * @param {number[]} positions
 * @returns {Uint8Array} 1 for entries that stay
 */
function longestIncreasingRun(positions) {
  /** @type {number[]} */
  const tails = [];
  const previous = new Int32Array(positions.length).fill(-1);
  for (let k = 0; k < positions.length; k += 1) {
    const value = positions[k];
    if (value < 0) continue;
    let low = 0;
    let high = tails.length;
    while (low < high) {
      const middle = (low + high) >> 1;
      if (positions[tails[middle]] < value) low = middle + 1;
      else high = middle;
    }
    if (low > 0) previous[k] = tails[low - 1];
    tails[low] = k;
  }
  const stays = new Uint8Array(positions.length);
  for (let k = tails.length ? tails[tails.length - 1] : -1; k >= 0; k = previous[k]) stays[k] = 1;
  return stays;
}

/**
 * Make the child holding the focus one of the children that stay: moving it
 * would blur it (and with it the caret). Children that cannot stay in order
 * with it are dropped from the run; the longest run then includes it.
 *
 * @param {number[]} positions live index per placement (-1: new node), edited in place
 * @param {{live: Node}[]} placements
 * @param {Element} parent
 * @param {Document} doc
 */
function keepFocusedChildInPlace(positions, placements, parent, doc) {
  /** @type {Node | null} */
  let holder = doc.activeElement;
  while (holder !== null && holder.parentNode !== parent) holder = holder.parentNode;
  if (holder === null) return;
  const focused = placements.findIndex((p) => p.live === holder);
  if (focused < 0 || positions[focused] < 0) return;
  const focusedPosition = positions[focused];
  for (let k = 0; k < positions.length; k += 1) {
    if ((k < focused && positions[k] > focusedPosition) || (k > focused && positions[k] < focusedPosition)) {
      positions[k] = -1;
    }
  }
}

/**
 * @param {HTMLLinkElement} link
 * @param {Window} view
 * @returns {Promise<void>}
 */
function whenStylesheetSettles(link, view) {
  return new Promise((resolve) => {
    const done = () => {
      view.clearTimeout(timer);
      resolve();
    };
    const timer = view.setTimeout(done, STYLESHEET_WAIT_MS);
    link.addEventListener("load", done, { once: true });
    link.addEventListener("error", done, { once: true });
  });
}

class LiveMorph {
  /**
   * @param {Document} doc
   * @param {ServerState} state
   */
  constructor(doc, state) {
    this.doc = doc;
    this.snapshot = state.snapshot;
    this.liveOf = state.liveOf;
    this.changed = 0;
    /** @type {Promise<void>[]} */
    this.loadingStylesheets = [];
    /** @type {Node[]} */
    this.replacedStyleSources = [];
  }

  /**
   * @param {ElementPlan} plan
   * @param {Element | null} live the live element; null when page scripts
   *   removed it (then only the snapshot follows the server)
   */
  applyElement(plan, live) {
    this.patchAttributes(plan.old, plan.next, live);
    if (OPAQUE_ELEMENTS.has(plan.next.localName)) {
      if (plan.replaceContent) {
        plan.old.innerHTML = plan.next.innerHTML;
        if (live !== null) {
          live.innerHTML = plan.next.innerHTML;
          this.changed += 1;
        }
      }
      return;
    }
    const textareaEdited = live?.localName === "textarea" && plan.old.textContent !== plan.next.textContent;
    this.patchChildren(plan, live);
    if (textareaEdited) {
      // Its text is its default value; the server changed it, so it wins
      // over what the user typed.
      /** @type {HTMLTextAreaElement} */ (live).value = plan.next.textContent ?? "";
    }
  }

  /**
   * Three-way attribute update: only what the server changed is written, so
   * attributes set by scripts or by the user (`open`) stay.
   *
   * @param {Element} old
   * @param {Element} next
   * @param {Element | null} live
   */
  patchAttributes(old, next, live) {
    for (const attribute of next.attributes) {
      const before = old.getAttributeNS(attribute.namespaceURI, attribute.localName);
      if (before === attribute.value) continue;
      old.setAttributeNS(attribute.namespaceURI, attribute.name, attribute.value);
      if (live === null || attribute.name === TEMPLATE_CONTENT_ATTRIBUTE) continue;
      if (attribute.name === "class" && before !== null && live.getAttribute("class") !== before) {
        mergeClassTokens(live, before, attribute.value);
      } else {
        live.setAttributeNS(attribute.namespaceURI, attribute.name, attribute.value);
      }
      this.changed += 1;
      syncStateWithAttribute(live, attribute.name, attribute.value);
    }
    for (const attribute of Array.from(old.attributes)) {
      if (next.hasAttributeNS(attribute.namespaceURI, attribute.localName)) continue;
      old.removeAttributeNS(attribute.namespaceURI, attribute.localName);
      if (live === null || attribute.name === TEMPLATE_CONTENT_ATTRIBUTE) continue;
      live.removeAttributeNS(attribute.namespaceURI, attribute.localName);
      this.changed += 1;
      syncStateWithAttribute(live, attribute.name, null);
    }
  }

  /**
   * @param {ElementPlan} plan
   * @param {Element | null} live
   */
  patchChildren(plan, live) {
    if (plan.restructured) this.restructure(plan, live);
    for (const child of plan.children) {
      if (child.old === null) continue;
      const textEdited = child.old.nodeType !== ELEMENT_NODE && child.old.nodeValue !== child.next.nodeValue;
      if (child.plan === null && !textEdited) continue;
      // A node a script removed stays removed (null); a node a script moved
      // elsewhere is still updated where it is.
      const found = this.liveOf.get(child.old);
      const liveChild = found !== undefined && found.isConnected ? found : null;
      if (child.plan !== null) {
        this.applyElement(child.plan, /** @type {Element | null} */ (liveChild));
      } else {
        child.old.nodeValue = child.next.nodeValue;
        if (liveChild !== null) {
          // In place, so a caret or selection inside the text stays put.
          liveChild.nodeValue = child.next.nodeValue;
          this.changed += 1;
        }
      }
    }
  }

  /**
   * Remove, insert and reorder children, on the snapshot and on the page.
   *
   * @param {ElementPlan} plan
   * @param {Element | null} live
   */
  restructure(plan, live) {
    const old = plan.old;
    for (const gone of plan.removed) {
      const liveGone = this.liveOf.get(gone);
      gone.parentNode?.removeChild(gone);
      if (liveGone === undefined || !liveGone.isConnected) continue;
      if (isStyleSource(liveGone)) {
        this.replacedStyleSources.push(liveGone);
      } else {
        liveGone.parentNode?.removeChild(liveGone);
      }
      this.changed += 1;
    }

    /** @type {{live: Node, fresh: boolean}[]} */
    const placements = [];
    let oldCursor = plan.oldBefore === null ? old.firstChild : plan.oldBefore.nextSibling;
    for (const child of plan.children) {
      let oldNode = child.old;
      if (oldNode === null) {
        oldNode = this.snapshot.importNode(child.next, true);
        if (live !== null) {
          const liveNode = this.createLive(child.next);
          mapSameShape(oldNode, liveNode, this.liveOf);
          placements.push({ live: liveNode, fresh: true });
        }
      } else if (live !== null) {
        const liveNode = this.liveOf.get(oldNode);
        // Server nodes that scripts removed, or moved under another parent,
        // are left where the scripts put them.
        if (liveNode !== undefined && liveNode.parentNode === live) placements.push({ live: liveNode, fresh: false });
      }
      if (oldNode === oldCursor) oldCursor = oldCursor.nextSibling;
      else old.insertBefore(oldNode, oldCursor);
    }
    if (live === null) return;

    // The live stretch between the unchanged children at both ends.
    const before = this.liveChild(plan.oldBefore, live);
    const after = this.liveChild(plan.oldAfter, live);
    /** @type {Map<Node, number>} */
    const liveIndex = new Map();
    let index = 0;
    for (let node = before === null ? live.firstChild : before.nextSibling; node !== null && node !== after; node = node.nextSibling) {
      liveIndex.set(node, index++);
    }
    const positions = placements.map((p) => (p.fresh ? -1 : liveIndex.get(p.live) ?? -1));
    keepFocusedChildInPlace(positions, placements, live, this.doc);
    const stays = longestIncreasingRun(positions);
    const firstStaying = placements.find((_, k) => stays[k] === 1)?.live ?? after;
    let previous = before;
    placements.forEach((placement, k) => {
      if (!stays[k]) {
        const reference = previous === null ? firstStaying : previous.nextSibling;
        if (placement.live !== reference) {
          placeBefore(live, placement.live, reference);
          this.changed += 1;
        }
      }
      previous = placement.live;
    });
  }

  /**
   * The live counterpart of a snapshot node, if it is still a child of `live`.
   *
   * @param {Node | null} old
   * @param {Element} live
   * @returns {Node | null}
   */
  liveChild(old, live) {
    if (old === null) return null;
    const node = this.liveOf.get(old);
    return node !== undefined && node.parentNode === live ? node : null;
  }

  /**
   * A live copy of a node of the new version.
   *
   * @param {Node} next
   * @returns {Node}
   */
  createLive(next) {
    const node = this.doc.importNode(next, true);
    if (node.nodeType !== ELEMENT_NODE) return node;
    const element = /** @type {Element} */ (node);
    for (const template of [element, ...element.querySelectorAll(`[${TEMPLATE_CONTENT_ATTRIBUTE}]`)]) {
      template.removeAttribute(TEMPLATE_CONTENT_ATTRIBUTE);
    }
    const view = this.doc.defaultView;
    if (view !== null) {
      const links = isStylesheetLink(element) ? [element] : element.querySelectorAll("link");
      for (const link of links) {
        if (isStylesheetLink(link)) this.loadingStylesheets.push(whenStylesheetSettles(/** @type {HTMLLinkElement} */ (link), view));
      }
    }
    return node;
  }

  /**
   * Remove replaced stylesheets once their successors have loaded, so the
   * page is never shown without styles in between.
   *
   * @returns {Promise<void>}
   */
  finish() {
    const replaced = this.replacedStyleSources;
    const removeReplaced = () => {
      for (const node of replaced) node.parentNode?.removeChild(node);
    };
    if (this.loadingStylesheets.length === 0) {
      removeReplaced();
      return Promise.resolve();
    }
    return Promise.all(this.loadingStylesheets).then(removeReplaced);
  }
}

/**
 * Apply a server change of the class attribute token by token, keeping the
 * classes scripts added or removed.
 *
 * @param {Element} live
 * @param {string} before
 * @param {string} after
 */
function mergeClassTokens(live, before, after) {
  const oldTokens = new Set(before.split(/\s+/).filter(Boolean));
  const newTokens = new Set(after.split(/\s+/).filter(Boolean));
  for (const token of oldTokens) if (!newTokens.has(token)) live.classList.remove(token);
  for (const token of newTokens) if (!oldTokens.has(token)) live.classList.add(token);
}

/**
 * Once the user has typed or clicked, an input no longer follows its
 * attributes; when the server changed the attribute itself, make the state
 * follow anyway (the server's edit is the newer intent).
 *
 * @param {Element} live
 * @param {string} name
 * @param {string | null} value
 */
function syncStateWithAttribute(live, name, value) {
  try {
    if (live.localName === "input") {
      const input = /** @type {HTMLInputElement} */ (live);
      if (name === "value" && input.type !== "file") input.value = value ?? "";
      if (name === "checked") input.checked = value !== null;
    } else if (live.localName === "option" && name === "selected") {
      /** @type {HTMLOptionElement} */ (live).selected = value !== null;
    }
  } catch {
    // A value the input type rejects: the attribute alone is kept.
  }
}

// ---------------------------------------------------------------------------
// Focus and caret

/**
 * @typedef {{element: Element, selection: [number, number, string] | null}} FocusState
 * @param {Document} doc
 * @returns {FocusState | null}
 */
function captureFocus(doc) {
  const element = doc.activeElement;
  if (element === null || element === doc.body || element === doc.documentElement) return null;
  /** @type {[number, number, string] | null} */
  let selection = null;
  try {
    const field = /** @type {HTMLInputElement} */ (element);
    if (typeof field.selectionStart === "number" && typeof field.selectionEnd === "number") {
      selection = [field.selectionStart, field.selectionEnd, field.selectionDirection ?? "none"];
    }
  } catch {
    // Input types without a text selection (checkbox, number, ...).
  }
  return { element, selection };
}

/**
 * @param {Document} doc
 * @param {FocusState | null} focus
 */
function restoreFocus(doc, focus) {
  if (focus === null || !focus.element.isConnected) return;
  const element = /** @type {HTMLInputElement} */ (focus.element);
  if (doc.activeElement !== element && typeof element.focus === "function") {
    element.focus({ preventScroll: true });
  }
  if (focus.selection === null) return;
  const [start, end, direction] = focus.selection;
  if (element.selectionStart !== start || element.selectionEnd !== end) {
    try {
      element.setSelectionRange(start, end, /** @type {"forward" | "backward" | "none"} */ (direction));
    } catch {
      // The field no longer has a text selection.
    }
  }
}
