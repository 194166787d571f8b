// Every API call crosses a structured-clone boundary in Electron (contextBridge → IPC) and JSON in server mode.
// A Vue reactive proxy cannot be structured-cloned ("could not be cloned"), and JSON silently mangles Maps,
// Dates and class instances, so both transports accept plain data only: proxies are unwrapped (toRaw) and
// copied, anything else that is not JSON-shaped data is refused with a sentence naming where it sits.
import { methods, type StudioApi } from '@contract/api';
import { toRaw } from 'vue';
import { ApiCallError } from './types';

export function toPlainData(value: unknown, where = 'input', seen: Set<object> = new Set()): unknown {
  if (value === null || value === undefined) return value;
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return value;
    case 'number':
      return value;
    case 'object':
      break;
    default:
      throw new ApiCallError(`${where} is a ${typeof value}, which cannot be sent to the studio (plain data only)`, 0, where);
  }
  const raw = toRaw(value as object);
  if (seen.has(raw)) throw new ApiCallError(`${where} refers back to itself, which cannot be sent to the studio`, 0, where);
  seen.add(raw);
  try {
    if (Array.isArray(raw)) return raw.map((v, i) => toPlainData(v, `${where}[${i}]`, seen));
    const proto = Object.getPrototypeOf(raw);
    if (proto !== Object.prototype && proto !== null) {
      const kind = (raw as { constructor?: { name?: string } }).constructor?.name ?? 'object';
      throw new ApiCallError(`${where} is a ${kind}, which cannot be sent to the studio (plain data only)`, 0, where);
    }
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(raw)) out[k] = toPlainData(v, `${where}.${k}`, seen);
    return out;
  } finally {
    seen.delete(raw);
  }
}

/**
 * The API with the plain-data check in front of every method; a refused input or a transport that throws
 * synchronously (Electron's clone error) becomes a rejected promise, so callers' error paths always run.
 * The method is looked up on each call (`source()`), so a transport whose table changes later still works.
 */
export function plainDataApi(source: () => StudioApi): StudioApi {
  const out: Record<string, (input: unknown) => Promise<unknown>> = {};
  for (const name of Object.keys(methods)) {
    out[name] = (input) => {
      try {
        const fn = (source() as unknown as Record<string, ((input: unknown) => Promise<unknown>) | undefined>)[name];
        if (typeof fn !== 'function') throw new ApiCallError(`${name} is not available on this transport`, 0);
        return Promise.resolve(fn(toPlainData(input, name)));
      } catch (err) {
        return Promise.reject(err);
      }
    };
  }
  return out as unknown as StudioApi;
}
