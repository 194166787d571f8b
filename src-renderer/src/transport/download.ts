// Starts the browser download of a finished export (job.done's `download`). Same relative URL in both modes:
// server mode answers GET download/<id> with the zip as an attachment; in Electron app://studio/download/<id>
// does, and Electron asks where to save it.
import { downloadPath } from '@contract/media-url';

export function startDownload(d: { id: string; name: string }, doc: Document = document): void {
  const a = doc.createElement('a');
  a.href = downloadPath(d.id);
  a.download = d.name;
  a.rel = 'noopener';
  a.style.display = 'none';
  doc.body.appendChild(a);
  a.click();
  a.remove();
}
