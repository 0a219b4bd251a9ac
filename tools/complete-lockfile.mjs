#!/usr/bin/env node
// The npm registry mirror this project is developed against serves only the linux builds of
// packages with per-platform binaries (@swc/core-*, msgpackr-extract, …): `npm install`
// leaves the other platforms' optional packages out of package-lock.json, and `npm ci` then
// refuses the lock ("Missing: … from lock file"). This adds the missing optional entries
// (name, version, optional, and the os/cpu read from the package name) so the lock is
// complete again; on each platform npm installs only the entry that matches it.
// Run after every `npm install`: node tools/complete-lockfile.mjs
import { readFileSync, writeFileSync } from 'node:fs';

const path = new URL('../package-lock.json', import.meta.url);
const lock = JSON.parse(readFileSync(path, 'utf8'));
const packages = lock.packages;

const OS = ['darwin', 'linux', 'win32', 'freebsd', 'android', 'openharmony', 'sunos', 'aix', 'netbsd', 'openbsd'];
const CPU = { x64: 'x64', arm64: 'arm64', ia32: 'ia32', arm: 'arm', ppc64: 'ppc64', s390x: 's390x', riscv64: 'riscv64', loong64: 'loong64', wasm32: 'wasm32' };

function platformOf(name) {
  const parts = name.split('/').pop().split('-');
  const os = parts.find((part) => OS.includes(part));
  const cpu = parts.map((part) => CPU[part.replace(/(gnueabihf|musleabihf|gnu|musl|msvc|eabi)$/, '')] ?? CPU[part]).find(Boolean);
  const libc = parts.some((part) => part.endsWith('musl') || part === 'musleabihf') ? 'musl' : parts.some((part) => part.startsWith('gnu')) ? 'glibc' : undefined;
  return { ...(os ? { os: [os] } : {}), ...(cpu ? { cpu: [cpu] } : {}), ...(libc && os === 'linux' ? { libc: [libc] } : {}) };
}

let added = 0;
for (const [location, entry] of Object.entries(packages)) {
  for (const [name, spec] of Object.entries(entry.optionalDependencies ?? {})) {
    const nested = `${location ? `${location}/` : ''}node_modules/${name}`;
    if (packages[nested] || packages[`node_modules/${name}`]) continue;
    if (!/^\d+\.\d+\.\d+(-[\w.]+)?$/.test(spec)) continue; // only exact pins can be recorded without the registry
    packages[`node_modules/${name}`] = { version: spec, dev: entry.dev, optional: true, ...platformOf(name) };
    if (packages[`node_modules/${name}`].dev === undefined) delete packages[`node_modules/${name}`].dev;
    added++;
  }
}
const sorted = Object.fromEntries(Object.entries(packages).sort(([a], [b]) => (a === '' ? -1 : b === '' ? 1 : a.localeCompare(b))));
lock.packages = sorted;
writeFileSync(path, `${JSON.stringify(lock, null, 2)}\n`);
console.log(`complete-lockfile: added ${added} optional platform entries`);
