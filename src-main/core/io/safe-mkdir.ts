// Folder creation that fails fast. Node's recursive mkdir loops forever (100 % CPU) when mkdir answers ENOENT
// under a parent that exists, which is what /proc and /sys do: `mkdirSync('/proc/self/hst', {recursive: true})`
// never returns. So targets are checked first (the nearest existing ancestor must be a real, writable folder on
// a real filesystem) and the missing components are created one by one without `recursive`, each mkdir either
// succeeding or throwing. Every refusal is a PathError whose message names the path and what is wrong with it.
import { accessSync, constants, mkdirSync, realpathSync, statSync, statfsSync, type Stats } from 'node:fs';
import { dirname, resolve, sep } from 'node:path';

export type PathProblem = 'invalid' | 'virtual' | 'loop' | 'not-a-folder' | 'read-only' | 'not-found' | 'no-access';

/** A path the user gave cannot be used; `status` is the HTTP-like status the API answers with. */
export class PathError extends Error {
  readonly status = 400 as const;
  constructor(
    message: string,
    readonly path: string,
    readonly problem: PathProblem,
    readonly field?: string,
  ) {
    super(message);
    this.name = 'PathError';
  }
}

/** Linux statfs f_type of pseudo filesystems: no user data lives there and mkdir/readdir misbehave on them. */
const VIRTUAL_FS = new Map<number, string>([
  [0x9fa0, 'proc'],
  [0x62656572, 'sysfs'],
  [0x64626720, 'debugfs'],
  [0x74726163, 'tracefs'],
  [0x73636673, 'securityfs'],
  [0x27e0eb, 'cgroup'],
  [0x63677270, 'cgroup2'],
  [0x1cd1, 'devpts'],
  [0xcafe4a11, 'bpf'],
  [0x42494e4d, 'binfmt_misc'],
  [0x6e736673, 'nsfs'],
  [0xde5e81e4, 'efivarfs'],
  [0x19800202, 'mqueue'],
  [0x65735543, 'fusectl'],
  [0x67596969, 'rpc_pipefs'],
  [0x1373, 'devfs'],
]);

/** Mount points that are pseudo filesystems on every Unix we run on (statfs is Linux-specific in its numbers). */
const VIRTUAL_ROOTS = ['/proc', '/sys', '/dev'];
const VIRTUAL_EXCEPTIONS = ['/dev/shm'];

const MAX_PATH = 4096;
/** More missing levels than any real target has: a typo'd path, not a folder tree. */
const MAX_NEW_LEVELS = 32;

function under(p: string, root: string): boolean {
  return p === root || p.startsWith(root.endsWith(sep) ? root : root + sep);
}

/** The pseudo filesystem `p` (an existing path) lies on, or null for a real one. */
export function virtualFs(p: string): string | null {
  if (process.platform !== 'win32') {
    let real = p;
    try {
      real = realpathSync(p);
    } catch {
      /* checked by the caller */
    }
    for (const cand of [p, real]) {
      if (VIRTUAL_EXCEPTIONS.some((e) => under(cand, e))) return null;
      const root = VIRTUAL_ROOTS.find((r) => under(cand, r));
      if (root) return root.slice(1);
    }
  }
  if (process.platform === 'linux') {
    try {
      const t = Number(statfsSync(p).type);
      const name = VIRTUAL_FS.get(t >>> 0);
      if (name) return name;
    } catch {
      /* statfs unsupported: the path checks above stand */
    }
  }
  return null;
}

function describe(err: unknown, p: string, what: string, field?: string): PathError {
  const code = (err as NodeJS.ErrnoException)?.code;
  switch (code) {
    case 'ELOOP':
      return new PathError(`${what} ${p} cannot be used: the path goes through a loop of symbolic links`, p, 'loop', field);
    case 'ENOTDIR':
      return new PathError(`${what} ${p} cannot be used: a part of the path is a file, not a folder`, p, 'not-a-folder', field);
    case 'EACCES':
    case 'EPERM':
      return new PathError(`${what} ${p} cannot be used: no permission (${code})`, p, 'no-access', field);
    case 'EROFS':
      return new PathError(`${what} ${p} cannot be used: it is on a read-only filesystem`, p, 'read-only', field);
    case 'ENAMETOOLONG':
      return new PathError(`${what} ${p} cannot be used: a name in it is too long`, p, 'invalid', field);
    case 'ENOENT':
      return new PathError(`${what} ${p} does not exist`, p, 'not-found', field);
    default:
      return new PathError(`${what} ${p} cannot be used: ${(err as Error)?.message ?? String(err)}`, p, 'invalid', field);
  }
}

