// The render code: edit the markup or the text and save.
import { describe } from "./format.js";

export function view(state, actions) {
  const wrapper = document.createElement("div");
  const heading = document.createElement("h1");
  heading.id = "count";
  heading.textContent = describe(state.count);
  const button = document.createElement("button");
  button.id = "increment";
  button.textContent = "Add one";
  button.addEventListener("click", actions.increment);
  wrapper.append(heading, button);
  return wrapper;
}
