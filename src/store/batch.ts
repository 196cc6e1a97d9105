// Lookups by key made in the same turn of the event loop, answered by one query.
//
// Every authenticated request reads its user (GET /users/me is "fresh from the store"). Under
// load, the requests parsed in one turn of the event loop each ask for a row; one `IN (…)` query
// for all of them costs one round trip to PostgreSQL (one write and one read on the socket) or one
// SQLite read transaction (three system calls for its locks), instead of one per request. Every
// caller still gets a row read after its own request arrived: nothing is cached between batches.
// The batch runs after the current I/O callbacks (setImmediate), so a lone request waits for no
// one.

const MAX_BATCH = 100;

export type Lookup<V> = (key: string) => Promise<V | undefined>;

interface Waiter<V> {
  resolve: (value: V | undefined) => void;
  reject: (error: unknown) => void;
}

/** `fetch(keys)` returns the rows found; `keyOf(row)` says which key each answers. */
export function batchedLookup<V>(
  fetch: (keys: string[]) => Promise<V[]>,
  keyOf: (row: V) => string,
): Lookup<V> {
  let pending: Map<string, Array<Waiter<V>>> | undefined;

  async function run(batch: Map<string, Array<Waiter<V>>>): Promise<void> {
    const keys = [...batch.keys()];
    for (let i = 0; i < keys.length; i += MAX_BATCH) {
      const chunk = keys.slice(i, i + MAX_BATCH);
      try {
        const found = new Map((await fetch(chunk)).map((row) => [keyOf(row), row]));
        for (const key of chunk) for (const w of batch.get(key) ?? []) w.resolve(found.get(key));
      } catch (error) {
        for (const key of chunk) for (const w of batch.get(key) ?? []) w.reject(error);
      }
    }
  }

  // One batch in flight at a time: the lookups made while one is out go in the next, sent as soon
  // as it is back. Under load a batch then holds every request of a round trip, not of one turn.
  let running = false;
  let scheduled = false;

  function schedule(): void {
    if (scheduled) return;
    scheduled = true;
    setImmediate(() => {
      scheduled = false;
      void flush();
    });
  }

  async function flush(): Promise<void> {
    if (running || !pending) return;
    const batch = pending;
    pending = undefined;
    running = true;
    try {
      await run(batch);
    } finally {
      running = false;
      if (pending) schedule();
    }
  }

  return (key) =>
    new Promise<V | undefined>((resolve, reject) => {
      pending ??= new Map();
      const waiters = pending.get(key);
      if (waiters) waiters.push({ resolve, reject });
      else pending.set(key, [{ resolve, reject }]);
      schedule();
    });
}
