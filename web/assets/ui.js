// Small DOM helpers shared by the pages. Text from the server is always set as text, never as HTML.

export function $(selector, root = document) {
  return root.querySelector(selector);
}

export function $$(selector, root = document) {
  return [...root.querySelectorAll(selector)];
}

/** Creates an element: attributes (booleans toggle, `class` and `data-*` as given) and children. */
export function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === false || value === null || value === undefined) continue;
    node.setAttribute(name, value === true ? '' : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

/**
 * Sends `form` through `handler` (which calls event.preventDefault() and fetch). A submission made
 * before this page's script was ready was held by no-native-submit.js: it is sent now.
 */
export function onSubmit(form, handler) {
  form.addEventListener('submit', handler);
  form.setAttribute('data-armed', '');
  if (form.hasAttribute('data-pending-submit')) {
    form.removeAttribute('data-pending-submit');
    form.requestSubmit();
  }
}

/**
 * Focuses `element` as a page opens, unless the user already is in a field: a script that loads
 * late must not move the caret while they type (a password would land in the username field, in
 * clear).
 */
export function focusIfIdle(element) {
  const active = document.activeElement;
  if (element && (active === null || active === document.body)) element.focus();
}

const FLASH_KEY = 'portcullis.flash';

/** A message for the next page (kept in this tab only). */
export function setFlash(message, kind = 'info') {
  sessionStorage.setItem(FLASH_KEY, JSON.stringify({ message, kind }));
}

/** Shows and forgets the flash message, if any, in `container`. */
export function showFlash(container) {
  const raw = sessionStorage.getItem(FLASH_KEY);
  sessionStorage.removeItem(FLASH_KEY);
  if (!raw) return;
  try {
    const { message, kind } = JSON.parse(raw);
    showAlert(container, message, kind);
  } catch {
    // A damaged flash is simply dropped.
  }
}

export function showAlert(container, message, kind = 'error') {
  container.replaceChildren(el('div', { class: `alert alert-${kind}` }, el('p', {}, message)));
  container.hidden = false;
}

export function clearAlert(container) {
  container.replaceChildren();
  container.hidden = true;
}

let toastTimer = 0;

/** A short confirmation at the bottom of the screen, announced to screen readers. */
export function toast(message) {
  let node = $('#toast');
  if (!node) {
    node = el('div', { id: 'toast', class: 'toast', role: 'status', 'aria-live': 'polite' });
    document.body.append(node);
  }
  node.textContent = message;
  node.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => {
    node.hidden = true;
  }, 4000);
}

/** Disables a button while work runs, showing `label` meanwhile. */
export async function busy(button, label, work) {
  const original = button.textContent;
  button.disabled = true;
  button.textContent = label;
  try {
    return await work();
  } finally {
    button.disabled = false;
    button.textContent = original;
  }
}

/** Marks fields invalid with their messages; unknown fields go to the form's alert. */
export function showFieldErrors(form, errors, alert) {
  clearFieldErrors(form);
  let first = null;
  const leftover = [];
  for (const [field, message] of Object.entries(errors)) {
    const input = form.elements.namedItem(field);
    const slot = $(`[data-error-for="${field}"]`, form);
    if (input instanceof HTMLInputElement && slot) {
      input.setAttribute('aria-invalid', 'true');
      slot.textContent = message;
      slot.hidden = false;
      first ??= input;
    } else {
      leftover.push(message);
    }
  }
  if (leftover.length > 0 && alert) showAlert(alert, leftover.join(' '));
  first?.focus();
}

export function clearFieldErrors(form) {
  for (const input of $$('[aria-invalid]', form)) input.removeAttribute('aria-invalid');
  for (const slot of $$('[data-error-for]', form)) {
    slot.textContent = '';
    slot.hidden = true;
  }
}

const relative = new Intl.RelativeTimeFormat(undefined, { numeric: 'auto' });
const STEPS = [
  [60, 'second'],
  [60, 'minute'],
  [24, 'hour'],
  [7, 'day'],
  [4.35, 'week'],
  [12, 'month'],
  [Number.POSITIVE_INFINITY, 'year'],
];

/** "just now", "5 minutes ago", "yesterday". */
export function timeAgo(iso) {
  let amount = (new Date(iso).getTime() - Date.now()) / 1000;
  // A server clock slightly ahead of this one must not read "in 2 minutes".
  if (amount > -45) return 'just now';
  for (const [size, unit] of STEPS) {
    if (Math.abs(amount) < size) return relative.format(Math.round(amount), unit);
    amount /= size;
  }
  return '';
}

