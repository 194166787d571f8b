import { defineStore } from 'pinia';
import { ref } from 'vue';

export type ToolName = 'select' | 'box' | 'polygon' | 'brush' | 'eraser';

export const useToolsStore = defineStore('tools', () => {
  const tool = ref<ToolName>('box');
  /** brush radius in image pixels */
  const brushSize = ref(12);
  const opacity = ref(0.35);
  const hideAll = ref(false);
  const showLabels = ref(true);
  const setTool = (t: ToolName) => (tool.value = t);
  const resizeBrush = (factor: number) => (brushSize.value = Math.max(1, Math.min(500, Math.round(brushSize.value * factor) || 1)));
  return { tool, brushSize, opacity, hideAll, showLabels, setTool, resizeBrush };
});
