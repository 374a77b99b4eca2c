/**
 * The `import.meta.hot` runtime: hot module replacement for native ES modules.
 *
 * It knows nothing of how updates arrive. A transport hands it updates
 * (`applyUpdate`), prunes (`prune`) and lifecycle events (`emit`), and gives it
 * the means to talk back (`configure`). The API each module sees is the one
 * Vite defines, so code written for Vite's `import.meta.hot` runs unchanged.
 *
 * Each module that uses `import.meta.hot` starts with a one-line preamble:
 *
 *   import { createHotContext as __hotreload_createHotContext } from "/__hotreload/hmr.js";
 *   import.meta.hot = __hotreload_createHotContext(import.meta.url);
 */

const EVENT_PREFIX = "hotreload:";

/** Custom events sent before a transport was configured (a module may run before the client). */
const unsent = [];

/** What the transport provides; the defaults suit a page with no transport at all. */
const host = {
  send: (event, data) => {
    if (unsent.length < 1000) unsent.push([event, data]);
  },
  reload: (_reason) => location.reload(),
  log: {
    info: (...args) => console.info(...args),
    warn: (...args) => console.warn(...args),
    error: (...args) => console.error(...args),
  },
  showError: (err, _where) => console.error(err),
};

/** Module paths whose code created a hot context in this tab. */
const loadedModules = new Set();
/** Module path → accept registrations `{ deps: string[], fn }` of its running instance. */
const acceptCallbacks = new Map();
const disposeCallbacks = new Map();
const pruneCallbacks = new Map();
const decliningModules = new Set();
/** Module path → the object `import.meta.hot.data` returns, kept across instances. */
const dataByModule = new Map();
/** Event name → listeners, across all modules. */
const listeners = new Map();
/** Module path → (event name → listeners) registered by its running instance. */
const listenersByModule = new Map();
/** Module path → how many times its code has run; tells a re-execution apart from a cache hit. */
const executions = new Map();

/** Updates apply one payload at a time, in the order they arrived. */
let updateQueue = Promise.resolve();

/**
 * Give the runtime its transport: how to send custom events to the server,
 * reload the page, log, and show an error to the user.
 *
 *   configure({ send: (event, data) => socket.send(...), reload: () => location.reload() });
 */
export function configure({ send, reload, log, showError } = {}) {
  if (send) {
    host.send = send;
    for (const [event, data] of unsent.splice(0)) send(event, data);
  }
  if (reload) host.reload = reload;
  if (showError) host.showError = showError;
  if (log) host.log = { ...host.log, ...log };
}

/**
 * The URL path that names a module: same-origin URLs lose origin, query and hash,
 * so "http://host/src/a.js?t=2" and "/src/a.js" are the same module.
 */
function modulePath(url) {
  const parsed = new URL(url, location.href);
  return parsed.origin === location.origin ? parsed.pathname : parsed.origin + parsed.pathname;
}

function isUrlLike(specifier) {
  if (specifier.startsWith("/") || specifier.startsWith("./") || specifier.startsWith("../")) {
    return true;
  }
  try {
    new URL(specifier);
    return true;
  } catch {
    return false;
  }
}

/** Forget everything a module's previous instance registered; its data object stays. */
function forgetInstance(path) {
  acceptCallbacks.delete(path);
  disposeCallbacks.delete(path);
  pruneCallbacks.delete(path);
  decliningModules.delete(path);
  const stale = listenersByModule.get(path);
  if (stale) {
    for (const [event, fns] of stale) {
      const remaining = (listeners.get(event) || []).filter((fn) => !fns.includes(fn));
      if (remaining.length) listeners.set(event, remaining);
      else listeners.delete(event);
    }
    listenersByModule.delete(path);
  }
}

