// `portcullis user create|set-password|reset-2fa|import`.
import { parseArgs } from 'node:util';
import { register, setPassword } from '../auth/accounts/index.ts';
import { normalizeLogin } from '../auth/identity/index.ts';
import { resetSecondFactor } from '../auth/second-factor/index.ts';
import type { Services } from '../auth/services.ts';
import { AppError } from '../errors/index.ts';
import type { User } from '../store/index.ts';
import { readPassword, withServices } from './context.ts';

function explain(error: unknown): never {
  if (error instanceof AppError) {
    const fields =
      (error.extra.errors as Array<{ field: string; message: string }> | undefined) ?? [];
    throw new Error([error.message, ...fields.map((f) => `${f.field}: ${f.message}`)].join('\n  '));
  }
  throw error;
}

export async function user(args: string[]): Promise<number> {
  const [action, ...rest] = args;
  if (action === 'create') {
    const { values } = parseArgs({
      args: rest,
      options: {
        email: { type: 'string' },
        username: { type: 'string' },
        password: { type: 'string' },
        superuser: { type: 'boolean', default: false },
      },
    });
    if (!values.email || !values.username)
      throw new Error('user create needs --email and --username');
    const password = await readPassword(values.password);
    return withServices(async (s) => {
      const created = await register(s, {
        email: values.email as string,
        username: values.username as string,
        password,
        isSuperuser: values.superuser,
        // The operator typed the address: it counts as verified (else, with REQUIRE_VERIFIED_EMAIL,
        // the first superuser could never sign in).
        isVerified: true,
      }).catch(explain);
      console.log(
        `Created ${created.isSuperuser ? 'superuser' : 'user'} ${created.username} (id ${created.id}).`,
      );
      return 0;
    });
  }
  if (action === 'set-password') {
    const { values, positionals } = parseArgs({
      args: rest,
      allowPositionals: true,
      options: { password: { type: 'string' } },
    });
    const name = positionals[0];
    if (!name) throw new Error('user set-password needs a USERNAME (or email)');
    const password = await readPassword(values.password);
    return withServices(async (s) => {
      const found = await findUser(s, name);
      await setPassword(s, found.id, password).catch(explain);
      console.log(`Password set for ${found.username}; their sessions were ended.`);
      return 0;
    });
  }
  if (action === 'reset-2fa') {
    const { positionals } = parseArgs({ args: rest, allowPositionals: true, options: {} });
    const name = positionals[0];
    if (!name) throw new Error('user reset-2fa needs a USERNAME (or email)');
    return withServices(async (s) => {
      const found = await findUser(s, name);
      if (!(await resetSecondFactor(s, found.id))) {
        console.log(`${found.username} has no second factor; nothing changed.`);
        return 0;
      }
      console.log(
        `The second factor of ${found.username} removed (TOTP and recovery codes); their sessions were ended. They sign in with the password and may enrol again.`,
      );
      return 0;
    });
  }
  if (action === 'import') return (await import('./user-import.ts')).userImport(rest);
  console.error(
    'usage: portcullis user create --email E --username U [--password P] [--superuser]\n       portcullis user set-password USERNAME [--password P]\n       portcullis user reset-2fa USERNAME\n       portcullis user import FILE',
  );
  return 2;
}

/** The user a name (username or email) names, or an error saying there is none. */
async function findUser(s: Services, name: string): Promise<User> {
  const { kind, normalized } = normalizeLogin(name);
  const found =
    kind === 'email'
      ? await s.store.users.findByEmailNorm(normalized)
      : await s.store.users.findByUsernameNorm(normalized);
  if (!found) throw new Error(`no user named ${name}`);
  return found;
}
