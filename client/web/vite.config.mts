import path from 'node:path';
import { fileURLToPath } from 'node:url';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

const root = path.dirname(fileURLToPath(import.meta.url));

// The page is built into web/dist, which the client server serves; `npm run dev:web -w client` runs Vite's
// own dev server (hot reload) with the API paths sent on to the client server on port 3000.
export default defineConfig({
  root,
  plugins: [react()],
  build: { outDir: path.join(root, 'dist'), emptyOutDir: true, target: 'es2022' },
  server: {
    port: 5173,
    proxy: { '/posts': 'http://localhost:3000', '/updates': 'http://localhost:3000', '/flow/api': 'http://localhost:3000' },
  },
});
