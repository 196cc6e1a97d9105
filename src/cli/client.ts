// `portcullis client create|list|show|delete|rotate-secret`: the OAuth client registry, as the
// admin API has it. Prints clients as the API's JSON; a secret only when it is made.
import { parseArgs } from 'node:util';
import {
  createClient,
  deleteClient,
  getClient,
  listClients,
  rotateClientSecret,
} from '../auth/clients/index.ts';
import { AppError } from '../errors/index.ts';
import { clientView } from '../server/schemas.ts';
import { withServices } from './context.ts';

const USAGE = `usage: portcullis client create --name NAME --redirect-uri URI [--redirect-uri URI …]
                 [--post-logout-redirect-uri URI …] [--confidential]
                 [--grant authorization_code,refresh_token,client_credentials]
                 [--scope "read write"] [--first-party]
       portcullis client list
       portcullis client show ID
       portcullis client delete ID
       portcullis client rotate-secret ID`;

function explain(error: unknown): never {
  if (error instanceof AppError) {
    const fields =
      (error.extra.errors as Array<{ field: string; message: string }> | undefined) ?? [];
    throw new Error([error.message, ...fields.map((f) => `${f.field}: ${f.message}`)].join('\n  '));
  }
  throw error;
}

const print = (value: unknown): void => console.log(JSON.stringify(value, null, 2));

export async function client(args: string[]): Promise<number> {
  const [action, ...rest] = args;
  if (action === 'create') {
    const { values } = parseArgs({
      args: rest,
      options: {
        name: { type: 'string' },
        'redirect-uri': { type: 'string', multiple: true },
        'post-logout-redirect-uri': { type: 'string', multiple: true },
        confidential: { type: 'boolean', default: false },
        grant: { type: 'string', multiple: true },
        scope: { type: 'string' },
        'first-party': { type: 'boolean', default: false },
      },
    });
    if (values.name === undefined) throw new Error(`client create needs --name\n${USAGE}`);
    const grants = values.grant?.flatMap((g) => g.split(',')).filter(Boolean);
    return withServices(async (s) => {
      const { client: made, clientSecret } = await createClient(s, {
        name: values.name as string,
        redirect_uris: values['redirect-uri'] ?? [],
        post_logout_redirect_uris: values['post-logout-redirect-uri'] ?? [],
        grant_types: grants,
        scope: values.scope,
        token_endpoint_auth_method: values.confidential ? 'client_secret_basic' : 'none',
        first_party: values['first-party'],
      }).catch(explain);
      print(
        clientSecret === undefined
          ? clientView(made)
          : { ...clientView(made), client_secret: clientSecret },
      );
      if (clientSecret !== undefined)
        console.error('The client_secret is shown only now; it is stored as a hash.');
      return 0;
    });
  }
  if (action === 'list') {
    parseArgs({ args: rest, options: {} });
    return withServices(async (s) => {
      const all = [];
      let after: string | undefined;
      for (;;) {
        const page = await listClients(s, { limit: 200, after });
        all.push(...page.map(clientView));
        if (page.length < 200) break;
        after = page.at(-1)?.clientId;
      }
      print(all);
      return 0;
    });
  }
  if (action === 'show' || action === 'delete' || action === 'rotate-secret') {
    const { positionals } = parseArgs({ args: rest, allowPositionals: true, options: {} });
    const id = positionals[0];
    if (!id || positionals.length > 1) throw new Error(`client ${action} needs one ID\n${USAGE}`);
    return withServices(async (s) => {
      if (action === 'show') print(clientView(await getClient(s, id).catch(explain)));
      else if (action === 'delete') {
        await deleteClient(s, id).catch(explain);
        console.log(`Deleted client ${id}; its sessions were ended.`);
      } else {
        print({ client_secret: await rotateClientSecret(s, id).catch(explain) });
        console.error('The client_secret is shown only now; the old one no longer works.');
      }
      return 0;
    });
  }
  console.error(USAGE);
  return 2;
}
