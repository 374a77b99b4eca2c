// The hotreload browser client: transport and dispatch.
//
// It connects to the dev server's WebSocket, tells it which page this tab
// shows, and applies each update in the smallest correct way: stylesheets and
// images in place, ES modules through their import.meta.hot boundaries
// (hmr.js), an edited page morphed in place, anything else the page uses by a
// reload that keeps the scroll position. Protocol: docs/protocol.md.

import { updateStylesheet, updateImage, pageUses } from "./swap.js";
import { showOverlay, clearOverlay } from "./overlay.js";
import { rememberPage, morphPage, saveScroll, restoreScroll } from "./page.js";
import * as hmr from "./hmr.js";

const PROTOCOL = 1;
const TAG = "[hotreload]";
const RETRY_MAX_MS = 5000;
const PING_EVERY_MS = 20000;
const EVENT = "hotreload:";

const own = new URL(import.meta.url);
const token = own.searchParams.get("token") || "";
const instance = own.searchParams.get("instance");
let seq = Number(own.searchParams.get("seq") || 0);

let socket = null;
let attempts = 0;
let reloading = false;
let everConnected = false;
let pingTimer = 0;
let lastHeard = 0;
const outbox = [];
// Bumped whenever a module update starts, so the error of an older one is not shown over it.
let moduleUpdates = 0;
let updateErrorShown = false;

// A small window into the client for debugging (and for tests to wait on):
// `received` lists the last messages, `applied` what became of page updates.
const RECEIVED_KEPT = 100;
const state = { ready: false, instance, received: [], applied: [], get seq() { return seq; } };
window.__hotreload = state;

// Resource timing tells which files this tab really loaded (modules, fonts,
// fetched data); keep every entry, not just the default 250.
performance.setResourceTimingBufferSize?.(100000);

restoreScroll();
const remembered = rememberPage();

export function send(message) {
  if (socket && socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify(message));
  else outbox.push(message);
}

function urlOf(path) {
  return new URL(path.split("/").map(encodeURIComponent).join("/"), location.origin).href;
}

/** A reload the server asked for: modules may listen for it first (hotreload:beforeFullReload). */
async function reloadFor(reason) {
  if (reloading) return;
  await settleWithin(hmr.emit(`${EVENT}beforeFullReload`, { reason }), 1000);
  reload(reason);
}

/** Another page changed and this tab goes to it (--navigate-to-changed); nothing else applies meanwhile. */
async function navigateFor(path, reason) {
  if (reloading) return;
  reloading = true;
  console.info(`${TAG} opening ${path}: ${reason}`);
  await settleWithin(hmr.emit(`${EVENT}beforeFullReload`, { path, reason }), 1000);
  location.assign(urlOf(path));
}

function settleWithin(promise, ms) {
  return Promise.race([promise, new Promise((resolve) => setTimeout(resolve, ms))]);
}

export function reload(reason) {
  if (reloading) return;
  reloading = true;
  console.info(`${TAG} reloading: ${reason}`);
  saveScroll();
  location.reload();
}

function reportPage() {
  send({ type: "page", path: decodeURIComponent(location.pathname), instance, seq });
}

async function applyUpdate(message) {
  const reloadReasons = [];
  const pageChanges = [];
  const work = [];
  const modules = [];
  for (const update of message.updates) {
    const url = urlOf(update.path);
    const version = String(update.timestamp);
    if (update.kind === "css") {
      work.push(updateStylesheet(url, version, update.text ?? null).then((n) => n && console.debug(`${TAG} css ${update.path} (${n} sheet${n > 1 ? "s" : ""})`)));
    } else if (update.kind === "image") {
      work.push(updateImage(url, version, update.data ?? null, update.content_type ?? null).then((n) => n && console.debug(`${TAG} image ${update.path} (${n} reference${n > 1 ? "s" : ""})`)));
    } else if (update.kind === "js") {
      modules.push({
        type: "js-update",
        path: update.path,
        acceptedPath: update.accepted_path || update.path,
        timestamp: update.timestamp,
        isWithinCircularImport: update.within_cycle === true,
      });
    } else if (update.kind === "page") {
      pageChanges.push(update);
    } else if (pageUses(url)) {
      reloadReasons.push(update.reason || `${update.path} changed`);
    }
  }
  if (reloadReasons.length) return reloadFor(reloadReasons.join("; "));
  // A boundary this tab fetched but never ran failed to load with the page (a
  // missing import, a syntax error): the fix reaches it only by a reload.
  const broken = modules.find((update) => !hmr.hasRun(update.path) && pageUses(urlOf(update.path)));
  if (broken) return reloadFor(`${broken.path} had failed to load in this page; ${broken.acceptedPath} changed`);
  if (modules.length) work.push(applyModules(modules));
  if (pageChanges.length) work.push(updatePage(pageChanges));
  await Promise.all(work);
}

