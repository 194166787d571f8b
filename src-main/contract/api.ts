// THE API contract: every request the renderer can make and every event it can receive.
// Transports (Electron preload/IPC in src-main/electron, HTTP+WebSocket in src-main/server) are generated
// from this table; both validate input and output with these schemas at the boundary.
import { z } from 'zod';
import * as S from './schemas';

export interface MethodDef<I extends z.ZodTypeAny = z.ZodTypeAny, O extends z.ZodTypeAny = z.ZodTypeAny> {
  input: I;
  output: O;
}
const m = <I extends z.ZodTypeAny, O extends z.ZodTypeAny>(input: I, output: O): MethodDef<I, O> => ({ input, output });

export const DoctorReport = z.object({
  backend: z.string(),
  threads: z.number().int(),
  tfjsVersion: z.string(),
  extraKernels: z.array(z.string()),
  notes: z.array(z.string()),
});

/** Method names are `area.verb`; they are also the IPC channel names and the HTTP paths (/api/area.verb). */
export const methods = {
  'app.doctor': m(z.object({}), DoctorReport),
  'project.open': m(z.object({ dir: z.string().min(1) }), z.object({ dir: z.string(), name: z.string() })),
  'annotations.apply': m(z.object({ changeset: S.Changeset }), z.object({ revision: z.number().int(), inverse: S.Changeset })),
} as const satisfies Record<string, MethodDef>;

export type Methods = typeof methods;
export type MethodName = keyof Methods;
export type MethodInput<K extends MethodName> = z.input<Methods[K]['input']>;
export type MethodOutput<K extends MethodName> = z.output<Methods[K]['output']>;

/** Server → renderer events (WebSocket messages / webContents.send). */
export const events = {
  'job.progress': z.object({ jobId: z.string(), kind: z.string(), fraction: z.number().min(0).max(1), message: z.string().optional() }),
} as const;
export type EventName = keyof typeof events;
export type EventPayload<K extends EventName> = z.infer<(typeof events)[K]>;

/** The renderer-side shape of the API: one named async function per method. */
export type StudioApi = { [K in MethodName]: (input: MethodInput<K>) => Promise<MethodOutput<K>> };
