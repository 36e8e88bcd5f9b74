// Tiny DOM helpers shared by the screens (no framework: the page is small and must stay light).

export const byId = (id) => document.getElementById(id);

// el('p', {class: 'x', onclick: fn}, 'text', child) — text children are always text nodes, never
// HTML, so answers and disclaimer text can never inject markup.
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value == null || value === false) continue;
    if (name.startsWith('on')) node.addEventListener(name.slice(2), value);
    else if (name === 'class') node.className = value;
    else node.setAttribute(name, value === true ? '' : value);
  }
  for (const child of children.flat()) {
    if (child == null || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

const SVG = 'http://www.w3.org/2000/svg';

export function icon(name) {
  const svg = document.createElementNS(SVG, 'svg');
  svg.setAttribute('class', 'icon');
  svg.setAttribute('aria-hidden', 'true');
  const use = document.createElementNS(SVG, 'use');
  use.setAttribute('href', `#i-${name}`);
  svg.append(use);
  return svg;
}

const SCREENS = ['loading', 'research-id', 'disclaimer', 'chat'];

// Shows one screen and moves focus into it, so keyboard and screen-reader users land on it.
export function showScreen(name, focusTarget) {
  for (const screen of SCREENS) byId(`screen-${screen}`).hidden = screen !== name;
  byId('chat-actions').hidden = name !== 'chat';
  document.body.dataset.screen = name;
  const target = focusTarget ? byId(focusTarget) : null;
  if (target) target.focus({ preventScroll: false });
}
