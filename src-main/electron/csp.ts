// The Content-Security-Policy and isolation headers of every app:// response. Sent as response headers
// (not <meta>), so they also cover frame-ancestors and apply before any byte of HTML is parsed.
//
// tfjs-wasm needs 'wasm-unsafe-eval' (WebAssembly.compile) but never 'unsafe-eval'; its thread pool and our
// decoders use workers started from blob: URLs. Images come from our origin (media/…), canvases (data:/blob:).
// COOP same-origin + COEP require-corp make the page cross-origin isolated, which SharedArrayBuffer (and so
// multi-threaded tfjs-wasm) requires.

export const CSP_DIRECTIVES: Readonly<Record<string, readonly string[]>> = Object.freeze({
  'default-src': ["'self'"],
  'script-src': ["'self'", "'wasm-unsafe-eval'"],
  'worker-src': ["'self'", 'blob:'],
  // Vue's :style bindings and uPlot set inline style attributes; styles cannot run script, and every
  // channel a stylesheet could exfiltrate through (img/connect/font) is confined to our origin below.
  'style-src': ["'self'", "'unsafe-inline'"],
  'img-src': ["'self'", 'data:', 'blob:', 'app:'],
  'media-src': ["'self'", 'blob:', 'app:'],
  'font-src': ["'self'", 'data:'],
  'connect-src': ["'self'", 'app:'],
  'object-src': ["'none'"],
  'frame-src': ["'none'"],
  'child-src': ["'self'", 'blob:'],
  'manifest-src': ["'self'"],
  'base-uri': ["'none'"],
  'form-action': ["'none'"],
  'frame-ancestors': ["'none'"],
});

export function contentSecurityPolicy(directives: Readonly<Record<string, readonly string[]>> = CSP_DIRECTIVES): string {
  return Object.entries(directives)
    .map(([name, sources]) => `${name} ${sources.join(' ')}`)
    .join('; ');
}

/** Headers on every app:// response (documents, scripts, media alike). */
export function securityHeaders(): Record<string, string> {
  return {
    'Content-Security-Policy': contentSecurityPolicy(),
    'Cross-Origin-Opener-Policy': 'same-origin',
    'Cross-Origin-Embedder-Policy': 'require-corp',
    'Cross-Origin-Resource-Policy': 'same-origin',
    'X-Content-Type-Options': 'nosniff',
    'Referrer-Policy': 'no-referrer',
    'Permissions-Policy': 'camera=(), microphone=(), geolocation=(), usb=(), serial=(), hid=(), bluetooth=(), payment=()',
  };
}
