// The password policy explained live: each rule is ticked or crossed as the user types. Length is
// judged at once; the rest comes from POST /password/check, the very rule the server enforces.
import { $, $$ } from './ui.js';

const DEBOUNCE_MS = 250;

async function ask(password, who) {
  const response = await fetch('/password/check', {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json' },
    body: JSON.stringify({ password, ...who }),
    credentials: 'omit',
    cache: 'no-store',
  });
  return response.ok ? response.json() : null;
}

/** Wires a password input to its checklist; `who()` gives the username and email to compare with. */
export function livePolicy(input, list, who) {
  let min = 8;
  let max = 4096;
  let seq = 0;
  let timer = 0;
  const rule = (name) => $(`[data-rule="${name}"]`, list);
  const set = (name, state) => {
    // A page may show only some of the rules (the reset page cannot know the username).
    const node = rule(name);
    if (node) node.dataset.state = state;
  };

  function judgeLength(password) {
    const length = Array.from(password).length;
    if (length === 0) set('length', 'pending');
    else set('length', length >= min && length <= max ? 'ok' : 'bad');
  }

  function apply(answer) {
    min = answer.min_length;
    max = answer.max_length;
    for (const node of $$('[data-min]', list)) node.textContent = String(min);
    const has = (...reasons) => reasons.some((r) => answer.reasons.includes(r));
    set('length', has('too_short', 'too_long') ? 'bad' : 'ok');
    // A too-short or too-long password is not judged further by the server.
    if (has('too_short', 'too_long')) return;
    set('common', has('common') ? 'bad' : 'ok');
    set('personal', has('matches_username', 'matches_email') ? 'bad' : 'ok');
  }

  function update() {
    const password = input.value;
    const mine = ++seq;
    judgeLength(password);
    clearTimeout(timer);
    if (password === '') {
      set('common', 'pending');
      set('personal', 'pending');
      return;
    }
    timer = setTimeout(async () => {
      const answer = await ask(password, who()).catch(() => null);
      if (answer && mine === seq) apply(answer);
    }, DEBOUNCE_MS);
  }

  input.addEventListener('input', update);
  // Learn the configured minimum before the first keystroke.
  ask('', {})
    .then((answer) => {
      if (!answer) return;
      min = answer.min_length;
      max = answer.max_length;
      for (const node of $$('[data-min]', list)) node.textContent = String(min);
    })
    .catch(() => {});
  return { update };
}
