// The audit log on the admin page. GET /admin/audit comes from another part of the server: the page
// shows its events when the endpoint answers, and says so when it does not exist.
import { ApiError, api } from './session.js';
import { el, formatDate } from './ui.js';

function problem(error) {
  return error instanceof ApiError ? error.message : 'The server cannot be reached. Try again.';
}

function cell(value, kind = '') {
  return el('td', kind ? { class: kind } : {}, value ?? '—');
}

function show(value) {
  return value !== null && typeof value === 'object' ? JSON.stringify(value) : String(value);
}

/** "isSuperuser: false → true · reason: admin": the details of an event, readable. */
function describeDetails(details) {
  if (!details || typeof details !== 'object') return '';
  const parts = [];
  for (const [key, value] of Object.entries(details)) {
    if (key === 'changes' && value && typeof value === 'object') {
      for (const [field, change] of Object.entries(value)) {
        parts.push(`${field}: ${show(change?.from)} → ${show(change?.to)}`);
      }
    } else {
      parts.push(`${key}: ${show(value)}`);
    }
  }
  return parts.join(' · ');
}

function auditTable(items, nameOf) {
  if (items.length === 0) return el('p', { class: 'empty' }, 'No events yet.');
  const short = (id) => (typeof id === 'string' && id.length > 12 ? `${id.slice(0, 8)}…` : id);
  const rows = items.map((e) =>
    el(
      'tr',
      {},
      cell(e.at ? formatDate(e.at) : null, 'nowrap'),
      cell(e.type, 'mono nowrap'),
      cell(nameOf(e.actor_id) ?? short(e.actor_id), 'nowrap'),
      cell(nameOf(e.subject_id) ?? short(e.subject_id), 'nowrap'),
      cell(e.ip, 'mono nowrap'),
      cell(describeDetails(e.details), 'details'),
    ),
  );
  return el(
    'div',
    { class: 'table-wrap' },
    el(
      'table',
      { 'aria-labelledby': 'audit-title' },
      el(
        'thead',
        {},
        el(
          'tr',
          {},
          ['When', 'Event', 'Actor', 'Subject', 'Address', 'Details'].map((h) =>
            el('th', { scope: 'col' }, h),
          ),
        ),
      ),
      el('tbody', {}, rows),
    ),
  );
}

/** Shows the latest audit events in `box` (users by name where `nameOf` knows the id). */
export async function loadAudit(box, nameOf = () => undefined) {
  box.replaceChildren(el('p', { class: 'loading' }, 'Loading the audit log…'));
  try {
    const page = await api('GET', '/admin/audit?limit=25');
    box.replaceChildren(auditTable(page.items ?? [], nameOf));
  } catch (error) {
    const message =
      error instanceof ApiError && error.status === 404
        ? 'The audit log is not available on this server yet.'
        : problem(error);
    box.replaceChildren(el('div', { class: 'alert alert-info' }, el('p', {}, message)));
  }
}