async function updatePage(changes) {
  const what = changes.map((update) => update.reason || `${update.path} changed`).join("; ");
  const started = performance.now();
  const result = await morphPage();
  const ms = Math.round(performance.now() - started);
  if (!result.ok) {
    state.applied.push({ seq, how: "reload", reason: result.reason });
    send({ type: "log", level: "info", message: `reloading instead of updating in place: ${result.reason}` });
    return reloadFor(`${what}; not updated in place: ${result.reason}`);
  }
  state.applied.push({ seq, how: "morph", changed: result.changed, ms });
  console.debug(`${TAG} ${what}: updated in place (${result.changed} change${result.changed === 1 ? "" : "s"})`);
}

function applyModules(updates) {
  moduleUpdates += 1;
  if (updateErrorShown) {
    // The previous update failed; this one is the fix, or shows its own error.
    updateErrorShown = false;
    clearOverlay();
  }
  return hmr.applyUpdate({ type: "update", updates });
}

/**
 * An update failed in this tab: show where (the server maps the position to
 * the file and draws a code frame), and print it in the terminal.
 */
async function showUpdateError(err, { path } = {}) {
  const generation = moduleUpdates;
  const name = (err && err.name) || "Error";
  const text = err && err.message !== undefined ? err.message : String(err);
  const stack = (err && err.stack) || "";
  const frame = siteFrame(err);
  const where = frame || { path };
  let located = {};
  if (where.path) {
    const query = new URLSearchParams({ token, path: where.path });
    if (frame) {
      query.set("line", String(frame.line));
      query.set("column", String(frame.column));
    }
    try {
      const response = await fetch(`/__hotreload/locate?${query}`, { cache: "no-store" });
      if (response.ok) located = await response.json();
    } catch {
      // the server is gone: show what the browser said
    }
  }
  if (generation !== moduleUpdates || reloading) return; // a newer update is on its way
  const file = located.file || where.path;
  const description = located.message || `${name}: ${text}`;
  showOverlay({
    title: `Hot update failed${path ? ` in ${path}` : ""}`,
    message: located.message ? `${located.message}\n${name}: ${text}` : `${name}: ${text}`,
    file,
    line: located.line,
    column: located.column,
    frame: located.frame,
    output: frame ? stack : "",
  });
  updateErrorShown = true;
  const position = [file, located.line, located.column].filter((x) => x != null).join(":");
  send({ type: "log", level: "error", message: `hot update failed: ${position}: ${description}` });
}

/** The first stack frame in a file of this site: `{ path, line, column }`, or null. */
function siteFrame(err) {
  let stack = (err && err.stack) || "";
  // V8 starts the stack with "Name: message", and a message may hold a URL.
  const head = `${err && err.name}: ${err && err.message}`;
  if (stack.startsWith(head)) stack = stack.slice(head.length);
  const prefix = `${location.origin}/`;
  for (const line of stack.split("\n")) {
    const at = line.indexOf(prefix);
    if (at < 0) continue;
    let end = line.indexOf(")", at);
    if (end < 0) end = line.length;
    const parts = line.slice(at, end).trim().split(":");
    if (parts.length < 4) continue; // scheme, host, port and path, then line and column
    const column = Number(parts.pop());
    const row = Number(parts.pop());
    let url;
    try {
      url = new URL(parts.join(":"));
    } catch {
      continue;
    }
    if (!Number.isInteger(row) || !Number.isInteger(column) || url.pathname.startsWith("/__hotreload/")) continue;
    return { path: decodeURIComponent(url.pathname), line: row, column };
  }
  return null;
}

