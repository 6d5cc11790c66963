// The docs stay in step with what is tested and published: docs/API.md with the .d.ts files,
// README.md's code blocks with the files the tests run.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from './browser.mjs';
import { generate } from '../../docs/tools/api-md.mjs';
import { sync } from '../../docs/tools/snippets.mjs';

test('docs/API.md is generated from the published types', () => {
  const md = generate();
  assert.ok(md.includes('#### `useConduitRealtime`') && md.includes('#### `ConduitRealtimeClient`'));
  assert.equal(readFileSync(join(ROOT, 'docs/API.md'), 'utf8'), md, 'run: node docs/tools/api-md.mjs');
});

test('README.md shows the code the tests run', () => {
  const md = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const { out, count } = sync(md);
  assert.ok(count >= 5, `${count} snippets`);
  assert.equal(out, md, 'run: node docs/tools/snippets.mjs');
});
