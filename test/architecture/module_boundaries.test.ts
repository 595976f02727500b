/**
 * Modules talk to each other only through entry files: a file in one module may import another
 * module's `index.ts` (or, for the broker's client, `broker/client/index.ts`), never its internals.
 */
import assert from 'node:assert/strict';
import { globSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';

export const MODULES = [
  'core',
  'idp',
  'consent',
  'mediation',
  'points',
  'adapters',
  'broker',
  'opendata',
  'dashboards',
  'portal',
];
const ENTRY_FILES = new Set(MODULES.map((m) => `${m}/index.ts`).concat(['broker/client/index.ts']));

function imports(source: string): string[] {
  const specifiers: string[] = [];
  for (const m of source.matchAll(
    /(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g,
  )) {
    specifiers.push((m[1] ?? m[2])!);
  }
  return specifiers;
}

export function violations(root: string): string[] {
  const found: string[] = [];
  for (const file of globSync('**/*.ts', { cwd: root, exclude: (f) => f.includes('node_modules') })) {
    const owner = file.split(path.sep)[0]!;
    if (!MODULES.includes(owner)) continue;
    for (const specifier of imports(readFileSync(path.join(root, file), 'utf8'))) {
      if (!specifier.startsWith('.')) continue;
      const target = path.relative(root, path.resolve(root, path.dirname(file), specifier));
      const targetModule = target.split(path.sep)[0]!;
      if (targetModule === owner || !MODULES.includes(targetModule)) continue;
      if (!ENTRY_FILES.has(target.split(path.sep).join('/'))) found.push(`${file} imports ${target}`);
    }
  }
  return found;
}

describe('module boundaries', () => {
  it('no module imports another module’s internals', () => {
    assert.deepEqual(violations('.'), []);
  });

  it('the check catches a deep import', async () => {
    const { mkdtempSync, mkdirSync, writeFileSync, rmSync } = await import('node:fs');
    const os = await import('node:os');
    const dir = mkdtempSync(path.join(os.tmpdir(), 'boundaries-'));
    try {
      mkdirSync(path.join(dir, 'points'));
      mkdirSync(path.join(dir, 'idp'));
      writeFileSync(path.join(dir, 'idp', 'accounts.ts'), 'export const x = 1;\n');
      writeFileSync(path.join(dir, 'idp', 'index.ts'), "export { x } from './accounts.ts';\n");
      writeFileSync(
        path.join(dir, 'points', 'ledger.ts'),
        "import { x } from '../idp/accounts.ts';\nimport { x as y } from '../idp/index.ts';\nexport const z = x + y;\n",
      );
      assert.deepEqual(violations(dir), [`points${path.sep}ledger.ts imports idp${path.sep}accounts.ts`]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
