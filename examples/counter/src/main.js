// The app's state and wiring. It keeps the count, and re-renders with the new
// view whenever view.js (or anything it imports) is edited.
import { view } from "./view.js";

const state = { count: 0 };
let render = view;

function update() {
  const root = document.getElementById("app");
  root.replaceChildren(render(state, { increment }));
}

function increment() {
  state.count += 1;
  update();
}

update();

if (import.meta.hot) {
  import.meta.hot.accept("./view.js", (next) => {
    if (!next) return; // the new view failed to load: the error overlay says why
    render = next.view;
    update();
  });
}
