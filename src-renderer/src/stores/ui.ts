import { defineStore } from 'pinia';
import { ref } from 'vue';

export type Screen = 'projects' | 'gallery' | 'editor' | 'classes' | 'train' | 'models';

export const useUiStore = defineStore('ui', () => {
  const screen = ref<Screen>('projects');
  const helpOpen = ref(false);
  const go = (s: Screen) => (screen.value = s);
  return { screen, helpOpen, go };
});
