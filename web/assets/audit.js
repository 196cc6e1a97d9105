// The audit log on the admin page. GET /admin/audit comes from another part of the server: the page
// shows its events when the endpoint answers, and says so when it does not exist.
import { ApiError, api } from './session.js';
import { el, formatDate } from './ui.js';

function problem(error) {
  return error instanceof ApiError ? error.message : 'The server cannot be reached. Try again.';
}

function cell(value, mono = false) {
  return el('td', mono ? { class: 'mono' } : {}, value ?? '—');
}

function auditTable(items, nameOf) {
  if (items.length === 0) return el('p', { class: 'empty' }, 'No events yet.');
  const short = (id) => (typeof id === 'string' && id.length > 12 ? `${id.slice(0, 8)}…` : id);
  const rows = items.map((e) => {
    const details = e.details && Object.keys(e.details).length > 0 ? JSON.stringify(e.details) : '';
    return el(
      'tr',
      {},
      cell(e.at ? formatDate(e.at) : null),
      cell(e.type, true),
      cell(nameOf(e.actor_id) ?? short(e.actor_id), true),
      cell(nameOf(e.subject_id) ?? short(e.subject_id), true),
      cell(e.ip, true),
      cell(details, true),
    );
  });
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
