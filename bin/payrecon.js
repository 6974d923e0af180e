#!/usr/bin/env node
// The installed command. The TypeScript sources are compiled to dist/ by `npm install` (the `prepare` script).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const entry = new URL('../dist/src/cli/main.js', import.meta.url);
if (!existsSync(fileURLToPath(entry))) {
  process.stderr.write(
    'payrecon: not built yet; run `npm install` (or `npm run build`) in the project folder\n',
  );
  process.exit(2);
}
await import(entry.href);
