import { createPinia } from 'pinia';
import { createApp } from 'vue';
import App from './App.vue';
import './styles.css';
import { createElectronTransport, electronBridge } from './transport/electron-transport';
import { createHttpTransport } from './transport/http-transport';
import { setTransport } from './transport/current';

const bridge = electronBridge();
setTransport(bridge ? createElectronTransport(bridge) : createHttpTransport());

const app = createApp(App);
app.use(createPinia());
// Last line of defence: an unexpected error becomes a readable message, never a blank screen.
app.config.errorHandler = (err) => {
  console.error(err);
  const el = document.querySelector('.toasts');
  if (el) {
    const div = document.createElement('div');
    div.className = 'toast error';
    div.textContent = err instanceof Error ? err.message : String(err);
    el.appendChild(div);
    setTimeout(() => div.remove(), 8000);
  }
};
app.mount('#app');
