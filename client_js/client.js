// The hotreload browser client: transport and dispatch.
//
// It connects to the dev server's WebSocket, tells it which page this tab
// shows, and applies each update in the smallest correct way: stylesheets and
// images in place, anything else the page uses by a reload that keeps the
// scroll position. Protocol: docs/protocol.md.

import { updateStylesheet, updateImage, pageUses } from "./swap.js";
import { showOverlay, clearOverlay } from "./overlay.js";

const PROTOCOL = 1;
const TAG = "[hotreload]";
const SCROLL_KEY = "hotreload:scroll";
const RETRY_MAX_MS = 5000;
const PING_EVERY_MS = 20000;

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

// A small window into the client for debugging (and for tests to wait on).
const state = { ready: false, instance, get seq() { return seq; } };
window.__hotreload = state;

// Resource timing tells which files this tab really loaded (modules, fonts,
// fetched data); keep every entry, not just the default 250.
performance.setResourceTimingBufferSize?.(100000);

restoreScroll();

export function send(message) {
  if (socket && socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify(message));
  else outbox.push(message);
}

function urlOf(path) {
  return new URL(path.split("/").map(encodeURIComponent).join("/"), location.origin).href;
}

export function reload(reason) {
  if (reloading) return;
  reloading = true;
  console.info(`${TAG} reloading: ${reason}`);
  try {
    const saved = JSON.parse(sessionStorage.getItem(SCROLL_KEY) || "{}");
    saved[location.href] = { x: scrollX, y: scrollY, at: Date.now() };
    sessionStorage.setItem(SCROLL_KEY, JSON.stringify(saved));
  } catch {
    // storage may be unavailable (privacy mode); the browser's own restoration still applies
  }
  location.reload();
}

function restoreScroll() {
  let saved;
  try {
    saved = JSON.parse(sessionStorage.getItem(SCROLL_KEY) || "{}");
  } catch {
    return;
  }
  const entry = saved[location.href];
  if (!entry) return;
  delete saved[location.href];
  try {
    sessionStorage.setItem(SCROLL_KEY, JSON.stringify(saved));
  } catch {}
  const apply = () => window.scrollTo(entry.x, entry.y);
  if (document.readyState === "complete") apply();
  else {
    document.addEventListener("DOMContentLoaded", apply, { once: true });
    window.addEventListener("load", apply, { once: true });
  }
}

function reportPage() {
  send({ type: "page", path: decodeURIComponent(location.pathname), instance, seq });
}

async function applyUpdate(message) {
  const reloadReasons = [];
  const work = [];
  for (const update of message.updates) {
    const url = urlOf(update.path);
    const version = String(update.timestamp);
    if (update.kind === "css") {
      work.push(updateStylesheet(url, version).then((n) => n && console.debug(`${TAG} css ${update.path} (${n} sheet${n > 1 ? "s" : ""})`)));
    } else if (update.kind === "image") {
      work.push(updateImage(url, version).then((n) => n && console.debug(`${TAG} image ${update.path} (${n} reference${n > 1 ? "s" : ""})`)));
    } else if (update.kind === "page") {
      reloadReasons.push(update.reason || `${update.path} changed`);
    } else if (pageUses(url)) {
      reloadReasons.push(update.reason || `${update.path} changed`);
    }
  }
  if (reloadReasons.length) return reload(reloadReasons.join("; "));
  await Promise.all(work);
}

function handle(message) {
  if (reloading) return;
  if (typeof message.seq === "number" && message.type !== "hello") seq = Math.max(seq, message.seq);
  switch (message.type) {
    case "hello":
      if (message.protocol !== PROTOCOL) {
        console.error(`${TAG} this page's client speaks protocol ${PROTOCOL}, the server ${message.protocol}`);
        return reload("the server was upgraded");
      }
      if (instance && message.instance !== instance) return reload("the server restarted");
      reportPage();
      state.ready = true;
      return;
    case "update":
      applyUpdate(message).catch((err) => console.error(`${TAG} update failed`, err));
      return;
    case "reload":
      return reload(message.reason);
    case "error":
      showOverlay(message);
      console.error(`${TAG} ${message.title}\n${message.message}`);
      return;
    case "error-clear":
      clearOverlay();
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
  if (instance && info.instance !== instance) return reload("the server restarted");
  connect();
}

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
