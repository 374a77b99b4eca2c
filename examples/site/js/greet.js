export function greet(name) {
  return `${name}: ran at ${new Date().toLocaleTimeString()}`;
}
