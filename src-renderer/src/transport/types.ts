import type { BackboneInfo, StudioApi, StudioBridge } from '@contract/api';
import type { MediaRef } from '@contract/media-url';

/** What the UI talks to: the typed API, events, and URLs for binary media. */
export interface Transport extends StudioBridge {
  readonly kind: 'http' | 'electron' | 'memory';
  api: StudioApi;
  /** URL of a pyramid level of an image (longest side ≥ max; full size when omitted); names the content hash. */
  imageUrl(image: MediaRef, max?: number): string;
  thumbUrl(image: MediaRef, size?: number): string;
  /** Electron only: the absolute path of a dropped/picked File (folders too), so it is imported in place. */
  pathForFile?(file: File): string | null;
  /** Server mode only: upload browser File objects and import them as one job. */
  upload?(files: File[], onProgress?: (done: number, total: number) => void): Promise<{ jobId: string }>;
  /** Server mode only: upload a picked/dropped backbone .safetensors file and install it. */
  uploadBackbone?(file: File): Promise<BackboneInfo>;
}

/** An API failure with the server's sentence (and the offending field for validation errors). */
export class ApiCallError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly field?: string,
  ) {
    super(message);
    this.name = 'ApiCallError';
  }
}
