// `portcullis <command>`: one file per command; this one only dispatches.
import { ConfigError } from '../config/index.ts';

const USAGE = `Usage: portcullis <command> [options]

Commands:
  serve [--workers N|auto]                 start the server (default command of npm start)
  migrate                                  apply database migrations
  user create --email E --username U [--password P] [--superuser]
                                           create a user (password from stdin when omitted)
  user set-password USERNAME [--password P]
                                           set a user's password and end their other sessions
  user reset-2fa USERNAME                  remove a user's TOTP and recovery codes (lost device, or a
                                           SECRET_KEY changed without PREVIOUS_SECRET_KEYS)
  user import FILE                         import users from a JSON or CSV export, password hashes kept
                                           (bcrypt, argon2, scrypt, PBKDF2); rejected rows reported
  client create --name NAME --redirect-uri URI [--redirect-uri URI …]
         [--post-logout-redirect-uri URI …] [--confidential] [--first-party]
         [--grant authorization_code,refresh_token,client_credentials] [--scope "read write"]
                                           register an OAuth client; prints it as JSON (the
                                           client_secret of a confidential client only this once)
  client list | show ID | delete ID | rotate-secret ID
                                           list, show or delete clients (delete ends their
                                           sessions); a new secret for a confidential client
  keys rotate                              add a new signing key; old ones verify until their tokens expire
  keys list                                list signing keys
  keys reseal                              re-seal every TOTP secret with SECRET_KEY (after a rotation,
                                           before PREVIOUS_SECRET_KEYS is dropped)
  audit verify                             check the audit log's hash chain; exit 1 naming the first bad entry

Configuration comes from the environment and .env (see README).`;

type Command = (args: string[]) => Promise<number>;

const COMMANDS: Record<string, () => Promise<Command>> = {
  serve: async () => (await import('./serve.ts')).serve,
  migrate: async () => (await import('./migrate.ts')).migrate,
  user: async () => (await import('./user.ts')).user,
  client: async () => (await import('./client.ts')).client,
  keys: async () => (await import('./keys.ts')).keys,
  audit: async () => (await import('./audit.ts')).audit,
};

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    console.log(USAGE);
    return name ? 0 : 1;
  }
  const load = COMMANDS[name];
  if (!load) {
    console.error(`portcullis: unknown command "${name}"\n\n${USAGE}`);
    return 2;
  }
  try {
    return await (await load())(rest);
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(`portcullis: ${error.message}`);
      return 78; // EX_CONFIG
    }
    console.error(`portcullis: ${error instanceof Error ? error.message : String(error)}`);
    return 1;
  }
}

const code = await main(process.argv.slice(2));
if (code !== 0 || process.argv[2] !== 'serve') process.exitCode = code;
