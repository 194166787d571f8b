// Errors the store throws on purpose; each message is a sentence a user can act on. `status` is what the API
// answers with (core/app/errors.ts maps it): 400 the request is wrong, 404 an id or folder it names is not there,
// 409 it clashes with the project's current state. Anything else that escapes the store is a bug (500).

/** The changeset (or another request) is malformed: schema, duplicate ids, bad geometry. Nothing was applied. */
export class ChangesetError extends Error {
  readonly code: string = 'invalid';
  readonly status: 400 | 404 | 409 = 400;
  constructor(message: string, readonly field?: string) {
    super(message);
    this.name = 'ChangesetError';
  }
}

/** The changeset was computed against data that has changed since (stale `before`). Nothing was applied. */
export class ConflictError extends ChangesetError {
  override readonly code = 'conflict';
  override readonly status = 409;
  constructor(message: string, field?: string) {
    super(message, field);
    this.name = 'ConflictError';
  }
}

/** An id the request names (image, class, annotation, model) or a project folder does not exist. */
export class NotFoundError extends ChangesetError {
  override readonly code = 'not-found';
  override readonly status = 404;
  constructor(message: string, field?: string) {
    super(message, field);
    this.name = 'NotFoundError';
  }
}

/** Something the request would create already exists (a project in the folder, a class name, an id). */
export class ExistsError extends ChangesetError {
  override readonly code = 'exists';
  override readonly status = 409;
  constructor(message: string, field?: string) {
    super(message, field);
    this.name = 'ExistsError';
  }
}
