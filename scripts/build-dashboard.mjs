// Bundles the dashboard (dashboard/src, plain JS + SVG) into dist/dashboard with esbuild.
import { copyFileSync, mkdirSync } from 'node:fs';
import { build } from 'esbuild';

mkdirSync('dist/dashboard', { recursive: true });
await build({
  entryPoints: { app: 'dashboard/src/main.js' },
  bundle: true, minify: true, format: 'esm', target: 'es2020', outdir: 'dist/dashboard', logLevel: 'warning',
});
copyFileSync('dashboard/index.html', 'dist/dashboard/index.html');
