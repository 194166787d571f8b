// The renderer's one origin. Node's URL reports `origin === 'null'` for non-special schemes such as app:,
// so "is this our page?" compares scheme and host explicitly instead of trusting `.origin`.
export const APP_SCHEME = 'app';
export const APP_HOST = 'studio';
export const APP_ORIGIN = `${APP_SCHEME}://${APP_HOST}`;
export const APP_ENTRY_URL = `${APP_ORIGIN}/index.html`;

export function isAppUrl(url: string | null | undefined, origin: string = APP_ORIGIN): boolean {
  if (!url) return false;
  let u: URL;
  let o: URL;
  try {
    u = new URL(url);
    o = new URL(origin);
  } catch {
    return false;
  }
  // Credentials or an explicit port would make it a different (or spoofed-looking) origin.
  return u.protocol === o.protocol && u.hostname === o.hostname && u.port === o.port && !u.username && !u.password;
}
