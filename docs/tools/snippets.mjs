#!/usr/bin/env node
// Keeps the code in a Markdown file in step with files the tests run. A fenced block right after
//   <!-- snippet: path/to/file#region-name -->   (the lines between `#region region-name` and `#endregion`)
//   <!-- snippet: path/to/file.rs#fn name -->     (a Rust function, from its `fn name(` line to its closing `}`)
// is replaced by that code (default), or compared with it (`--check`, which a test runs).
// Usage: node docs/tools/snippets.mjs [--check] [file.md ...]   (default: README.md)
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

function dedent(lines) {
  const indent = Math.min(...lines.filter((l) => l.trim()).map((l) => l.match(/^ */)[0].length));
  return lines.map((l) => l.slice(Number.isFinite(indent) ? indent : 0)).join('\n');
}

export function extract(spec) {
  const [file, what] = spec.split('#');
  const lines = readFileSync(join(ROOT, file), 'utf8').split('\n');
  if (what.startsWith('fn ')) {
    const name = what.slice(3);
    const start = lines.findIndex((l) => new RegExp(`^(pub )?(async )?fn ${name}\\(`).test(l));
    const end = lines.findIndex((l, i) => i > start && l === '}');
    if (start < 0 || end < 0) throw new Error(`${spec}: function not found`);
    return dedent(lines.slice(start, end + 1));
  }
  const start = lines.findIndex((l) => l.includes(`#region ${what}`) && l.trim().replace(/^(\/\/|<!--)\s*/, '').startsWith('#region'));
  const end = lines.findIndex((l, i) => i > start && l.includes('#endregion'));
  if (start < 0 || end < 0) throw new Error(`${spec}: region not found`);
  return dedent(lines.slice(start + 1, end));
}

export function sync(md) {
  const re = /(<!-- snippet: ([^\n]+?) -->\n```[a-z]*\n)([\s\S]*?)(^```$)/gm;
  let count = 0;
  const out = md.replace(re, (_, head, spec, _code, tail) => {
    count++;
    return `${head}${extract(spec)}\n${tail}`;
  });
  return { out, count };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const check = process.argv.includes('--check');
  const files = process.argv.slice(2).filter((a) => a !== '--check');
  let stale = 0;
  for (const rel of files.length ? files : ['README.md']) {
    const path = join(ROOT, rel);
    const md = readFileSync(path, 'utf8');
    const { out, count } = sync(md);
    if (count === 0) throw new Error(`${rel}: no snippets`);
    if (out === md) console.log(`${rel}: ${count} snippets in step`);
    else if (check) {
      console.error(`${rel}: snippets out of step with the code the tests run: run node docs/tools/snippets.mjs`);
      stale++;
    } else {
      writeFileSync(path, out);
      console.log(`${rel}: ${count} snippets updated`);
    }
  }
  process.exit(stale ? 1 : 0);
}
