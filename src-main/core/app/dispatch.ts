// The one boundary check shared by every transport: validate input, run the handler, validate output.
import type { z } from 'zod';
import { methods, type MethodName, type MethodOutput } from '../../contract/api';
import { ApiError, badRequest, fieldPath, toApiError } from './errors';

export type Handlers = { [K in MethodName]: (input: z.output<(typeof methods)[K]['input']>) => Promise<MethodOutput<K>> | MethodOutput<K> };

export function isMethodName(name: string): name is MethodName {
  return Object.prototype.hasOwnProperty.call(methods, name);
}

function describe(issues: readonly { path: readonly PropertyKey[]; message: string }[]): { field: string; message: string } {
  const first = issues[0];
  return { field: fieldPath(first?.path ?? []), message: first?.message ?? 'invalid value' };
}

export async function dispatch(handlers: Handlers, name: string, raw: unknown): Promise<unknown> {
  if (!isMethodName(name)) throw new ApiError(404, `unknown method '${name}'`);
  const def = methods[name];
  // an absent input is {}; a JSON null is not (it is a malformed call, and must not pass as "no arguments")
  const parsed = def.input.safeParse(raw === undefined ? {} : raw);
  if (!parsed.success) {
    const { field, message } = describe(parsed.error.issues);
    throw badRequest(`invalid input for ${name}: ${field}: ${message}`, field);
  }
  const handler = handlers[name] as (input: unknown) => Promise<unknown>;
  let result: unknown;
  try {
    result = await handler(parsed.data);
  } catch (err) {
    // domain errors (unknown ids, conflicts, bad paths) keep their 4xx; the rest stay the thrown value so the
    // transport logs its stack as a bug
    const e = toApiError(err);
    throw e.status === 500 ? err : e;
  }
  const out = def.output.safeParse(result);
  if (!out.success) {
    // A bug on our side, not the caller's: say which field so it can be fixed.
    const { field, message } = describe(out.error.issues);
    throw new ApiError(500, `internal error: ${name} produced an invalid ${field}: ${message}`, field);
  }
  return out.data;
}
