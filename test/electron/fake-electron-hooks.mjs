// Module hooks for running the BUILT dist/main/electron/main.js under plain Node: the `electron` specifier
// resolves to fake-electron.mjs (same folder), which records what main.js does. Used by bundle-smoke.test.ts.
export async function resolve(specifier, context, next) {
  if (specifier === 'electron') return { url: new URL('./fake-electron.mjs', import.meta.url).href, shortCircuit: true };
  return next(specifier, context);
}
