// Formatting helpers used by the view.
import { plural } from "./plural.js";

export function describe(count) {
  return `${count} ${plural(count, "click", "clicks")}`;
}
