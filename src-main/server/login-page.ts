// What a browser sees when it opens the studio without the session token (a bookmark of the bare URL, a
// restarted server with a new token): a page that says how to get in, instead of raw JSON (issue 18).
import type { IncomingMessage } from 'node:http';

/** A page request from a browser (not an API call, not media, not a script): it asked for HTML. */
export function wantsHtml(req: IncomingMessage, path: string): boolean {
  if (req.method !== 'GET' || path.startsWith('/api/') || path.startsWith('/media/') || path.startsWith('/download/')) return false;
  return /\btext\/html\b/.test(req.headers.accept ?? '');
}

export function loginPage(): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>HST Studio — sign in</title>
<style>body{font:15px/1.5 system-ui,sans-serif;background:#15181e;color:#e6e8eb;display:flex;min-height:100vh;align-items:center;justify-content:center;margin:0}
main{max-width:560px;padding:24px 28px;background:#1f232b;border:1px solid #2c313b;border-radius:10px}h1{font-size:20px;margin:0 0 8px}code{background:#2c313b;padding:1px 5px;border-radius:4px}</style>
</head><body><main data-testid="login-page">
<h1>This studio needs its session link</h1>
<p>For safety, HST Studio only opens with the link it printed when it started, which carries a one-time token. Look at the terminal where <code>hst-studio serve</code> runs and open the line that reads <code>http://…/?token=…</code>.</p>
<p>If the server was restarted, its old links no longer work: use the new one it printed.</p>
</main></body></html>`;
}
