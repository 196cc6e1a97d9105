// Loaded before the page (a classic script in the head, so it runs before any form exists): the
// pages' forms are sent by their scripts with fetch. A form submitted before its page script is
// ready would otherwise be sent natively, as a GET with the password in the address — into the
// history, the logs and the Referer. Capturing on the document, this runs first and stops only the
// native submission; the page's handler still runs if attached, and if it is not yet, the form is
// marked so that onSubmit (ui.js) sends it once it is.
document.addEventListener(
  'submit',
  (event) => {
    const form = event.target;
    if (!(form instanceof HTMLFormElement) || !form.hasAttribute('data-form')) return;
    event.preventDefault();
    if (!form.hasAttribute('data-armed')) form.setAttribute('data-pending-submit', '');
  },
  true,
);