function handle(message) {
  if (reloading) return;
  state.received.push({
    type: message.type, seq: message.seq, paths: (message.updates || []).map((u) => u.path), at: Date.now(),
  });
  if (state.received.length > RECEIVED_KEPT) state.received.shift();
  if (typeof message.seq === "number" && message.type !== "hello") seq = Math.max(seq, message.seq);
  switch (message.type) {
    case "hello":
      if (message.protocol !== PROTOCOL) {
        console.error(`${TAG} this page's client speaks protocol ${PROTOCOL}, the server ${message.protocol}`);
        return reloadFor("the server was upgraded");
      }
      if (instance && message.instance !== instance) return reloadFor("the server restarted");
      reportPage();
      // Ready once the page's served HTML is remembered, so an edit from now on morphs from it.
      remembered.finally(() => { state.ready = true; });
      return;
    case "update":
      applyUpdate(message).catch((err) => console.error(`${TAG} update failed`, err));
      return;
    case "reload":
      return reloadFor(message.reason);
    case "navigate":
      return navigateFor(message.path, message.reason);
    case "prune":
      hmr.prune(message.paths || []).catch((err) => console.error(`${TAG} prune failed`, err));
      return;
    case "error":
      showOverlay(message);
      console.error(`${TAG} ${message.title}\n${message.message}`);
      hmr.emit(`${EVENT}error`, { err: { message: message.message, stack: message.output || "" }, ...message });
      return;
    case "error-clear":
      clearOverlay();
      return;
    case "custom":
      hmr.emit(message.event, message.data);
      return;
    case "pong":
      return;
    default:
      console.debug(`${TAG} unknown message`, message);
  }
}

function connect() {
  if (reloading) return;
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  const ws = new WebSocket(`${scheme}://${location.host}/__hotreload/ws?token=${encodeURIComponent(token)}`, "hotreload");
  socket = ws;
  ws.addEventListener("open", () => {
    if (everConnected) console.info(`${TAG} reconnected`);
    everConnected = true;
    attempts = 0;
    while (outbox.length && ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(outbox.shift()));
    lastHeard = Date.now();
    clearInterval(pingTimer);
    pingTimer = setInterval(() => {
      // Nothing heard for two rounds (not even a pong): the connection is dead
      // without having been closed (a sleeping laptop, a dropped network).
      if (Date.now() - lastHeard > 2 * PING_EVERY_MS + 5000) return ws.close();
      send({ type: "ping" });
    }, PING_EVERY_MS);
    hmr.emit(`${EVENT}ws:connect`, { webSocket: ws });
  });
  ws.addEventListener("message", (event) => {
    lastHeard = Date.now();
    let message;
    try {
      message = JSON.parse(event.data);
    } catch {
      return console.warn(`${TAG} ignored a malformed message`);
    }
    handle(message);
  });
  ws.addEventListener("close", (event) => {
    if (socket !== ws) return;
    socket = null;
    clearInterval(pingTimer);
    if (reloading) return;
    hmr.emit(`${EVENT}ws:disconnect`, { webSocket: ws });
    if (attempts === 0) {
      const why = event.reason ? ` (${event.reason})` : "";
      console.info(`${TAG} lost the connection to the dev server${why}; retrying`);
    }
    scheduleReconnect();
  });
}

function scheduleReconnect() {
  const delay = Math.min(RETRY_MAX_MS, 100 * 2 ** attempts) * (0.75 + Math.random() / 2);
  attempts += 1;
  setTimeout(() => {
    // A hidden tab waits until it is shown again: no retry loop in the background.
    if (document.hidden) document.addEventListener("visibilitychange", probe, { once: true });
    else probe();
  }, delay);
}

// Ask over plain HTTP whether the server is back, and whether it is the same
// process: a restarted server has a new token, so this page must be reloaded
// to get it (the WebSocket would be refused).
async function probe() {
  let info;
  try {
    const response = await fetch("/__hotreload/ping", { cache: "no-store" });
    info = response.ok ? await response.json() : null;
  } catch {
    info = null;
  }
  if (!info) return scheduleReconnect();
  if (instance && info.instance !== instance) return reloadFor("the server restarted");
  connect();
}

hmr.configure({
  send: (event, data) => send({ type: "custom", event, data }),
  reload,
  showError: (err, where) => {
    showUpdateError(err, where).catch((failure) => console.error(`${TAG} could not show the error`, failure));
  },
});

// Single-page apps: report the new page after history navigation.
for (const method of ["pushState", "replaceState"]) {
  const original = history[method];
  history[method] = function (...args) {
    const result = original.apply(this, args);
    reportPage();
    return result;
  };
}
window.addEventListener("popstate", reportPage);

connect();
