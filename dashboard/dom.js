/**
 * DOM building from text only. Every value becomes a text node or an attribute value, never markup:
 * the page shows what the API says (messages from checks, names from tokens) exactly as written.
 * The page's Content-Security-Policy also forbids parsing HTML from strings (Trusted Types).
 */

/**
 * An element: `props` sets attributes (`class`, `title`, `data-*`, `aria-*`, …), `on*` listeners and
 * boolean properties (`disabled`, `hidden`); children are nodes or text.
 * @param {string} tag
 * @param {Record<string, unknown>} [props]
 * @param {...unknown} children
 * @returns {HTMLElement}
 */
export function h(tag, props = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith('on') && typeof value === 'function') {
      el.addEventListener(key.slice(2), /** @type {EventListener} */ (value));
    } else if (key === 'disabled' || key === 'hidden') {
      el[key] = Boolean(value);
    } else {
      el.setAttribute(key, value === true ? '' : String(value));
    }
  }
  append(el, children);
  return el;
}

/**
 * @param {Element} el
 * @param {unknown[]} children
 */
function append(el, children) {
  for (const child of children) {
    if (child === undefined || child === null || child === false) continue;
    if (Array.isArray(child)) append(el, child);
    else if (child instanceof Node) el.append(child);
    else el.append(document.createTextNode(String(child)));
  }
}

/**
 * Replaces an element's children.
 * @param {Element} el
 * @param {...unknown} children
 */
export function fill(el, ...children) {
  el.replaceChildren();
  append(el, children);
}

/** @param {string} id */
export function byId(id) {
  const el = document.getElementById(id);
  if (el === null) throw new Error(`the page has no #${id}`);
  return el;
}
