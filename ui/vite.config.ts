import { defineConfig, loadEnv } from 'vite';

// The console is built into dist/bundle, which ui/embed.go embeds in the
// binary. Everything it loads comes from the appliance itself: no CDN, no
// remote fonts, no inline script or style (the CSP is script-src 'self';
// style-src 'self').
export default defineConfig(({ mode }) => ({
  base: '/',
  build: {
    outDir: 'dist/bundle',
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: false,
    // Never inline assets as data: URLs: fonts and scripts must be files.
    assetsInlineLimit: 0,
    // The polyfill is for browsers without modulepreload; it would be one
    // more script for nothing on the browsers we support.
    modulePreload: { polyfill: false },
    chunkSizeWarningLimit: 300,
  },
  esbuild: { jsx: 'automatic', jsxImportSource: 'preact' },
  server: {
    // `npm run dev` (see DESIGN.md) serves src/ with hot reload and sends
    // API calls to a running appliance (make run), whose certificate is
    // its own.
    proxy: {
      '/api': { target: loadEnv(mode, '.', 'MAMORI_').MAMORI_API ?? 'https://127.0.0.1:8443', secure: false, changeOrigin: true },
    },
  },
}));
