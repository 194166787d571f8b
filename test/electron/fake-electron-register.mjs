import { register } from 'node:module';
register(new URL('./fake-electron-hooks.mjs', import.meta.url));
