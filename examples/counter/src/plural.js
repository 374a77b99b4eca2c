// A helper three imports deep (main.js → view.js → format.js → plural.js).
export function plural(count, one, many) {
  return count === 1 ? one : many;
}
