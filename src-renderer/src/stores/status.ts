// Save state, the compute backend line, and readable error messages (never stack traces).
import type { DoctorReport } from '@contract/api';
import { defineStore } from 'pinia';
import { computed, ref } from 'vue';

export interface Toast {
  id: number;
  kind: 'error' | 'info';
  text: string;
}

export function messageOf(err: unknown): string {
  if (err instanceof Error) return err.message;
  return typeof err === 'string' ? err : 'something went wrong';
}

export const useStatusStore = defineStore('status', () => {
  const saving = ref(0);
  const lastSavedAt = ref<number | null>(null);
  const saveError = ref<string | null>(null);
  const doctor = ref<DoctorReport | null>(null);
  const toasts = ref<Toast[]>([]);
  let seq = 0;

  function toast(text: string, kind: Toast['kind'] = 'info', ms = kind === 'error' ? 8000 : 3000) {
    const id = ++seq;
    toasts.value = [...toasts.value.slice(-3), { id, kind, text }];
    setTimeout(() => dismiss(id), ms);
  }
  const dismiss = (id: number) => (toasts.value = toasts.value.filter((t) => t.id !== id));
  const error = (err: unknown) => toast(messageOf(err), 'error');

  /**
   * Wraps one persisted write so the status bar can say "saving…" then "saved". Pass a function: a call
   * that throws before it returns a promise must count as a failed write too, never leave "Saved" shown.
   */
  async function track<T>(p: Promise<T> | (() => Promise<T>)): Promise<T> {
    saving.value++;
    try {
      const out = await (typeof p === 'function' ? p() : p);
      saveError.value = null;
      lastSavedAt.value = Date.now();
      return out;
    } catch (err) {
      saveError.value = messageOf(err);
      throw err;
    } finally {
      saving.value--;
    }
  }

  /** What the status bar shows: never "Saved" while the last write failed. */
  const saveState = computed(() => {
    if (saving.value) return { text: 'Saving…', cls: 'busy' };
    if (saveError.value) return { text: 'Not saved — see message', cls: 'err' };
    if (lastSavedAt.value) return { text: 'Saved', cls: 'ok' };
    return { text: 'All changes saved', cls: 'ok' };
  });

  return { saving, lastSavedAt, saveError, saveState, doctor, toasts, toast, dismiss, error, track };
});
