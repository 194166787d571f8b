// Load a package that may be absent (an optionalDependency whose binary could not be downloaded).
// The specifier is computed so neither tsc nor the bundler tries to resolve it at build time.
export type OptionalImport<T> = { ok: true; module: T } | { ok: false; missing: boolean; reason: string };

export async function importOptional<T = unknown>(...parts: string[]): Promise<OptionalImport<T>> {
  const specifier = parts.join('/');
  try {
    const module = (await import(/* @vite-ignore */ specifier)) as T;
    return { ok: true, module };
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    const missing = (e.code === 'ERR_MODULE_NOT_FOUND' || e.code === 'MODULE_NOT_FOUND') && String(e.message).includes(specifier);
    const firstLine = String(e.message ?? err).split('\n')[0];
    return { ok: false, missing, reason: missing ? `${specifier} is not installed` : `${specifier} failed to load: ${firstLine}` };
  }
}
