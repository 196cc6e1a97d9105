import { startServer } from '../support/server.ts';
import { client, registerAndLogin } from '../support/http.ts';
console.log(typeof (Uint8Array as unknown as {fromBase64?: unknown}).fromBase64);
const server = await startServer();
const api = client(server.url);
const u = await registerAndLogin(api);
const t = u.tokens.access_token;
const [h, p, s] = t.split('.') as [string, string, string];
const variants: Record<string, string> = {
  sigPad: `${h}.${p}.${s}==`,
  sigStar: `${h}.${p}.${s.slice(0, 10)}*${s.slice(11)}`,
  hdrPadEq: `${h}=.${p}.${s}`,
  payloadPct: `${h}.${p}%3D.${s}`,
  payloadPlus: `${h}.${p.slice(0,5)}+${p.slice(6)}.${s}`,
  trailingDot: `${t}.`,
  five: `${t}.x.y`,
  sigNonCanon: `${h}.${p}.${s.slice(0, -1)}${String.fromCharCode(s.charCodeAt(s.length-1)+1)}`,
};
console.log('last sig char', s.at(-1), 'hdr len', h.length % 4, 'p len', p.length % 4);
for (const [k, v] of Object.entries(variants)) {
  const r = await api.get('/users/me', { token: v });
  console.log(k, r.status, r.headers.get('www-authenticate'));
}
try {
  const r = await api.get('/users/me', { token: 'A'.repeat(100 * 1024) });
  console.log('100k', r.status, r.headers.get('www-authenticate'), r.text.slice(0, 200));
} catch (e) { console.log('100k threw', e); }
const r = await api.get('/users/me', { token: 'A'.repeat(12 * 1024) });
console.log('12k', r.status);
console.log((await api.get('/users/me', { token: t })).status);
await server.close();
