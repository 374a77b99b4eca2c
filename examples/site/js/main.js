// An ES module: editing it (or greet.js, which it imports) reloads the page.
import { greet } from "./greet.js";

document.getElementById("module").textContent = greet("module");
