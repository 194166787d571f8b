// The transport in use, set once at start-up (main.ts) or by tests; stores reach the API through here.
import type { StudioApi } from '@contract/api';
import { plainDataApi } from './plain-data';
import type { Transport } from './types';

let current: Transport | null = null;
let guarded: StudioApi | null = null;

/** Installs `t`; `api()` reaches its methods through the plain-data guard (plain-data.ts). */
export function setTransport(t: Transport): void {
  current = t;
  guarded = plainDataApi(() => t.api);
}

export function transport(): Transport {
  if (!current) throw new Error('no transport: setTransport() must run before the stores are used');
  return current;
}

/** The API, plain data only whichever transport carries it. */
export const api = (): StudioApi => {
  transport();
  return guarded!;
};
