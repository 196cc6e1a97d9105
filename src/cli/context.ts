// What the offline commands share: configuration, the migrated store and the rules, then cleanup.
import { openRuntime } from '../app/index.ts';
import type { Services } from '../auth/services.ts';
import { type Config, loadConfig } from '../config/index.ts';

export async function withServices<T>(fn: (s: Services, config: Config) => Promise<T>): Promise<T> {
  const config = loadConfig();
  const runtime = await openRuntime(config);
  try {
    return await fn(runtime.services, config);
  } finally {
    await runtime.close();
  }
}

/** A password from the flag, else from standard input (first line), so it stays out of shell history. */
export async function readPassword(flag: string | undefined): Promise<string> {
  if (flag !== undefined) return flag;
  if (process.stdin.isTTY)
    throw new Error('give --password, or pipe the password on standard input');
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  const line = Buffer.concat(chunks).toString('utf8').split(/\r?\n/)[0] ?? '';
  if (line === '') throw new Error('no password on standard input');
  return line;
}
