/**
 * Finding the URLs written in text, and replacing them without touching
 * anything else: `srcset` values (the HTML standard's parsing) and CSS (a
 * tokenizer after CSS Syntax Level 3, the parts that locate URLs in `url()`,
 * `src()` and the strings of `image-set()`).
 *
 *     import { rewriteCssUrls } from '/__hotreload/urltext.js';
 *     rewriteCssUrls('background: url(a.png) no-repeat', (url) => url + '?v=2');
 *     // 'background: url("a.png?v=2") no-repeat'
 */

// Functions whose string arguments are URLs (elsewhere a CSS string is just text).
const URL_STRING_FUNCTIONS = new Set(['url', 'src', 'image-set', '-webkit-image-set']);


// ---------------------------------------------------------------------------
// srcset (HTML "parse a srcset attribute")
// ---------------------------------------------------------------------------

/**
 * The candidates of a `srcset` value, as `{ url, descriptors }` with the
 * descriptors' text as written.
 */
export function parseSrcset(value) {
  const candidates = [];
  let position = 0;
  const isSpace = (c) => c === ' ' || c === '\t' || c === '\n' || c === '\r' || c === '\f';
  while (position < value.length) {
    while (position < value.length && (isSpace(value[position]) || value[position] === ',')) position += 1;
    if (position >= value.length) break;
    const urlStart = position;
    while (position < value.length && !isSpace(value[position])) position += 1;
    let url = value.slice(urlStart, position);
    if (url.endsWith(',')) {
      // "a.png," ends the candidate: the commas belong to the separator, not the URL.
      url = url.replace(/,+$/, '');
      candidates.push({ url, descriptors: '' });
      continue;
    }
    const descriptorsStart = position;
    let inParentheses = false;
    while (position < value.length) {
      const c = value[position];
      if (inParentheses) {
        if (c === ')') inParentheses = false;
      } else if (c === '(') {
        inParentheses = true;
      } else if (c === ',') {
        break;
      }
      position += 1;
    }
    candidates.push({ url, descriptors: value.slice(descriptorsStart, position).trim() });
    position += 1; // the comma
  }
  return candidates;
}

/** `value` with candidate URLs replaced by `replace(url)` (null keeps one), or null if none changed. */
export function rewriteSrcset(value, replace) {
  let changed = false;
  const candidates = parseSrcset(value).map(({ url, descriptors }) => {
    const newUrl = replace(url);
    if (newUrl !== null) changed = true;
    const written = newUrl ?? url;
    return descriptors === '' ? written : `${written} ${descriptors}`;
  });
  return changed ? candidates.join(', ') : null;
}


// ---------------------------------------------------------------------------
// CSS tokens (CSS Syntax Level 3, the parts that locate URLs)
// ---------------------------------------------------------------------------

