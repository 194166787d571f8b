// Errors the store throws on purpose; each message is a sentence a user can act on.

/** The changeset is malformed (schema, duplicate ids, unknown image/class). Nothing was applied. */
export class ChangesetError extends Error {
  readonly code: string = 'invalid';
  constructor(message: string) {
    super(message);
    this.name = 'ChangesetError';
  }
}

/** The changeset was computed against data that has changed since (stale `before`). Nothing was applied. */
export class ConflictError extends ChangesetError {
  override readonly code = 'conflict';
  constructor(message: string) {
    super(message);
    this.name = 'ConflictError';
  }
}
