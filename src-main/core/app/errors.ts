// Errors that cross the API boundary carry an HTTP-like status and a sentence for the user, never a stack.
export class ApiError extends Error {
  constructor(
    readonly status: 400 | 401 | 403 | 404 | 405 | 409 | 413 | 415 | 500,
    message: string,
    /** dotted path of the offending field, for validation errors */
    readonly field?: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export const badRequest = (msg: string, field?: string) => new ApiError(400, msg, field);
export const notFound = (msg: string) => new ApiError(404, msg);
export const conflict = (msg: string) => new ApiError(409, msg);

/** "changeset.created[0].geometry.w" from zod's path array. */
export function fieldPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const p of path) {
    if (typeof p === 'number') out += `[${p}]`;
    else out += out ? `.${String(p)}` : String(p);
  }
  return out || '(root)';
}

const DOMAIN_STATUS = new Set([400, 404, 409, 413]);

/**
 * Any thrown value as a user-facing ApiError. Errors the core throws on purpose carry a `status` (store errors,
 * PathError, GeometryError, NewerSchemaError) and keep it with their field; anything else is a bug on our side:
 * 500 with `bug: true`, which the transports log with its stack.
 */
export function toApiError(err: unknown): ApiError {
  if (err instanceof ApiError) return err;
  const e = err as { status?: unknown; field?: unknown; name?: unknown } | null;
  const msg = err instanceof Error ? err.message : String(err);
  if (e && typeof e.status === 'number' && DOMAIN_STATUS.has(e.status)) {
    return new ApiError(e.status as ApiError['status'], msg, typeof e.field === 'string' ? e.field : undefined);
  }
  if (e?.name === 'NewerSchemaError') return new ApiError(409, msg, 'dir');
  return new ApiError(500, msg || 'unexpected error');
}

/** True for errors that are our bugs (500): the transports log these with their stack. */
export function isBug(err: unknown): boolean {
  return toApiError(err).status === 500;
}