const isWhitespace = (c) => c === ' ' || c === '\t' || c === '\n' || c === '\r' || c === '\f';
const isNewline = (c) => c === '\n' || c === '\r' || c === '\f';
const isDigit = (c) => c !== undefined && c >= '0' && c <= '9';
const isHexDigit = (c) => isDigit(c) || (c !== undefined && ((c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')));
const isNameStart = (c) => c !== undefined
  && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c === '_' || c.charCodeAt(0) >= 0x80);
const isNameChar = (c) => isNameStart(c) || isDigit(c) || c === '-';
const isNonPrintable = (c) => {
  const code = c.charCodeAt(0);
  return code <= 0x08 || code === 0x0b || (code >= 0x0e && code <= 0x1f) || code === 0x7f;
};
const startsEscape = (first, second) => first === '\\' && !isNewline(second);
const startsIdentifier = (first, second, third) => {
  if (first === '-') return isNameStart(second) || second === '-' || startsEscape(second, third);
  if (first === '\\') return startsEscape(first, second);
  return isNameStart(first);
};
const startsNumber = (first, second, third) => {
  if (first === '+' || first === '-') return isDigit(second) || (second === '.' && isDigit(third));
  if (first === '.') return isDigit(second);
  return isDigit(first);
};

/**
 * Tokens of `text` as `{ type, start, end, value }`; `value` is the decoded
 * text of strings, URLs and names. Types: whitespace, comment, string,
 * bad-string, url, bad-url, function, ident, at-keyword, hash, number,
 * open-paren, close-paren, delim.
 */
function tokenizeCss(text) {
  const tokens = [];
  let position = 0;
  const at = (offset = 0) => text[position + offset];

  const consumeEscape = () => {
    // The backslash is already consumed.
    if (position >= text.length) return '\uFFFD';
    if (isHexDigit(at())) {
      let hex = '';
      while (hex.length < 6 && isHexDigit(at())) {
        hex += at();
        position += 1;
      }
      if (at() === '\r' && at(1) === '\n') position += 2;
      else if (isWhitespace(at())) position += 1;
      const code = parseInt(hex, 16);
      const invalid = code === 0 || (code >= 0xd800 && code <= 0xdfff) || code > 0x10ffff;
      return invalid ? '\uFFFD' : String.fromCodePoint(code);
    }
    const character = String.fromCodePoint(text.codePointAt(position));
    position += character.length;
    return character;
  };

  const consumeName = () => {
    let name = '';
    for (;;) {
      if (isNameChar(at())) {
        name += at();
        position += 1;
      } else if (startsEscape(at(), at(1))) {
        position += 1;
        name += consumeEscape();
      } else {
        return name;
      }
    }
  };

  const consumeString = (quote) => {
    let value = '';
    for (;;) {
      const c = at();
      if (c === undefined) return { type: 'string', value };
      if (c === quote) {
        position += 1;
        return { type: 'string', value };
      }
      if (isNewline(c)) return { type: 'bad-string', value };
      if (c === '\\') {
        if (at(1) === undefined) {
          position += 1;
        } else if (isNewline(at(1))) {
          position += at(1) === '\r' && at(2) === '\n' ? 3 : 2; // an escaped newline continues the line
        } else {
          position += 1;
          value += consumeEscape();
        }
        continue;
      }
      value += c;
      position += 1;
    }
  };

  const consumeBadUrlRemnants = () => {
    while (position < text.length) {
      if (at() === ')') {
        position += 1;
        return;
      }
      if (startsEscape(at(), at(1))) {
        position += 1;
        consumeEscape();
      } else {
        position += 1;
      }
    }
  };

  const consumeUrl = () => {
    // After "url(" when the argument is not quoted.
    let value = '';
    while (isWhitespace(at())) position += 1;
    for (;;) {
      const c = at();
      if (c === undefined) return { type: 'url', value };
      if (c === ')') {
        position += 1;
        return { type: 'url', value };
      }
      if (isWhitespace(c)) {
        while (isWhitespace(at())) position += 1;
        if (at() === ')' || at() === undefined) {
          if (at() === ')') position += 1;
          return { type: 'url', value };
        }
        consumeBadUrlRemnants();
        return { type: 'bad-url', value };
      }
      if (c === '"' || c === "'" || c === '(' || isNonPrintable(c)) {
        consumeBadUrlRemnants();
        return { type: 'bad-url', value };
      }
      if (c === '\\') {
        if (!startsEscape(c, at(1))) {
          consumeBadUrlRemnants();
          return { type: 'bad-url', value };
        }
        position += 1;
        value += consumeEscape();
        continue;
      }
      value += c;
      position += 1;
    }
  };

  const consumeIdentLike = () => {
    const name = consumeName();
    if (name.toLowerCase() === 'url' && at() === '(') {
      position += 1;
      let ahead = position;
      while (isWhitespace(text[ahead])) ahead += 1;
      if (text[ahead] === '"' || text[ahead] === "'") return { type: 'function', value: name };
      return consumeUrl();
    }
    if (at() === '(') {
      position += 1;
      return { type: 'function', value: name };
    }
    return { type: 'ident', value: name };
  };

  const consumeNumber = () => {
    if (at() === '+' || at() === '-') position += 1;
    while (isDigit(at())) position += 1;
    if (at() === '.' && isDigit(at(1))) {
      position += 1;
      while (isDigit(at())) position += 1;
    }
    if ((at() === 'e' || at() === 'E')
        && (isDigit(at(1)) || ((at(1) === '+' || at(1) === '-') && isDigit(at(2))))) {
      position += 2;
      while (isDigit(at())) position += 1;
    }
    if (startsIdentifier(at(), at(1), at(2))) consumeName();
    else if (at() === '%') position += 1;
    return { type: 'number', value: '' };
  };

  const consumeToken = () => {
    const c = at();
    if (c === '/' && at(1) === '*') {
      const close = text.indexOf('*/', position + 2);
      position = close === -1 ? text.length : close + 2;
      return { type: 'comment', value: '' };
    }
    if (isWhitespace(c)) {
      while (isWhitespace(at())) position += 1;
      return { type: 'whitespace', value: '' };
    }
    if (c === '"' || c === "'") {
      position += 1;
      return consumeString(c);
    }
    if (c === '#' && (isNameChar(at(1)) || startsEscape(at(1), at(2)))) {
      position += 1;
      return { type: 'hash', value: consumeName() };
    }
    if (c === '@' && startsIdentifier(at(1), at(2), at(3))) {
      position += 1;
      return { type: 'at-keyword', value: consumeName() };
    }
    if (startsNumber(c, at(1), at(2))) return consumeNumber();
    if (startsIdentifier(c, at(1), at(2))) return consumeIdentLike();
    if (c === '(') {
      position += 1;
      return { type: 'open-paren', value: '' };
    }
    if (c === ')') {
      position += 1;
      return { type: 'close-paren', value: '' };
    }
    position += String.fromCodePoint(text.codePointAt(position)).length;
    return { type: 'delim', value: c };
  };

  while (position < text.length) {
    const start = position;
    const token = consumeToken();
    tokens.push({ ...token, start, end: position });
  }
  return tokens;
}

/**
 * `text` with each URL (in `url()`, `src()`, or a string inside `image-set()`)
 * replaced by `replace(url)`, or null when `replace` returned null for all.
 * Text around the URLs, strings that are not URLs included, is kept as is.
 */
export function rewriteCssUrls(text, replace) {
  let result = '';
  let copiedUpTo = 0;
  let changed = false;
  const functions = [];
  for (const token of tokenizeCss(text)) {
    let replacement = null;
    if (token.type === 'url') {
      const newUrl = replace(token.value);
      if (newUrl !== null) replacement = `url(${cssString(newUrl)})`;
    } else if (token.type === 'string' && URL_STRING_FUNCTIONS.has(functions.at(-1))) {
      const newUrl = replace(token.value);
      if (newUrl !== null) replacement = cssString(newUrl);
    } else if (token.type === 'function') {
      functions.push(token.value.toLowerCase());
    } else if (token.type === 'open-paren') {
      functions.push('(');
    } else if (token.type === 'close-paren') {
      functions.pop();
    }
    if (replacement !== null) {
      result += text.slice(copiedUpTo, token.start) + replacement;
      copiedUpTo = token.end;
      changed = true;
    }
  }
  return changed ? result + text.slice(copiedUpTo) : null;
}

/** An `@import` rule's text pointing at `newUrl`, with its layer, supports() and media kept. */
export function importRuleWithUrl(cssText, newUrl) {
  for (const token of tokenizeCss(cssText)) {
    if (token.type === 'url' || token.type === 'string') {
      const replacement = token.type === 'url' ? `url(${cssString(newUrl)})` : cssString(newUrl);
      return cssText.slice(0, token.start) + replacement + cssText.slice(token.end);
    }
  }
  return `@import url(${cssString(newUrl)});`;
}

/** `value` as a double-quoted CSS string. */
function cssString(value) {
  let quoted = '"';
  for (const character of value) {
    const code = character.codePointAt(0);
    if (character === '"' || character === '\\') quoted += `\\${character}`;
    else if (code < 0x20 || code === 0x7f) quoted += `\\${code.toString(16)} `;
    else quoted += character;
  }
  return `${quoted}"`;
}
