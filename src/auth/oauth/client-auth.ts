// Client authentication at /token (RFC 6749 §2.3): HTTP Basic or the body for confidential clients
// (as registered: client_secret_basic or client_secret_post), the client_id alone for public ones.
// A client_id that is not registered stands for a public first-party client (the FastAPI guides'
// clients send none, or any), which only the password and refresh grants accept.
import { AppError } from '../../errors/index.ts';
import { type Client, isConfidential, verifyClientSecret } from '../clients/index.ts';
import type { Uses } from '../services.ts';

export interface PresentedCredentials {
  basic?: { id: string; secret: string } | undefined;
  bodyId?: string | undefined;
  bodySecret?: string | undefined;
}

export type TokenClient =
  | { registered: true; client: Client; clientId: string }
  | { registered: false; clientId: string };

const badClient = (why: string): AppError => new AppError('invalid_client', why);
const CLIENT_ID = /^[\x20-\x7E]{1,128}$/;

export async function authenticateClient(
  s: Uses<'store', 'defaultClientId'>,
  presented: PresentedCredentials,
): Promise<TokenClient> {
  const { basic } = presented;
  const bodySecret = presented.bodySecret === '' ? undefined : presented.bodySecret;
  // One method per request (RFC 6749 §2.3): two would leave which one counts to chance.
  if (basic && bodySecret !== undefined) {
    throw new AppError(
      'invalid_request',
      'Send the client secret once: Basic or the body, not both.',
    );
  }
  if (basic && presented.bodyId && presented.bodyId !== basic.id) {
    throw badClient('The client_id in the body differs from the Basic credentials.');
  }
  const id = basic?.id || presented.bodyId || undefined;
  if (id === undefined) {
    if (bodySecret !== undefined) throw badClient('A client secret needs its client_id.');
    return { registered: false, clientId: s.config.defaultClientId };
  }
  if (!CLIENT_ID.test(id)) throw new AppError('invalid_request', 'client_id is malformed.');
  const secret = basic ? basic.secret : bodySecret;
  if (secret !== undefined && secret !== '') {
    const client = await verifyClientSecret(s, id, secret);
    if (!client) throw badClient('The client credentials are wrong.');
    // The registered method only: a secret meant for Basic is not accepted in a form body.
    const method = basic ? 'client_secret_basic' : 'client_secret_post';
    if (client.tokenEndpointAuthMethod !== method) {
      throw badClient(`This client authenticates with ${client.tokenEndpointAuthMethod}.`);
    }
    return { registered: true, client, clientId: client.clientId };
  }
  const client = await s.store.clients.findById(id);
  if (!client) return { registered: false, clientId: id };
  // A confidential client that sends no secret is not authenticated (RFC 6749 §3.2.1).
  if (isConfidential(client)) throw badClient('This client must authenticate.');
  return { registered: true, client, clientId: client.clientId };
}