function checkSyntax(target: string, what: string, field?: string): string {
  if (typeof target !== 'string' || target.length === 0) throw new PathError(`${what} is empty`, String(target), 'invalid', field);
  if (target.includes('\0')) throw new PathError(`${what} contains a NUL character`, target.replace(/\0/g, '\\0'), 'invalid', field);
  if (target.length > MAX_PATH) throw new PathError(`${what} is ${target.length} characters long; the limit is ${MAX_PATH}`, target.slice(0, 80) + '…', 'invalid', field);
  return resolve(target);
}

export interface EnsureDirOptions {
  /** how the message names the path ("project folder", "export folder"); default "folder" */
  what?: string;
  /** the request field the path came from, for API errors */
  field?: string;
}

/**
 * Makes sure `target` is a writable folder on a real filesystem, creating the missing levels. Returns its
 * absolute path. Throws PathError (never loops): virtual filesystems, symlink loops, a file where a folder is
 * expected, a read-only or inaccessible parent.
 */
export function ensureDir(target: string, opts: EnsureDirOptions = {}): string {
  const what = opts.what ?? 'folder';
  const abs = checkSyntax(target, what, opts.field);
  const missing: string[] = [];
  let cur = abs;
  let st: Stats | null = null;
  for (;;) {
    try {
      st = statSync(cur);
      break;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT' && code !== 'ENOTDIR') throw describe(err, cur === abs ? abs : `${abs} (at ${cur})`, what, opts.field);
      missing.push(cur);
      const up = dirname(cur);
      if (up === cur || missing.length > MAX_NEW_LEVELS) throw new PathError(`${what} ${abs} cannot be created: none of its parent folders exists`, abs, 'not-found', opts.field);
      cur = up;
    }
  }
  if (!st.isDirectory()) {
    const msg = cur === abs ? `${what} ${abs} is a file, not a folder` : `${what} ${abs} cannot be created: ${cur} is a file, not a folder`;
    throw new PathError(msg, abs, 'not-a-folder', opts.field);
  }
  const fs = virtualFs(cur);
  if (fs) throw new PathError(`${what} ${abs} cannot be used: ${cur} is on the ${fs} pseudo filesystem, which holds no files of yours`, abs, 'virtual', opts.field);
  try {
    accessSync(cur, constants.W_OK | constants.X_OK);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const msg = code === 'EROFS' ? `${cur} is on a read-only filesystem` : `${cur} is not writable (${code ?? 'no permission'})`;
    throw new PathError(`${what} ${abs} cannot be ${missing.length ? 'created' : 'written'}: ${msg}`, abs, code === 'EROFS' ? 'read-only' : 'read-only', opts.field);
  }
  for (const dir of missing.reverse()) {
    try {
      mkdirSync(dir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST' && statSync(dir, { throwIfNoEntry: false })?.isDirectory()) continue;
      throw describe(err, dir, what, opts.field);
    }
  }
  return abs;
}

/** The parent folder of an output file or folder `target`, made sure of (ensureDir); returns `target` absolute. */
export function ensureParentDir(target: string, opts: EnsureDirOptions = {}): string {
  const abs = checkSyntax(target, opts.what ?? 'output', opts.field);
  ensureDir(dirname(abs), { ...opts, what: `the folder of ${opts.what ?? 'output'} ${abs}:` });
  return abs;
}

/**
 * Checks a path to read from (an import source): it must exist on a real filesystem without symlink loops, and be
 * a folder or a file as asked. Returns it absolute. Throws PathError.
 */
export function checkSource(target: string, opts: EnsureDirOptions & { kind?: 'file' | 'folder' | 'any'; allowMissing?: boolean } = {}): string {
  const what = opts.what ?? 'path';
  const abs = checkSyntax(target, what, opts.field);
  let st: Stats;
  try {
    st = statSync(abs);
  } catch (err) {
    // a missing file among many is the import's to report (skipped, with the reason), not a refused request
    if (opts.allowMissing && (err as NodeJS.ErrnoException).code === 'ENOENT') return abs;
    throw describe(err, abs, what, opts.field);
  }
  const fs = virtualFs(abs);
  if (fs) throw new PathError(`${what} ${abs} cannot be used: it is on the ${fs} pseudo filesystem, which holds no files of yours`, abs, 'virtual', opts.field);
  const kind = opts.kind ?? 'any';
  if (kind === 'folder' && !st.isDirectory()) throw new PathError(`${what} ${abs} is a file, not a folder`, abs, 'not-a-folder', opts.field);
  if (kind === 'file' && !st.isFile()) throw new PathError(`${what} ${abs} is not a file`, abs, 'invalid', opts.field);
  if (!st.isDirectory() && !st.isFile()) throw new PathError(`${what} ${abs} is neither a file nor a folder`, abs, 'invalid', opts.field);
  try {
    accessSync(abs, constants.R_OK);
  } catch (err) {
    throw describe(err, abs, what, opts.field);
  }
  return abs;
}
