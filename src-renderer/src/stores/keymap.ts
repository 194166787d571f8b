// The active shortcut map: a preset plus per-action overrides, remembered in localStorage.
import { defineStore } from 'pinia';
import { computed, ref, watch } from 'vue';
import { buildLookup, conflicts, normaliseChord, PRESETS, resolveBindings, type Action, type Bindings, type PresetName } from '../keymap/keymap';

const KEY = 'hst.keymap.v1';

interface Saved {
  preset: PresetName;
  overrides: Partial<Bindings>;
}

function load(): Saved {
  try {
    const raw = globalThis.localStorage?.getItem(KEY);
    const s = raw ? (JSON.parse(raw) as Saved) : null;
    if (s && s.preset in PRESETS && typeof s.overrides === 'object') return s;
  } catch {
    /* unreadable settings fall back to the default map */
  }
  return { preset: 'default', overrides: {} };
}

export const useKeymapStore = defineStore('keymap', () => {
  const saved = load();
  const preset = ref<PresetName>(saved.preset);
  const overrides = ref<Partial<Bindings>>(saved.overrides);
  const bindings = computed(() => resolveBindings(preset.value, overrides.value));
  const lookup = computed(() => buildLookup(bindings.value));
  const clashes = computed(() => conflicts(bindings.value));

  watch([preset, overrides], () => {
    try {
      globalThis.localStorage?.setItem(KEY, JSON.stringify({ preset: preset.value, overrides: overrides.value }));
    } catch {
      /* private mode: the map lasts for this session */
    }
  }, { deep: true });

  function usePreset(p: PresetName) {
    preset.value = p;
    overrides.value = {};
  }
  function rebind(action: Action, chord: string) {
    overrides.value = { ...overrides.value, [action]: [normaliseChord(chord)] };
  }
  function reset(action: Action) {
    const { [action]: _drop, ...rest } = overrides.value;
    overrides.value = rest;
  }
  const actionFor = (chord: string): Action | undefined => lookup.value.get(chord);

  return { preset, overrides, bindings, clashes, usePreset, rebind, reset, actionFor };
});
