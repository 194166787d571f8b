// The transport in use, set once at start-up (main.ts) or by tests; stores reach the API through here.
import type { StudioApi } from '@contract/api';
import { plainDataApi } from './plain-data';
import type { Transport } from './types';

let current: Transport | null = null;

/** Installs `t` with its API behind the plain-data guard (plain-data.ts), whichever transport it is. */
export function setTransport(t: Transport): void {
  current = { ...t, api: plainDataApi(t.api) };
}

export function transport(): Transport {
  if (!current) throw new Error('no transport: setTransport() must run before the stores are used');
  return current;
}

export const api = (): StudioApi => transport().api;