export function formatDate(iso) {
  return new Date(iso).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
}

export function formatDay(iso) {
  return new Date(iso).toLocaleDateString(undefined, { dateStyle: 'long' });
}

/** A readable device name from a User-Agent: "Chrome on Linux", "Safari on iPhone", "curl". */
export function describeDevice(agent) {
  if (!agent) return { name: 'Unknown device', kind: 'other' };
  const browsers = [
    [/Edg\//, 'Edge'],
    [/OPR\//, 'Opera'],
    [/Firefox\//, 'Firefox'],
    [/HeadlessChrome\//, 'Headless Chrome'],
    [/Chrom(e|ium)\//, 'Chrome'],
    [/Safari\//, 'Safari'],
    [/^curl\//, 'curl'],
    [/^node|undici/i, 'Node.js'],
    [/python/i, 'Python'],
  ];
  const systems = [
    [/iPhone/, 'iPhone', 'phone'],
    [/iPad/, 'iPad', 'phone'],
    [/Android/, 'Android', 'phone'],
    [/Windows/, 'Windows', 'desktop'],
    [/Mac OS X|Macintosh/, 'macOS', 'desktop'],
    [/CrOS/, 'ChromeOS', 'desktop'],
    [/Linux/, 'Linux', 'desktop'],
  ];
  const browser = browsers.find(([re]) => re.test(agent))?.[1];
  const system = systems.find(([re]) => re.test(agent));
  if (!browser && !system) return { name: agent.slice(0, 60), kind: 'other' };
  const name = [browser, system && `on ${system[1]}`].filter(Boolean).join(' ');
  return { name, kind: system?.[2] ?? 'other' };
}

export function initials(name) {
  return Array.from(name ?? '?')
    .slice(0, 2)
    .join('');
}

/** A same-site path to go to after signing in; anything else (another host, a scheme) is ignored. */
export function safeNext(raw) {
  if (typeof raw !== 'string' || !raw.startsWith('/') || raw.startsWith('//')) return '/';
  // Backslashes and control characters let some browsers read the path as another host.
  if (raw.includes('\\') || Array.from(raw).some((c) => c.charCodeAt(0) < 0x20)) return '/';
  return raw;
}

/**
 * A modal confirmation (<dialog>: focus is trapped and Escape cancels). `fields` adds inputs whose
 * values are returned; resolves to null when cancelled.
 */
export function confirmDialog({ title, message, confirm, danger = false, fields = [] }) {
  return new Promise((resolve) => {
    const inputs = fields.map((f) =>
      el(
        'div',
        { class: 'field' },
        el('label', { for: `dialog-${f.name}` }, f.label),
        el('input', {
          id: `dialog-${f.name}`,
          name: f.name,
          type: f.type ?? 'text',
          autocomplete: f.autocomplete ?? 'off',
          required: true,
        }),
      ),
    );
    const ok = el(
      'button',
      { type: 'submit', class: danger ? 'btn btn-danger' : 'btn btn-primary' },
      confirm,
    );
    const cancel = el('button', { type: 'button', class: 'btn btn-secondary' }, 'Cancel');
    const form = el(
      'form',
      { method: 'dialog' },
      el('h2', { id: 'dialog-title' }, title),
      el('p', { class: 'hint' }, message),
      inputs,
      el('div', { class: 'form-actions' }, ok, cancel),
    );
    const dialog = el('dialog', { 'aria-labelledby': 'dialog-title' }, form);
    document.body.append(dialog);
    let result = null;
    form.addEventListener('submit', () => {
      result = Object.fromEntries(
        fields.map((f) => [f.name, form.elements.namedItem(f.name).value]),
      );
    });
    cancel.addEventListener('click', () => dialog.close());
    dialog.addEventListener('close', () => {
      dialog.remove();
      resolve(result);
    });
    dialog.showModal();
    (inputs.length > 0 ? $('input', dialog) : ok).focus();
  });
}

/** "Show"/"Hide" buttons next to password fields ([data-reveal] names the input's id). */
export function wireReveal(root = document) {
  for (const button of $$('[data-reveal]', root)) {
    const input = document.getElementById(button.dataset.reveal);
    button.addEventListener('click', () => {
      const shown = input.type === 'text';
      input.type = shown ? 'password' : 'text';
      button.textContent = shown ? 'Show' : 'Hide';
      button.setAttribute('aria-pressed', String(!shown));
      input.focus();
    });
  }
}

/** Shows the element of `view` among the page's [data-view] sections, hiding the others. */
export function showView(view) {
  for (const node of $$('[data-view]')) node.hidden = node.dataset.view !== view;
}
