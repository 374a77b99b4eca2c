// The error overlay: a failed build or update, shown over the page in a shadow
// root so that neither the page's styles nor ours leak across.

const NAME = "hotreload-error-overlay";

const STYLE = `
:host { position: fixed; inset: 0; z-index: 2147483647; display: flex; align-items: flex-start;
  justify-content: center; background: rgba(10, 10, 14, .66); overflow: auto;
  font: 14px/1.5 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
.box { margin: 6vh 2rem; max-width: 70rem; width: 100%; background: #181a1f; color: #e6e6e6;
  border-top: 6px solid #ff5555; border-radius: 6px; box-shadow: 0 12px 40px rgba(0,0,0,.5); padding: 1.2rem 1.5rem; }
h1 { font-size: 16px; margin: 0 0 .6rem; color: #ff7b7b; }
.message { white-space: pre-wrap; margin: 0 0 .8rem; font-weight: 600; }
.where { color: #8ab4f8; margin-bottom: .6rem; }
pre { margin: 0; padding: .8rem; background: #0f1115; border-radius: 4px; overflow: auto; max-height: 55vh;
  white-space: pre-wrap; word-break: break-word; }
.hint { color: #9aa0a6; margin-top: .8rem; font-size: 12px; }
button { float: right; background: none; border: 0; color: #9aa0a6; font: inherit; cursor: pointer; }
`;

class ErrorOverlay extends HTMLElement {
  constructor(error) {
    super();
    const root = this.attachShadow({ mode: "open" });
    const style = document.createElement("style");
    style.textContent = STYLE;
    const box = document.createElement("div");
    box.className = "box";
    box.setAttribute("role", "alertdialog");
    const close = document.createElement("button");
    close.textContent = "×";
    close.title = "Close (Esc)";
    close.addEventListener("click", () => this.remove());
    const title = document.createElement("h1");
    title.textContent = error.title || "Error";
    box.append(close, title);
    if (error.message) box.append(part("p", "message", error.message));
    if (error.file) {
      const where = [error.file, error.line, error.column].filter((x) => x != null).join(":");
      box.append(part("div", "where", where));
    }
    if (error.frame) box.append(part("pre", "frame", error.frame));
    if (error.output) box.append(part("pre", "output", error.output));
    box.append(part("div", "hint", "This overlay goes away by itself once the error is fixed."));
    root.append(style, box);
  }
}

function part(tag, className, text) {
  const el = document.createElement(tag);
  el.className = className;
  el.textContent = text;
  return el;
}

if (!customElements.get(NAME)) customElements.define(NAME, ErrorOverlay);

export function showOverlay(error) {
  clearOverlay();
  const overlay = new ErrorOverlay(error);
  (document.body || document.documentElement).append(overlay);
  return overlay;
}

export function clearOverlay() {
  document.querySelectorAll(NAME).forEach((el) => el.remove());
}

export function overlayShown() {
  return document.querySelector(NAME) !== null;
}

document.addEventListener("keydown", (event) => {
  if (event.key === "Escape") clearOverlay();
});
