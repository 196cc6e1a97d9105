// The provider's own pages (consent, sign-out, errors) are rendered by the server; the script only
// fills the shared top bar, as on every other page.
import { startPage } from './layout.js';

await startPage();