function addTo(map, key, value) {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

function describeError(err) {
  return err instanceof Error
    ? { message: err.message, stack: err.stack || "" }
    : { message: String(err), stack: "" };
}

async function reportError(err, path, what) {
  host.log.error(`[hotreload] ${what} ${path}`, err);
  host.showError(err, { path, what });
  await emit(`${EVENT_PREFIX}error`, { path, err: describeError(err) });
}

class HotContext {
  #owner;
  #ownerUrl;

  constructor(ownerUrl) {
    this.#ownerUrl = ownerUrl;
    this.#owner = modulePath(ownerUrl);
  }

  /** One object per module path that survives updates: hand state over in `dispose`. */
  get data() {
    return dataByModule.get(this.#owner);
  }

  /**
   * accept() / accept(cb): this module takes its own updates; cb gets the new module.
   * accept(dep, cb) / accept([deps], cb): this module takes updates of those imports.
   */
  accept(deps, callback) {
    if (deps === undefined || deps === null || typeof deps === "function") {
      this.#register([this.#owner], ([mod]) => deps?.(mod));
    } else if (typeof deps === "string") {
      this.#register([this.#resolve(deps)], ([mod]) => callback?.(mod));
    } else if (Array.isArray(deps)) {
      this.#register(deps.map((dep) => this.#resolve(dep)), callback || (() => {}));
    } else {
      throw new TypeError("import.meta.hot.accept() takes a callback, a dependency or a list of them");
    }
  }

  /** cb(data) runs before this instance is replaced or pruned: undo side effects here. */
  dispose(callback) {
    addTo(disposeCallbacks, this.#owner, callback);
  }

  /** cb(data) runs when no module imports this one any more. */
  prune(callback) {
    addTo(pruneCallbacks, this.#owner, callback);
  }

  /** This module cannot be replaced in place: an update to it reloads the page. */
  decline() {
    decliningModules.add(this.#owner);
  }

  /** Give up on this update: the server propagates it to the importers instead. */
  invalidate(message) {
    const payload = { path: this.#owner, message };
    host.log.info(`[hotreload] invalidate ${this.#owner}${message ? `: ${message}` : ""}`);
    emit(`${EVENT_PREFIX}invalidate`, payload);
    host.send(`${EVENT_PREFIX}invalidate`, payload);
  }

  on(event, callback) {
    addTo(listeners, event, callback);
    let own = listenersByModule.get(this.#owner);
    if (!own) listenersByModule.set(this.#owner, (own = new Map()));
    addTo(own, event, callback);
  }

  off(event, callback) {
    for (const map of [listeners, listenersByModule.get(this.#owner)]) {
      const fns = map?.get(event);
      if (!fns) continue;
      const remaining = fns.filter((fn) => fn !== callback);
      if (remaining.length) map.set(event, remaining);
      else map.delete(event);
    }
  }

  /** Send a custom event to the server (the transport buffers it until connected). */
  send(event, data) {
    host.send(event, data);
  }

  #resolve(dep) {
    // The server rewrites accepted dependencies to absolute paths; relative
    // ones still work when it has not.
    return isUrlLike(dep) ? modulePath(new URL(dep, this.#ownerUrl).href) : dep;
  }

  #register(deps, fn) {
    addTo(acceptCallbacks, this.#owner, { deps, fn });
  }
}

/**
 * What `import.meta.hot` is for the module at `ownerUrl` (pass `import.meta.url`).
 * Each execution of a module gets a fresh context: callbacks and listeners
 * registered by the instance it replaces are dropped, `data` carries over.
 */
export function createHotContext(ownerUrl) {
  const owner = modulePath(ownerUrl);
  forgetInstance(owner);
  loadedModules.add(owner);
  executions.set(owner, (executions.get(owner) || 0) + 1);
  if (!dataByModule.has(owner)) dataByModule.set(owner, {});
  return new HotContext(ownerUrl);
}

/** Whether the module at `url` (a URL or URL path) created a hot context in this tab. */
export function hasRun(url) {
  return loadedModules.has(modulePath(url));
}

/**
 * Deliver a lifecycle or custom event (`hotreload:ws:connect`, a plugin event...)
 * to the listeners registered with `import.meta.hot.on`.
 */
export async function emit(event, payload) {
  const fns = listeners.get(event);
  if (!fns) return;
  await Promise.all(
    [...fns].map(async (fn) => {
      try {
        await fn(payload);
      } catch (err) {
        host.log.error(`[hotreload] a listener of ${event} failed`, err);
      }
    }),
  );
}

async function fullReload(reason) {
  await emit(`${EVENT_PREFIX}beforeFullReload`, { reason });
  host.log.info(`[hotreload] full reload: ${reason}`);
  host.reload(reason);
}

function withTimestamp(path, timestamp) {
  const [bare, query] = path.split("?", 2);
  return `${bare}?t=${timestamp}${query ? `&${query}` : ""}`;
}

/** Why this tab cannot apply `update` in place, or null when it can (or need not). */
function reloadReason({ boundary, accepted }) {
  if (!loadedModules.has(boundary)) return null; // never ran here: nothing to update
  if (decliningModules.has(accepted)) return `${accepted} declines hot updates`;
  const accepting = (acceptCallbacks.get(boundary) || []).some(({ deps }) => deps.includes(accepted));
  if (accepting) return null;
  return boundary === accepted
    ? `${boundary} does not accept its own updates here`
    : `${boundary} does not accept updates of ${accepted} here`;
}

/**
 * Replace the accepted module and return what runs its callbacks afterwards,
 * so that several updates can load in parallel yet apply in order.
 */
async function loadUpdate({ boundary, accepted, rawAcceptedPath, timestamp, withinCycle }) {
  // Chosen before the import: the running instance's callbacks receive the new module.
  const callbacks = (acceptCallbacks.get(boundary) || []).filter(({ deps }) => deps.includes(accepted));
  const data = dataByModule.get(accepted);
  for (const dispose of disposeCallbacks.get(accepted) || []) {
    try {
      await dispose(data);
    } catch (err) {
      await reportError(err, accepted, "dispose failed for");
    }
  }
  disposeCallbacks.delete(accepted);

  const runsBefore = executions.get(accepted) || 0;
  let newModule;
  try {
    newModule = await import(withTimestamp(rawAcceptedPath, timestamp));
    if ((executions.get(accepted) || 0) === runsBefore) {
      // The new version does not use import.meta.hot: the old registrations belong to a dead instance.
      forgetInstance(accepted);
    }
  } catch (err) {
    if (withinCycle) {
      // Inside an import cycle the new versions run in a different order than
      // on page load, which alone can make them throw: start over instead.
      host.log.warn(`[hotreload] ${accepted} failed to re-run inside an import cycle`, err);
      await fullReload(`${accepted} is in an import cycle and threw when re-run (${err && err.message ? err.message : err})`);
      return async () => {};
    }
    await reportError(err, accepted, "failed to reload");
  }

  return async () => {
    for (const { deps, fn } of callbacks) {
      try {
        await fn(deps.map((dep) => (dep === accepted ? newModule : undefined)));
      } catch (err) {
        await reportError(err, boundary, "accept callback failed in");
      }
    }
    if (newModule !== undefined) {
      host.log.info(`[hotreload] hot updated: ${boundary === accepted ? boundary : `${accepted} via ${boundary}`}`);
    }
  };
}

async function applyNow(payload) {
  const updates = (payload.updates || [])
    .filter((update) => (update.type || "js-update") === "js-update")
    .map((update) => {
      const rawAcceptedPath = update.acceptedPath || update.path;
      return {
        boundary: modulePath(update.path),
        accepted: modulePath(rawAcceptedPath),
        rawAcceptedPath,
        timestamp: update.timestamp,
        withinCycle: update.isWithinCircularImport === true,
      };
    });
  for (const update of updates) {
    const reason = reloadReason(update);
    if (reason) {
      await fullReload(reason);
      return;
    }
  }
  await emit(`${EVENT_PREFIX}beforeUpdate`, payload);
  const applicable = updates.filter(({ boundary }) => loadedModules.has(boundary));
  const appliers = await Promise.all(applicable.map(loadUpdate));
  for (const apply of appliers) await apply();
  await emit(`${EVENT_PREFIX}afterUpdate`, payload);
}

/**
 * Apply `{ updates: [{ type: "js-update", path, acceptedPath, timestamp, isWithinCircularImport }] }`:
 * `path` is the boundary module, `acceptedPath` the module it re-imports
 * (itself when self-accepting). Updates for modules this tab never ran are ignored.
 * When `isWithinCircularImport` is set and the re-import throws, the page reloads.
 * Resolves once every accept callback has run.
 */
export function applyUpdate(payload) {
  const run = updateQueue.then(() => applyNow(payload));
  updateQueue = run.catch(() => {});
  return run;
}

/**
 * Run the dispose and prune callbacks of modules nothing imports any more
 * (paths as URL paths, e.g. "/src/old.js"). Queued behind pending updates.
 */
export function prune(paths) {
  const run = updateQueue.then(() => pruneNow(paths));
  updateQueue = run.catch(() => {});
  return run;
}

async function pruneNow(paths) {
  await emit(`${EVENT_PREFIX}beforePrune`, { paths });
  for (const path of paths.map(modulePath)) {
    const data = dataByModule.get(path);
    for (const callbacks of [disposeCallbacks, pruneCallbacks]) {
      for (const fn of callbacks.get(path) || []) {
        try {
          await fn(data);
        } catch (err) {
          await reportError(err, path, "prune failed for");
        }
      }
      callbacks.delete(path);
    }
  }
}
